"""Bytes -> plain text: BOM dropped, strict UTF-8 first, cp1252 with a warning, then newlines normalised."""

from __future__ import annotations

import codecs

from vbhc_code.errors import DataError, opt

# A line this long is not a transcript line (a 50 MB one-line file would otherwise be read as one turn).
MAX_LINE_CHARS = 1_000_000
_CONTROL = bytes(range(0, 32)).replace(b"\t", b"").replace(b"\n", b"").replace(b"\r", b"").replace(b"\x0c", b"")


def _line_of(data: bytes, offset: int) -> int:
    """The line of a byte offset, counting line breaks as the text is read: CRLF, LF and a lone CR (old Mac
    files) each end a line."""
    crlf = data.count(b"\r\n", 0, offset)
    return data.count(b"\n", 0, offset) + data.count(b"\r", 0, offset) - crlf + 1


def decode_bytes(data: bytes, *, name: str, encoding: str | None = None) -> tuple[str, str, list[str]]:
    """(plain text, encoding used, warnings). Raises DataError naming the file (and line) when unreadable."""
    warnings: list[str] = []
    if not data.strip():
        raise DataError(f"{name}: empty file" if not data else f"{name}: no text (only whitespace)")
    if encoding is not None:
        enc = codecs.lookup(encoding).name
        if enc in ("utf-8", "utf-8-sig") and data.startswith(codecs.BOM_UTF8):
            data, enc = data[3:], "utf-8-sig"
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as exc:
            raise DataError(f"{name} line {_line_of(data, exc.start)}: not valid {encoding} "
                            f"(byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
        used = enc
    elif data.startswith(codecs.BOM_UTF8):
        try:
            text = data[3:].decode("utf-8")
        except UnicodeDecodeError as exc:
            at = exc.start + 3  # the offset in the file, BOM included
            raise DataError(f"{name} line {_line_of(data, at)}: starts with a UTF-8 byte order mark but is "
                            f"not valid UTF-8 (byte 0x{data[at]:02x} at offset {at})") from None
        used = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise DataError(f"{name}: starts with a UTF-16 byte order mark but is not valid UTF-16") from None
        used = "utf-16"
    else:
        _refuse_binary(data, name)
        try:
            text, used = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as utf8_exc:
            try:
                text, used = data.decode("cp1252"), "cp1252"
            except UnicodeDecodeError as exc:
                raise DataError(
                    f"{name} line {_line_of(data, exc.start)}: neither UTF-8 nor cp1252 (byte "
                    f"0x{data[exc.start]:02x} at offset {exc.start}); pass {opt('encoding')}"
                ) from None
            warnings.append(f"{name}: not valid UTF-8 (line {_line_of(data, utf8_exc.start)}); "
                            "read as cp1252 (Windows-1252); name the file's encoding to override")
    if "\x00" in text:
        raise DataError(f"{name}: contains NUL characters; a binary file, not a text transcript")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    check_line_lengths(text, name=name)
    if not text.strip():
        raise DataError(f"{name}: no text (only whitespace)")
    return text, used, warnings


def _refuse_binary(data: bytes, name: str) -> None:
    head = data[:8192]
    controls = len(head) - len(head.translate(None, _CONTROL))
    if b"\x00" in head or controls > len(head) // 10:
        raise DataError(f"{name}: a binary file, not a text transcript")


def check_line_lengths(text: str, *, name: str) -> None:
    """Refuse absurdly long lines (a 50 MB single line) with the line number."""
    if len(text) <= MAX_LINE_CHARS:
        return
    pos, line = 0, 1
    n = len(text)
    while pos < n:
        nl = text.find("\n", pos, pos + MAX_LINE_CHARS + 1)
        if nl == -1:
            if n - pos > MAX_LINE_CHARS:
                raise DataError(f"{name} line {line}: a line of more than {MAX_LINE_CHARS:,} characters; "
                                "not a transcript (no line breaks)")
            return
        pos, line = nl + 1, line + 1
