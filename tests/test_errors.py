"""vbhc_code.errors: the one mapping of OS and store errors to located errors and exit codes."""

from __future__ import annotations

import errno
import sqlite3

from vbhc_code.errors import Busy, DataError, SystemFault, os_error, store_error


def test_os_errors_map_to_system_faults_or_data_errors():
    full = os_error("out.xlsx", OSError(errno.ENOSPC, "No space left on device: 'secret text'"))
    assert isinstance(full, SystemFault) and full.exit_code == 74
    assert str(full) == "out.xlsx: cannot write (no space left on the device)"  # never the OS message
    big = os_error("s.sqlite", OSError(errno.EFBIG, "x"), "cannot read")
    assert big.exit_code == 74 and str(big) == "s.sqlite: cannot read (file too large for this system or its limits)"
    denied = os_error("codings", PermissionError(errno.EACCES, "x"))
    assert type(denied) is DataError and denied.exit_code == 1 and "permission denied" in str(denied)
    loop = os_error("a.txt", OSError(errno.ELOOP, "x"), "cannot read the file")
    assert str(loop) == "a.txt: cannot read the file (too many levels of symbolic links (a symlink loop))"
    odd = os_error("f", OSError("no errno"))
    assert type(odd) is DataError and str(odd) == "f: cannot write (OSError)"


def test_store_errors_map_by_kind():
    cases = {
        "database or disk is full": (SystemFault, 74, "no space left"),
        "disk I/O error": (SystemFault, 74, "input/output error"),
        "database is locked": (Busy, 75, "another vbhc-code command is using the store"),
        "attempt to write a readonly database": (DataError, 1, "read-only"),
        "unable to open database file": (DataError, 1, "cannot open the store file"),
        "file is not a database": (DataError, 1, "file is not a database"),
    }
    for message, (cls, code, words) in cases.items():
        err = store_error("s.sqlite", sqlite3.OperationalError(message))
        assert type(err) is cls and err.exit_code == code and words in str(err), message
        assert str(err).startswith("s.sqlite: cannot write to the study store (")
    other = store_error("s.sqlite", sqlite3.IntegrityError("UNIQUE constraint failed: t.x 'a text'"))
    assert str(other) == "s.sqlite: cannot write to the study store (IntegrityError)"


def test_a_million_problems_print_the_first_twenty_and_a_count():
    from vbhc_code.errors import MAX_PROBLEMS, ValidationError

    err = ValidationError("bad.csv: 1000000 problems", (f"[bad.csv line {i}] unknown document" for i in range(10**6)))
    lines = str(err).splitlines()
    assert len(lines) == MAX_PROBLEMS + 2 and lines[1] == "[bad.csv line 0] unknown document"
    assert lines[-1] == "... and 999,980 more"
    assert str(ValidationError("two", ["a", "b"])) == "two\na\nb"  # under the cap: all, no count
