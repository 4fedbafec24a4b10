"""Class 9 of issue 12 end to end: outputs written together are renamed together; killed writes leave no
temp file for ever."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

from repo_paths import REPO
from themes_fixture import build_store
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.files.atomic import atomic_path, remove_stale_temps

runner = CliRunner()


def test_themes_outputs_are_all_written_or_none(tmp_path, monkeypatch):
    store = tmp_path / "study.sqlite"
    build_store(store).close()
    out, md, docx = tmp_path / "t.xlsx", tmp_path / "t.md", tmp_path / "t.docx"
    argv = ["themes", "--coder", "consensus", "--store", str(store), "--out", str(out), "--md", str(md),
            "--docx", str(docx)]
    assert runner.invoke(app, argv).exit_code == 0
    before = {p: p.read_bytes() for p in (out, md, docx)}

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("docx.document.Document.save", full)  # the last of the three fails
    res = runner.invoke(app, [*argv, "--quotes", "1"])
    assert res.exit_code == 74 and "no space left on the device" in res.stderr, res.output
    assert {p: p.read_bytes() for p in (out, md, docx)} == before  # none replaced, not even the .xlsx
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.sqlite", "t.docx", "t.md", "t.xlsx"]
    monkeypatch.undo()
    res = runner.invoke(app, [*argv, "--quotes", "1"])
    assert res.exit_code == 0 and all(p.read_bytes() != before[p] for p in (out, md, docx))


def test_a_killed_write_leaves_a_temp_that_the_next_write_removes(tmp_path):
    script = (f"import os, sys; sys.path.insert(0, {str(REPO)!r})\n"
              "from pathlib import Path\nfrom vbhc_code.files.atomic import atomic_path\n"
              f"with atomic_path(Path({str(tmp_path / 'out.csv')!r})) as tmp:\n"
              "    tmp.write_text('half'); os.kill(os.getpid(), 9)\n")
    assert subprocess.run([sys.executable, "-c", script], timeout=60).returncode == -9
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".out.csv.vbhc-") and left[0].endswith(".tmp")
    with atomic_path(tmp_path / "other.csv") as tmp:  # any later write into the folder cleans up
        tmp.write_text("x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.csv"]


def test_temps_of_live_processes_and_other_files_are_kept(tmp_path):
    mine = tmp_path / f".a.csv.vbhc-{os.getppid()}-abc123.tmp"  # a live process (our parent)
    theirs = tmp_path / ".a.csv.tmp"  # not our pattern
    dead = tmp_path / ".b.xlsx.vbhc-999999999-zz9.tmpdir"
    for p in (mine, theirs):
        p.write_text("x")
    dead.mkdir()
    (dead / "sheet1.xml").write_text("x")
    assert remove_stale_temps(tmp_path) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, theirs.name])


def test_themes_outputs_must_be_different_files(tmp_path):
    store = tmp_path / "study.sqlite"
    build_store(store).close()
    res = runner.invoke(app, ["themes", "--coder", "consensus", "--store", str(store), "--out",
                              str(tmp_path / "t.xlsx"), "--md", str(tmp_path / "t.xlsx")])
    assert res.exit_code == 2 and res.stderr.strip() == "error: --out, --md and --docx must name different files"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.sqlite"]
