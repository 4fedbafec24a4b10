"""The .docx body read straight from the package gives what python-docx's Document gives."""

from __future__ import annotations

import io
import zipfile

import pytest

from vbhc_code.ingest.transcripts import docx_reader
from vbhc_code.ingest.transcripts.docx_reader import docx_text


def _rich_docx() -> bytes:
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_BREAK

    d = docx.Document()
    d.add_paragraph("Date: 3 May 2024")
    p = d.add_paragraph()
    p.add_run("Interviewer:").bold = True
    p.add_run(" Welcome.\tTab")
    p.add_run().add_break(WD_BREAK.LINE)
    p.add_run("next line")
    style = d.styles.add_style("Speaker", WD_STYLE_TYPE.CHARACTER)
    style.font.bold = True
    p = d.add_paragraph()
    p.add_run("Anna:", style="Speaker")
    p.add_run(" Thanks, it was fine.")
    table = d.add_table(rows=4, cols=3)
    for r, (who, text) in enumerate([("Speaker", "Text"), ("Anna", "One."), ("Ben", "Two."), ("", "")]):
        table.cell(r, 0).text, table.cell(r, 1).text = who, text
    table.cell(2, 1).merge(table.cell(3, 1))  # vertical merge
    table.cell(1, 1).merge(table.cell(1, 2))  # horizontal merge
    d.add_paragraph("Ben: After the table.")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _edit_member(data: bytes, member: str, old: bytes, new: bytes) -> bytes:
    """The same package with ``old`` replaced by ``new`` in one member."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == member:
                assert old in body
                body = body.replace(old, new)
            z.writestr(info.filename, body)
    return out.getvalue()


def _relative_main_part(data: bytes) -> bytes:
    """The same package with its main part named ``./word/document.xml`` by the package relationships."""
    return _edit_member(data, "_rels/.rels", b'Target="word/document.xml"', b'Target="./word/document.xml"')


def test_the_direct_read_equals_python_docx(monkeypatch):
    data = _rich_docx()
    fast = docx_text(data, name="rich.docx")
    monkeypatch.setattr(docx_reader, "_main_body", lambda *a, **k: None)  # python-docx opens the package
    assert docx_text(data, name="rich.docx") == fast
    assert "Anna" in fast.bold_labels and "Interviewer" in fast.bold_labels  # a character style, resolved lazily
    assert fast.table_rows


def test_a_main_part_named_unusually_is_read_through_python_docx():
    data = _rich_docx()
    moved = _relative_main_part(data)
    assert docx_reader._main_body(moved, name="moved.docx") is None
    assert docx_text(moved, name="moved.docx") == docx_text(data, name="rich.docx")


def test_a_package_that_is_not_a_word_document_is_still_refused():
    template = _edit_member(_rich_docx(), "[Content_Types].xml", b"document.main+xml", b"template.main+xml")
    with pytest.raises(Exception, match="damaged .docx"):
        docx_text(template, name="template.docx")
