"""Opening untrusted .xlsx workbooks: one path for every workbook this tool reads.

The package is vetted by ``files.archive`` first (size on disk, total and per-part uncompressed size, ratio,
entry count, DOCTYPE/entity declarations in any entry); openpyxl then opens it read-only. Rows are read with
``sheet_rows``, which bounds the work per row: openpyxl pads every row to the sheet's declared dimension (or to
its last cell), so a 1 KB sheet declaring ``A1:XFD1048576`` or a row numbered 2,000,000,000 would otherwise
yield billions of empty cells.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vbhc_code.errors import DataError, VbhcError

MAX_ROW = 1_048_576  # Excel's last row
MAX_COLUMNS = 2_000  # a coder workbook has one column per code; no sheet we read needs more


@contextmanager
def open_xlsx(path: Path) -> Iterator[Any]:
    """An openpyxl workbook (read-only, cached values) of a vetted package; damage is a ``DataError``."""
    from vbhc_code.files.archive import XLSX, check_package

    check_package(Path(path), label=path.name, limits=XLSX)
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except VbhcError:
        raise
    except Exception as exc:  # openpyxl on a damaged archive raises zip, zlib, XML and key errors alike
        raise DataError(f"{path.name}: not a readable .xlsx workbook ({_reason(exc)})") from None
    try:
        yield wb
    except VbhcError:
        raise
    except Exception as exc:  # cells are read lazily: damage may only show while iterating
        raise DataError(f"{path.name}: not a readable .xlsx workbook ({_reason(exc)})") from None
    finally:
        wb.close()


def sheet_rows(ws: Any, *, min_row: int = 1, where: str = "", pad: int = 0) -> Iterator[Any]:
    """The value rows of a read-only worksheet from ``min_row``, one tuple per row number (an empty tuple for a
    row the sheet leaves out), each only as long as its last cell; a row number past Excel's last row or a cell
    past ``MAX_COLUMNS`` is refused, located."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._reader import WorkSheetParser

    where = where or ws.title
    wb = ws.parent
    counter = min_row
    with ws._get_source() as src:
        parser = WorkSheetParser(src, ws._shared_strings, data_only=True, epoch=wb.epoch,
                                 date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
        for idx, cells in parser.parse():
            if idx > MAX_ROW or idx < 1:
                raise DataError(f"{where}: a row numbered {idx} (Excel's last row is {MAX_ROW:,}); refused")
            if idx < counter:
                continue
            while counter < idx:
                counter += 1
                yield (None,) * pad
            last = max((c["column"] for c in cells), default=0)
            if last > MAX_COLUMNS:
                raise DataError(f"{where} row {idx}: a cell in column {get_column_letter(min(last, 16384))} "
                                f"(more than {MAX_COLUMNS:,} columns); refused")
            row: list[Any] = [None] * max(last, pad)
            for c in cells:
                row[c["column"] - 1] = c["value"]
            counter += 1
            yield tuple(row)


def sheet_names(path: Path) -> list[str]:
    """The sheet names of a workbook, or [] when it is not a readable one."""
    try:
        with open_xlsx(path) as wb:
            return list(wb.sheetnames)
    except VbhcError:
        return []


def _reason(exc: Exception) -> str:
    return "corrupt compressed data" if isinstance(exc, zlib.error) else type(exc).__name__
