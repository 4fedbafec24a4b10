"""Reading a filled coder workbook back: codes, coded documents and every located problem.

Rows are matched by their ``document`` and ``turn_index`` cells (coders may sort and filter); each turn
text is checked against the hash issued in the hidden ``_turns`` sheet and against the store.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vbhc_code.coding.workbook import CONFIDENCE_COLUMNS, TURN_COLUMNS, WORKBOOK_KIND, text_hash
from vbhc_code.errors import describe
from vbhc_code.files.workbook import sheet_rows
from vbhc_code.models import Codebook
from vbhc_code.store.store import Store


@dataclass
class WorkbookCodings:
    """What a filled workbook holds, with every problem located (``[file Sheet!A1] what``)."""

    path: Path
    meta: dict[str, str]
    coder: str
    codebook: Codebook | None = None
    codings: set[tuple[str, int, str]] = field(default_factory=set)
    coded_documents: set[str] = field(default_factory=set)
    document_cells: dict[str, str] = field(default_factory=dict)  # document -> its 'coded' cell, e.g. E3
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def is_coder_workbook(path: Path) -> bool:
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    from vbhc_code.files.workbook import sheet_names

    names = sheet_names(path)  # anything unreadable or hostile is simply not a coder workbook
    return "_meta" in names and "Turns" in names


def _cell(col: int, row: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(col + 1)}{row}"


def _shown(value: Any) -> str:
    """A cell for an error message: its kind and length in brackets, never its content (``errors.describe``)."""
    return f"({describe(value)})"


def document_name(value: Any, known: Collection[str]) -> str:
    """A document cell as the stored name: exactly as written when a document has that name (`` INT01.txt``,
    with its space, is a name of its own), else without the spaces a spreadsheet may have added."""
    if value is None:
        return ""
    text = str(value)
    return text if text in known else text.strip()


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def read_workbook(
    path: Path, store: Store, *, codebook_for: Callable[[dict[str, str]], Codebook],
    turn_hashes: dict[tuple[str, int], str],
) -> WorkbookCodings:
    """Read a filled coder workbook.

    ``codebook_for(meta)`` picks the codebook whose codes are valid; ``turn_hashes`` are the store's
    current turn text hashes.
    """
    from vbhc_code.files.workbook import open_xlsx

    name = path.name
    with open_xlsx(path) as wb:
        meta = {
            str(k): "" if v is None else str(v)
            for k, v, *_ in sheet_rows(wb["_meta"], min_row=2, pad=2) if k is not None
        }
        result = WorkbookCodings(path, meta, meta.get("coder", ""))
        if meta.get("kind") != WORKBOOK_KIND:
            result.problems.append(f"[{name} _meta] not a vbhc-code coder workbook")
            return result
        result.codebook = codebook_for(meta)
        known_codes = set(result.codebook.code_ids)
        issued = {}
        if "_turns" not in wb.sheetnames:
            result.problems.append(f"[{name}] the hidden _turns sheet is missing; issue a new workbook")
            return result
        for doc, idx, sha, *_ in sheet_rows(wb["_turns"], min_row=2, pad=3):
            if doc is not None:
                issued[(str(doc), _int(idx))] = str(sha)
        _read_turns(wb, result, known_codes, issued, turn_hashes)
        if "Documents" in wb.sheetnames:
            _read_documents(wb, result, store)
        else:
            result.problems.append(f"[{name}] the Documents sheet is missing")
        coded_rows = {(d, i) for d, i, _ in result.codings}
        uncoded = sorted({d for d, _ in coded_rows} - result.coded_documents)
        for doc in uncoded:
            where = f"Documents!{result.document_cells[doc]}" if doc in result.document_cells else "Documents"
            result.problems.append(f"[{name} {where}] document '{doc}' has codes but is not marked coded=yes")
        return result


def _read_turns(wb: Any, result: WorkbookCodings, known_codes: set[str], issued: dict, turn_hashes: dict) -> None:
    name = result.path.name
    if "Turns" not in wb.sheetnames:
        result.problems.append(f"[{name}] the Turns sheet is missing")
        return
    rows = sheet_rows(wb["Turns"], where=f"{name} Turns")
    header = [("" if h is None else str(h).strip()) for h in next(rows, ())]
    index = {h: j for j, h in enumerate(header) if h}
    for needed in ("document", "turn_index", "text"):
        if needed not in index:
            result.problems.append(f"[{name} Turns!1] the '{needed}' column is missing")
    if result.problems:
        return
    issued_codes = [c for c in result.meta.get("codes", "").split(",") if c]
    fixed = {
        *TURN_COLUMNS,
        "text",
        "memo",
        *CONFIDENCE_COLUMNS,
        *[a for a in result.meta.get("attribute_columns", "").split(",") if a],
    }
    code_cols: dict[int, str] = {}
    extra_cols: dict[int, str] = {}
    for j, h in enumerate(header):
        if not h or (h in fixed and (h not in issued_codes or h in (*TURN_COLUMNS, "text", "memo"))):
            continue  # an imported project may have a code named like an optional column ('confidence')
        if h in known_codes:
            code_cols[j] = h
        elif h in issued_codes:
            result.problems.append(f"[{name} Turns!{_cell(j, 1)}] unknown code {_shown(h)} (not in the codebook)")
        else:
            extra_cols[j] = h  # a coder's own column: only an error if it holds 1/x marks
    for missing in sorted(set(issued_codes) & known_codes - set(code_cols.values())):
        # Without the column the coder's decisions on that code are unknown; reading them as "never applied"
        # would bias agreement, so the workbook has to be repaired first.
        result.problems.append(
            f"[{name} Turns] the column of code {missing} was removed; restore it (empty cells mean 'not applied')"
        )
    jd, ji, jt = index["document"], index["turn_index"], index["text"]
    seen: dict[tuple[str, int], int] = {}
    flagged_extra: set[int] = set()
    known = {d for d, _ in turn_hashes}
    for r, values in enumerate(rows, start=2):
        values = list(values) + [None] * (len(header) - len(values))
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        doc = document_name(values[jd], known)
        idx = _int(values[ji])
        if idx is None:
            result.problems.append(f"[{name} Turns!{_cell(ji, r)}] turn_index {_shown(values[ji])} is not a number")
            continue
        key = (doc, idx)
        if key in seen:
            result.problems.append(
                f"[{name} Turns!{_cell(ji, r)}] turn {doc} #{idx} is listed twice (also row {seen[key]})"
            )
            continue
        seen[key] = r
        if key not in turn_hashes:
            result.problems.append(f"[{name} Turns!{_cell(jd, r)}] unknown document/turn {doc} #{idx}")
            continue
        if key not in issued:
            result.problems.append(f"[{name} Turns!{_cell(jd, r)}] turn {doc} #{idx} was not in the issued workbook")
            continue
        text = "" if values[jt] is None else str(values[jt])
        if text_hash(text) != issued[key]:
            result.problems.append(
                f"[{name} Turns!{_cell(jt, r)}] the text of turn {doc} #{idx} was edited; restore it"
            )
        elif issued[key] != turn_hashes[key]:
            result.problems.append(
                f"[{name} Turns!{_cell(jt, r)}] turn {doc} #{idx} changed in the store since the workbook was "
                "issued (re-ingested?); issue a new workbook"
            )
        for j, code in code_cols.items():
            mark = _mark(values[j])
            if mark is None:
                result.problems.append(f"[{name} Turns!{_cell(j, r)}] value {_shown(values[j])} is not 1, x or empty")
            elif mark:
                result.codings.add((doc, idx, code))
        for j, h in extra_cols.items():
            if j not in flagged_extra and _mark(values[j]):
                flagged_extra.add(j)
                result.problems.append(f"[{name} Turns!{_cell(j, 1)}] unknown code {_shown(h)} (not in the codebook)")
    gone = [k for k in issued if k not in seen]
    if gone:
        result.warnings.append(
            f"{name}: {len(gone)} issued turn(s) are no longer in the Turns sheet (read as not coded)"
        )


def _mark(value: Any) -> bool | None:
    """True for a 1/x mark, False for empty, None for anything else."""
    if value is None:
        return False
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return True if value == 1 else None
    text = str(value).strip().lower()
    if not text:
        return False
    return True if text in ("1", "x", "1.0") else None


def _read_documents(wb: Any, result: WorkbookCodings, store: Store) -> None:
    name = result.path.name
    rows = sheet_rows(wb["Documents"], where=f"{name} Documents")
    header = [("" if h is None else str(h).strip().lower()) for h in next(rows, ())]
    if "document" not in header or "coded" not in header:
        result.problems.append(f"[{name} Documents!1] the 'document' and 'coded' columns are needed")
        return
    jd, jc = header.index("document"), header.index("coded")
    known = set(store.document_names())
    for r, values in enumerate(rows, start=2):
        values = list(values) + [None] * (len(header) - len(values))
        doc = document_name(values[jd], known)
        coded = "" if values[jc] is None else str(values[jc]).strip().lower()
        if not doc and not coded:
            continue
        if doc not in known:
            result.problems.append(f"[{name} Documents!{_cell(jd, r)}] unknown document {_shown(doc)}")
            continue
        result.document_cells.setdefault(doc, _cell(jc, r))
        if coded in ("yes", "y"):
            result.coded_documents.add(doc)
        elif coded not in ("", "no", "n"):
            result.problems.append(f"[{name} Documents!{_cell(jc, r)}] coded {_shown(coded)} is not yes or no")
