"""Garbled sheets (.csv and .xlsx) to every sheet reader: a result or a located DataError, never another
exception (issue 12 campaign; hypothesis)."""

from __future__ import annotations

from functools import lru_cache

from hostile import SENTINEL, xlsx_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vbhc_code.errors import DataError
from vbhc_code.files.sheets import load_documents_sheet, load_participants, read_rows

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
READERS = (load_participants, load_documents_sheet, read_rows)
CELLS = st.one_of(
    st.sampled_from(["participant_id", "document", "aliases", "speaker_role", "type", "interviewer", "P01", "p1",
                     "a.txt", "interview", "=1+1", "'=x", '"', '""', ";", "\t", SENTINEL, "", " "]),
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=8), st.integers(-5, 10**6), st.floats(allow_nan=True), st.booleans(), st.none(),
)


def _check(path, reader) -> None:
    try:
        reader(path)
    except DataError as exc:
        message = str(exc)
        assert message.startswith((path.name, "[")) and SENTINEL not in message, message


@SETTINGS
@given(text=st.lists(st.one_of(st.sampled_from(["participant_id,document,type\n", "P01,a.txt,focus\n", '"', ",",
                                                  ";", "\t", "\r\n", "\n", "\ufeff", SENTINEL]),
                               st.text(max_size=10)), max_size=30).map("".join),
       encoding=st.sampled_from(["utf-8", "utf-16", "cp1252"]), reader=st.sampled_from(READERS))
def test_garbled_csv_gives_rows_or_a_located_error(tmp_path, text, encoding, reader):
    f = tmp_path / "s.csv"
    f.write_bytes(text.encode(encoding, errors="replace"))
    _check(f, reader)


@SETTINGS
@given(rows=st.lists(st.lists(CELLS, max_size=5), max_size=6), reader=st.sampled_from(READERS))
def test_any_cells_in_a_workbook_give_rows_or_a_located_error(tmp_path, rows, reader):
    f = tmp_path / "s.xlsx"
    f.write_bytes(xlsx_bytes([list(r) for r in rows]))
    _check(f, reader)


@lru_cache(maxsize=1)
def _workbook() -> bytes:
    return xlsx_bytes([["participant_id", "aliases", "notes"], ["P01", "Anna", SENTINEL], ["P02", "", 3]])


@SETTINGS
@given(flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8),
       reader=st.sampled_from(READERS))
def test_a_workbook_with_flipped_bytes_gives_rows_or_a_located_error(tmp_path, flips, reader):
    data = bytearray(_workbook())
    for pos, value in flips:
        data[pos % len(data)] = value
    f = tmp_path / "s.xlsx"
    f.write_bytes(bytes(data))
    _check(f, reader)
