"""The only Excel writer in vbhc-code.

Every workbook vbhc-code writes goes through ``write_workbook``: cells from data are always text
or numbers (never formulas), control characters Excel rejects are stripped, long cells are capped
at 32,767 characters with a visible note, sheet names are sanitised, dropdown lists longer than
255 characters reference a hidden sheet range, and the file is written to a temp file and renamed.

>>> clean_text("a\\x00b\\x07c\\tend")
'abc\\tend'
>>> sheet_names(["Themes", "a/b:c", "x" * 40, "themes"])
['Themes', 'a_b_c', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'themes (2)']
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vbhc_code.errors import DataError
from vbhc_code.files.atomic import atomic_path, scratch_folder
from vbhc_code.files.outputs import FILE, OutputKind
from vbhc_code.files.xlsx_layout import (  # noqa: F401 - MAX_ROW_POINTS, text_lines are part of the interface
    CHART_UNITS,
    COMPACT_NUMBER_WIDTH,
    FIT_WIDTH,
    MAX_ROW_POINTS,
    TEXT_SHEET_WIDTH,
    compact_widths,
    header_lines,
    page_setup,
    rotated_header_points,
    row_points,
    text_lines,
)

MAX_CELL = 32_767  # Excel's limit, counted in UTF-16 code units
MAX_ROWS = 1_048_575  # data rows below the header
MAX_LIST = 255  # longest inline data-validation list Excel accepts
# Characters an .xlsx cell cannot hold: C0 controls except \t \n \r, U+FFFE/U+FFFF, lone surrogates.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_KIND_WIDTH = {"text": 18.0, "int": 10.0, "float": 12.0, "percent": 10.0, "date": 12.0}
_KIND_FORMAT = {"int": "0", "float": "0.00", "percent": "0.0%", "date": "yyyy-mm-dd"}


@dataclass
class Column:
    header: str
    width: float | None = None  # None: a sensible width from the header and kind
    wrap: bool = False
    kind: str = "text"  # text | int | float | percent (0-1 shown as %) | date
    choices: Sequence[str] | None = None  # dropdown (data validation) on every data row
    fills: dict[str, str] | None = None  # conditional fill per cell value, e.g. {"red": "#F4CCCC"}
    hidden: bool = False
    comment: str | None = None  # a note on the header cell


@dataclass
class Chart:
    title: str
    categories: int  # 0-based column index in this sheet holding the category labels
    values: Sequence[int]  # 0-based column indexes holding the series (header = series name)
    kind: str = "bar"  # bar (horizontal) | column
    anchor: str | None = None  # cell where the chart is placed; default right of the table
    sheet: str | None = None  # place the chart on this (chart-only or other) sheet instead
    names: Sequence[str] | None = None  # series names (default: the value columns' headers)
    percent: bool = False  # values are shares 0-1: the value axis reads 0%-100%


@dataclass
class Sheet:
    """A table: one header row, then ``rows`` (any iterable, consumed once, may be a generator)."""

    name: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    hidden: bool = False
    freeze_header: bool = True
    freeze_columns: int = 0  # also keep this many leading columns in view (and on every printed page)
    autofilter: bool = True
    charts: Sequence[Chart] = field(default_factory=list)


@dataclass
class TextSheet:
    """Paragraphs of text (Instructions, Methods), one per row, wrapped in a wide column."""

    name: str
    paragraphs: Sequence[str]
    title: str | None = None
    hidden: bool = False


def _utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF) if len(text) > MAX_CELL // 2 else len(text)


def strip_illegal(text: str) -> str:
    """``text`` without the characters an .xlsx cell (or a UTF-8 file) cannot hold."""
    return _ILLEGAL.sub("", text)


def clean_text(value: Any) -> str:
    """``value`` as cell text: illegal characters stripped, capped at Excel's cell limit.

    A capped text keeps a prefix of the original and ends with ``[truncated: N characters]``
    (N = characters cut), so the cut is visible in the cell itself.
    """
    text = _ILLEGAL.sub("", value if isinstance(value, str) else str(value))
    if len(text) <= MAX_CELL // 2 or _utf16_len(text) <= MAX_CELL:
        return text
    keep = MAX_CELL - 40
    while True:
        marker = f" [truncated: {len(text) - keep} characters]"
        if _utf16_len(text[:keep]) + len(marker) <= MAX_CELL:
            return text[:keep] + marker
        keep -= 40


def _sanitise_sheet_name(name: str) -> str:
    name = _BAD_SHEET_CHARS.sub("_", _ILLEGAL.sub("", str(name))).strip().strip("'")
    name = name[:31].strip().strip("'")
    if not name or name.lower() == "history":  # "History" is reserved by Excel
        name = f"{name or 'Sheet'}_"
    return name


def sheet_names(names: Sequence[str]) -> list[str]:
    """Excel-safe, case-insensitively unique sheet names (31 chars, no ``[]:*?/\\``)."""
    out: list[str] = []
    seen: set[str] = set()
    for raw in names:
        base = _sanitise_sheet_name(raw)
        name, n = base, 1
        while name.lower() in seen:
            n += 1
            suffix = f" ({n})"
            name = base[: 31 - len(suffix)] + suffix
        seen.add(name.lower())
        out.append(name)
    return out


def _default_width(col: Column) -> float:
    """Wrapped text 50; else wide enough for the data kind and for the header in two lines at most."""
    if col.wrap:
        return 50.0
    words = col.header.split() or [""]
    need = max(max(len(w) for w in words) + 2, math.ceil(len(col.header) / 2) + 3)
    return float(max(_KIND_WIDTH.get(col.kind, 18.0), min(need, 40)))


def _quote_sheet(name: str) -> str:
    # Always quoted (xlsxwriter's quote_sheetname quotes only names that need it): the formula stays as it was.
    return "'" + name.replace("'", "''") + "'"


class _Writer:
    """Holds the workbook and its formats while the sheets are written."""

    def __init__(self, workbook: Any) -> None:
        self.wb = workbook
        self.header = workbook.add_format({"bold": True, "valign": "top", "text_wrap": True, "bottom": 1})
        # a number column's header sits over its right-aligned numbers
        self.header_num = workbook.add_format(
            {"bold": True, "valign": "top", "text_wrap": True, "bottom": 1, "align": "right", "indent": 1})
        # a narrowed number column of a wide table: the header reads bottom-up
        self.header_turned = workbook.add_format(
            {"bold": True, "valign": "bottom", "align": "center", "bottom": 1, "rotation": 90})
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.para = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.formats: dict[tuple[str, bool], Any] = {}

    def fmt(self, kind: str, wrap: bool) -> Any:
        key = (kind, wrap)
        if key not in self.formats:
            props: dict[str, Any] = {"valign": "top"}
            if wrap:
                props["text_wrap"] = True
            if kind in _KIND_FORMAT:
                props["num_format"] = _KIND_FORMAT[kind]
            if kind in ("int", "float", "percent"):  # a gap before the next column's text, in print too
                props.update(align="right", indent=1)
            self.formats[key] = self.wb.add_format(props)
        return self.formats[key]


def _write_value(ws: Any, row: int, col: int, value: Any, fmt: Any, date_column: bool = False) -> None:
    if value is None:
        return
    if isinstance(value, str):  # also numpy.str_: text stays text, "42" never becomes a number
        ws.write_string(row, col, clean_text(value), fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "TRUE" if value else "FALSE", fmt)
    elif isinstance(value, (int, float)) or type(value).__module__ == "numpy":
        try:
            number = float(value)
        except (TypeError, ValueError):
            ws.write_string(row, col, clean_text(value), fmt)
            return
        if math.isfinite(number):
            ws.write_number(row, col, number, fmt)
    elif isinstance(value, (_dt.datetime, _dt.date)):
        if date_column:
            ws.write_datetime(row, col, value, fmt)
        else:  # without a date format Excel would show a serial number
            ws.write_string(row, col, value.isoformat(), fmt)
    else:
        ws.write_string(row, col, clean_text(value), fmt)


def number_or_text(value: str) -> int | float | str:
    """A sheet value that reads as a plain number (``12``, ``-3``, ``4.5``) as that number, else the text.

    Only plain decimal notation: ``007``, ``1e3``, ``12 years``, ``NaN`` and ``1,5`` stay text (ids, codes).

    >>> [number_or_text(v) for v in ("12", "-3", "4.5", "007", "1e3", "", "12 years", "0")]
    [12, -3, 4.5, '007', '1e3', '', '12 years', 0]
    """
    if not _PLAIN_NUMBER.fullmatch(value):
        return value
    return float(value) if "." in value else int(value)


_PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,10})?")


def _needs_sheet_list(choices: Sequence[str]) -> bool:
    return len(",".join(choices)) > MAX_LIST or any("," in c or '"' in c for c in choices)


def _write_table(w: _Writer, ws: Any, sheet: Sheet, lists: dict[int, str]) -> int:
    """Write header + rows + per-column options; returns the number of data rows."""
    cols = list(sheet.columns)
    fmts = [w.fmt(c.kind, c.wrap) for c in cols]
    widths = [0.0 if c.hidden else c.width if c.width is not None else _default_width(c) for c in cols]
    beside = any(not c.sheet and not c.anchor for c in sheet.charts)  # a chart right of the table prints too
    turned = set(compact_widths(widths, [c.kind for c in cols], [c.width is not None for c in cols],
                                CHART_UNITS if beside else 0.0))
    header_points = row_points(1)
    for j, col in enumerate(cols):
        if j in turned:
            widths[j] = COMPACT_NUMBER_WIDTH
            header_points = max(header_points, rotated_header_points(col.header))
        elif not col.hidden:
            header_points = max(header_points, row_points(header_lines(col.header, widths[j])))
        head = w.header_turned if j in turned else w.header if col.kind in ("text", "date") else w.header_num
        ws.set_column(j, j, widths[j] or 8.0, fmts[j], {"hidden": True} if col.hidden else None)
        ws.write_string(0, j, clean_text(col.header), head)
        if col.comment:
            ws.write_comment(0, j, clean_text(col.comment))
    if header_points > row_points(1):
        ws.set_row(0, header_points)
    page_setup(ws, sum(widths) + (CHART_UNITS if beside else 0.0), landscape=True)
    if sheet.freeze_header or sheet.freeze_columns:
        ws.freeze_panes(1 if sheet.freeze_header else 0, sheet.freeze_columns)
    # a whole number in a text column (an Overview figure, a numeric attribute) gets the number format "0"
    num_fmts = [w.fmt("int", c.wrap) if c.kind in ("text", "date") else fmts[j] for j, c in enumerate(cols)]
    n = 0
    ncols = len(cols)
    wrapped = [(j, widths[j]) for j, c in enumerate(cols) if c.wrap and not c.hidden]
    write_string, write_number, set_row = ws.write_string, ws.write_number, ws.set_row
    half = MAX_CELL // 2
    for n, values in enumerate(sheet.rows, start=1):
        if n > MAX_ROWS:
            raise DataError(f"sheet {sheet.name}: more than {MAX_ROWS:,} rows do not fit in an Excel sheet")
        if wrapped:
            lines = max(text_lines(v, width) if type(v := values[j] if j < len(values) else None) is str else 1
                        for j, width in wrapped)
            if lines > 1:
                set_row(n, row_points(lines))
        for j, value in enumerate(values[:ncols]):
            # fast paths for the common cell types; everything else goes through _write_value
            if type(value) is str:
                # printable and short: nothing to strip or cap (isprintable is false for every illegal char)
                if len(value) > half or not value.isprintable():
                    value = clean_text(value)
                write_string(n, j, value, fmts[j])
            elif type(value) is int:
                write_number(n, j, value, num_fmts[j])
            else:
                whole = isinstance(value, int) and not isinstance(value, bool)
                _write_value(ws, n, j, value, num_fmts[j] if whole else fmts[j], cols[j].kind == "date")
    if sheet.autofilter and ncols:
        ws.autofilter(0, 0, max(n, 1), ncols - 1)
    last = max(n, 1)
    for j, col in enumerate(cols):
        if col.choices:
            choices = [clean_text(c) for c in col.choices]
            if j in lists:
                source: Any = lists[j]
            else:
                source = choices
            ws.data_validation(1, j, last, j, {"validate": "list", "source": source, "ignore_blank": True})
        if col.fills:
            for value, colour in col.fills.items():
                crit = '"' + clean_text(value).replace('"', '""') + '"'
                ws.conditional_format(
                    1, j, last, j,
                    {"type": "cell", "criteria": "==", "value": crit, "format": w.wb.add_format({"bg_color": colour})},
                )
    return n


def _literal_name(target: Any, text: str) -> None:
    """A chart series name or title as literal text (``<c:v>``, ``<a:t>``), never a ``<c:f>`` reference.

    xlsxwriter reads a name such as ``=cmd|' /C calc'!A0`` (or any ``x!A1``) as a formula, and a participant
    attribute can be any text; so the name is set after the series or title exists, as xlsxwriter stores
    a plain name (a series is a dict, a title an object).
    """
    name = clean_text(text)[:255] or " "
    if isinstance(target, dict):
        target.update(name=name, name_formula=None, name_id=None)
    else:
        target.name, target.formula, target.data_id = name, None, None


def _add_charts(w: _Writer, sheet_name: str, sheet: Sheet, nrows: int, targets: dict[str, Any],
                placed: dict[str, int], tables: dict[str, int]) -> None:
    from xlsxwriter.utility import xl_rowcol_to_cell

    if nrows == 0:
        return  # an empty series range makes Excel repair the file
    for chart in sheet.charts:
        ch = w.wb.add_chart({"type": "column" if chart.kind == "column" else "bar"})
        for k, v in enumerate(chart.values):
            named = chart.names and k < len(chart.names)
            ch.add_series({
                "name": " ",
                "categories": [sheet_name, 1, chart.categories, nrows, chart.categories],
                "values": [sheet_name, 1, v, nrows, v],
            })
            _literal_name(ch.series[-1], chart.names[k] if named else sheet.columns[v].header)  # type: ignore[index]
        ch.set_title({"name": " ", "name_font": {"size": 12}})
        _literal_name(ch.title, chart.title)
        ch.set_legend({"position": "bottom"} if len(chart.values) > 1 else {"none": True})
        value_axis: dict[str, Any] = {"num_format": "0%", "max": 1} if chart.percent else {}
        if chart.kind == "column":
            ch.set_y_axis(value_axis)
        else:  # a bar chart lists categories bottom-up: reverse them so they read in the table's order
            ch.set_x_axis(value_axis)
            ch.set_y_axis({"reverse": True})
        height = min(max(280, 18 * nrows + 110), 1600) if chart.kind != "column" else 360
        ch.set_size({"width": 520, "height": height})  # as wide as a text sheet's column (a portrait page)
        key = chart.sheet or sheet.name
        target = targets[key]
        if chart.anchor:
            anchor = chart.anchor
        elif key in tables and key != sheet.name:  # another table's sheet: right of that table
            anchor = xl_rowcol_to_cell(placed.get(key, 0) + 1, tables[key] + 1)
        elif chart.sheet:  # a chart sheet or a text sheet: below its text
            anchor = f"A{placed.get(key, 0) + 1}"
        else:
            anchor = xl_rowcol_to_cell(placed.get(key, 0) + 1, len(sheet.columns) + 1)
        placed[key] = placed.get(key, 0) + height // 20 + 2
        target.insert_chart(anchor, ch)


def write_workbook(
    path: Path, sheets: Sequence[Sheet | TextSheet], *, kind: OutputKind = FILE, force: bool = False,
    constant_memory: bool = False,
) -> Path:
    """Write ``sheets`` to ``path`` atomically, marked as a ``kind`` output (``files.outputs``).

    Raises ``vbhc_code.errors.HumanWorkExists`` when the file exists, is not an earlier ``kind`` output and
    ``force`` is false. ``constant_memory`` streams rows to disk (use it for big sheets; memory stays flat).
    xlsxwriter's own temp files go to a private folder beside ``path`` that is always removed.
    """
    import xlsxwriter

    path = Path(path)
    with atomic_path(path, kind=kind, force=force) as tmp, scratch_folder(path) as scratch:
        options = {
            "constant_memory": constant_memory,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "tmpdir": str(scratch),
        }
        wb = xlsxwriter.Workbook(str(tmp), options)
        wb.set_properties({"keywords": kind.marker})
        _build(wb, sheets)
        wb.close()
    return path


def _build(wb: Any, sheets: Sequence[Sheet | TextSheet]) -> None:
    from xlsxwriter.utility import xl_range_abs

    w = _Writer(wb)
    chart_only = [
        c.sheet for s in sheets if isinstance(s, Sheet) for c in s.charts
        if c.sheet and c.sheet not in {x.name for x in sheets}
    ]
    chart_only = list(dict.fromkeys(chart_only))
    # Long or comma-holding dropdown lists live in a hidden sheet, one column per list.
    long_lists: list[list[str]] = []
    list_refs: dict[tuple[int, int], int] = {}
    for i, s in enumerate(sheets):
        if isinstance(s, Sheet):
            for j, col in enumerate(s.columns):
                if col.choices and _needs_sheet_list(col.choices):
                    list_refs[(i, j)] = len(long_lists)
                    long_lists.append([clean_text(c) for c in col.choices])
    raw_names = [s.name for s in sheets] + chart_only + (["_lists"] if long_lists else [])
    names = sheet_names(raw_names)
    worksheets = [wb.add_worksheet(n) for n in names]
    targets = dict(zip(raw_names, worksheets))
    for ws in worksheets:
        ws.hide_gridlines(2)
    lists_name = names[-1] if long_lists else ""
    refs = {
        key: f"={_quote_sheet(lists_name)}!{xl_range_abs(0, k, len(long_lists[k]) - 1, k)}"
        for key, k in list_refs.items()
    }
    # charts go below a text sheet's paragraphs and right of another table
    placed: dict[str, int] = {
        s.name: (2 if s.title else 0) + len(s.paragraphs) + 1 for s in sheets if isinstance(s, TextSheet)
    }
    tables = {s.name: len(s.columns) for s in sheets if isinstance(s, Sheet)}
    visible = None
    for i, s in enumerate(sheets):
        ws = worksheets[i]
        if isinstance(s, TextSheet):
            ws.set_column(0, 0, TEXT_SHEET_WIDTH, w.para)
            page_setup(ws, TEXT_SHEET_WIDTH, landscape=False)
            row = 0
            if s.title:
                ws.write_string(0, 0, clean_text(s.title), w.title)
                ws.set_row(0, 20)
                row = 2
            for p in s.paragraphs:
                text = clean_text(p)
                lines = text_lines(text, TEXT_SHEET_WIDTH)
                if lines > 1:
                    ws.set_row(row, row_points(lines))
                ws.write_string(row, 0, text, w.para)
                row += 1
        else:
            lists = {j: refs[(i, j)] for j in range(len(s.columns)) if (i, j) in refs}
            nrows = _write_table(w, ws, s, lists)
            if s.charts:
                _add_charts(w, names[i], s, nrows, targets, placed, tables)
        if s.hidden:
            ws.hide()
        elif visible is None:
            visible = ws
    if long_lists:
        ws = worksheets[-1]
        for r in range(max(len(x) for x in long_lists)):
            for k, values in enumerate(long_lists):
                if r < len(values):
                    ws.write_string(r, k, values[r])
        ws.hide()
    if visible is None:  # Excel needs one visible sheet
        visible = worksheets[0]
        visible.hidden = 0
    visible.activate()
    visible.set_first_sheet()
