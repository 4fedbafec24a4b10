"""The Word (.docx) writer: headings, paragraphs and captioned tables, styled only through Word styles.

A journal template restyles the document by style name: headings use ``Heading 1``/``Heading 2``, text
``Normal``, captions ``Caption``, tables ``Table Grid`` with cell paragraphs in the styles ``Table Text``,
``Table Number`` (right-aligned), ``Table Heading`` (header row) and ``Table Theme`` (a group's heading
row). No run carries direct formatting. A table wider than a portrait page sits in its own landscape
section. Text from data has the characters XML cannot hold removed; the file is written atomically.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vbhc_code.files.atomic import atomic_path
from vbhc_code.files.outputs import FILE, OutputKind
from vbhc_code.files.xlsx_write import strip_illegal

TABLE_STYLE = "Table Grid"
_NUMBER = re.compile(r"^\d+(?:\.\d+)?(?: \(\d+%\))?$")
PORTRAIT_COLUMNS = 6  # a table with more columns gets a landscape page


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: str = "Normal"


@dataclass(frozen=True)
class TableBlock:
    caption: str  # "Table 1. ..." (style Caption, above the table)
    header: Sequence[str]
    rows: Sequence[tuple[str, Sequence[str]]]  # (kind, cells): kind "heading" spans the row in Table Theme
    widths: Sequence[float] = field(default_factory=tuple)  # relative column widths

    @property
    def landscape(self) -> bool:
        return len(self.header) > PORTRAIT_COLUMNS


def _clean(text: Any) -> str:
    return strip_illegal("" if text is None else str(text))


def _styles(doc: Any) -> None:
    """The paragraph styles tables use, defined once (based on Normal) so a template can restyle them."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    styles = doc.styles
    base = styles["Normal"]

    def add(name: str) -> Any:
        if name in [s.name for s in styles]:
            return styles[name]
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = base
        style.font.size = Pt(9)
        style.paragraph_format.space_after = Pt(0)
        return style

    add("Table Text")
    add("Table Number").paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    add("Table Heading").font.bold = True
    add("Table Theme").font.bold = True
    styles["Caption"].paragraph_format.keep_with_next = True


def _repeat_header(row: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _set_orientation(section: Any, landscape: bool) -> None:
    from docx.enum.section import WD_ORIENT

    wide, high = max(section.page_width, section.page_height), min(section.page_width, section.page_height)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (wide, high) if landscape else (high, wide)


def _add_table(doc: Any, block: TableBlock) -> None:
    doc.add_paragraph(_clean(block.caption), style="Caption")
    ncols = len(block.header)
    table = doc.add_table(rows=1, cols=ncols)
    table.style = doc.styles[TABLE_STYLE]
    for cell, text in zip(table.rows[0].cells, block.header):
        cell.paragraphs[0].text = _clean(text)
        cell.paragraphs[0].style = doc.styles["Table Heading"]
    _repeat_header(table.rows[0])
    for kind, cells in block.rows:
        row = table.add_row()
        if kind == "heading":
            merged = row.cells[0].merge(row.cells[ncols - 1]) if ncols > 1 else row.cells[0]
            merged.paragraphs[0].text = _clean(cells[0] if cells else "")
            merged.paragraphs[0].style = doc.styles["Table Theme"]
            continue
        for j, cell in enumerate(row.cells):
            text = _clean(cells[j] if j < len(cells) else "")
            cell.paragraphs[0].text = text
            style = "Table Number" if j and _NUMBER.match(text) else "Table Text"
            cell.paragraphs[0].style = doc.styles[style]
    if block.widths and len(block.widths) == ncols:
        section = doc.sections[-1]
        usable = section.page_width - section.left_margin - section.right_margin
        total = sum(block.widths)
        table.autofit = False
        for j, column in enumerate(table.columns):
            width = int(usable * block.widths[j] / total)
            column.width = width  # the grid (LibreOffice) and every cell (Word)
            for cell in column.cells:
                cell.width = width


def has_subject(path: Path, subject: str) -> bool:
    """Whether the .docx at ``path`` names ``subject`` in its document properties (how a writer recognises
    its own earlier output). Reads one small archive member, nothing else; a broken file is not ours."""
    from xml.sax.saxutils import escape

    from vbhc_code.errors import DataError
    from vbhc_code.files.archive import DOCX, SafeZip

    try:
        with SafeZip(path, limits=DOCX) as archive:
            sizes = {m.name: m.size for m in archive.members}
            if sizes.get("docProps/core.xml", 1 << 30) > 1_000_000:
                return False
            data = archive.read("docProps/core.xml")
    except DataError:
        return False
    return f">{escape(subject)}</dc:subject>".encode() in data


def write_document(path: Path, blocks: Sequence[Heading | Paragraph | TableBlock], *, title: str = "",
                   subject: str = "", kind: OutputKind = FILE, force: bool = False) -> Path:
    """Write ``blocks`` to a .docx at ``path`` atomically, marked as a ``kind`` output (an existing file that is
    not an earlier ``kind`` output is refused unless ``force``)."""
    from docx import Document
    from docx.enum.section import WD_SECTION

    path = Path(path)
    doc = Document()
    doc.core_properties.keywords = kind.marker
    _styles(doc)
    if title:
        doc.core_properties.title = _clean(title)[:255]
    if subject:
        doc.core_properties.subject = _clean(subject)[:255]
    landscape = False
    for block in blocks:
        if isinstance(block, TableBlock) and block.landscape != landscape:
            landscape = block.landscape
            _set_orientation(doc.add_section(WD_SECTION.NEW_PAGE), landscape)
        elif not isinstance(block, TableBlock) and landscape:  # back to portrait after a wide table
            landscape = False
            _set_orientation(doc.add_section(WD_SECTION.NEW_PAGE), False)
        if isinstance(block, Heading):
            doc.add_heading(_clean(block.text), level=block.level)
        elif isinstance(block, Paragraph):
            doc.add_paragraph(_clean(block.text), style=block.style)
        else:
            _add_table(doc, block)
    with atomic_path(path, kind=kind, force=force) as tmp:
        doc.save(str(tmp))
    return path


__all__ = ["Heading", "Paragraph", "TableBlock", "has_subject", "write_document"]
