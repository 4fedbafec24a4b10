"""Re-imports are explicit: what an import would change for a coder who already has codings.

A coder's codings are compared cell by cell (document, turn, code and span) and by the documents marked
coded. Identical codings are a no-op; different codings are refused unless ``--replace``, and either way the
summary names what would change (``+N added / -M removed cells``) and the source it came from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vbhc_code.errors import DataError, opt
from vbhc_code.models import Coding
from vbhc_code.store.store import Store

__all__ = ["Change", "compare_with_store", "refuse_changes"]

Cell = tuple[str, int, str, int | None, int | None]


@dataclass(frozen=True)
class Change:
    """How an imported coder differs from what the store holds (``status``: new, unchanged or replaced)."""

    coder: str
    status: str
    added: int = 0
    removed: int = 0
    documents_added: int = 0
    documents_removed: int = 0
    source: str = ""
    previous_source: str = ""
    previous_codings: int = 0

    @property
    def summary(self) -> str:
        """``+N added / -M removed cells, source F`` (and the coded documents when they changed)."""
        docs = ""
        if self.documents_added or self.documents_removed:
            docs = f", +{self.documents_added} / -{self.documents_removed} coded documents"
        return f"+{self.added} added / -{self.removed} removed cells{docs}, source {self.source}"


def _cells(codings: Iterable[Coding]) -> set[Cell]:
    return {(c.document, c.turn_index, c.code, c.start, c.end) for c in codings}


def compare_with_store(
    store: Store, coder: str, codings: Iterable[Coding], coded_documents: Iterable[str], *, source: str
) -> Change:
    """What storing ``codings`` for ``coder`` would change."""
    info = {c.name: c for c in store.coders()}.get(coder)
    if info is None:
        return Change(coder, "new", source=source)
    new, old = _cells(codings), _cells(store.codings(coder))
    new_docs, old_docs = set(coded_documents), store.coded_documents(coder)
    status = "unchanged" if new == old and new_docs == old_docs else "replaced"
    return Change(coder, status, len(new - old), len(old - new), len(new_docs - old_docs),
                  len(old_docs - new_docs), source, info.source, info.n_codings)  # fmt: skip


def refuse_changes(changes: Iterable[Change]) -> None:
    """Raise ``DataError`` (exit 1) naming each coder whose stored codings an import would change."""
    refused = [c for c in changes if c.status == "replaced"]
    if not refused:
        return
    problems = [
        f"coder '{c.coder}' already has {c.previous_codings} codings (from {c.previous_source or 'unknown'}); "
        f"this import would change them: {c.summary}"
        for c in refused
    ]
    raise DataError(
        f"{len(refused)} coder(s) already have different codings; nothing was imported "
        f"(pass {opt('replace', True)} to replace them)",
        problems=problems,
    )
