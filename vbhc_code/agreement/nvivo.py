"""``agreement --mode nvivo``: its honest scope and its per-document figures as a workbook sheet.

NVivo's Coding Comparison works per code and per source over every character of the source, so the report
says ``mode: nvivo`` and ``scope: all characters``, and the workbook gets a ``Per document`` sheet with the
figures NVivo shows per source (``per_code.<CODE>.per_document`` in the JSON).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["NVIVO_SCOPE", "PER_DOCUMENT_KEYS", "per_document_rows"]

NVIVO_SCOPE = "all characters"
PER_DOCUMENT_KEYS = ("both", "first_only", "second_only", "neither", "n_units", "percent_agreement", "cohen_kappa")


def per_document_rows(report: Mapping[str, Any]) -> list[list[Any]]:
    """One row per code x document: the keys of ``PER_DOCUMENT_KEYS`` (empty when undefined)."""
    rows = []
    for code, stats in report["per_code"].items():
        for document, figures in sorted((stats.get("per_document") or {}).items()):
            rows.append([code, document, *(figures.get(k) for k in PER_DOCUMENT_KEYS)])
    return rows
