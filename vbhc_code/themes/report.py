"""Writers for a ``ThemesResult``: Excel workbook (via ``vbhc_code.files.xlsx_write``), Markdown and JSON."""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vbhc_code.errors import DataError
from vbhc_code.files.outputs import THEMES
from vbhc_code.files.xlsx_write import Chart, Column, Sheet, TextSheet, strip_illegal, write_workbook
from vbhc_code.themes.quotes import doc_type_label

if TYPE_CHECKING:
    from vbhc_code.themes.build import ThemesResult

RAG = {"red": "#F4CCCC", "amber": "#FCE5CD", "green": "#D9EAD3"}
LABELS = {"label": 16.0, "title": 22.0}  # the codebook's label (an identifier-like name) and readable title


def _kind(series: Any) -> str:
    if str(series.name).startswith("participants_pct"):
        return "percent"
    if series.dtype.kind in "iu":
        return "int"
    if series.dtype.kind == "f":
        return "float"
    return "text"


def _sheet(name: str, df: Any, *, wrap: Collection[str] = frozenset(), widths: dict[str, float] | None = None,
           charts=(), extra: dict[str, Column] | None = None, freeze: int = 0) -> Sheet:
    cols = []
    for c in df.columns:
        if extra and c in extra:
            cols.append(extra[c])
            continue
        kind = _kind(df[c])
        cols.append(Column(str(c), wrap=c in wrap, kind=kind, width=(widths or {}).get(c)))
    rows = ([None if (isinstance(v, float) and math.isnan(v)) else v for v in r]
            for r in df.itertuples(index=False, name=None))
    return Sheet(name, cols, rows, charts=list(charts), freeze_columns=freeze)


