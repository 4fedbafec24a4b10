"""Stale results are flagged: a consensus coder whose source coders' codings changed since it was applied.

``Store.stale_reconciliations`` finds them; this module words the warning that ``themes``, ``agreement``,
``refi export`` and ``reconcile --status`` print, naming the reconciliation workbook and the coders.
"""

from __future__ import annotations

from collections.abc import Iterable

from vbhc_code.errors import opt
from vbhc_code.store.store import Reconciliation, Store

__all__ = ["stale_message", "stale_for", "stale_warnings"]


def stale_message(rec: Reconciliation) -> str:
    """``coder 'consensus' is stale: ...`` (names the workbook and the coders whose codings changed)."""
    changed = " and ".join(f"'{c}'" for c in rec.changed)
    sources = " ".join(rec.sources)
    when = f" on {rec.applied_at[:10]}" if rec.applied_at else ""
    return (f"coder '{rec.coder}' is stale: it was reconciled from {rec.workbook or 'a reconciliation workbook'}"
            f"{when}, and the codings of {changed} changed since; re-run reconcile ({opt('coders', sources)}) "
            "and apply the workbook it writes")


def stale_for(store: Store, coders: Iterable[str] | None = None) -> list[Reconciliation]:
    """Stale consensus coders that are among ``coders`` or were reconciled from one of them (None: all)."""
    names = None if coders is None else set(coders)
    return [rec for rec in store.stale_reconciliations()
            if names is None or rec.coder in names or names & set(rec.sources)]


def stale_warnings(store: Store, coders: Iterable[str] | None = None) -> list[str]:
    return [stale_message(rec) for rec in stale_for(store, coders)]
