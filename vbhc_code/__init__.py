"""vbhc-code: a command-line toolkit for qualitative interview research, library first.

The public API mirrors the CLI, one function per command, imported on first use (so ``import vbhc_code``
stays as fast as ``vbhc-code --version``)::

    import vbhc_code as vc
    with vc.open_store("study.db") as store:
        vc.ingest_folder(Path("transcripts"), store=store)
        report = vc.agreement_report(store, coders=["anna", "ben"])

Errors are ``vc.VbhcError`` subclasses whose ``problems`` are located ``Problem`` records.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it; the CLI command each mirrors is in the comment
_API: dict[str, str] = {
    "open_store": "vbhc_code.store.store",  # every command's --store
    "Store": "vbhc_code.store.store",
    "ingest_folder": "vbhc_code.ingest.folder",  # ingest
    "load_codebook": "vbhc_code.codebook.load",  # --codebook
    "check_codebook": "vbhc_code.codebook.load",  # codebook check
    "autocode": "vbhc_code.autocode.run",  # autocode
    "write_workbooks": "vbhc_code.coding.workbook",  # codings workbook
    "import_codings": "vbhc_code.coding.imports",  # codings import
    "export_codings": "vbhc_code.coding.imports",  # codings export
    "agreement_report": "vbhc_code.agreement.report",  # agreement
    "write_agreement_xlsx": "vbhc_code.agreement.report",  # agreement --out
    "evaluate": "vbhc_code.agreement.report",  # evaluate
    "coefficients": "vbhc_code.agreement",
    "write_reconcile_workbook": "vbhc_code.coding.reconcile.apply",  # reconcile --coders
    "apply_reconciliation": "vbhc_code.coding.reconcile.apply",  # reconcile --apply
    "reconcile_status": "vbhc_code.coding.reconcile.apply",  # reconcile --status
    "build_themes": "vbhc_code.themes.build",  # themes
    "write_themes_xlsx": "vbhc_code.themes.report",  # themes --out
    "themes_markdown": "vbhc_code.themes.report",  # themes --md
    "write_themes_docx": "vbhc_code.themes.paper",  # themes --docx
    "import_refi": "vbhc_code.refi.importer",  # refi import
    "export_qdpx": "vbhc_code.refi.export",  # refi export
    "check_refi": "vbhc_code.refi.check",  # refi check
    "VbhcError": "vbhc_code.errors",
    "DataError": "vbhc_code.errors",
    "UsageError": "vbhc_code.errors",
    "ValidationError": "vbhc_code.errors",
    "HumanWorkExists": "vbhc_code.errors",
    "Problem": "vbhc_code.errors",
    "Codebook": "vbhc_code.models",
    "Code": "vbhc_code.models",
    "Coding": "vbhc_code.models",
    "Document": "vbhc_code.models",
    "Turn": "vbhc_code.models",
}
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'vbhc_code' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from vbhc_code.agreement import coefficients
    from vbhc_code.agreement.report import agreement_report, evaluate, write_agreement_xlsx
    from vbhc_code.autocode.run import autocode
    from vbhc_code.codebook.load import check_codebook, load_codebook
    from vbhc_code.coding.imports import export_codings, import_codings
    from vbhc_code.coding.reconcile.apply import apply_reconciliation, reconcile_status, write_reconcile_workbook
    from vbhc_code.coding.workbook import write_workbooks
    from vbhc_code.errors import DataError, HumanWorkExists, Problem, UsageError, ValidationError, VbhcError
    from vbhc_code.ingest.folder import ingest_folder
    from vbhc_code.models import Code, Codebook, Coding, Document, Turn
    from vbhc_code.refi.check import check_refi
    from vbhc_code.refi.export import export_qdpx
    from vbhc_code.refi.importer import import_refi
    from vbhc_code.store.store import Store, open_store
    from vbhc_code.themes.build import build_themes
    from vbhc_code.themes.paper import write_themes_docx
    from vbhc_code.themes.report import themes_markdown, write_themes_xlsx
