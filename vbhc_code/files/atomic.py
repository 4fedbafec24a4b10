"""Atomic file writes: every file vbhc-code writes goes to a temp file beside it and is renamed.

A crash or a failed check therefore never leaves a half-written output, and an existing file is
only replaced once its successor is complete.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vbhc_code.errors import DataError, HumanWorkExists


def refuse_existing(path: Path, *, overwrite: bool) -> None:
    """Raise ``HumanWorkExists`` when ``path`` exists and overwriting was not asked for."""
    if Path(path).exists() and not overwrite:
        raise HumanWorkExists(f"{path} already exists; use --force to overwrite it")


@contextmanager
def atomic_path(path: Path, *, create_parent: bool = True) -> Iterator[Path]:
    """Yield a temp path beside ``path``; on a clean exit it replaces ``path``, else it is removed.

    OS errors become a ``DataError`` naming ``path`` (exit 1, no traceback).
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    try:
        if create_parent:
            parent.mkdir(parents=True, exist_ok=True)
        elif not parent.is_dir():
            raise DataError(f"{path}: the folder {parent} does not exist")
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
        os.close(fd)
    except OSError as exc:
        raise DataError(f"{path}: cannot write ({exc.strerror or exc})") from None
    tmp = Path(tmp_name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(f"{path}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str, *, overwrite: bool = True) -> Path:
    """Write UTF-8 text with ``\\n`` line ends atomically (refusing an existing file unless ``overwrite``)."""
    path = Path(path)
    refuse_existing(path, overwrite=overwrite)
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    return path
