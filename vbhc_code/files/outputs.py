"""What vbhc-code writes, and how it recognises its own earlier output (the one guarded output path).

Every file writer names an ``OutputKind``; ``files.atomic.atomic_path`` calls ``check_replaceable`` before it
writes anything. An existing file is replaced without ``--force`` only when it is vbhc-code's own earlier
output of the same kind:

- ``.xlsx``/``.docx``: the ``keywords`` document property reads ``vbhc-code output: <kind>`` (every workbook
  and Word document vbhc-code writes carries it; ``MARK``);
- ``.csv``: the header row is exactly the kind's columns;
- ``.md``: the text starts as the kind's Markdown starts (``# Codebook ``, ``## Themes``);
- ``.qdc``/``.qdpx``: the REFI-QDA XML names ``origin="vbhc-code ...``.

Never without ``--force``: kinds that are human work once written (``human``: coder workbooks, TOML
codebooks), and in a ``codings/`` folder the files of kinds that are also an input format people edit
(``edited``: a long codings CSV/workbook is what coders hand in). Anything else (a coder's CSV, a README, a
workbook of another kind or of another program) is someone's work. The checks read at most a few kB.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vbhc_code.errors import DataError, HumanWorkExists, opt

MARK = "vbhc-code output:"
_PEEK = 64 * 1024  # bytes read to recognise a file (a header row, a properties part)


@dataclass(frozen=True)
class OutputKind:
    """One kind of output file. ``name`` goes into the file's marker and into messages."""

    name: str
    columns: tuple[str, ...] = ()  # the header row of its CSV form (empty: the header varies, see ``prefix``)
    text_start: str = ""  # how its Markdown form starts
    human: bool = False  # human work once written: never replaced without --force
    edited: bool = False  # an input format people edit: in codings/ never replaced without --force
    header_start: tuple[str, ...] = ()  # CSV header that starts with these columns (then its own extras)
    recognise: Callable[[Path], bool] | None = None  # an extra test (e.g. files written before the marker)

    @property
    def marker(self) -> str:
        return f"{MARK} {self.name}"


def check_replaceable(path: Path, kind: OutputKind, *, force: bool) -> None:
    """Raise ``HumanWorkExists`` when ``path`` exists and is not vbhc-code's earlier ``kind`` output.

    With ``force`` anything but a folder is replaced.
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a file to write")
    if force:
        return
    if is_earlier_output(path, kind):
        return
    why = "human work" if kind.human else f"not an earlier {kind.name} output of vbhc-code"
    if not kind.human and kind.edited and in_codings_folder(path):
        why = "a file in codings/ is human work"
    raise HumanWorkExists(f"{path} already exists; use {opt('force', True)} to overwrite it ({why})")


def is_earlier_output(path: Path, kind: OutputKind) -> bool:
    """Whether ``path`` is a file vbhc-code wrote as ``kind`` that may be replaced without asking."""
    if kind.human or (kind.edited and in_codings_folder(path)) or not path.is_file():
        return False
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".docx"):
            ours = _properties_mark(path) == kind.marker
        elif suffix == ".csv":
            ours = _csv_header_matches(path, kind)
        elif suffix in (".qdc", ".qdpx"):
            ours = _refi_origin(path)
        else:
            ours = bool(kind.text_start) and _head(path, len(kind.text_start.encode())) == kind.text_start.encode()
    except (OSError, zipfile.BadZipFile, ValueError, KeyError, RuntimeError, EOFError, DataError):
        ours = False
    return ours or (kind.recognise is not None and kind.recognise(path))


def in_codings_folder(path: Path) -> bool:
    return Path(path).absolute().parent.name == "codings"


def _head(path: Path, n: int) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def _csv_header_matches(path: Path, kind: OutputKind) -> bool:
    import csv

    line = _head(path, _PEEK).split(b"\n", 1)[0].decode("utf-8-sig").rstrip("\r")
    header = next(csv.reader([line]), [])
    if kind.columns:
        return tuple(header) == kind.columns
    return bool(kind.header_start) and tuple(header[: len(kind.header_start)]) == kind.header_start


def _properties_mark(path: Path) -> str:
    """The marker in an Office file's ``docProps/core.xml`` keywords (a bounded byte search, no XML parse)."""
    import re

    data = _member(path, "docProps/core.xml")
    found = re.search(rb"<cp:keywords>([^<]{0,200})</cp:keywords>", data)
    return found.group(1).decode("utf-8", "replace").strip() if found else ""


def _member(path: Path, name: str, *, limit: int | None = _PEEK) -> bytes:
    """One member of an existing archive at an output path, through the checked reader (it may be hostile);
    b"" when it is missing or larger than ``limit``."""
    from vbhc_code.files.archive import QDPX, SafeZip

    with SafeZip(path, limits=QDPX) as archive:
        found = archive.find(name, ignore_case=True)
        size = next((m.size for m in archive.members if m.name == found), 0)
        if found is None or (limit is not None and size > limit):
            return b""
        if limit is not None:
            return archive.read(found)
        head = archive.chunks(found)
        try:
            return next(head, b"")
        finally:
            head.close()


def _refi_origin(path: Path) -> bool:
    if path.suffix.lower() == ".qdc":
        head = _head(path, 4096)
    else:
        head = _member(path, "project.qde", limit=None)[:4096]
    return b'origin="vbhc-code' in head


def _themes_earlier(path: Path) -> bool:
    """Themes output written before the marker existed: a workbook with Themes, Quotes and Methods sheets, or a
    Word document whose subject is ``vbhc-code themes``."""
    if path.suffix.lower() == ".docx":
        from vbhc_code.files.docx_write import has_subject

        return has_subject(path, "vbhc-code themes")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    try:
        data = _member(path, "xl/workbook.xml")
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, RuntimeError, DataError):
        return False
    return all(f'name="{s}"'.encode() in data for s in ("Themes", "Quotes", "Methods"))


# -- the kinds (one place: a reviewer sees every writer's rule here) ---------------------------------------------
SEGMENTS = OutputKind("segments", header_start=("document", "turn_index", "speaker", "participant_id", "turn_type"))
CODINGS_EXPORT = OutputKind("codings export", columns=("document", "turn_index", "code", "coder", "start", "end",
                                                       "evidence"), edited=True)
CODER_WORKBOOK = OutputKind("coder workbook", human=True)
RECONCILE_WORKBOOK = OutputKind("reconciliation workbook")  # its writer carries the decisions over
RECONCILE_LOG = OutputKind("reconciliation log", header_start=("cell", "document", "turn_index", "code", "coder_a"))
AGREEMENT = OutputKind("agreement report")
CODEBOOK = OutputKind("codebook", text_start="# Codebook ")  # .md, .xlsx and .qdc exports
CODEBOOK_TOML = OutputKind("codebook", human=True)  # a TOML codebook is edited by hand
THEMES = OutputKind("themes", text_start="## Themes", recognise=_themes_earlier)
REFI_PROJECT = OutputKind("REFI-QDA project")
FILE = OutputKind("file")  # the default of the writers: recognised only by its own marker (.xlsx/.docx)
