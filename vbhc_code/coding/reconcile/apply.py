"""Reconciling two coders into a consensus coding, with every decision kept and logged.

A cell is one turn x code. Only documents both coders marked as coded are reconciled (a document one
coder has not coded is missing data, not a disagreement). Cells both coded are agreed and carried into
the consensus; cells exactly one coder coded are disagreements, each settled by a decision:
``apply`` (1), ``omit`` (0) or a coder's name ("as that coder"). Re-running after a coder re-imports
keeps every decision whose cell still disagrees; decisions on cells that no longer disagree are kept in
the workbook's ``Earlier decisions`` sheet (and restored if the cell disagrees again).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vbhc_code.coding.reconcile.guard import agreed_digest, choose_target
from vbhc_code.coding.reconcile.workbook import (
    Cell,
    DecisionRow,
    ReconcileSheet,
    cell_label,
    decision_cell,
    decision_value,
    normalise_decision,
    read_reconcile_xlsx,
    write_reconcile_xlsx,
)
from vbhc_code.coding.workbook import check_coder_name
from vbhc_code.errors import DataError, HumanWorkExists, UsageError, ValidationError, VbhcError, describe, opt
from vbhc_code.files.csvfile import DEFAULT as DEFAULT_CSV
from vbhc_code.files.csvfile import CsvOptions, write_csv_atomic
from vbhc_code.files.outputs import RECONCILE_LOG, check_replaceable
from vbhc_code.models import Coding, ReconcileStatus
from vbhc_code.store.store import Reconciliation, Store, now_iso

__all__ = ["ApplyReport", "Comparison", "ReconcileReport", "apply_reconciliation", "compare_coders",
           "reconcile_status", "write_reconcile_workbook", "LOG_COLUMNS"]

DEFAULT_LOG = Path("outputs") / "reconciliation-log.csv"
LOG_COLUMNS = ("cell", "document", "turn_index", "code", "coder_a", "value_a", "coder_b", "value_b", "decision",
               "consensus_value", "rationale", "decided_by", "decided_at", "consensus_coder")


@dataclass
class Comparison:
    coder_a: str
    coder_b: str
    documents: set[str]  # coded by both
    only_a: set[str]  # documents only A coded
    only_b: set[str]
    agreed: set[Cell]  # both coded
    disagreements: dict[Cell, tuple[int, int]]  # cell -> (value_a, value_b)


def compare_coders(store: Store, coder_a: str, coder_b: str) -> Comparison:
    """Agreed and disagreeing cells of two coders over the documents both coded."""
    known = {c.name for c in store.coders()}
    for name in (coder_a, coder_b):
        if name not in known:
            raise DataError(f"no coder '{name}' in the store (coders: {', '.join(sorted(known)) or 'none yet'})")
    docs_a, docs_b = store.coded_documents(coder_a), store.coded_documents(coder_b)
    both = docs_a & docs_b
    cells_a = {(c.document, c.turn_index, c.code) for c in store.codings(coder_a) if c.document in both}
    cells_b = {(c.document, c.turn_index, c.code) for c in store.codings(coder_b) if c.document in both}
    dis = {c: (1, 0) for c in cells_a - cells_b}
    dis.update({c: (0, 1) for c in cells_b - cells_a})
    return Comparison(coder_a, coder_b, both, docs_a - docs_b, docs_b - docs_a, cells_a & cells_b,
                      dict(sorted(dis.items())))


def _check_pair(coders: tuple[str, str] | list[str]) -> tuple[str, str]:
    if len(coders) != 2:
        raise UsageError(f"reconcile exactly two coders: {opt('coders', 'A B')}")
    a, b = (check_coder_name(c) for c in coders)
    if a == b:
        raise UsageError(f"{opt('coders')}: '{a}' named twice")
    reserved = {"document", "turn_index", "code", "speaker", "text", "decision", "rationale", "decided_by",
                "apply", "omit"}
    for name in (a, b):
        if name.lower() in reserved:
            raise UsageError(f"coder name '{name}' clashes with a column or decision of the workbook")
    return a, b


def _turn_info(store: Store, docs: set[str]) -> dict[tuple[str, int], tuple[str, str]]:
    return {(t.document, t.turn_index): (t.speaker or "", t.text) for t in store.turns() if t.document in docs}


@dataclass
class ReconcileReport:
    path: Path
    coder_a: str
    coder_b: str
    documents: int
    agreed: int
    disagreements: int
    decided: int
    changes: Counter = field(default_factory=Counter)  # status -> cells
    warnings: list[str] = field(default_factory=list)
    written: bool = True  # False: the existing workbook was up to date and left as it is


def write_reconcile_workbook(
    store: Store, *, coders: tuple[str, str] | list[str], out: Path | None = None, force: bool = False
) -> ReconcileReport:
    """Write (or refresh) the reconciliation workbook of two coders, keeping every earlier decision.

    An existing ``out`` is read first and its decisions merged in; if it cannot be read as a
    reconciliation workbook of the same two coders, it is only replaced with ``force``.
    """
    a, b = _check_pair(list(coders))
    out = Path(out) if out is not None else Path("codings") / f"reconcile-{a}-{b}.xlsx"
    comp = compare_coders(store, a, b)
    old: ReconcileSheet | None = None
    if out.exists():
        try:
            old = read_reconcile_xlsx(out)
            if (old.coder_a, old.coder_b) != (a, b):
                raise DataError(f"it reconciles {old.coder_a} and {old.coder_b}, not {a} and {b}")
        except DataError as exc:
            if not force:
                raise HumanWorkExists(
                    f"{out} already exists and its decisions cannot be carried over ({exc.message}); "
                    f"use {opt('force', True)} to overwrite it or choose another {opt('out')}"
                ) from None
            old = None
    if old is not None and old.problems and not force:
        raise ValidationError(f"{out}: rows whose decisions cannot be carried over; "
                              f"fix them (or {opt('force', True)} to drop "
                              "them)", old.problems)
    old_rows = {r.cell: r for r in old.rows} if old else {}
    earlier = {(r.cell, r.decision, r.rationale): r for r in old.earlier} if old else {}
    earlier_by_cell: dict[Cell, DecisionRow] = {}
    for r in earlier.values():
        earlier_by_cell[r.cell] = r  # the latest noted decision on that cell
    rows: list[DecisionRow] = []
    changes: list[tuple[Cell, str, DecisionRow | None]] = []
    for cell, (va, vb) in comp.disagreements.items():
        row = DecisionRow(0, cell, va, vb)
        prev = old_rows.get(cell)
        if prev is not None and prev.has_input:
            row.decision, row.rationale, row.decided_by = prev.decision, prev.rationale, prev.decided_by
            status = "kept" if (prev.value_a, prev.value_b) == (va, vb) else "kept-values-changed"
            changes.append((cell, status, prev))
        elif prev is not None:
            changes.append((cell, "still-undecided", None))
        elif cell in earlier_by_cell and (earlier_by_cell[cell].value_a, earlier_by_cell[cell].value_b) == (va, vb):
            e = earlier_by_cell[cell]
            row.decision, row.rationale, row.decided_by = e.decision, e.rationale, e.decided_by
            changes.append((cell, "restored", e))
        else:
            changes.append((cell, "new", None))
        rows.append(row)
    stamp = now_iso()
    for cell, prev in old_rows.items():
        if cell not in comp.disagreements:
            status = "resolved-by-reimport" if _both_coded_docs(cell, comp) else "document-no-longer-coded"
            changes.append((cell, status, prev if prev.has_input else None))
            if prev.has_input:
                prev.status, prev.noted_at = status, stamp
                earlier[(prev.cell, prev.decision, prev.rationale)] = prev
    if old is None:
        changes = [(c, s, p) for c, s, p in changes if s != "new"]  # a first run has nothing to compare
    warnings = []
    for label, docs in ((a, comp.only_a), (b, comp.only_b)):
        if docs:
            warnings.append(f"{len(docs)} document(s) coded by {label} only are not reconciled: "
                            f"{', '.join(sorted(docs)[:5])}{' ...' if len(docs) > 5 else ''}")
    cb_a, cb_b = store.coder_codebook(a), store.coder_codebook(b)
    if cb_a and cb_b and cb_a.sha256 != cb_b.sha256:
        warnings.append(f"{a} used codebook {cb_a.name} {cb_a.version}, {b} used {cb_b.name} {cb_b.version}")
    agreed_sha = agreed_digest(comp.agreed)
    target = choose_target(out, old, changes, documents=len(comp.documents), agreed=agreed_sha, force=force)
    warnings += [target.note] if target.note else []
    if target.write:
        write_reconcile_xlsx(
            target.path, coder_a=a, coder_b=b, rows=rows, agreed=sorted(comp.agreed), turn_info=_turn_info(
                store, comp.documents), changes=changes,
            earlier=sorted(earlier.values(), key=lambda r: (r.cell, r.noted_at)),
            meta={"documents": str(len(comp.documents)), "store": str(store.path), "agreed_sha": agreed_sha},
        )
    return ReconcileReport(target.path, a, b, len(comp.documents), len(comp.agreed), len(rows),
                           sum(1 for r in rows if r.decision), Counter(s for _, s, _ in changes), warnings,
                           written=target.write)


def _both_coded_docs(cell: Cell, comp: Comparison) -> bool:
    return cell[0] in comp.documents


# -- applying -----------------------------------------------------------------------------------------
@dataclass
class ApplyReport:
    as_coder: str
    coder_a: str
    coder_b: str
    codings: int
    documents: int
    settled: Counter  # decision type ('apply', 'omit', 'as anna', ...) -> cells
    agreed: int
    undecided: int
    skipped_documents: list[str]
    agreement: dict[str, dict[str, Any]] | None  # coder -> pooled agreement with the consensus
    log_csv: Path | None
    warnings: list[str] = field(default_factory=list)


def _validate(sheet: ReconcileSheet, comp: Comparison, *, partial: bool) -> tuple[list[str], list[DecisionRow]]:
    """Every located problem of the sheet against the store, and the rows still undecided."""
    a, b, name = sheet.coder_a, sheet.coder_b, sheet.path.name
    problems = list(sheet.problems)
    undecided: list[DecisionRow] = []
    seen: dict[Cell, int] = {}
    for row in sheet.rows:
        where = decision_cell(sheet, row, "document")
        if row.cell in seen:
            problems.append(f"[{where}] {cell_label(row.cell)} is listed twice (also row {seen[row.cell]})")
            continue
        seen[row.cell] = row.row
        current = comp.disagreements.get(row.cell)
        if current is None:
            problems.append(f"[{where}] {cell_label(row.cell)} no longer disagrees in the store; "
                            f"re-run reconcile ({opt('coders', f'{a} {b}')})")
            continue
        if current != (row.value_a, row.value_b):
            problems.append(f"[{decision_cell(sheet, row, a)}] the coders' values of {cell_label(row.cell)} changed "
                            f"in the store; re-run reconcile ({opt('coders', f'{a} {b}')})")
            continue
        if not row.decision:
            undecided.append(row)
            if not partial:
                problems.append(f"[{decision_cell(sheet, row)}] no decision for {cell_label(row.cell)}")
        elif normalise_decision(row.decision, a, b) is None:
            problems.append(
                f"[{decision_cell(sheet, row)}] decision ({describe(row.decision)}) is not apply, omit, {a} or {b}"
            )
    for cell in comp.disagreements:
        if cell not in seen:
            problems.append(f"[{name} Disagreements] {cell_label(cell)} disagrees in the store but is not listed; "
                            f"re-run reconcile ({opt('coders', f'{a} {b}')})")
    return problems, undecided


def apply_reconciliation(
    store: Store,
    *,
    path: Path,
    as_coder: str = "consensus",
    partial: bool = False,
    log_csv: Path | None = DEFAULT_LOG,
    scope: str = "participant",
    force: bool = False,
    csv: CsvOptions = DEFAULT_CSV,
) -> ApplyReport:
    """Validate every decision, then store the consensus coder and the audit log in one transaction.

    With ``partial`` only documents whose disagreements are all decided become coded by the consensus;
    the others stay missing data (their decided cells are still logged). An existing ``log_csv`` that is not an
    earlier reconciliation log is refused before anything is stored, unless ``force``.
    """
    if log_csv is not None:
        check_replaceable(Path(log_csv), RECONCILE_LOG, force=force)
    sheet = read_reconcile_xlsx(path)
    a, b = sheet.coder_a, sheet.coder_b
    check_coder_name(as_coder)
    if as_coder in (a, b):
        raise UsageError(f"{opt('as_coder', as_coder, flag='as')}: the consensus must not "
                         "overwrite one of the reconciled coders")
    existing = {c.name: c for c in store.coders()}.get(as_coder)
    if existing is not None and not (existing.source or "").startswith("reconcile "):
        raise HumanWorkExists(
            f"{opt('as_coder', as_coder, flag='as')}: coder '{as_coder}' holds codings "
            f"from {existing.source or 'elsewhere'}, "
            f"not from a reconciliation; choose another {opt('as_coder', flag='as')}"
        )
    comp = compare_coders(store, a, b)
    problems, undecided = _validate(sheet, comp, partial=partial)
    if problems:
        raise ValidationError(f"{path.name}: {len(problems)} problem(s); nothing was applied", problems)
    skipped = sorted({r.cell[0] for r in undecided})
    docs = comp.documents - set(skipped)
    cells = {c for c in comp.agreed if c[0] in docs}
    settled: Counter = Counter()
    stamp = now_iso()
    log_rows = []
    for row in sheet.rows:
        if not row.decision:
            continue
        d = normalise_decision(row.decision, a, b)
        value = decision_value(d, a, b, row.value_a, row.value_b)
        settled[d if d in ("apply", "omit") else f"as {d}"] += 1
        if value and row.cell[0] in docs:
            cells.add(row.cell)
        log_rows.append({
            "document": row.cell[0], "turn_index": row.cell[1], "code": row.cell[2], "coder_a": a, "coder_b": b,
            "value_a": row.value_a, "value_b": row.value_b, "decision": d, "rationale": row.rationale,
            "decided_by": row.decided_by, "decided_at": stamp, "consensus_coder": as_coder,
        })
    codebook = store.coder_codebook(a) or store.coder_codebook(b)
    warnings = []
    nobody = sum(1 for row in sheet.rows if row.decision and not row.decided_by)
    if nobody:
        warnings.append(f"{nobody} decision(s) have no decided_by")
    codings = [Coding(d, i, c, as_coder) for d, i, c in sorted(cells)]
    fingerprints = ((a, store.codings_fingerprint(a)), (b, store.codings_fingerprint(b)))
    origin = Reconciliation(as_coder, path.name, fingerprints, stamp)
    with store.transaction():
        store.replace_codings(as_coder, codings, coded_documents=docs, codebook=codebook,
                              source=f"reconcile {path.name} ({a} + {b})", reconciled_from=origin)
        store.add_reconciliation_log(log_rows)
    if log_csv is not None:
        write_log_csv(store, Path(log_csv), force=force, options=csv)
    agreement = _agreement(store, [a, b], as_coder, scope, warnings)
    return ApplyReport(as_coder, a, b, len(codings), len(docs), settled, sum(1 for c in comp.agreed if c[0] in docs),
                       len(undecided), skipped, agreement, log_csv, warnings)


def write_log_csv(store: Store, path: Path, *, force: bool = False, options: CsvOptions = DEFAULT_CSV) -> Path:
    """The whole audit log of the store (every application, oldest first) as CSV."""
    rows = []
    for r in store.reconciliation_log():
        value = decision_value(r["decision"], r["coder_a"], r["coder_b"], r["value_a"], r["value_b"])
        cell = (r["document"], r["turn_index"], r["code"])
        rows.append([cell_label(cell), r["document"], r["turn_index"], r["code"], r["coder_a"], r["value_a"],
                     r["coder_b"], r["value_b"], r["decision"], value, r["rationale"], r["decided_by"],
                     r["decided_at"], r["consensus_coder"]])
    return write_csv_atomic(path, LOG_COLUMNS, rows, options=options, kind=RECONCILE_LOG, force=force)


def _agreement(store: Store, coders: list[str], consensus: str, scope: str, warnings: list[str]):
    from vbhc_code.agreement.report import agreement_report

    out = {}
    for coder in coders:
        try:  # n_boot=0: no confidence intervals needed for this summary
            report = agreement_report(store, coders=[coder, consensus], unit="turn", scope=scope, n_boot=0)
        except VbhcError as exc:  # the consensus is stored already; agreement is only a summary
            warnings.append(f"agreement of {coder} with {consensus}: {exc.message}")
            continue
        out[coder] = dict(report.get("pooled", {}))
    return out


# -- status -------------------------------------------------------------------------------------------
def reconcile_status(store: Store | None, *, path: Path) -> ReconcileStatus:
    """Progress of a reconciliation workbook: decided, undecided, invalid, by decision and by code.

    With a store, also how many rows no longer match the store (``stale``: re-run reconcile).
    """
    sheet = read_reconcile_xlsx(path)
    a, b = sheet.coder_a, sheet.coder_b
    by_decision: Counter = Counter()
    by_code: dict[str, Counter] = {}
    invalid = undecided = 0
    invalid_cells: list[str] = []
    for row in sheet.rows:
        code = by_code.setdefault(row.cell[2], Counter())
        if not row.decision:
            undecided += 1
            code["undecided"] += 1
            continue
        d = normalise_decision(row.decision, a, b)
        if d is None:
            invalid += 1
            code["invalid"] += 1
            # same located line as --apply, so the researcher can find the cell to fix
            invalid_cells.append(f"[{decision_cell(sheet, row)}] decision ({describe(row.decision)}) is not apply, "
                                 f"omit, {a} or {b}")
        else:
            by_decision[d if d in ("apply", "omit") else f"as {d}"] += 1
            code["decided"] += 1
    stale = None
    stale_consensus: list[str] = []
    if store is not None:
        from vbhc_code.coding.stale import stale_message

        stale_consensus = [stale_message(r) for r in store.stale_reconciliations() if set(r.sources) == {a, b}]
        comp = compare_coders(store, a, b)
        listed = {r.cell: (r.value_a, r.value_b) for r in sheet.rows}
        stale = sum(1 for c, v in listed.items() if comp.disagreements.get(c) != v)
        stale += sum(1 for c in comp.disagreements if c not in listed)
    total = len(sheet.rows)
    decided = total - undecided - invalid
    return ReconcileStatus(
        file=str(path), coders=[a, b], disagreements=total, decided=decided, undecided=undecided,
        invalid=invalid, invalid_cells=invalid_cells, percent_decided=(100.0 * decided / total) if total else 100.0,
        by_decision=dict(by_decision), by_code={k: dict(v) for k, v in sorted(by_code.items())},
        earlier_decisions=len(sheet.earlier), stale=stale, stale_consensus=stale_consensus,
    )
