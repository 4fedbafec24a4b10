"""The stat shortcut of re-ingest: an unchanged file costs one ``stat``, no read and no hashing.

A file whose size, modification time (nanoseconds) and inode are those recorded when it was last read or
hashed, and whose stored sha256 is still the one recorded with them, is taken as unchanged without reading it
(the heuristic of rsync and git). A stat is recorded only when the file's modification time is more than
``RACY_NS`` old, so a file edited within the same clock tick as its reading is hashed again next time (git's
"racily clean" rule). ``ingest --force`` skips the shortcut and hashes every file.
"""

from __future__ import annotations

import os
import time

# meta key (+ document name) of "sha256 size mtime_ns inode": the file as it was when its sha256 was taken
STAT_META = "stat:"
RACY_NS = 2_000_000_000


def file_stat(path: os.PathLike[str] | str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def stat_key(sha: str, st: os.stat_result | None) -> str | None:
    """The value recorded for a file read with ``sha`` and stat ``st``; None when it must not be recorded."""
    if st is None or time.time_ns() - st.st_mtime_ns < RACY_NS:
        return None
    return f"{sha} {st.st_size} {st.st_mtime_ns} {st.st_ino}"


def stat_matches(recorded: str | None, stored_sha: str, st: os.stat_result | None) -> bool:
    """True when the file is, by its stat, the one whose stored sha256 is ``stored_sha``."""
    return recorded is not None and st is not None and recorded == stat_key(stored_sha, st)
