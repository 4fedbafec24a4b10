"""The study store: one SQLite file, its schema and migrations. The only place that speaks SQL."""

from vbhc_code.store.store import CoderInfo, Reconciliation, Store, now_iso, open_store, remove_store_files

__all__ = ["CoderInfo", "Reconciliation", "Store", "now_iso", "open_store", "remove_store_files"]