def _overview_rows(ov: dict[str, Any]) -> list[tuple[str, Any]]:
    rows = []
    for key, value in ov.items():
        if key == "documents_by_type":
            value = {doc_type_label(k): v for k, v in value.items()}
        if isinstance(value, dict):
            value = "; ".join(f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        if not (isinstance(value, (int, float)) and not isinstance(value, bool)):
            value = str(value)  # counts stay numbers (a number cell, not the text '12')
        rows.append(("vbhc-code version" if key == "vbhc_code_version" else key.replace("_", " "), value))
    return rows


THEMES_SHEETS = ("Themes", "Quotes", "Methods")


def check_replaceable(path: Path, *, force: bool = False) -> None:
    """Refuse to replace a file at ``path`` that is not an earlier themes output, unless ``force``.

    Themes outputs carry the ``vbhc-code output: themes`` marker (``files.outputs``); a workbook with Themes,
    Quotes and Methods sheets, a Markdown starting with ``## Themes`` and a Word document whose subject is
    ``vbhc-code themes`` (written before the marker) count too. Anything else (a coder workbook, a paper
    draft) is someone's work.
    """
    from vbhc_code.files.outputs import THEMES
    from vbhc_code.files.outputs import check_replaceable as _check

    _check(Path(path), THEMES, force=force)


def previous_ratings(path: Path, framework_col: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(code, value) -> (rating, notes) from the Framework sheet of an earlier themes workbook at ``path``."""
    if not Path(path).is_file():
        return {}
    try:
        return _ratings(Path(path), framework_col)
    except DataError:  # a damaged earlier workbook has no ratings to carry over
        return {}


def _ratings(path: Path, framework_col: str) -> dict[tuple[str, str], tuple[str, str]]:
    from vbhc_code.files.workbook import open_xlsx, sheet_rows

    with open_xlsx(path) as wb:
        if "Framework" not in wb.sheetnames:
            return {}
        it = sheet_rows(wb["Framework"], where=f"{path.name} Framework")
        head = [str(h) if h is not None else "" for h in next(it, ())]
        if not {"code", framework_col, "rating", "notes"} <= set(head):
            return {}
        ix = {h: i for i, h in enumerate(head)}
        out = {}
        for row in it:
            def get(name, _row=row):
                v = _row[ix[name]] if ix[name] < len(_row) else None
                return "" if v is None else str(v)
            if get("rating") or get("notes"):
                out[(get("code"), get(framework_col))] = (get("rating"), get("notes"))
        return out


def write_themes_xlsx(result: ThemesResult, path: Path, *, force: bool = False, to: Path | None = None) -> Path:
    """Overview, Themes, Quotes, Matrix, Groups, Cooccurrence, Framework, Charts, Methods.

    Ratings and notes a researcher typed into the Framework sheet of an earlier workbook at ``path``
    are carried over (matched on code and framework value); ``result.kept_ratings`` counts them. An
    existing file that is not a themes workbook is refused unless ``force`` (``HumanWorkExists``).
    ``to``: write there instead (a temp file the caller renames onto ``path`` with its other outputs).
    """
    check_replaceable(Path(path), force=force)
    themes, groups = result.themes, result.groups
    charts = []
    if len(themes):
        pct_cols = [i for i, c in enumerate(groups.columns) if str(c).startswith("participants_pct [")]
        if pct_cols:
            names = [str(groups.columns[i])[len("participants_pct ["):-1] for i in pct_cols]
            charts.append(("Groups", Chart(f"Share of participants raising each code, by {result.by}",
                                           list(groups.columns).index("title"), pct_cols,
                                           kind="bar", sheet="Charts", names=names, percent=True)))
        charts.append(("Themes", Chart("Participants who raised each code", list(themes.columns).index("title"),
                                       [list(themes.columns).index("participants")], kind="bar", sheet="Charts",
                                       names=["participants"])))
    fw = result.framework_table.copy()
    fw_col = fw.columns[2]
    old = previous_ratings(Path(path), str(fw_col))
    kept = 0
    if old and len(fw):
        for i, (code, value) in enumerate(zip(fw["code"].astype(str), fw[fw_col].astype(str))):
            if (code, value) in old:
                fw.iat[i, fw.columns.get_loc("rating")], fw.iat[i, fw.columns.get_loc("notes")] = old[(code, value)]
                kept += 1
    result.kept_ratings = kept
    rating = Column("rating", width=10, choices=list(RAG), fills=RAG,
                    comment="Researcher's rating: red, amber or green (kept when themes is run again)")
    big = len(result.quotes) + len(result.matrix) + len(fw) > 20_000
    sheets: list[Sheet | TextSheet] = [
        Sheet("Overview", [Column("item", width=28), Column("value", width=90, wrap=True)],
              _overview_rows(result.overview), autofilter=False),
        # readable titles and identifiers in columns of their own; long text wraps so no cell runs into the next
        _sheet("Themes", themes, wrap={"theme", "definition", *LABELS},
               widths={"theme": 20, "code": 9, "definition": 48, **LABELS}, freeze=2,
               charts=[c for s, c in charts if s == "Themes"]),
        _sheet("Quotes", result.quotes, wrap={"quote", "attribution", *LABELS},
               widths={"code": 9, "quote": 80, "attribution": 24, "pinned": 8, **LABELS}),
        _sheet("Matrix", result.matrix, wrap=LABELS, widths={"code": 9, **LABELS}, freeze=2),
        _sheet("Groups", groups, wrap=LABELS, widths={"code": 9, **LABELS},
               charts=[c for s, c in charts if s == "Groups"], freeze=2),
        _sheet("Cooccurrence", result.cooccurrence, widths={"code": 9}, freeze=1),
        _sheet("Framework", fw, wrap={"notes", *LABELS}, widths={"code": 9, "notes": 40, **LABELS},
               extra={"rating": rating}, freeze=2),
        TextSheet("Charts", ["Native Excel charts drawn from the Groups and Themes sheets."], title="Charts"),
        TextSheet("Methods", result.methods, title="Methods"),
    ]
    if to is not None:
        return write_workbook(Path(to), sheets, kind=THEMES, force=True, constant_memory=big)  # our own temp
    return write_workbook(Path(path), sheets, kind=THEMES, force=force, constant_memory=big)


_MD_ESCAPE = re.compile(r"([\\`*_\[<>|#])")


def _md_cell(value: Any) -> str:
    """Cell text with Markdown/HTML syntax escaped, so interview text renders as written."""
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    text = strip_illegal(text)  # control characters (and lone surrogates, unwritable as UTF-8)
    return " ".join(_MD_ESCAPE.sub(r"\\\1", text).split())


def _md_table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(_md_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_md_cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def _md_paper_table(table: Any) -> str:
    """A paper table in Markdown: the caption, then the table; a theme's heading row in bold."""
    lines = [_md_cell(table.caption), "", _md_table(list(table.header), [])]
    for row in table.rows:
        cells = list(row.cells) + [""] * (len(table.header) - len(row.cells))
        text = [_md_cell(c) for c in cells]
        if row.kind == "theme":
            text[0] = f"**{text[0]}**"
        lines.append("| " + " | ".join(text) + " |")
    return "\n".join(lines)


def themes_markdown(result: ThemesResult) -> str:
    """Table 1 (codes by group), Table 2 (quotes) and Methods as Markdown ready to paste into a paper: the
    same tables and quotes as the Word document (``themes.paper``)."""
    from vbhc_code.themes.paper import paper

    doc = paper(result)
    parts = [
        "## Themes", "", _md_paper_table(doc.table1), "",
        "## Quotes", "", _md_paper_table(doc.table2), "",
        # generated text: escaped like a cell, but a `command` stays code
        "## Methods", "", *[_md_cell(p).replace("\\`", "`") + "\n" for p in doc.methods],
        _md_cell(doc.quote_note) + "\n",
    ]
    return "\n".join(parts).rstrip() + "\n"


def themes_json(result: ThemesResult) -> dict[str, Any]:
    """The ``--json`` document: codes, quotes, cooccurrence."""
    co = result.cooccurrence
    return {
        "codes": result.codes,
        "quotes": [
            {"code": q.code, "document": q.document, "turn_index": q.turn_index, "participant_id": q.participant_id,
             "start": q.start, "end": q.end, "text": q.text, "attribution": q.attribution}
            for q in result.quote_objects
        ],
        "cooccurrence": {r["code"]: {k: int(v) for k, v in r.items() if k != "code"} for r in co.to_dict("records")},
    }


def write_text_atomic(path: Path, text: str, *, force: bool = False) -> Path:
    """Write a themes text file (Markdown) through a temp file in the same folder and a rename."""
    from vbhc_code.files.atomic import write_text_atomic as _write

    return _write(path, text, kind=THEMES, force=force)
