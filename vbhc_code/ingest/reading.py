"""Reading one transcript file into turns with sentences: the part of ingest that needs no store.

``read_document`` is pure (a file in, a ``Reading`` out), so ``ingest`` can run it in worker processes
(``ingest.workers``) while the calling process alone writes the store, and run it inline otherwise.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from vbhc_code.errors import DataError
from vbhc_code.files.sheets import SpeakerMatcher
from vbhc_code.ingest.filestat import file_stat
from vbhc_code.ingest.transcripts import read_input
from vbhc_code.models import ParsedTranscript, Turn


@dataclass(frozen=True)
class Task:
    """How to read one file: the run's rules, the document's language, and when parsing can be left out."""

    name: str
    path: Path
    lang: str
    keep_sha: str | None = None  # content the store already holds, read by the same rules: no parse needed
    refuse_unless_sha: str | None = None  # a coded document: other content is refused, so not parsed
    stored: tuple[str, str] | None = None  # (sha256, language) stored: the same content keeps its language


@dataclass(frozen=True)
class Reading:
    """One file as read: its stat (taken before reading), sha256, and turns - or why it could not be read.

    ``parsed`` is None when the file could not be read, failed to parse (``parse_error``), or did not need
    parsing (its content is ``Task.keep_sha``, or a coded document's content changed).
    """

    lang: str
    st: os.stat_result | None = None
    sha: str | None = None
    read_error: str | None = None
    parse_error: str | None = None
    parsed: ParsedTranscript | None = None
    turns: tuple[Turn, ...] | None = None
    findings: dict[str, int] | None = None  # identifier findings per kind (for the ingest report)


def read_document(
    task: Task, *, rules: Any, matcher: SpeakerMatcher, encoding: str | None, st: os.stat_result | None = None,
    parse: bool = False,
) -> Reading:
    """Read, hash and (when needed, or always with ``parse``) parse and segment one file.

    ``st`` is the file's stat when the caller already took it; it must be taken before the file is read, so
    that a file changed while it is read is read again next time.
    """
    if st is None:
        st = file_stat(task.path)
    try:
        data = read_input(task.path, name=task.name)
    except DataError as exc:
        return Reading(task.lang, st=st, read_error=str(exc))
    sha = hashlib.sha256(data).hexdigest()
    lang = task.stored[1] if task.stored is not None and task.stored[0] == sha else task.lang
    if not parse and (sha == task.keep_sha or task.refuse_unless_sha not in (None, sha)):
        return Reading(lang, st=st, sha=sha)
    try:
        parsed = parse_bytes(task.path, data, rules=rules, encoding=encoding, display_name=task.name)
    except DataError as exc:
        return Reading(lang, st=st, sha=sha, parse_error=str(exc))
    turns = match_and_segment(parsed.turns, name=task.name, matcher=matcher, lang=lang, plain_text=parsed.plain_text)
    fmt = parsed.format or _suffix(task.path)
    return Reading(lang, st=st, sha=sha, parsed=parsed, turns=turns,
                   findings=count_findings(task.name, parsed.plain_text, turns, fmt=fmt))


def _suffix(path: Path) -> str:
    return path.suffix.lower().lstrip(".")


def parse_bytes(path: Path, data: bytes, *, rules: Any, encoding: str | None, display_name: str) -> ParsedTranscript:
    from vbhc_code.ingest.transcripts import read_bytes

    return read_bytes(data, fmt=_suffix(path), rules=rules, encoding=encoding, name=display_name)


def count_findings(name: str, plain_text: str, turns: tuple[Turn, ...], *, fmt: str) -> dict[str, int]:
    """Identifier findings in a document, counted per kind."""
    from vbhc_code.ingest.identifiers import scan_document

    found: dict[str, int] = {}
    for f in scan_document(name, plain_text, list(turns), fmt=fmt):
        found[f["kind"]] = found.get(f["kind"], 0) + 1
    return found


def match_and_segment(
    turns: tuple[Turn, ...], *, name: str, matcher: SpeakerMatcher, lang: str, plain_text: str | None = None
) -> tuple[Turn, ...]:
    """Turns with participant ids, document name and sentence spans (document offsets).

    Sentences are found in the turn's ``text``. When that is not one slice of the plain text (a turn merged
    from several cues, cue markup or entities) each sentence is mapped back to the document offsets of its
    first and last character, so a sentence running over cues spans the cue timings between them.
    """
    from vbhc_code.nlp.segment import iter_sentence_spans, mapped_sentence_spans, turn_text_offsets

    pieces: list[tuple[str, int]] = []
    owners: list[tuple[int, tuple[list[int], list[int]] | None]] = []
    for i, turn in enumerate(turns):
        offsets = None
        if plain_text is None and not turn.is_single_span:
            continue  # no document to map into: the turn's spans stand in for sentences
        if plain_text is not None and (not turn.is_single_span or plain_text[turn.start:turn.end] != turn.text):
            offsets = turn_text_offsets(turn, plain_text)
            if offsets is None:  # text not rebuilt from its spans: sentences per span, as written
                for s, e in turn.text_spans:
                    pieces.append((plain_text[s:e], s))
                    owners.append((i, None))
                continue
        pieces.append((turn.text, turn.start if offsets is None else 0))
        owners.append((i, offsets))
    sentences: dict[int, list[tuple[int, int]]] = {}
    for (owner, offsets), spans in zip(owners, iter_sentence_spans(iter(pieces), lang=lang)):
        if offsets is not None:
            spans = mapped_sentence_spans(spans, offsets)
        sentences.setdefault(owner, []).extend(spans)
    matches: dict[str | None, str | None] = {}
    out = []
    for i, turn in enumerate(turns):
        pid = None
        if turn.role == "participant" and turn.speaker:
            if turn.speaker not in matches:
                matches[turn.speaker] = matcher.match(turn.speaker)
            pid = matches[turn.speaker]
        sents = tuple(sentences.get(i) or turn.text_spans)
        out.append(replace(turn, document=name, participant_id=pid, sentences=sents))
    return tuple(out)
