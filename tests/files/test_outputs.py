"""vbhc_code.files.outputs: how a writer recognises its own earlier output, and what it refuses."""

from __future__ import annotations

import pytest

from vbhc_code.errors import DataError, HumanWorkExists
from vbhc_code.files.csvfile import write_csv_atomic
from vbhc_code.files.docx_write import Paragraph, write_document
from vbhc_code.files.outputs import (
    AGREEMENT,
    CODEBOOK,
    CODEBOOK_TOML,
    CODINGS_EXPORT,
    SEGMENTS,
    THEMES,
    check_replaceable,
    is_earlier_output,
)
from vbhc_code.files.xlsx_write import Column, Sheet, write_workbook


def _sheet() -> list[Sheet]:
    return [Sheet("S", [Column("a")], [["x"]])]


def test_workbooks_and_word_documents_carry_their_kind(tmp_path):
    book = write_workbook(tmp_path / "a.xlsx", _sheet(), kind=AGREEMENT)
    assert is_earlier_output(book, AGREEMENT) and not is_earlier_output(book, THEMES)
    write_workbook(book, _sheet(), kind=AGREEMENT)  # replaced without force
    with pytest.raises(HumanWorkExists, match="not an earlier themes output"):
        write_workbook(book, _sheet(), kind=THEMES)
    doc = write_document(tmp_path / "d.docx", [Paragraph("p")], kind=THEMES)
    assert is_earlier_output(doc, THEMES) and not is_earlier_output(doc, AGREEMENT)


def test_csv_is_recognised_by_its_exact_header(tmp_path):
    path = tmp_path / "x.csv"
    columns = ("document", "turn_index", "code", "coder", "start", "end", "evidence")
    write_csv_atomic(path, columns, [["a", 1, "C1", "anna", None, None, ""]], kind=CODINGS_EXPORT)
    assert is_earlier_output(path, CODINGS_EXPORT) and not is_earlier_output(path, SEGMENTS)
    path.write_text("document,turn_index,code\nINT01.txt,1,C1\n", encoding="utf-8")  # a coder's long CSV
    assert not is_earlier_output(path, CODINGS_EXPORT)
    with pytest.raises(HumanWorkExists):
        write_csv_atomic(path, columns, [], kind=CODINGS_EXPORT)
    assert path.read_text(encoding="utf-8").startswith("document,turn_index,code\n")


def test_codings_folder_human_kinds_folders_and_broken_files(tmp_path):
    codings = tmp_path / "codings"
    codings.mkdir()
    columns = ("document", "turn_index", "code", "coder", "start", "end", "evidence")
    ours = write_csv_atomic(codings / "e.csv", columns, [], kind=CODINGS_EXPORT)
    assert not is_earlier_output(ours, CODINGS_EXPORT)  # in codings/, an input format people edit
    with pytest.raises(HumanWorkExists, match=r"codings/ is human work"):
        check_replaceable(ours, CODINGS_EXPORT, force=False)
    toml = tmp_path / "cb.toml"
    toml.write_text("name = 'x'\n", encoding="utf-8")
    with pytest.raises(HumanWorkExists, match=r"\(human work\)"):
        check_replaceable(toml, CODEBOOK_TOML, force=False)
    check_replaceable(toml, CODEBOOK_TOML, force=True)
    with pytest.raises(DataError, match="is a folder"):
        check_replaceable(codings, CODEBOOK, force=True)
    broken = tmp_path / "b.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    assert not is_earlier_output(broken, AGREEMENT)
    md = tmp_path / "c.md"
    md.write_text("# Codebook vbhc-sim 1.2.0\n", encoding="utf-8")
    assert is_earlier_output(md, CODEBOOK) and not is_earlier_output(md, THEMES)
