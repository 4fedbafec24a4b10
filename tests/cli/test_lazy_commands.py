"""``main`` imports only the module of the command it runs; ``app`` has every command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

from vbhc_code.cli import COMMAND_MODULES, app

ROOT = Path(__file__).resolve().parents[2]


def test_every_top_level_command_has_its_module():
    assert set(COMMAND_MODULES) == set(typer.main.get_command(app).commands)


def _modules_after(argv: list[str]) -> tuple[set[str], str]:
    script = (
        "import sys\nfrom vbhc_code.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
        "    pass\nprint('MODULES', ' '.join(m for m in sys.modules if m.startswith('vbhc_code.cli.')))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, env=env, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("MODULES"))
    return set(line.split()[1:]), out.stdout


def test_ingest_loads_only_its_own_command_module():
    modules, stdout = _modules_after(["ingest", "--help"])
    assert "Usage: vbhc-code ingest" in stdout
    assert "vbhc_code.cli.ingest" in modules
    assert not modules & {"vbhc_code.cli.agreement", "vbhc_code.cli.themes", "vbhc_code.cli.refi"}


def test_help_sees_every_command():
    modules, stdout = _modules_after(["--help"])
    assert {f"vbhc_code.cli.{m}" for m in COMMAND_MODULES.values()} <= modules
    for name in COMMAND_MODULES:
        assert name in stdout


def test_a_reingest_with_whole_number_options_does_not_import_pydantic(tmp_path):
    """typer converts option values with pydantic; importing it costs more than a re-ingest of a study.
    ``--jobs`` (an int) converts without it, so re-ingest stays near start-up time."""
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text("Interviewer: Hi.\n\nP01: Hello.\n", encoding="utf-8")
    script = (
        "import sys\nfrom vbhc_code.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
        "    print('EXIT', e.code)\nprint('PYDANTIC', 'pydantic' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = ["ingest", str(folder), "--jobs", "1", "--store", str(tmp_path / "s.sqlite")]
    first = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, env=env, check=True)
    assert "EXIT 0" in first.stdout  # (reading imports spaCy, and spaCy imports pydantic)
    out = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, env=env, check=True)
    assert "1 unchanged" in " ".join((out.stdout + out.stderr).split()) and "EXIT 0" in out.stdout and "PYDANTIC False" in out.stdout


def test_whole_number_options_keep_typers_messages():
    from typer.testing import CliRunner

    runner = CliRunner()
    cases = {
        "abc": "Invalid value for '--jobs': Input should be a valid integer, unable to parse string as an integer",
        "0": "Invalid value for '--jobs': Input should be greater than or equal to 1",
        "2.5": "Invalid value for '--jobs': Input should be a valid integer, unable to parse string as an integer",
    }
    for value, message in cases.items():
        result = runner.invoke(app, ["ingest", str(ROOT / "transcripts"), "--jobs", value])
        assert result.exit_code == 2
        assert message in " ".join(result.output.split()).replace(" │", "")
