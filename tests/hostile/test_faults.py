"""Class 4 of issue 12 end to end: store and OS faults are located errors (exit 1, or 74/75 for the system),
never exit 70, a traceback, a hang, a masked error or a temp file left behind."""

from __future__ import annotations

import errno
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from repo_paths import REPO, SAMPLE
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.errors import DataError, SystemFault
from vbhc_code.ingest.folder import ingest_folder
from vbhc_code.store.store import Store

runner = CliRunner()
INTERVIEW = "Interviewer: Welcome.\n\nP01: Thanks, it is a good day.\n\nInterviewer: Next?\n\nP01: Fine.\n"


def _cli(*args: str, cwd: Path, limit: int | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    """vbhc-code in its own process (a file-size limit applies to it alone)."""
    def preexec() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "vbhc_code", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=preexec)


def _clean(res) -> None:
    assert "Traceback" not in res.stderr and "internal error" not in res.stderr and "Exception ignored" not in res.stderr


class _FaultyConnection:
    """A sqlite3 connection that fails the first write of a kind with ``message`` (SQLite's own error text),
    optionally after rolling back as SQLite does itself on a full disk."""

    def __init__(self, conn: sqlite3.Connection, message: str, *, on: str, rolled_back: bool) -> None:
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_fault", (message, on, rolled_back))

    def __getattr__(self, name: str):
        return getattr(self._conn, name)

    def __setattr__(self, name: str, value) -> None:
        setattr(self._conn, name, value)

    def _check(self, sql: str) -> None:
        message, on, rolled_back = self._fault
        if sql.lstrip().upper().startswith(on):
            if rolled_back and self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise sqlite3.OperationalError(message)

    def execute(self, sql, *args):
        self._check(sql)
        return self._conn.execute(sql, *args)

    def executemany(self, sql, *args):
        self._check(sql)
        return self._conn.executemany(sql, *args)


