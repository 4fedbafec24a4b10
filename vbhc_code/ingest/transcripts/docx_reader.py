"""The plain text of a .docx: body paragraphs joined with ``\\n``, speaker tables read row by row.

Each table row is one line, its cells joined by a tab and a cell's paragraphs by ``\\n``. Rows of a speaker
table (see ``tables.py``) are handed to the line reader with the offsets of their speaker and text cells.

The archive is checked before anything reads it: not a zip, too large when unpacked (zip bomb), or XML
with a DOCTYPE / entity declarations (billion laughs, external entities) is refused with a clear error.
The body is then parsed straight from ``word/document.xml`` with python-docx's own parser and element classes
(opening python-docx's ``Document`` parses every part and cost more than the rest of reading); the
``Document`` is opened only to resolve a character style, or for a package that names its main part unusually.
"""

from __future__ import annotations

import io
import re
from typing import Any, NamedTuple

from vbhc_code.errors import DataError
from vbhc_code.files.archive import check_docx
from vbhc_code.ingest.transcripts.labels import TS, TS_ANY, is_header_field
from vbhc_code.ingest.transcripts.tables import TableLayout, table_layout

_NAME_TIME = re.compile(rf"[ \t]*(?P<label>[^\W\d_][^:\n\t\[\]()]{{0,39}}?)[ \t]+{TS_ANY}[ \t]*")
_LABEL_PREFIX = re.compile(
    rf"\s*(?:{TS_ANY}\s+)?(?P<label>[^:\[\]()\n]{{1,60}}?)\s*(?:\[{TS}\]|\({TS}\))?\s*:?\s*(?:{TS_ANY})?\s*"
)


class TableRow(NamedTuple):
    """One row of a speaker table, located in the plain text (offsets end-exclusive)."""

    start: int  # the row's first character
    end: int  # just after its last character
    kind: str  # header | turn | empty (no text)
    label: str | None = None
    span: tuple[int, int] | None = None  # the text cell, trimmed
    timestamps: tuple[str, ...] = ()
    last: bool = True  # the text cell is the row's last cell (text after the table may continue the turn)


class DocxText(NamedTuple):
    text: str
    bold_labels: list[str]
    table_labels: list[str]
    table_rows: dict[int, TableRow]  # by row start offset


def docx_text(data: bytes, *, name: str) -> DocxText:
    """The plain text, bold speaker labels, table speaker labels and speaker-table rows."""
    check_docx(data, name=name)
    document: Any = _LazyDocument(data)
    try:
        from docx.table import Table

        body = _main_body(data, name=name)
        if body is None:  # an unusual package: python-docx finds its main part
            document = document.opened
            body = document.element.body
    except DataError:
        raise
    except Exception as exc:  # python-docx raises many kinds on a malformed package
        raise DataError(f"{name}: a damaged .docx that cannot be read ({type(exc).__name__})") from None
    W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    out: list[str] = []
    bold_labels: list[str] = []
    table_labels: list[str] = []
    table_rows: dict[int, TableRow] = {}
    style_cache: dict[str, bool] = {}
    cursor = [0]  # offset of the next line in the plain text

    def walk(parent) -> None:
        for el in parent.iterchildren():
            if el.tag == W + "p":
                text = paragraph_text(el)
                out.append(text)
                cursor[0] += len(text) + 1
                label = _bold_label(el, text, style_cache, document)
                if label:
                    bold_labels.append(label)
            elif el.tag == W + "tbl":
                cursor[0] = _table(Table(el, document), out, table_labels, table_rows, cursor[0])
            elif el.tag == W + "sdt":
                content = el.find(W + "sdtContent")
                if content is not None:
                    walk(content)

    try:
        walk(body)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"{name}: a damaged .docx that cannot be read ({type(exc).__name__})") from None
    return DocxText("\n".join(out), bold_labels, table_labels, table_rows)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_OFF = ("0", "false", "off")
_MAIN_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_MAIN_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_PKG = "{http://schemas.openxmlformats.org/package/2006/"


