"""The reconciliation workbook: writing it and reading the decisions in it back.

Sheets: ``Disagreements`` (one row per turn x code where the two coders differ, with ``decision``,
``rationale`` and ``decided_by`` for the team), ``Agreed`` (cells both coded: carried into the
consensus as they are), ``Changes`` (what a re-run changed), ``Earlier decisions`` (decisions on cells
that no longer disagree, kept so that no decision is ever lost), ``Instructions`` and a hidden ``_meta``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vbhc_code import __version__
from vbhc_code.errors import DataError
from vbhc_code.files.outputs import RECONCILE_WORKBOOK
from vbhc_code.files.xlsx_write import Column, Sheet, TextSheet, write_workbook
from vbhc_code.store.store import now_iso

RECONCILE_KIND = "vbhc-code reconciliation workbook"
DECISIONS = ("apply", "omit")
EARLIER_COLUMNS = ("document", "turn_index", "code", "value_a", "value_b", "decision", "rationale", "decided_by",
                   "status", "noted_at")

Cell = tuple[str, int, str]  # document, turn_index, code


@dataclass
class DecisionRow:
    """One row of a Disagreements (or Earlier decisions) sheet; ``row`` is its 1-based sheet row."""

    row: int
    cell: Cell
    value_a: int | None
    value_b: int | None
    decision: str = ""
    rationale: str = ""
    decided_by: str = ""
    status: str = ""
    noted_at: str = ""

    @property
    def has_input(self) -> bool:
        return bool(self.decision or self.rationale or self.decided_by)


@dataclass
class ReconcileSheet:
    path: Path
    coder_a: str
    coder_b: str
    meta: dict[str, str]
    rows: list[DecisionRow]
    earlier: list[DecisionRow] = field(default_factory=list)
    columns: dict[str, int] = field(default_factory=dict)  # Disagreements header -> 0-based column
    problems: list[str] = field(default_factory=list)


def cell_label(cell: Cell) -> str:
    return f"{cell[0]} #{cell[1]} {cell[2]}"


def decision_value(
    decision: str | None, coder_a: str, coder_b: str, value_a: int | None, value_b: int | None
) -> int | None:
    """The consensus value a decision gives (1 present, 0 absent), None for an invalid decision.

    >>> decision_value("apply", "anna", "ben", 1, 0), decision_value("omit", "anna", "ben", 1, 0)
    (1, 0)
    >>> decision_value("as ben", "anna", "ben", 1, 0), decision_value("maybe", "anna", "ben", 1, 0)
    (0, None)
    """
    d = normalise_decision(decision, coder_a, coder_b) if decision else None
    return {"apply": 1, "omit": 0, coder_a: value_a, coder_b: value_b}.get(d) if d else None


def normalise_decision(decision: str, coder_a: str, coder_b: str) -> str | None:
    """'Apply ' -> 'apply', 'as Anna' -> 'anna' (the coder's name as spelled); None when not a decision."""
    text = " ".join(str(decision).split()).lower()
    if text.startswith("as "):
        text = text[3:]
    for name in (*DECISIONS, coder_a, coder_b):
        if text == name.lower():
            return name
    return None


def _instructions(a: str, b: str) -> list[str]:
    return [
        f"Each row of the Disagreements sheet is a turn and code where {a} and {b} differ (1 = coded, "
        "0 = not coded). Discuss each one and fill in:",
        f"decision: 'apply' (the code applies), 'omit' (it does not), '{a}' or '{b}' (take that coder's "
        "value). rationale: why, in a sentence (it goes into the audit log). decided_by: who decided "
        "(initials of the people present).",
        "The Agreed sheet lists the cells both coders coded; they go into the consensus unchanged. Cells "
        "neither coder coded stay uncoded.",
        "Progress: 'vbhc-code reconcile --status FILE'. When done: 'vbhc-code reconcile --apply FILE' "
        "stores the consensus coding and the audit log; '--partial' applies only fully decided documents.",
        f"If {a} or {b} re-imports their coding, run 'vbhc-code reconcile --coders {a} {b}' again: every "
        "decision on a cell that still disagrees is kept, and decisions on cells that no longer disagree "
        "move to the Earlier decisions sheet. The Changes sheet says what changed.",
        "Do not edit the document, turn_index, code or coder value cells.",
    ]


def write_reconcile_xlsx(
    path: Path,
    *,
    coder_a: str,
    coder_b: str,
    rows: Sequence[DecisionRow],
    agreed: Sequence[Cell],
    turn_info: dict[tuple[str, int], tuple[str, str]],
    changes: Sequence[tuple[Cell, str, DecisionRow | None]],
    earlier: Sequence[DecisionRow],
    meta: dict[str, str],
) -> Path:
    """Write the workbook atomically (the caller has already merged the old decisions)."""

    def info(cell: Cell) -> tuple[str, str]:
        return turn_info.get((cell[0], cell[1]), ("", ""))

    dis_cols = [
        Column("document", width=22.0), Column("turn_index", kind="int", width=10.0), Column("code", width=9.0),
        Column("speaker", width=12.0), Column("text", width=80.0, wrap=True),
        Column(coder_a, kind="int", width=9.0, comment=f"1 = {coder_a} coded this cell"),
        Column(coder_b, kind="int", width=9.0, comment=f"1 = {coder_b} coded this cell"),
        Column("decision", width=12.0, choices=[*DECISIONS, coder_a, coder_b],
               comment=f"apply, omit, or a coder's name (= as {coder_a} / as {coder_b})"),
        Column("rationale", width=50.0, wrap=True), Column("decided_by", width=12.0),
    ]
    dis_rows = [
        [r.cell[0], r.cell[1], r.cell[2], info(r.cell)[0], info(r.cell)[1], r.value_a, r.value_b,
         r.decision or None, r.rationale or None, r.decided_by or None]
        for r in rows
    ]
    agreed_rows = [[c[0], c[1], c[2], info(c)[0], info(c)[1]] for c in agreed]
    change_rows = [
        [c[0], c[1], c[2], status, *(_old(old))] for c, status, old in changes
    ]
    earlier_rows = [
        [r.cell[0], r.cell[1], r.cell[2], r.value_a, r.value_b, r.decision or None, r.rationale or None,
         r.decided_by or None, r.status, r.noted_at]
        for r in earlier
    ]
    meta = {"kind": RECONCILE_KIND, "coder_a": coder_a, "coder_b": coder_b, "created_at": now_iso(),
            "vbhc_code_version": __version__, **meta}
    sheets: list[Sheet | TextSheet] = [
        Sheet("Disagreements", dis_cols, dis_rows),
        Sheet("Agreed", [Column("document", width=22.0), Column("turn_index", kind="int", width=10.0),
                         Column("code", width=9.0), Column("speaker", width=12.0),
                         Column("text", width=80.0, wrap=True)], agreed_rows),
        Sheet("Changes", [Column("document", width=22.0), Column("turn_index", kind="int", width=10.0),
                          Column("code", width=9.0), Column("status", width=22.0), Column("old decision", width=14.0),
                          Column("old rationale", width=40.0, wrap=True), Column("old decided_by", width=12.0)],
              change_rows),
        Sheet("Earlier decisions", [Column(c, kind="int" if c in ("turn_index", "value_a", "value_b") else "text",
                                           wrap=c == "rationale", width=40.0 if c == "rationale" else None)
                                    for c in EARLIER_COLUMNS], earlier_rows),
        TextSheet("Instructions", _instructions(coder_a, coder_b), title="How to reconcile"),
        Sheet("_meta", [Column("key"), Column("value")], [[k, v] for k, v in meta.items()], hidden=True),
    ]
    return write_workbook(path, sheets, kind=RECONCILE_WORKBOOK, force=True)  # the caller checked what is there


def _old(old: DecisionRow | None) -> list[Any]:
    if old is None:
        return [None, None, None]
    return [old.decision or None, old.rationale or None, old.decided_by or None]


# -- reading ------------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _int(value: Any) -> int | None:
    text = _text(value)
    return int(text) if text.isdigit() else None


def read_reconcile_xlsx(path: Path) -> ReconcileSheet:
    """Read the decisions; structural problems raise ``DataError``, row problems are collected."""
    from openpyxl.utils import get_column_letter

    from vbhc_code.files.workbook import open_xlsx, sheet_rows

    path = Path(path)
    name = path.name
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    with open_xlsx(path) as wb:
        if "_meta" not in wb.sheetnames or "Disagreements" not in wb.sheetnames:
            raise DataError(f"{name}: not a vbhc-code reconciliation workbook (no _meta or Disagreements sheet)")
        meta = {_text(r[0]): _text(r[1]) for r in sheet_rows(wb["_meta"], min_row=2, pad=2) if r and r[0]}
        if meta.get("kind") != RECONCILE_KIND or not meta.get("coder_a") or not meta.get("coder_b"):
            raise DataError(f"{name}: not a vbhc-code reconciliation workbook")
        a, b = meta["coder_a"], meta["coder_b"]
        result = ReconcileSheet(path, a, b, meta, [])
        it = sheet_rows(wb["Disagreements"], where=f"{name} Disagreements")
        header = [_text(h) for h in next(it, ())]
        cols = {h: j for j, h in enumerate(header) if h}
        needed = ["document", "turn_index", "code", a, b, "decision", "rationale", "decided_by"]
        missing = [h for h in needed if h not in cols]
        if missing:
            raise DataError(f"{name} Disagreements: column '{missing[0]}' is missing")
        result.columns = cols
        for r, values in enumerate(it, start=2):
            values = list(values) + [None] * (len(header) - len(values))
            get = {h: values[j] for h, j in cols.items()}
            if not any(_text(v) for v in values):
                continue
            idx = _int(get["turn_index"])
            if idx is None:
                col = get_column_letter(cols["turn_index"] + 1)
                result.problems.append(f"[{name} Disagreements!{col}{r}] turn_index is not a number")
                continue
            result.rows.append(DecisionRow(
                r, (_text(get["document"]), idx, _text(get["code"])), _int(get[a]), _int(get[b]),
                _text(get["decision"]), _text(get["rationale"]), _text(get["decided_by"]),
            ))
        if "Earlier decisions" in wb.sheetnames:
            it = sheet_rows(wb["Earlier decisions"], where=f"{name} Earlier decisions")
            eh = {h: j for j, h in enumerate(_text(h) for h in next(it, ())) if h}
            if all(c in eh for c in EARLIER_COLUMNS):
                for r, values in enumerate(it, start=2):
                    g = {c: values[eh[c]] if eh[c] < len(values) else None for c in EARLIER_COLUMNS}
                    idx = _int(g["turn_index"])
                    if idx is None:
                        continue
                    result.earlier.append(DecisionRow(
                        r, (_text(g["document"]), idx, _text(g["code"])), _int(g["value_a"]), _int(g["value_b"]),
                        _text(g["decision"]), _text(g["rationale"]), _text(g["decided_by"]), _text(g["status"]),
                        _text(g["noted_at"]),
                    ))
        return result


def decision_cell(sheet: ReconcileSheet, row: DecisionRow, column: str = "decision") -> str:
    """``file Disagreements!H5`` for a row's cell in ``column``."""
    from openpyxl.utils import get_column_letter

    return f"{sheet.path.name} Disagreements!{get_column_letter(sheet.columns[column] + 1)}{row.row}"
