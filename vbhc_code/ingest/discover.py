"""Which files of a study folder are transcripts, and why the others are skipped."""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Collection
from pathlib import Path

# Files that sit beside transcripts in a study folder but are documentation, not data.
_DOC_FILE = re.compile(r"^(readme|license|licence|copying|changelog|sources|notes?)([-_. ]|$)", re.IGNORECASE)


def discover(folder: Path, *, exclude: Collection[Path] = frozenset()) -> tuple[list[Path], list[tuple[str, str]]]:
    """Transcript files below ``folder`` (sorted) and the files skipped with the reason."""
    from vbhc_code.ingest.transcripts import SUPPORTED_SUFFIXES

    found: list[Path] = []
    skipped: list[tuple[str, str]] = []
    real = folder.resolve()
    for parts, entry, regular in _entries(folder):
        rel, path = "/".join(parts), Path(entry)
        # a regular file below ``folder`` (no symbolic link is followed there) is ``real`` / its parts
        target, problem = (real.joinpath(*parts) if exclude else path, "") if regular else _target(path)
        if problem:
            skipped.append((rel, problem))
        elif exclude and target in exclude:
            skipped.append((rel, "study sheet (participants/documents)"))
        elif not regular and path.is_symlink() and not target.is_relative_to(real):
            skipped.append((rel, "symbolic link pointing outside the folder"))
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            skipped.append((rel, f"not a transcript format ({path.suffix or 'no extension'})"))
        elif _DOC_FILE.match(path.name):
            skipped.append((rel, "documentation file"))
        else:
            found.append(path)
    return found, skipped


def _entries(folder: Path) -> list[tuple[tuple[str, ...], str, bool]]:
    """(parts below ``folder``, path, whether it is a regular file) of everything there that is not a folder,
    sorted as paths sort; hidden files and folders (.git, .DS_Store) are never study data and are left out.
    Symbolic links are not followed (one to a folder is listed, to be reported, not walked into)."""
    out: list[tuple[tuple[str, ...], str, bool]] = []
    todo: list[tuple[tuple[str, ...], str]] = [((), os.fspath(folder))]
    while todo:
        parts, where = todo.pop()
        try:
            with os.scandir(where) as entries:
                listed = list(entries)
        except OSError:
            continue  # an unreadable folder is passed over (as os.walk does)
        for entry in listed:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    todo.append(((*parts, entry.name), entry.path))
                    continue
                regular = entry.is_file(follow_symlinks=False)
            except OSError:
                regular = False
            out.append(((*parts, entry.name), entry.path, regular))
    # Path order: part by part (case-insensitively where the file system is, as pathlib compares on Windows)
    out.sort(key=(lambda x: tuple(p.lower() for p in x[0])) if os.name == "nt" else (lambda x: x[0]))
    return out


def _target(path: Path) -> tuple[Path, str]:
    """The file a path stands for, or why it cannot be read as a transcript (a symlink loop, a dangling link, a
    FIFO, a device, a socket or a folder: reading a FIFO would wait forever)."""
    try:
        target = path.resolve(strict=True)
        mode = target.stat().st_mode
    except RuntimeError:  # Python < 3.13 reports a symlink loop this way
        return path, "symbolic link loop"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return path, "symbolic link loop"
        return path, "dangling symbolic link" if path.is_symlink() else "cannot be read"
    if not stat.S_ISREG(mode):
        kind = "folder" if stat.S_ISDIR(mode) else "FIFO, device or socket"
        return target, f"not a regular file ({kind})"
    return target, ""
