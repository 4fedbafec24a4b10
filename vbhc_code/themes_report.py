"""Writers for a ``ThemesResult``: Excel workbook (via ``vbhc_code.excel``), Markdown and JSON."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vbhc_code.excel import Chart, Column, Sheet, TextSheet, write_workbook

if TYPE_CHECKING:
    from vbhc_code.themes import ThemesResult

RAG = {"red": "#F4CCCC", "amber": "#FCE5CD", "green": "#D9EAD3"}


def agreement_summary(store: Any, coder: str, coders: list[Any]) -> str:
    """One sentence on inter-coder agreement, from ``vbhc_code.agreement`` when it is available."""
    others = [c.name for c in coders if c.name != coder]
    if len(others) < 2:
        return "Agreement: not applicable (fewer than two coders besides the analysed coding)."
    try:
        from vbhc_code.agreement import agreement_report  # type: ignore[attr-defined]
    except ImportError:
        return (f"Agreement between coders {', '.join(others)}: not computed here; run `vbhc-code agreement`.")
    try:
        report = agreement_report(store, coders=others[:2])
    except Exception as exc:  # noqa: BLE001 - the agreement API is owned by another module; never fail themes on it
        return f"Agreement between coders {', '.join(others)}: not available ({type(exc).__name__})."
    summary = getattr(report, "summary", None)
    text = summary() if callable(summary) else summary if isinstance(summary, str) else None
    return text or f"Agreement between coders {', '.join(others[:2])}: see `vbhc-code agreement`."


def _kind(series: Any) -> str:
    if series.name.endswith("_pct"):
        return "percent"
    if series.dtype.kind in "iu":
        return "int"
    if series.dtype.kind == "f":
        return "float"
    return "text"


def _sheet(name: str, df: Any, *, wrap: set[str] = frozenset(), widths: dict[str, float] | None = None,
           charts=(), extra: dict[str, Column] | None = None) -> Sheet:
    cols = []
    for c in df.columns:
        if extra and c in extra:
            cols.append(extra[c])
            continue
        kind = _kind(df[c])
        cols.append(Column(str(c), wrap=c in wrap, kind=kind, width=(widths or {}).get(c)))
    rows = ([None if (isinstance(v, float) and math.isnan(v)) else v for v in r]
            for r in df.itertuples(index=False, name=None))
    return Sheet(name, cols, rows, charts=list(charts))


def _overview_rows(ov: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for key, value in ov.items():
        if isinstance(value, dict):
            value = "; ".join(f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        rows.append((key.replace("_", " "), str(value)))
    return rows


def write_themes_xlsx(result: ThemesResult, path: Path) -> Path:
    """Overview, Themes, Quotes, Matrix, Groups, Cooccurrence, Framework, Charts, Methods."""
    themes = result.themes
    by_cols = [i for i, c in enumerate(themes.columns) if str(c).startswith("turns [")
               and str(c)[7:-1] in result.by_values]
    charts = []
    if len(themes):
        if by_cols:
            charts.append(Chart("Turns per code by group", 1, by_cols, kind="bar", sheet="Charts"))
        charts.append(Chart("Participants who raised each code", 1, [list(themes.columns).index("participants")],
                            kind="bar", sheet="Charts"))
    rating = Column("rating", width=10, choices=list(RAG), fills=RAG,
                    comment="Researcher's rating: red, amber or green")
    sheets = [
        Sheet("Overview", [Column("item", width=28), Column("value", width=90, wrap=True)],
              _overview_rows(result.overview), autofilter=False),
        _sheet("Themes", themes, wrap={"definition", "label"}, widths={"definition": 50, "label": 30},
               charts=charts),
        _sheet("Quotes", result.quotes, wrap={"quote"}, widths={"quote": 80, "attribution": 30}),
        _sheet("Matrix", result.matrix),
        _sheet("Groups", result.groups),
        _sheet("Cooccurrence", result.cooccurrence),
        _sheet("Framework", result.framework_table, wrap={"notes"}, extra={"rating": rating}),
        TextSheet("Methods", result.methods, title="Methods"),
    ]
    big = len(result.quotes) + len(result.matrix) + len(result.framework_table) > 20_000
    return write_workbook(Path(path), sheets, overwrite=True, constant_memory=big)


def _md_cell(value: Any) -> str:
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _md_table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(_md_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_md_cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def themes_markdown(result: ThemesResult) -> str:
    """Themes (Table 1), Quotes (Table 2) and Methods as Markdown ready to paste into a paper."""
    t = result.themes
    by_heads = [f"turns [{v}]" for v in result.by_values]
    heads = ["Theme", "Code", "Label", "Turns", "Participants (n, %)", "Documents",
             *[h.replace("turns ", "Turns ") for h in by_heads]]
    rows = []
    for r in t.to_dict("records"):
        rows.append([r["theme"], r["code"], r["label"], r["turns"],
                     f"{r['participants']} ({r['participants_pct'] * 100:.0f}%)", r["documents"],
                     *[r[h] for h in by_heads]])
    q = result.quotes
    qrows = [[r["code"], f"\u201c{r['quote']}\u201d", r["attribution"]] for r in q.to_dict("records")]
    parts = [
        "## Themes", "", _md_table(heads, rows), "",
        "## Quotes", "", _md_table(["Code", "Quote", "Attribution"], qrows), "",
        "## Methods", "", *[p + "\n" for p in result.methods],
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


def write_text_atomic(path: Path, text: str) -> Path:
    """Write a text file through a temp file in the same folder and a rename."""
    from vbhc_code.errors import DataError

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise DataError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path
