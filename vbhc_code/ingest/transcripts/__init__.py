"""Transcript readers: .txt, .md, .docx, .vtt, .srt -> plain text and speaker turns with exact offsets.

The plain text is what every offset indexes into (0-based, end-exclusive code points). For .txt/.md/.vtt/.srt
it is the decoded file (BOM dropped, ``\\r\\n``/``\\r`` -> ``\\n``); for .docx the body paragraphs joined with
``\\n``. For every single-span turn ``plain_text[start:end] == text`` (captions: after tags are removed and
HTML entities decoded, see docs/ingest.md).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from vbhc_code.errors import DataError
from vbhc_code.ingest.transcripts.labels import SpeakerRules
from vbhc_code.models import ParsedTranscript

# The readers (captions, lines and their conventions) are imported when a file is first read: re-ingest of an
# unchanged study reads none, and their patterns take longer to compile than the rest of the re-ingest.

SUPPORTED_SUFFIXES = (".txt", ".md", ".docx", ".vtt", ".srt")
FORMATS = tuple(s.lstrip(".") for s in SUPPORTED_SUFFIXES)

__all__ = [
    "SUPPORTED_SUFFIXES",
    "FORMATS",
    "SpeakerRules",
    "read_transcript",
    "read_bytes",
    "read_input",
    "parse_plain_text",
    "sniff_format",
]


def read_transcript(
    path: Path, *, rules: SpeakerRules | None = None, encoding: str | None = None, display_name: str | None = None
) -> ParsedTranscript:
    """Read one transcript file. Errors are ``DataError`` naming ``display_name`` (default: the file name)."""
    path = Path(path)
    name = display_name or path.name
    data = read_input(path, name=name)
    return read_bytes(data, fmt=path.suffix.lower().lstrip("."), rules=rules, encoding=encoding, name=name)


def read_input(path: Path, *, name: str) -> bytes:
    """A transcript's bytes, refused from its size on disk before it is read (limits in ``files.archive``)."""
    from vbhc_code.files.archive import DOCX, MAX_TEXT_BYTES, read_capped

    limit = DOCX.file_bytes if path.suffix.lower() == ".docx" else MAX_TEXT_BYTES
    return read_capped(path, name=name, limit=limit, what="transcript")


def sniff_format(text: str, fmt: str) -> str:
    """The format a text file's content shows: a .txt that is WebVTT (``WEBVTT`` header) or SRT (a numbered
    cue with a ``-->`` timing first) is read as captions (REFI exports rename sources to .txt)."""
    if fmt != "txt":
        return fmt
    head = text[:2000].lstrip("\ufeff")
    if head.startswith("WEBVTT") and (len(head) == 6 or head[6] in " \t\n"):
        return "vtt"
    m = _SRT_START.match(head)
    return "srt" if m else fmt


_SRT_START = re.compile(
    r"\s*\d{1,6}[ \t]*\n[ \t]*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}[ \t]*-->[ \t]*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}"
)


def read_bytes(
    data: bytes, *, fmt: str, rules: SpeakerRules | None = None, encoding: str | None = None, name: str = "<bytes>"
) -> ParsedTranscript:
    from vbhc_code.ingest.transcripts.decode import check_line_lengths, decode_bytes
    from vbhc_code.ingest.transcripts.lines import parse_lines

    rules = rules or SpeakerRules()
    if fmt not in FORMATS:
        raise DataError(f"{name}: not a transcript format (.{fmt})")
    if fmt == "docx":
        from vbhc_code.ingest.transcripts.docx_reader import docx_text

        docx = docx_text(data, name=name)
        text = docx.text
        check_line_lengths(text, name=name)
        if not text.strip():
            raise DataError(f"{name}: no text in the document")
        if docx.bold_labels or docx.table_labels:
            rules = rules.with_labels([*docx.bold_labels, *docx.table_labels])
        turns, warnings, layout = parse_lines(text, fmt="docx", rules=rules, name=name, table_rows=docx.table_rows)
        if docx.bold_labels:
            layout = [k if k != "labels" else "bold labels" for k in layout]
        # OOXML parts are UTF-8
        return ParsedTranscript(text, tuple(turns), "utf-8", tuple(warnings), "docx", tuple(layout))
    text, used, warnings = decode_bytes(data, name=name, encoding=encoding)
    parsed = parse_plain_text(text, fmt=sniff_format(text, fmt), rules=rules, display_name=name)
    return replace(parsed, encoding=used, warnings=(*warnings, *parsed.warnings))


def parse_plain_text(
    text: str, *, fmt: str = "txt", rules: SpeakerRules | None = None, display_name: str = "<text>"
) -> ParsedTranscript:
    """Turns from already-decoded text (newlines are expected normalised to ``\\n``)."""
    from vbhc_code.ingest.transcripts.captions import parse_captions
    from vbhc_code.ingest.transcripts.lines import parse_lines

    rules = rules or SpeakerRules()
    if fmt in ("vtt", "srt"):
        turns, warnings = parse_captions(text, fmt=fmt, rules=rules, name=display_name)
        layout = [f"captions ({fmt})"]
    else:
        fmt = fmt if fmt in ("md", "docx") else "txt"
        turns, warnings, layout = parse_lines(text, fmt=fmt, rules=rules, name=display_name)
    return ParsedTranscript(text, tuple(turns), "utf-8", tuple(warnings), fmt, tuple(layout))
