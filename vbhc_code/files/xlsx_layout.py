"""Layout estimates for ``vbhc_code.files.xlsx_write``: row heights for wrapped text and the print setup.

LibreOffice (and a printout) does not fit rows to wrapped text by itself, so rows holding wrapped text
get an estimated height. A column width unit holds about one character of 11-pt body text; the estimate
errs towards too tall (wider fallback fonts), never towards cut text.

Every table prints fitted to the page width: a wide one first narrows its number columns (their headers
turned 90 degrees, ``compact_widths``), so the 25-column Themes sheet still prints at a readable scale.
"""

from __future__ import annotations

import math
from typing import Any

LINE_POINTS = 15.0
MAX_ROW_POINTS = 409.0  # Excel's limit
# A paragraph column that fits a portrait A4 page even in a font wider than Calibri (LibreOffice does
# not shrink a single-column sheet to the page).
TEXT_SHEET_WIDTH = 75.0
FIT_WIDTH = 260.0  # a table up to this wide (in width units) is still readable fitted to one landscape page
COMPACT_NUMBER_WIDTH = 8.0  # a number column of a wider table: its header is turned 90 degrees
NUMBER_KINDS = ("int", "float", "percent")
CHART_UNITS = 80.0  # a chart's width (520 px) in column width units


def chars_per_line(width: float) -> float:
    # prose is narrower than the digit "0" that defines a width unit; 3 for the break at a word
    return max(1.0, width * 1.2 - 3)


def text_lines(text: str, width: float) -> int:
    """Estimated lines a cell of ``width`` needs for ``text`` when wrapped (cheap: used on every row)."""
    per_line = chars_per_line(width)
    if "\n" not in text:
        return max(1, math.ceil(len(text) / per_line))
    return sum(max(1, math.ceil(len(p) / per_line)) for p in text.split("\n"))


def header_lines(text: str, width: float) -> int:
    """Lines of a bold header wrapped at spaces in ``width`` (a word never breaks)."""
    per_line, lines, used = max(1.0, width - 1), 1, 0.0
    for word in text.split():
        if used and used + 1 + len(word) > per_line:
            lines, used = lines + 1, float(len(word))
        else:
            used += (1 if used else 0) + len(word)
    return lines


def row_points(lines: int) -> float:
    return min(MAX_ROW_POINTS, LINE_POINTS * lines + 2)


def rotated_header_points(text: str) -> float:
    """Height of a header row holding ``text`` turned 90 degrees (bold: a little over 6 points a character)."""
    return min(MAX_ROW_POINTS, 6.5 * len(text) + 10)


def compact_widths(widths: list[float], kinds: list[str], explicit: list[bool], extra: float) -> list[int]:
    """Indexes of the number columns to narrow (with their header turned) so a wide table stays readable
    when fitted to one page width: none when the table (plus ``extra``, a chart beside it) fits as it is."""
    if sum(widths) + extra <= FIT_WIDTH:
        return []
    return [j for j, (kind, fixed) in enumerate(zip(kinds, explicit))
            if kind in NUMBER_KINDS and not fixed and widths[j] > COMPACT_NUMBER_WIDTH]


def page_setup(ws: Any, width: float, *, landscape: bool) -> None:
    """A4, narrow margins, the sheet name and page numbers in the footer. A table is printed landscape,
    fitted to the page width (never split across pages sideways) and repeats its header row on every page;
    a text sheet's column is narrow enough for a portrait page."""
    ws.set_paper(9)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_footer("&L&A&RPage &P of &N")
    if landscape:
        ws.set_landscape()
        ws.repeat_rows(0)
        ws.fit_to_pages(1, 0)
    elif width > TEXT_SHEET_WIDTH:
        ws.fit_to_pages(1, 0)
