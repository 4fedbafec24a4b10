"""Atomic file writes: every file vbhc-code writes goes to a temp file beside it and is renamed.

A crash or a failed check therefore never leaves a half-written output, and an existing file is
only replaced once its successor is complete. ``atomic_path`` is the one guarded output path: it refuses to
replace a file that is not vbhc-code's earlier output of the same kind unless ``force``
(``files.outputs.check_replaceable``), and maps OS errors to located errors (``errors.os_error``).

Temp files are named ``.NAME.vbhc-PID-RANDOM.tmp``. One left behind by a killed process (kill -9 cannot be
caught) is removed by the next write into that folder, once the process that made it is gone.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from vbhc_code.errors import DataError, VbhcError, os_error
from vbhc_code.files.outputs import FILE, OutputKind, check_replaceable

_TEMP = re.compile(r"^\..+\.vbhc-(\d+)-[A-Za-z0-9_]+\.tmp(?:dir)?$")
STALE_AFTER = 24 * 3600  # a temp whose process may live on another host is removed after a day


def temp_prefix(path: Path) -> str:
    return f".{Path(path).name}.vbhc-{os.getpid()}-"


def remove_stale_temps(folder: Path) -> list[Path]:
    """Remove temp files and folders of our pattern whose process is gone (or that are older than a day)."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        found = _TEMP.match(entry.name)
        if found is None or int(found.group(1)) == os.getpid():
            continue
        try:
            old = time.time() - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER
        except OSError:
            continue
        if old or not _alive(int(found.group(1))):
            with suppress(OSError):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process (or an odd pid): leave its file alone
    return True


@contextmanager
def atomic_path(
    path: Path, *, kind: OutputKind = FILE, force: bool = False, create_parent: bool = True
) -> Iterator[Path]:
    """Yield a temp path beside ``path``; on a clean exit it replaces ``path``, else it is removed.

    An existing ``path`` that is not an earlier ``kind`` output is refused unless ``force`` (``HumanWorkExists``).
    OS errors become a located error naming ``path`` (exit 1, or 74 for a full disk; no traceback).
    """
    with atomic_paths([path], kinds=[kind], force=force, create_parent=create_parent) as (tmp,):
        yield tmp


@contextmanager
def atomic_paths(
    paths: Sequence[Path], *, kinds: Sequence[OutputKind], force: bool = False, create_parent: bool = True
) -> Iterator[tuple[Path, ...]]:
    """Several outputs written together: all checked first, all renamed only after every one is complete and
    synced, none left when one fails (``themes --out F.xlsx --md F.md --docx F.docx``)."""
    paths = [Path(p) for p in paths]
    for path, kind in zip(paths, kinds, strict=True):
        check_replaceable(path, kind, force=force)
    temps: list[Path] = []
    try:
        for path in paths:
            temps.append(_make_temp(path, create_parent=create_parent))
        yield tuple(temps)
        for tmp in temps:
            _finish(tmp)
        for tmp, path in zip(temps, paths, strict=True):
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise os_error(path, exc) from None
        _sync_folders(paths)
    except OSError as exc:
        raise os_error(paths[len(temps) - 1] if temps else paths[0], exc) from None
    except VbhcError:
        raise
    except Exception as exc:
        cause = _os_cause(exc)
        if cause is None:
            raise
        raise os_error(paths[0], cause) from None
    finally:
        for tmp in temps:
            with suppress(OSError):
                tmp.unlink(missing_ok=True)


def _make_temp(path: Path, *, create_parent: bool) -> Path:
    parent = path.parent if str(path.parent) else Path(".")
    try:
        if create_parent:
            parent.mkdir(parents=True, exist_ok=True)
        elif not parent.is_dir():
            raise DataError(f"{path}: the folder {parent} does not exist")
        remove_stale_temps(parent)
        fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=parent)
        os.close(fd)
    except OSError as exc:
        raise os_error(path, exc) from None
    return Path(tmp_name)


def _finish(tmp: Path) -> None:
    """Normal permissions (mkstemp makes 0600) and the data on disk before the rename."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folders(paths: Sequence[Path]) -> None:
    """The renames on disk too (best effort: not every system can open a folder)."""
    for folder in {p.absolute().parent for p in paths}:
        with suppress(OSError):
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _os_cause(exc: BaseException) -> OSError | None:
    """The OSError behind a library's own exception (xlsxwriter wraps a full disk in FileCreateError)."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, OSError):
            return current
        current = current.__cause__ or current.__context__
        seen += 1
    return None


@contextmanager
def scratch_folder(path: Path) -> Iterator[Path]:
    """A private temp folder beside ``path`` for a library's own temp files (xlsxwriter), always removed."""
    parent = Path(path).parent if str(Path(path).parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=temp_prefix(path), suffix=".tmpdir", dir=parent))
    except OSError as exc:
        raise os_error(path, exc) from None
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_text_atomic(path: Path, text: str, *, kind: OutputKind = FILE, force: bool = False) -> Path:
    """Write UTF-8 text with ``\\n`` line ends atomically (an existing file only when it is ours, or ``force``)."""
    path = Path(path)
    with atomic_path(path, kind=kind, force=force) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    return path
