"""Writing CSV files the same way everywhere: RFC 4180 (CRLF, quoted as needed), UTF-8, atomic."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from vbhc_code.files.atomic import atomic_path
from vbhc_code.files.outputs import FILE, OutputKind


def write_csv(stream: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Header and rows to an open text stream (RFC 4180 line endings)."""
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)


def write_csv_atomic(
    path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, kind: OutputKind = FILE, force: bool = False
) -> Path:
    """RFC 4180 CSV (CRLF, quoted fields), UTF-8, written to a temp file and renamed (through the guarded path:
    an existing file that is not an earlier ``kind`` output is refused unless ``force``)."""
    path = Path(path)
    with atomic_path(path, kind=kind, force=force) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            write_csv(fh, columns, rows)
    return path