class _LazyDocument:
    """python-docx's ``Document``, opened only when a character style must be resolved (rare): opening it
    parses every part of the package, several times the work of reading the body."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._document: Any = None

    @property
    def opened(self) -> Any:
        if self._document is None:
            import docx

            self._document = docx.Document(io.BytesIO(self._data))
        return self._document

    @property
    def styles(self) -> Any:
        return self.opened.styles


def _main_body(data: bytes, *, name: str) -> Any:
    """The ``w:body`` of ``word/document.xml`` parsed as python-docx parses it (its element classes), when the
    package names that part as its Word main document in the usual way; else None."""
    from docx.oxml.parser import parse_xml

    from vbhc_code.files.archive import DOCX, SafeZip
    from vbhc_code.files.archive import parse_xml as parse_safe

    with SafeZip(data, label=name, limits=DOCX) as package:
        if package.find("_rels/.rels") is None or package.find("[Content_Types].xml") is None:
            return None
        rels = parse_safe(package.read("_rels/.rels"), where=name, limit=DOCX.xml_bytes).getroot()
        targets = [r.get("Target") for r in rels.iter(_PKG + "relationships}Relationship")
                   if r.get("Type") == _MAIN_REL and r.get("TargetMode") != "External"]
        if targets not in (["word/document.xml"], ["/word/document.xml"]):
            return None
        types = parse_safe(package.read("[Content_Types].xml"), where=name, limit=DOCX.xml_bytes).getroot()
        main = [o.get("ContentType") for o in types.iter(_PKG + "content-types}Override")
                if (o.get("PartName") or "").lower() == "/word/document.xml"]
        if main != [_MAIN_TYPE]:
            return None
        return parse_xml(package.read("word/document.xml")).body


# Runs as python-docx reads a paragraph (w:r, w:hyperlink), plus tracked insertions and moves, which a reader
# sees as text (a pseudonym typed over a name with track changes on). Deleted runs hold w:delText: no text.
_RUNS = "w:r | w:hyperlink/w:r | w:ins/w:r | w:moveTo/w:r | w:ins/w:hyperlink/w:r"


def paragraph_text(p) -> str:
    """A paragraph's text: python-docx's ``Paragraph.text`` with tracked insertions included."""
    return "".join(r.text for r in p.xpath(_RUNS))


def _run_text(r) -> str:
    """A run's text as python-docx reads it (w:t, tabs, breaks), read straight from the XML for speed."""
    parts = []
    for child in r.iterchildren():
        tag = child.tag
        if tag == _W + "t":
            parts.append(child.text or "")
        elif tag in (_W + "tab", _W + "ptab"):
            parts.append("\t")
        elif tag in (_W + "br", _W + "cr"):
            parts.append("\n")
        elif tag == _W + "noBreakHyphen":
            parts.append("-")
    return "".join(parts)


def _is_bold(r, cache: dict, document) -> bool:
    """Direct bold formatting, else the bold of the run's character style (resolved once per style id)."""
    rpr = r.find(_W + "rPr")
    if rpr is None:
        return False
    b = rpr.find(_W + "b")
    if b is not None:
        return b.get(_W + "val") not in _OFF
    rstyle = rpr.find(_W + "rStyle")
    if rstyle is None:
        return False
    style_id = rstyle.get(_W + "val")
    if style_id not in cache:
        style = next((st for st in document.styles if st.style_id == style_id), None)
        cache[style_id] = bool(style is not None and getattr(style, "font", None) is not None and style.font.bold)
    return cache[style_id]


def _bold_label(p, text: str, cache: dict, document) -> str | None:
    """The label when the paragraph starts with bold text that ends in (or is followed by) ':', or is a bold
    name followed only by a time."""
    if ":" not in text[:120]:
        return None
    prefix = []
    for r in p.iterchildren(_W + "r"):
        t = _run_text(r)
        if not t:
            continue
        if not _is_bold(r, cache, document):
            break
        prefix.append(t)
        if len("".join(prefix)) > 100:
            return None
    bold = "".join(prefix)
    if not bold.strip() or not text.startswith(bold):
        return None
    rest = text[len(bold):]
    name_time = _NAME_TIME.fullmatch(text)
    if name_time and len(bold.strip()) >= len(name_time["label"].strip()):
        label = name_time["label"].strip()  # a bold "Name<TAB>0:03" line (Word, Teams)
        return None if is_header_field(label) else label
    if ":" not in bold and not rest.lstrip().startswith(":"):
        return None
    m = _LABEL_PREFIX.fullmatch(bold)
    if not m:
        return None
    label = m["label"].strip()
    if not label or is_header_field(label):
        return None
    return label


def _table(table, out: list[str], labels: list[str], rows_out: dict[int, TableRow], pos: int) -> int:
    """Append the table's rows to ``out`` (one line each); note speaker-table rows; return the next offset."""
    rows: list[list[str]] = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue  # merged cells repeat
            seen.add(id(cell._tc))
            cells.append("\n".join(paragraph_text(p) for p in cell._tc.iterchildren(_W + "p")))
        rows.append(cells)
    layout = table_layout(rows)
    for n, cells in enumerate(rows):
        line = "\t".join(cells)
        out.append(line)
        if layout is not None:
            row = _speaker_row(cells, n, layout, pos)
            if row is not None:
                rows_out[pos] = row
                if row.label:
                    labels.append(row.label)
        pos += len(line) + 1
    return pos


def _speaker_row(cells: list[str], n: int, layout: TableLayout, pos: int) -> TableRow | None:
    end = pos + len("\t".join(cells))
    if n == 0 and layout.header:
        return TableRow(pos, end, "header")
    if max(layout.speaker, layout.text) >= len(cells):
        return None
    label = cells[layout.speaker].strip().rstrip(":").strip()
    if "\n" in label or len(label) > 60 or (label and is_header_field(label)):
        return None  # "Date | 2024": read as a plain line
    offsets = [pos]
    for c in cells[:-1]:
        offsets.append(offsets[-1] + len(c) + 1)
    cell = cells[layout.text]
    stripped = cell.strip()
    if not stripped:
        return TableRow(pos, end, "empty", label or None)
    s = offsets[layout.text] + len(cell) - len(cell.lstrip())
    times = tuple(cells[i].strip().strip("[]()") for i in layout.times if i < len(cells) and cells[i].strip())
    return TableRow(pos, end, "turn", label or None, (s, s + len(stripped)), times, layout.text == len(cells) - 1)
