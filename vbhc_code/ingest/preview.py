"""``ingest DIR --dry-run``: how each transcript would be read, before anything is stored.

Per document: the format and label conventions detected, the speakers found (known from the participants
sheet, unknown, interviewers), the number of turns and the first turns with their speakers. Nothing is
written: no store is opened or created.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vbhc_code.errors import DataError
from vbhc_code.files.sheets import SpeakerMatcher, load_participants
from vbhc_code.ingest.discover import discover
from vbhc_code.ingest.folder import check_options

PREVIEW_TURNS = 3  # first turns shown per document
PREVIEW_CHARS = 70  # a previewed turn's text is cut to this many characters


@dataclass
class TurnPreview:
    turn_index: int
    speaker: str | None
    role: str
    participant_id: str | None
    text: str  # whitespace collapsed, cut to PREVIEW_CHARS


@dataclass
class DocumentPreview:
    name: str
    format: str = ""
    layout: list[str] = field(default_factory=list)
    turns: int = 0
    known: list[str] = field(default_factory=list)  # speakers matched to a participant of the sheet
    unknown: list[str] = field(default_factory=list)  # participant-role speakers the sheet does not name
    interviewers: list[str] = field(default_factory=list)
    first: list[TurnPreview] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""


def shorten(text: str, width: int = PREVIEW_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "\u2026"


def preview_folder(
    folder: Path,
    *,
    participants_file: Path | None = None,
    documents_file: Path | None = None,
    language: str = "en",
    encoding: str | None = None,
    speaker_pattern: str | None = None,
    first: int = PREVIEW_TURNS,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> tuple[list[DocumentPreview], list[tuple[str, str]]]:
    """(a preview per transcript, skipped files with the reason). Reads the sheets and files; writes nothing."""
    from vbhc_code.ingest.transcripts import SpeakerRules, read_transcript

    check_options(folder, language=language, speaker_pattern=speaker_pattern, encoding=encoding)
    participants = load_participants(participants_file) if participants_file is not None else []
    exclude = {p.resolve() for p in (participants_file, documents_file) if p is not None}
    files, skipped = discover(folder, exclude=exclude)
    if not files:
        raise DataError(f"{folder}: no transcripts found (.txt, .docx, .vtt, .srt, .md)")
    matcher = SpeakerMatcher(participants)
    rules = SpeakerRules(known_labels=list(matcher.iter_labels()), pattern=speaker_pattern,
                         interviewer_labels=matcher.interviewer_labels)
    out: list[DocumentPreview] = []
    for i, path in enumerate(files, 1):
        name = path.relative_to(folder).as_posix()
        if on_progress:
            on_progress(name, i, len(files))
        doc = DocumentPreview(name, format=path.suffix.lower().lstrip("."))
        out.append(doc)
        try:
            parsed = read_transcript(path, rules=rules, encoding=encoding, display_name=name)
        except DataError as exc:
            doc.error = str(exc)
            continue
        doc.format = parsed.format or doc.format
        doc.layout = list(parsed.layout)
        doc.turns = len(parsed.turns)
        doc.warnings = list(parsed.warnings)
        ids: dict[str, str | None] = {}
        for t in parsed.turns:
            if t.speaker and t.speaker not in ids:
                ids[t.speaker] = matcher.match(t.speaker) if t.role == "participant" else None
                if t.role == "interviewer":
                    doc.interviewers.append(t.speaker)
                elif ids[t.speaker]:
                    doc.known.append(t.speaker)
                else:
                    doc.unknown.append(t.speaker)
        doc.first = [TurnPreview(t.turn_index, t.speaker, t.role, ids.get(t.speaker or ""), shorten(t.text))
                     for t in parsed.turns[:first]]
    return out, skipped
