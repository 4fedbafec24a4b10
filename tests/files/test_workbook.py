"""Every workbook this tool reads goes through one vetted path: bombs, DTDs in any part and absurd sheet
dimensions are located errors, fast and with bounded memory (bombs are built here, never committed)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hostile import (
    DTD,
    SENTINEL,
    run_bounded,
    xlsx_bytes,
    xlsx_dimension_bomb,
    xlsx_row_number_bomb,
    xlsx_sheet_bomb,
    xlsx_with_part,
)

import vbhc_code.files.archive as safety
from vbhc_code.errors import DataError
from vbhc_code.files.sheets import load_documents_sheet, load_participants, read_rows
from vbhc_code.files.workbook import MAX_COLUMNS, open_xlsx, sheet_rows

GB = 1 << 30


def _refusal(path: Path) -> str:
    with pytest.raises(DataError) as exc:
        load_participants(path)
    message = str(exc.value)
    assert SENTINEL not in message and "\n" not in message
    return message


def test_a_sheet_bomb_is_refused_in_a_subprocess_with_bounded_memory(tmp_path):
    """The issue's case at a smaller scale: a sheet unpacking past the limit, refused from the zip headers."""
    bomb = tmp_path / "participants.xlsx"
    bomb.write_bytes(xlsx_sheet_bomb(safety.XLSX.xml_bytes + (1 << 20)))
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "a.txt").write_text("P01: Hello.\n", encoding="utf-8")
    code, out, err, _, rss = run_bounded(["ingest", "t", "--participants", bomb.name, "--store", "s.sqlite"],
                                         cwd=tmp_path, address_space=3 * GB // 2)
    assert code == 1, err
    assert err.startswith("error: participants.xlsx: entry 'xl/worksheets/sheet1.xml': ")
    assert "refused (zip bomb?)" in err and "Traceback" not in err and SENTINEL not in out + err
    assert 0 < rss < 500 << 20


def test_a_declared_dimension_of_the_whole_grid_is_refused_not_padded(tmp_path):
    f = tmp_path / "dim.xlsx"
    f.write_bytes(xlsx_dimension_bomb())
    assert _refusal(f) == f"dim.xlsx row 1048576: a cell in column XFD (more than {MAX_COLUMNS:,} columns); refused"


def test_a_row_past_the_last_excel_row_is_refused(tmp_path):
    f = tmp_path / "rows.xlsx"
    f.write_bytes(xlsx_row_number_bomb())
    assert _refusal(f) == "rows.xlsx: a row numbered 2000000000 (Excel's last row is 1,048,576); refused"


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/custom.bin", "docProps/thumbnail.jpeg"])
def test_a_dtd_in_any_part_is_refused_whatever_its_name(tmp_path, part):
    f = tmp_path / "dtd.xlsx"
    f.write_bytes(xlsx_with_part(part, DTD))
    assert _refusal(f) == (f"dtd.xlsx: entry '{part}': declares a DOCTYPE or XML entities; refused (Office never "
                           "writes them; they can hide entity attacks)")


def test_utf16_dtd_in_a_part_is_refused(tmp_path):
    f = tmp_path / "u.xlsx"
    f.write_bytes(xlsx_with_part("xl/x.dat", DTD.decode().encode("utf-16")))
    assert "declares a DOCTYPE or XML entities" in _refusal(f)


def test_an_xml_part_is_limited_by_its_content_not_its_name(tmp_path, monkeypatch):
    monkeypatch.setattr(safety, "XLSX", dataclasses.replace(safety.XLSX, xml_bytes=12_000))
    f = tmp_path / "x.xlsx"
    f.write_bytes(xlsx_with_part("xl/media/blob.bin", b"<x>" + b"a" * 20_000 + b"</x>"))
    assert _refusal(f) == "x.xlsx: entry 'xl/media/blob.bin': XML of more than 12,000 bytes uncompressed; refused"


def test_every_sheet_reader_goes_through_the_checks(tmp_path, monkeypatch):
    """Tighten the limits until a normal workbook is refused: each reader must refuse it."""
    from vbhc_code.coding.read import is_coder_workbook
    from vbhc_code.coding.reconcile.workbook import read_reconcile_xlsx
    from vbhc_code.files.sheets import open_workbook

    f = tmp_path / "w.xlsx"
    f.write_bytes(xlsx_bytes([["participant_id", "document"], ["P01", "a.txt"]], title="_meta"))
    assert is_coder_workbook(f) is False  # readable, but not a coder workbook
    assert load_participants(f)[0].participant_id == "P01"
    monkeypatch.setattr(safety, "XLSX", dataclasses.replace(safety.XLSX, members=3))
    for reader in (load_participants, load_documents_sheet, read_rows, read_reconcile_xlsx):
        with pytest.raises(DataError, match=r"^w\.xlsx: \d+ entries in the archive \(limit 3\); refused$"):
            reader(f)
    with pytest.raises(DataError, match="entries in the archive"), open_workbook(f):
        pass
    monkeypatch.setattr(safety, "XLSX", dataclasses.replace(safety.XLSX, file_bytes=100))
    with pytest.raises(DataError, match=r"^w\.xlsx: [\d,]+ bytes on disk \(limit 100 bytes\); refused$"):
        read_rows(f)


def test_sheet_rows_keeps_row_numbers_and_only_pads_to_the_last_cell(tmp_path):
    from hostile import MAIN, rezip

    sheet = (f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><dimension ref="A1:XFD9"/><sheetData>'
             '<row r="1"><c r="B1"><v>1</v></c></row><row r="4"><c r="A4"><v>2</v></c><c r="C4"><v>3</v></c></row>'
             "</sheetData></worksheet>").encode()
    f = tmp_path / "g.xlsx"
    f.write_bytes(rezip(xlsx_bytes([["x"]]), {"xl/worksheets/sheet1.xml": sheet}))
    with open_xlsx(f) as wb:
        assert list(sheet_rows(wb.worksheets[0])) == [(None, 1), (), (), (2, None, 3)]
        assert list(sheet_rows(wb.worksheets[0], min_row=2, pad=2)) == [(None, None), (None, None), (2, None, 3)]


def test_a_huge_csv_sheet_is_refused_from_its_size_on_disk(tmp_path):
    from hostile import sparse_file

    f = sparse_file(tmp_path / "p.csv", safety.MAX_SHEET_BYTES + 1)
    with pytest.raises(DataError) as exc:
        load_participants(f)
    assert str(exc.value) == (f"p.csv: {safety.MAX_SHEET_BYTES + 1:,} bytes; larger than any sheet this tool reads "
                              "(limit 24 MiB); refused")


def test_an_archive_claiming_an_unknown_zip_version_is_a_located_error(tmp_path):
    data = bytearray(xlsx_bytes([["participant_id"], ["P01"]]))
    central = data.index(b"PK\x01\x02")
    data[central + 6:central + 8] = (64).to_bytes(2, "little")  # "version needed to extract": 6.4
    f = tmp_path / "v.xlsx"
    f.write_bytes(bytes(data))
    assert _refusal(f) == "v.xlsx: not a readable .xlsx workbook (not a zip archive, or a truncated one)"
