"""REFI-QDA exchange (.qdpx projects, .qdc codebooks): the public entry points.

- ``write_qdc(codebook, path)``: a codebook as .qdc, valid against Codebook.xsd.
- ``export_qdpx(store, *, out, coders=None, line_endings="lf")``: the study as .qdpx, checked before writing.
- ``import_refi(store, path)``: a .qdpx or .qdc into the store (documents, codings per user, codebook, cases).
- ``check_refi(path)``: XSD errors with line numbers plus the standard's rules the XSD cannot express.
"""

from __future__ import annotations

from vbhc_code.refi.check import check_refi
from vbhc_code.refi.codebook import read_refi_codebook
from vbhc_code.refi.export import ExportReport, RefiInternalError, export_qdpx, write_qdc
from vbhc_code.refi.importer import ImportReport, import_refi

__all__ = [
    "ExportReport", "ImportReport", "RefiInternalError", "check_refi", "export_qdpx", "import_refi",
    "read_refi_codebook", "write_qdc",
]
