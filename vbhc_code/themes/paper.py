"""What goes into the paper: Table 1 (codes by group), Table 2 (quotes), Methods and a note on quotes.

One model (``paper_tables``) feeds both the Word document (``themes.docx``) and the Markdown, so the two
show the same rows, the same counts (those of the workbook and ``--json``) and the same quotes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vbhc_code.themes.quotes import MAX_WORDS

if TYPE_CHECKING:
    from vbhc_code.themes.build import ThemesResult


@dataclass(frozen=True)
class Row:
    kind: str  # "theme" (a heading row: cells[0] only) | "code" | "quote"
    cells: tuple[str, ...]
    code: str = ""


@dataclass(frozen=True)
class Table:
    caption: str  # "Table 1. ..."
    header: tuple[str, ...]
    rows: tuple[Row, ...]
    widths: tuple[float, ...] = ()  # relative column widths


@dataclass(frozen=True)
class Paper:
    table1: Table
    table2: Table
    methods: tuple[str, ...]
    quote_note: str
    notes: tuple[str, ...] = field(default_factory=tuple)


def _n_pct(n: int, pct: float) -> str:
    return f"{n} ({pct:.0%})"


def _unit(result: ThemesResult) -> str:
    scope = result.overview.get("scope", "participant")
    return "participant turn" if scope == "participant" else "speaker turn (all speakers)"


def table1(result: ThemesResult) -> Table:
    """One heading row per theme, then one row per code: its title, participants who raised it n (%),
    overall and by group, and the number of turns."""
    ov = result.overview
    by_n = ov.get("participants_by_group", {})
    groups = [v for v in result.by_values]
    header = ["Theme and code", f"All participants (N = {ov.get('participants', 0)})"]
    header += [f"{v} (n = {by_n.get(v, 0)})" for v in groups]
    header.append("Turns")
    rows: list[Row] = []
    theme = None
    for r in result.themes.to_dict("records"):
        if r["theme"] != theme and r["theme"]:
            rows.append(Row("theme", (str(r["theme"]),)))
        theme = r["theme"]
        cells = [str(r["title"]), _n_pct(r["participants"], r["participants_pct"])]
        cells += [_n_pct(r[f"participants [{v}]"], r[f"participants_pct [{v}]"]) for v in groups]
        cells.append(str(r["turns"]))
        rows.append(Row("code", tuple(cells), str(r["code"])))
    by = f", by {result.by}" if result.by and groups else ""
    caption = (f"Table 1. Participants who raised each code{by}. Unit of analysis: the {_unit(result)}; "
               f"coding: {result.coder}. Participants: n (%) who raised the code at least once; turns: number of "
               "turns coded with it.")
    return Table(caption, tuple(header), tuple(rows), (3.0, *[1.3] * (len(header) - 2), 0.8))


def table2(result: ThemesResult) -> Table:
    """Representative quotes per code: the code's title on its first quote, the quote, its attribution."""
    rows: list[Row] = []
    last = None
    for r in result.quotes.to_dict("records"):
        title = str(r["title"]) if r["code"] != last else ""
        last = r["code"]
        rows.append(Row("quote", (title, f"\u201c{r['quote']}\u201d", str(r["attribution"])), str(r["code"])))
    fmt = result.attribution_format.replace("{", "").replace("}", "").replace("_", " ")
    caption = (f"Table 2. Representative quotes per code (up to {result.quote_limit} per code, from the coding "
               f"{result.coder}), verbatim; '...' marks text left out. Attribution: {fmt}.")
    return Table(caption, ("Code", "Quote", "Attribution"), tuple(rows), (1.6, 5.0, 1.8))


def quote_note(result: ThemesResult) -> str:
    """A short note on how the quotes were chosen and how many were masked."""
    n = len(result.quote_objects)
    codes = len({q.code for q in result.quote_objects})
    pinned = sum(1 for q in result.quote_objects if q.pinned)
    masked = result.masked_quotes
    text = (
        f"Table 2 holds {n} quote{'' if n == 1 else 's'} for {codes} of {len(result.themes)} codes, chosen by fixed "
        "rules: turns where the code is the main point first, spread over participants and groups; each quote "
        f"is at most {MAX_WORDS} words, cut at sentence or clause boundaries, with sound descriptions and caption "
        "line breaks left out and '...' wherever words are left out; the words themselves are never changed, "
        "except that possible identifiers are replaced by a typed placeholder such as [e-mail]."
    )
    if pinned:
        verb = "was" if pinned == 1 else "were"
        text += f" {pinned} quote{'' if pinned == 1 else 's'} {verb} chosen by the researchers."
    if masked is not None:  # None: no masking step ran, so nothing can be said about it
        text += (f" Identifiers were masked in {masked} quote{'' if masked == 1 else 's'}." if masked
                 else " No quote needed identifiers masked.")
    return text


def paper(result: ThemesResult) -> Paper:
    """Tables 1 and 2, the Methods paragraphs (without the long quote rules: the note says it short) and the
    quote note."""
    methods = tuple(p for p in result.methods if not p.startswith("Up to "))
    return Paper(table1(result), table2(result), methods, quote_note(result))


DOCX_SUBJECT = "vbhc-code themes"


def write_themes_docx(result: ThemesResult, path: Path, *, force: bool = False, to: Path | None = None) -> Path:
    """The manuscript pieces as Word: Methods (with the quote note), then Results with Tables 1 and 2.

    An existing file that is not an earlier themes document is refused unless ``force``.
    """
    from vbhc_code.files.docx_write import (
        Heading,
        Paragraph,
        TableBlock,
        write_document,
    )
    from vbhc_code.files.outputs import THEMES
    from vbhc_code.themes.report import check_replaceable

    check_replaceable(Path(path), force=force)
    doc = paper(result)

    def block(table: Table) -> TableBlock:
        rows = [("heading" if r.kind == "theme" else "row", r.cells) for r in table.rows]
        return TableBlock(table.caption, table.header, rows, table.widths)

    blocks: list[Heading | Paragraph | TableBlock] = [
        Heading("Methods", 1), *[Paragraph(p) for p in doc.methods],
        Heading("Selection of quotes", 2), Paragraph(doc.quote_note),
        Heading("Results", 1), block(doc.table1), block(doc.table2),
    ]
    study = result.overview.get("study", "")
    return write_document(Path(to or path), blocks, title=f"Themes: {study}" if study else "Themes",
                          subject=DOCX_SUBJECT, kind=THEMES, force=force or to is not None)


__all__ = ["DOCX_SUBJECT", "Paper", "Row", "Table", "paper", "quote_note", "table1", "table2", "write_themes_docx"]
