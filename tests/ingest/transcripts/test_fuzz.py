"""Garbled input to every transcript reader: a result or a located DataError, never another exception
(issue 12 campaign; hypothesis)."""

from __future__ import annotations

import io
import zipfile
from functools import lru_cache

from hostile import SENTINEL, docx_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vbhc_code.errors import DataError
from vbhc_code.ingest.transcripts import FORMATS, read_bytes

SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Pieces that steer the readers into their branches: labels, timings, cue numbers, markup, BOMs, odd bytes.
PIECES = [b"WEBVTT\n\n", b"1\n", b"00:00:01.000 --> 00:00:02.000\n", b"00:00:02,000 --> 00:00:01,000\n",
          b"P01: ", b"Interviewer: ", b"**P02:** ", b"[00:01:02] ", b"<v Anna>", b"</v>", b"&amp;", b"\n\n",
          b"\r\n", b"\t", b"\xef\xbb\xbf", b"\xff\xfe", b"\x81\x90", b"\x00", b"-->", b"NOTE x\n", b"# h\n",
          f"{SENTINEL} ".encode(), "é€😀\u202e".encode()]
garbled = st.lists(st.one_of(st.sampled_from(PIECES), st.binary(max_size=12)), max_size=40).map(b"".join)


def _located(exc: DataError, name: str) -> None:
    message = str(exc)
    assert message.startswith(name) and SENTINEL not in message, message
    assert all(line.strip() for line in message.splitlines())


def _read(data: bytes, fmt: str) -> None:
    name = f"fuzz.{fmt}"
    try:
        parsed = read_bytes(data, fmt=fmt, name=name)
    except DataError as exc:
        _located(exc, name)
        return
    for turn in parsed.turns:  # a result keeps the offsets contract
        assert 0 <= turn.start < turn.end <= len(parsed.plain_text)


@SETTINGS
@given(data=garbled, fmt=st.sampled_from([f for f in FORMATS if f != "docx"]))
def test_garbled_text_gives_turns_or_a_located_error(data, fmt):
    _read(data, fmt)


@lru_cache(maxsize=1)
def _docx() -> bytes:
    return docx_bytes("Interviewer: How was it?", f"P01: {SENTINEL} it was fine.", "P02: [00:01:02] Yes.")


@SETTINGS
@given(flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8))
def test_a_docx_with_flipped_bytes_gives_turns_or_a_located_error(flips):
    data = bytearray(_docx())
    for pos, value in flips:
        data[pos % len(data)] = value
    _read(bytes(data), "docx")


@SETTINGS
@given(document=garbled, extra=st.dictionaries(st.sampled_from(["word/styles.xml", "[Content_Types].xml",
                                                                "word/_rels/document.xml.rels", "x.bin"]),
                                               garbled, max_size=2))
def test_a_docx_with_garbled_parts_gives_turns_or_a_located_error(document, extra):
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_docx())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename not in extra and info.filename != "word/document.xml":
                dst.writestr(info.filename, src.read(info))
        dst.writestr("word/document.xml", document)
        for name, content in extra.items():
            dst.writestr(name, content)
    _read(out.getvalue(), "docx")
