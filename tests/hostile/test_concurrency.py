"""Class 6 of issue 12: concurrent commands on one store wait for each other (busy timeout) and each finish
correctly; two ingests of one folder into one store store every document once."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from repo_paths import REPO

from vbhc_code.store.store import Store


def _start(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "vbhc_code", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out + err


@pytest.fixture()
def folder(tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    for i in range(24):
        turns = "".join(f"Interviewer: Question {j}?\n\nP{i:02d}: Answer {j} about outcomes that matter.\n\n"
                        for j in range(20))
        (study / f"INT{i:02d}.txt").write_text(turns, encoding="utf-8")
    return study


@pytest.mark.slow
def test_two_ingests_of_one_folder_into_one_new_store_both_finish(tmp_path, folder):
    store = tmp_path / "s.sqlite"
    procs = [_start("ingest", str(folder), "--store", str(store), cwd=tmp_path) for _ in range(2)]
    results = [_finish(p) for p in procs]
    for code, output in results:
        assert code == 0, output
        assert "already in the store" not in output and "error" not in output
        assert "ingest: 24 documents (" in output
    with Store.open(store, create=False) as st:
        assert st.document_names() == [f"INT{i:02d}.txt" for i in range(24)]
        assert st.conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 24 * 40  # each document once
        assert st.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _hold_write_lock(store: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(store, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    return conn


@pytest.mark.slow
def test_a_command_waits_for_the_store_then_gives_up_with_exit_75(tmp_path, folder):
    store = tmp_path / "s.sqlite"
    assert _finish(_start("ingest", str(folder), "--store", str(store), cwd=tmp_path))[0] == 0
    (folder / "INT99.txt").write_text("Interviewer: One?\n\nP99: Two.\n", encoding="utf-8")
    lock = _hold_write_lock(store)
    try:
        code, output = _finish(_start("ingest", str(folder), "--store", str(store), cwd=tmp_path,
                                      env={"VBHC_CODE_BUSY_TIMEOUT": "1"}))
    finally:
        lock.rollback()
        lock.close()
    assert code == 75, output
    assert f"error: {store}: " in output and "another vbhc-code command is using the store; try again" in output
    assert "Traceback" not in output and "internal error" not in output
    # with the default timeout the same command waits for the lock and finishes
    lock = _hold_write_lock(store)
    proc = _start("ingest", str(folder), "--store", str(store), cwd=tmp_path)
    time.sleep(3)
    lock.rollback()
    lock.close()
    code, output = _finish(proc)
    assert code == 0 and "(1 stored, 24 unchanged)" in output, output
