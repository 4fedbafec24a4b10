"""vbhc_code.files.csvfile: one CSV writer with a byte order mark and formula neutralising; readers undo it."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vbhc_code.files.csvfile import CsvOptions, neutralise, restore, write_csv, write_csv_atomic
from vbhc_code.files.sheets import read_rows

HOSTILE = ["=1+2", "+1", "-2+3", "@SUM(A1)", "\t=x", "\r=x", "'=already", "''-x", "=cmd|' /C calc'!A0"]
HARMLESS = ["plain", "it's", "'quoted'", "", "a=b", " =x", "'", "''", "x-y", "é ’ ü"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_formula_like_cell_gets_one_leading_apostrophe(value):
    out = neutralise(value)
    assert out == "'" + value and out[0] == "'" and restore(out) == value


@pytest.mark.parametrize("value", HARMLESS)
def test_other_cells_are_left_alone(value):
    assert neutralise(value) == value and restore(value) == value


def test_numbers_stay_numbers():
    assert neutralise(-3) == -3 and neutralise(-0.5) == -0.5 and neutralise(None) is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="'=+-@\t\rab ", max_size=8))
def test_restore_undoes_neutralise_and_nothing_is_left_live(value):
    out = neutralise(value)
    assert restore(out) == value
    assert not out or out[0] not in "=+-@\t\r"


def test_bom_and_neutralising_are_on_by_default_and_can_be_turned_off():
    rows = [["=1+2", 5, "-x"], ["é", -1, "@a"]]
    buf = io.StringIO()
    write_csv(buf, ["=head", "n", "t"], rows)
    assert buf.getvalue() == "\ufeff'=head,n,t\r\n'=1+2,5,'-x\r\né,-1,'@a\r\n"
    buf = io.StringIO()
    write_csv(buf, ["=head", "n", "t"], rows, options=CsvOptions(bom=False, raw=True))
    assert buf.getvalue() == "=head,n,t\r\n=1+2,5,-x\r\né,-1,@a\r\n"
    buf = io.StringIO()
    write_csv(buf, ["h"], [["=x"]], options=CsvOptions(bom=False))
    assert buf.getvalue() == "h\r\n'=x\r\n"  # --no-bom alone still neutralises
    buf = io.StringIO()
    write_csv(buf, ["h"], [["=x"]], options=CsvOptions(raw=True))
    assert buf.getvalue() == "\ufeffh\r\n=x\r\n"  # --raw alone keeps the BOM


def test_the_sheet_reader_reads_an_export_back_to_the_original_values(tmp_path):
    values = HOSTILE[:4] + ["'=already", "it's", "é’"]
    path = write_csv_atomic(tmp_path / "x.csv", ["=key", "value"], [[str(i), v] for i, v in enumerate(values)])
    assert path.read_bytes().startswith(b"\xef\xbb\xbf'=key,value\r\n")
    header, rows = read_rows(path)
    assert header == ["=key", "value"]
    assert [r.values["value"] for r in rows] == values
    raw = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    assert [r[1] for r in raw[1:5]] == ["'" + v for v in values[:4]]  # what a spreadsheet sees: text
