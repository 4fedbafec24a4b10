"""``codings list``: the coders in a store, without loading the workbook and import machinery."""

from __future__ import annotations

from typing import Any

from vbhc_code.store.store import Store


def list_codings(store: Store) -> list[dict[str, Any]]:
    """One dict per coder: coder, codebook, documents coded, codings, source, updated_at."""
    return [
        {
            "coder": c.name,
            "codebook": f"{c.codebook_name} {c.codebook_version}" if c.codebook_name else "",
            "codebook_sha256": c.codebook_sha256 or "",
            "documents_coded": c.n_documents,
            "codings": c.n_codings,
            "source": c.source,
            "updated_at": c.updated_at,
        }
        for c in store.coders()
    ]
