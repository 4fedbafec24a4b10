"""The README's "A study, command by command", followed in a copy of the repository, then the demo.

The commands are read from the README itself, so the test follows the README as it is written. Human
work is never lost: no file of ``codings/`` changes (the decided reconciliation workbook included).
"""

from __future__ import annotations

import hashlib
import shlex
import shutil

import pytest
from repo_paths import REPO
from typer.testing import CliRunner

from vbhc_code.cli import app


def readme_commands() -> list[list[str]]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## A study, command by command", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line, comments=True) for line in block.splitlines()]
    return [argv[1:] for argv in commands if argv and argv[0] == "vbhc-code"]


def digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_the_walkthrough_has_the_pipeline_commands():
    names = [" ".join(argv[:2]) if argv[0] in ("codings", "codebook", "refi") else argv[0]
             for argv in readme_commands()]
    for step in ("ingest", "codings workbook", "codings import", "agreement", "reconcile", "themes", "refi export"):
        assert step in names


@pytest.mark.slow
def test_readme_walkthrough_then_demo_keeps_human_work(tmp_path, monkeypatch):
    for folder in ("transcripts", "codings", "codebooks"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    (tmp_path / "outputs").mkdir()
    before = digests(tmp_path / "codings")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VBHC_CODE_STORE", raising=False)
    runner = CliRunner()
    for argv in readme_commands():
        result = runner.invoke(app, argv)
        assert result.exit_code == 0, (argv, result.output)
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    after = digests(tmp_path / "codings")
    assert {k: after.get(k) for k in before} == before  # tracked human work unchanged
    assert set(after) - set(before) == {"coder-anna.xlsx", "coder-ben.xlsx"}  # the blind workbooks
