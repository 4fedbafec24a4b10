"""Transcript readers: .txt, .md, .docx, .vtt, .srt -> plain text and speaker turns with exact offsets.

The plain text is what every offset indexes into (0-based, end-exclusive code points). For .txt/.md/.vtt/.srt
it is the decoded file (BOM dropped, ``\\r\\n``/``\\r`` -> ``\\n``); for .docx the body paragraphs joined with
``\\n``. For every single-span turn ``plain_text[start:end] == text`` (captions: after tags are removed and
HTML entities decoded, see docs/ingest.md).
"""

from __future__ import annotations

from pathlib import Path

from vbhc_code.errors import DataError
from vbhc_code.models import ParsedTranscript
from vbhc_code.ingest.transcripts.captions import parse_captions
from vbhc_code.ingest.transcripts.decode import check_line_lengths, decode_bytes
from vbhc_code.ingest.transcripts.labels import SpeakerRules
from vbhc_code.ingest.transcripts.lines import parse_lines

SUPPORTED_SUFFIXES = (".txt", ".md", ".docx", ".vtt", ".srt")
FORMATS = tuple(s.lstrip(".") for s in SUPPORTED_SUFFIXES)

__all__ = ["SUPPORTED_SUFFIXES", "FORMATS", "SpeakerRules", "read_transcript", "read_bytes", "parse_plain_text"]


def read_transcript(
    path: Path, *, rules: SpeakerRules | None = None, encoding: str | None = None, display_name: str | None = None
) -> ParsedTranscript:
    """Read one transcript file. Errors are ``DataError`` naming ``display_name`` (default: the file name)."""
    path = Path(path)
    name = display_name or path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{name}: cannot read the file ({exc.strerror or type(exc).__name__})") from None
    return read_bytes(data, fmt=path.suffix.lower().lstrip("."), rules=rules, encoding=encoding, name=name)


def read_bytes(
    data: bytes, *, fmt: str, rules: SpeakerRules | None = None, encoding: str | None = None, name: str = "<bytes>"
) -> ParsedTranscript:
    rules = rules or SpeakerRules()
    if fmt not in FORMATS:
        raise DataError(f"{name}: not a transcript format (.{fmt})")
    if fmt == "docx":
        from vbhc_code.ingest.transcripts.docx_reader import docx_text

        text, bold, table = docx_text(data, name=name)
        check_line_lengths(text, name=name)
        if not text.strip():
            raise DataError(f"{name}: no text in the document")
        if bold or table:
            rules = rules.with_labels([*bold, *table])
        parsed = parse_plain_text(text, fmt="docx", rules=rules, display_name=name)
        return ParsedTranscript(parsed.plain_text, parsed.turns, "utf-8", parsed.warnings)  # OOXML parts are UTF-8
    text, used, warnings = decode_bytes(data, name=name, encoding=encoding)
    parsed = parse_plain_text(text, fmt=fmt, rules=rules, display_name=name)
    return ParsedTranscript(text, parsed.turns, used, (*warnings, *parsed.warnings))


def parse_plain_text(
    text: str, *, fmt: str = "txt", rules: SpeakerRules | None = None, display_name: str = "<text>"
) -> ParsedTranscript:
    """Turns from already-decoded text (newlines are expected normalised to ``\\n``)."""
    rules = rules or SpeakerRules()
    if fmt in ("vtt", "srt"):
        turns, warnings = parse_captions(text, fmt=fmt, rules=rules, name=display_name)
    else:
        turns, warnings = parse_lines(text, fmt=fmt if fmt in ("md", "docx") else "txt", rules=rules, name=display_name)
    return ParsedTranscript(text, tuple(turns), "utf-8", tuple(warnings))
