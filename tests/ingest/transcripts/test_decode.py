"""vbhc_code.ingest.transcripts.decode: an encoding error names the line the byte is on (issue 12 class 9)."""

from __future__ import annotations

import pytest

from vbhc_code.errors import DataError
from vbhc_code.ingest.transcripts.decode import _line_of, decode_bytes


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_the_line_counts_every_kind_of_line_break(eol):
    data = eol.join([b"I: one", b"P1: two", b"P1: caf\xe9 three", b"I: four"])
    assert _line_of(data, data.index(b"\xe9")) == 3
    _, used, warnings = decode_bytes(data, name="a.txt")
    assert used == "cp1252" and warnings[0].startswith("a.txt: not valid UTF-8 (line 3); read as cp1252")
    with pytest.raises(DataError, match=r"^a.txt line 3: not valid utf-8 \(byte 0xe9 at offset \d+\)$"):
        decode_bytes(data, name="a.txt", encoding="utf-8")


def test_after_a_bom_the_byte_and_line_are_those_of_the_file():
    data = b"\xef\xbb\xbfI: one\nP1: two\nP1: bad \xff here\n"
    with pytest.raises(DataError) as err:
        decode_bytes(data, name="b.txt")
    offset = data.index(b"\xff")
    assert str(err.value) == (f"b.txt line 3: starts with a UTF-8 byte order mark but is not valid UTF-8 "
                              f"(byte 0xff at offset {offset})")


def test_neither_utf8_nor_cp1252_names_the_cp1252_byte_and_its_line():
    data = b"I: caf\xe9\nP1: fine\nP1: \x81 here\n"  # 0xe9 fails UTF-8 on line 1; 0x81 fails cp1252 on line 3
    with pytest.raises(DataError) as err:
        decode_bytes(data, name="c.txt")
    offset = data.index(b"\x81")
    assert str(err.value) == f"c.txt line 3: neither UTF-8 nor cp1252 (byte 0x81 at offset {offset}); pass encoding"
