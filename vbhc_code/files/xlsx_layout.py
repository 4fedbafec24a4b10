"""Layout estimates for ``vbhc_code.files.xlsx_write``: row heights for wrapped text and the print setup.

LibreOffice (and a printout) does not fit rows to wrapped text by itself, so rows holding wrapped text
get an estimated height. A column width unit holds about one character of 11-pt body text; the estimate
errs towards too tall (wider fallback fonts), never towards cut text.
"""

from __future__ import annotations

import math
from typing import Any

LINE_POINTS = 15.0
MAX_ROW_POINTS = 409.0  # Excel's limit
# A paragraph column that fits a portrait A4 page even in a font wider than Calibri (LibreOffice does
# not shrink a single-column sheet to the page).
TEXT_SHEET_WIDTH = 75.0
FIT_WIDTH = 260.0  # widest table (in width units) printed on one landscape page (scale about 55%)
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


def page_setup(ws: Any, width: float, *, landscape: bool) -> None:
    """A4, narrow margins, the sheet name and page numbers in the footer. A table is printed landscape,
    repeats its header row on every page and fits the page width when that keeps it readable (a wider
    one goes over several pages); a text sheet's column is narrow enough for a portrait page."""
    ws.set_paper(9)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_footer("&L&A&RPage &P of &N")
    if landscape:
        ws.set_landscape()
        ws.repeat_rows(0)
        if width <= FIT_WIDTH:
            ws.fit_to_pages(1, 0)
