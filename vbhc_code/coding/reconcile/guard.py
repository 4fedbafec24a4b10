"""Human decisions are never lost: when a refresh may rewrite an existing reconciliation workbook.

A refresh that changes nothing writes nothing (the workbook is up to date). A refresh that would drop a
decided row from ``Disagreements`` (to ``Earlier decisions``) or keep a decision on a cell whose values
changed writes the refreshed workbook *beside* the old one (``reconcile-A-B-2.xlsx``) and leaves the
decided workbook as it is, unless ``--force``. Any other refresh (new or resolved undecided rows only)
rewrites the workbook in place, as every decided row stays where it was.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from vbhc_code.coding.reconcile.workbook import Cell, DecisionRow, ReconcileSheet
from vbhc_code.errors import opt

__all__ = ["MOVED", "Target", "agreed_digest", "choose_target"]

MOVED = ("resolved-by-reimport", "document-no-longer-coded", "kept-values-changed")
UNCHANGED = ("kept", "still-undecided")


@dataclass(frozen=True)
class Target:
    path: Path  # where to write (None-like when up to date: see ``write``)
    write: bool
    note: str = ""  # what changed and where the refresh went, for a warning


def agreed_digest(agreed: Iterable[Cell]) -> str:
    """A short digest of the agreed cells, kept in ``_meta`` so that a later run can tell they changed."""
    digest = hashlib.sha256()
    for d, i, c in sorted(agreed):
        digest.update(f"{d}\t{i}\t{c}\n".encode())
    return digest.hexdigest()[:16]


def _beside(out: Path) -> Path:
    n = 2
    while (candidate := out.with_name(f"{out.stem}-{n}{out.suffix}")).exists():
        n += 1
    return candidate


def choose_target(
    out: Path, old: ReconcileSheet | None, changes: list[tuple[Cell, str, DecisionRow | None]], *,
    documents: int, agreed: str, force: bool,
) -> Target:
    """Where (and whether) to write a refreshed workbook; see the module docstring."""
    if old is None:
        return Target(out, True)
    counts = Counter(status for _, status, _ in changes)
    same_agreed = old.meta.get("agreed_sha", agreed) == agreed
    same_docs = old.meta.get("documents", str(documents)) == str(documents)
    if set(counts) <= set(UNCHANGED) and same_agreed and same_docs:
        return Target(out, False)
    moved = sum(1 for _, status, prev in changes if status in MOVED and prev is not None and prev.has_input)
    if moved == 0 or force:
        return Target(out, True)
    what = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k not in UNCHANGED)
    new = _beside(out)
    return Target(new, True, (
        f"the codings changed since {out.name} was written ({what}): {moved} decided row(s) would move or change, "
        f"so {out.name} is left as it is and the refreshed workbook (decisions carried over) is {new.name}; "
        f"check it and apply it, or use {opt('force', True)} to refresh {out.name} in place"
    ))