@pytest.fixture()
def folder(tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    for i in (1, 2, 3):
        (study / f"INT0{i}.txt").write_text(INTERVIEW.replace("good", f"good {i}"), encoding="utf-8")
    return study


@pytest.mark.parametrize("message, code, words", [
    ("database or disk is full", 74, "no space left on the device"),
    ("disk I/O error", 74, "input/output error"),
    ("attempt to write a readonly database", 1, "the store file or its folder is read-only"),
    ("unable to open database file", 1, "cannot open the store file or create its journal: check the folder"),
])
def test_a_store_that_fails_mid_ingest_gives_the_real_reason(tmp_path, folder, monkeypatch, message, code, words):
    store = tmp_path / "s.sqlite"
    assert runner.invoke(app, ["ingest", str(folder), "--store", str(store)]).exit_code == 0
    (folder / "INT04.txt").write_text(INTERVIEW, encoding="utf-8")
    real = sqlite3.connect
    # SQLite has rolled back already: a second ROLLBACK from transaction() would fail and hide the reason
    monkeypatch.setattr("vbhc_code.store.store.sqlite3.connect", lambda *a, **k: _FaultyConnection(
        real(*a, **k), message, on="INSERT INTO DOCUMENTS", rolled_back=True))
    res = runner.invoke(app, ["ingest", str(folder), "--store", str(store)])
    assert res.exit_code == code, res.output
    assert res.stderr.strip().splitlines()[-1] == f"error: {store}: cannot write to the study store ({words})"
    monkeypatch.undo()
    with Store.open(store, create=False) as st:  # consistent, the earlier documents still there
        assert st.document_names() == ["INT01.txt", "INT02.txt", "INT03.txt"]


def test_a_real_full_store_is_a_system_fault_and_keeps_what_was_stored(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store.open(path) as st:
        pages = st.conn.execute("PRAGMA page_count").fetchone()[0]
        st.conn.execute(f"PRAGMA max_page_count = {pages + 12}")  # SQLITE_FULL a few documents in
        with pytest.raises(SystemFault, match=r"s.sqlite: cannot write to the study store \(no space left"):
            ingest_folder(SAMPLE, store=st)
        stored = st.document_names()
        assert stored == sorted(stored) and len(stored) < 8
        assert st.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_read_only_store_is_a_located_data_error(tmp_path, folder):
    path = tmp_path / "s.sqlite"
    with Store.open(path) as st:
        ingest_folder(folder, store=st)
    (folder / "INT04.txt").write_text(INTERVIEW, encoding="utf-8")
    with Store.open(path) as st:
        st.conn.execute("PRAGMA query_only = ON")  # as SQLite sees a read-only file (root ignores chmod)
        with pytest.raises(DataError, match=r"s.sqlite: cannot write to the study store \(the store file or its "
                                            r"folder is read-only\)") as err:
            ingest_folder(folder, store=st)
        assert err.value.exit_code == 1


@contextmanager
def _read_only(path: Path):
    """``path`` (a file or folder) read-only for real: ``chmod`` for a user, ``chattr +i`` for root (who ignores
    permissions)."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        pytest.skip("root without chattr +i on this file system: the query_only test stands in")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_store_file_and_folder_for_real(tmp_path, folder):
    store = tmp_path / "ro" / "s.sqlite"
    assert runner.invoke(app, ["ingest", str(folder), "--store", str(store)]).exit_code == 0
    (folder / "INT04.txt").write_text(INTERVIEW, encoding="utf-8")
    before = store.read_bytes()
    with _read_only(store):
        res = runner.invoke(app, ["ingest", str(folder), "--store", str(store)])
        assert res.exit_code == 1, res.output
        assert res.stderr.strip().splitlines()[-1] == (
            f"error: {store}: cannot write to the study store (the store file or its folder is read-only)")
        assert runner.invoke(app, ["segments", "--store", str(store)]).exit_code == 0  # reading still works
    assert store.read_bytes() == before
    with _read_only(store.parent):
        res = runner.invoke(app, ["ingest", str(folder), "--store", str(store)])
        assert res.exit_code == 1, res.output
        assert res.stderr.strip().splitlines()[-1].startswith(f"error: {store}: cannot write to the study store (")
        res = runner.invoke(app, ["ingest", str(folder), "--store", str(store.parent / "new.sqlite")])
        assert res.exit_code == 1 and "new.sqlite: cannot open the study store (" in res.stderr, res.output
    assert store.read_bytes() == before and sorted(p.name for p in store.parent.iterdir()) == ["s.sqlite"]


def test_segments_to_dev_full_is_exit_74(tmp_path, folder):
    assert runner.invoke(app, ["ingest", str(folder), "--store", str(tmp_path / "s.sqlite")]).exit_code == 0
    with open("/dev/full", "w") as full:
        res = subprocess.run([sys.executable, "-m", "vbhc_code", "segments", "--store", str(tmp_path / "s.sqlite")],
                             stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    assert res.returncode == 74, res.stderr
    _clean(res)
    assert res.stderr.strip() == "error: standard output: cannot write (no space left on the device)"


def test_a_full_disk_while_writing_a_workbook_leaves_nothing(tmp_path, folder, monkeypatch):
    store = tmp_path / "s.sqlite"
    assert runner.invoke(app, ["ingest", str(folder), "--store", str(store)]).exit_code == 0
    out = tmp_path / "out"
    out.mkdir()
    import zipfile

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "write", full)
    monkeypatch.setattr(zipfile.ZipFile, "writestr", full)
    res = runner.invoke(app, ["segments", "--store", str(store), "--out", str(out / "seg.xlsx")])
    assert res.exit_code == 74, res.output
    assert res.stderr.strip() == f"error: {out / 'seg.xlsx'}: cannot write (no space left on the device)"
    assert list(out.iterdir()) == []  # no 0-byte temp, no xlsxwriter scratch files


def test_a_file_size_limit_is_a_located_system_fault(tmp_path, folder):
    """``ulimit -f``: the writes fail for real with EFBIG (Python ignores SIGXFSZ)."""
    store = tmp_path / "s.sqlite"
    assert runner.invoke(app, ["ingest", str(folder), "--store", str(store)]).exit_code == 0
    old = tmp_path / "seg.xlsx"
    old.write_bytes(b"")
    res = _cli("segments", "--store", str(store), "--out", str(old), "--force", cwd=tmp_path, limit=4096)
    assert res.returncode == 74, res.stderr
    _clean(res)
    assert res.stderr.strip() == f"error: {old}: cannot write (file too large for this system or its limits)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.sqlite", "seg.xlsx", "study"]
    res = _cli("ingest", str(SAMPLE), "--store", str(tmp_path / "new.sqlite"), cwd=tmp_path, limit=64 * 1024)
    assert res.returncode == 74, res.stderr
    _clean(res)
    assert "new.sqlite: " in res.stderr and "(input/output error)" in res.stderr or "(no space" in res.stderr
    assert not (tmp_path / "new.sqlite").exists()  # a failed first run leaves no store


def test_symlink_loops_and_fifos_are_skipped_and_the_good_files_stored(tmp_path, folder):
    os.symlink("loop-b.txt", folder / "loop-a.txt")
    os.symlink("loop-a.txt", folder / "loop-b.txt")
    os.symlink("self.txt", folder / "self.txt")
    os.mkfifo(tmp_path / "pipe")
    os.symlink(tmp_path / "pipe", folder / "pipe.txt")
    os.mkfifo(folder / "fifo.txt")
    os.symlink("missing.txt", folder / "dangling.txt")
    res = _cli("ingest", str(folder), "--store", str(tmp_path / "s.sqlite"), cwd=tmp_path, timeout=60)
    assert res.returncode == 0, res.stderr
    _clean(res)
    for name, why in (("loop-a.txt", "symbolic link loop"), ("self.txt", "symbolic link loop"),
                      ("pipe.txt", "not a regular file (FIFO, device or socket)"),
                      ("fifo.txt", "not a regular file (FIFO, device or socket)"),
                      ("dangling.txt", "dangling symbolic link")):
        assert f"skipped {name}: {why}" in res.stdout + res.stderr
    with Store.open(tmp_path / "s.sqlite", create=False) as st:
        assert st.document_names() == ["INT01.txt", "INT02.txt", "INT03.txt"]


def test_a_fifo_swapped_in_after_listing_is_not_waited_for(tmp_path):
    from vbhc_code.files.archive import read_capped

    os.mkfifo(tmp_path / "p.txt")
    with pytest.raises(DataError, match=r"^p.txt: not a regular file \(a FIFO, device or socket\); refused$"):
        read_capped(tmp_path / "p.txt", name="p.txt")  # at once (non-blocking open), never a wait


def test_many_invalid_rows_give_a_short_message(tmp_path, folder):
    store = tmp_path / "s.sqlite"
    assert runner.invoke(app, ["ingest", str(folder), "--store", str(store)]).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("document,turn_index,code\n" + "".join(f"NOPE{i % 7}.txt,{i},C1\n" for i in range(30_000)),
                   encoding="utf-8")
    res = runner.invoke(app, ["codings", "import", str(bad), "--coder", "x", "--store", str(store)])
    assert res.exit_code == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) <= 22 and lines[-1] == "... and 29,980 more", lines[-3:]


@pytest.mark.slow
def test_a_million_invalid_rows_stay_short_and_under_500_mb(tmp_path, folder):
    """1M rows naming unknown documents: 20 problems and a count, the file held once (as bytes), rows streamed."""
    store = tmp_path / "s.sqlite"
    assert runner.invoke(app, ["ingest", str(folder), "--store", str(store)]).exit_code == 0
    bad = tmp_path / "bad.csv"
    with open(bad, "w", encoding="utf-8") as fh:
        fh.write("document,turn_index,code\n")
        fh.writelines(f"NOPE{i % 50}.txt,{i},C1\n" for i in range(1_000_000))
    # VmHWM is this process's own peak; ru_maxrss would keep the pytest parent's size across fork + exec
    script = ("import re, sys\nfrom vbhc_code.cli import main\ntry:\n    main(sys.argv[1:])\n"
              "except SystemExit as exc:\n    code = exc.code\n"
              "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
              "sys.stderr.write(f'RSS {hwm}\\n')\nsys.exit(code)\n")
    res = subprocess.run([sys.executable, "-c", script, "codings", "import", str(bad), "--coder", "x", "--store",
                          str(store)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert res.returncode == 1, res.stderr[-500:]
    lines = res.stderr.strip().splitlines()
    assert lines[-2] == "... and 999,980 more" and len(lines) <= 24
    assert int(lines[-1].split()[1]) < 500 * 1024  # VmHWM in kB
