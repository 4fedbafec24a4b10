"""Writing CSV files the same way everywhere: RFC 4180 (CRLF, quoted as needed), UTF-8, atomic.

Every CSV vbhc-code writes goes through this module, with one set of options (``CsvOptions``):

- **A UTF-8 byte order mark** starts the file by default, so Excel shows ``é`` and ``’`` correctly;
  ``bom=False`` (``--no-bom``) leaves it out for pipelines.
- **Cells that a spreadsheet would run as a formula are neutralised** by default (OWASP "CSV injection"):
  a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``.
  So that the rule can be undone exactly, a text cell made of apostrophes followed by one of those
  characters gets one more apostrophe too. ``raw=True`` (``--raw``) writes every cell verbatim.
  Numbers are numbers, never neutralised.

Reading undoes it: ``restore`` removes that one apostrophe, and every CSV reader in vbhc-code
(``vbhc_code.files.sheets``) applies it, so an export read back (``codings export`` then
``codings import``) gives the original values.

>>> neutralise("=1+2"), neutralise("'=1+2"), neutralise("it's"), neutralise(-3)
("'=1+2", "''=1+2", "it's", -3)
>>> restore("''=1+2"), restore("'=1+2"), restore("'quoted'")
("'=1+2", '=1+2', "'quoted'")
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from vbhc_code.files.atomic import atomic_path
from vbhc_code.files.outputs import FILE, OutputKind

BOM = "\ufeff"
TRIGGERS = "=+-@\t\r"  # a spreadsheet reads a cell starting with one of these as a formula
_NEUTRALISE = re.compile(r"'*[=+\-@\t\r]")  # what gets one more apostrophe on writing
_RESTORE = re.compile(r"'+[=+\-@\t\r]")  # what loses one apostrophe on reading


@dataclass(frozen=True)
class CsvOptions:
    """How a CSV is written: ``bom`` starts it with a UTF-8 byte order mark; ``raw`` writes cells verbatim."""

    bom: bool = True
    raw: bool = False


DEFAULT = CsvOptions()


def neutralise(value: Any) -> Any:
    """``value`` safe to open in a spreadsheet: a formula-like text cell gets a leading ``'``."""
    if isinstance(value, str) and _NEUTRALISE.match(value):
        return "'" + value
    return value


def restore(cell: str) -> str:
    """The value ``neutralise`` was given (a cell that was never neutralised comes back unchanged)."""
    return cell[1:] if _RESTORE.match(cell) else cell


def write_csv(stream: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]],
              *, options: CsvOptions = DEFAULT) -> None:
    """Header and rows to an open text stream (RFC 4180 line endings), with ``options`` applied."""
    writer = csv.writer(stream, lineterminator="\r\n")
    if options.bom:
        stream.write(BOM)
    if options.raw:
        writer.writerow(columns)
        writer.writerows(rows)
        return
    writer.writerow([neutralise(c) for c in columns])
    writer.writerows([neutralise(v) for v in row] for row in rows)


def write_csv_atomic(
    path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, options: CsvOptions = DEFAULT,
    kind: OutputKind = FILE, force: bool = False,
) -> Path:
    """RFC 4180 CSV (CRLF, quoted fields), UTF-8, written to a temp file and renamed (through the guarded path:
    an existing file that is not an earlier ``kind`` output is refused unless ``force``)."""
    path = Path(path)
    with atomic_path(path, kind=kind, force=force) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            write_csv(fh, columns, rows, options=options)
    return path
