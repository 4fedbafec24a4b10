"""The CLI surface: --version, --help on every command, python -m, README commands in sync with CI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from vbhc_code import __version__
from vbhc_code.cli import app

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def all_command_paths() -> list[list[str]]:
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(cmd, prefix: list[str]) -> None:
        paths.append(prefix)
        if hasattr(cmd, "commands"):  # typer may vendor its own click
            for name, sub in cmd.commands.items():
                walk(sub, [*prefix, name])

    walk(root, [])
    return paths


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"vbhc-code {__version__}"


def test_every_command_has_help():
    paths = all_command_paths()
    names = {" ".join(p) for p in paths}
    assert {"ingest", "segments", "check-identifiers"} <= names
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.stdout


def test_python_dash_m():
    proc = subprocess.run([sys.executable, "-m", "vbhc_code", "--version"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0 and proc.stdout.strip() == f"vbhc-code {__version__}"


def test_unknown_option_is_a_usage_error():
    result = runner.invoke(app, ["ingest", "--no-such-option"])
    assert result.exit_code == 2


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    main_cmd, test_cmd = blocks[0], blocks[1]
    assert "pip install -e ." in main_cmd and "vbhc-code demo" in main_cmd
    assert 'pip install -e ".[test]"' in test_cmd and "pytest" in test_cmd
    assert readme.index(main_cmd) < readme.index("## ")  # both come before any section
    marker = readme.split("<!-- test-command -->", 1)[1]
    assert test_cmd in marker.split("```", 2)[1]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "<!-- test-command -->" in ci and "rm -rf .venv" in ci


def test_an_internal_error_withholds_its_message_and_traceback(monkeypatch, tmp_path):
    """A bug's message may quote interview text: only its type and location are shown, exit 70."""
    import vbhc_code.cli.ingest as cli_ingest

    def boom(*args, **kwargs):
        raise ValueError("P01 said something confidential")

    monkeypatch.setattr(cli_ingest, "ingest_folder", boom)
    monkeypatch.delenv("VBHC_CODE_DEBUG", raising=False)
    (tmp_path / "study").mkdir()
    result = runner.invoke(app, ["ingest", str(tmp_path / "study"), "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 70
    assert "confidential" not in result.output and "Traceback" not in result.output
    assert re.fullmatch(
        r"internal error: ValueError at ingest\.py:\d+ \(a bug in vbhc-code; the details are withheld because "
        r"they may contain interview text; set VBHC_CODE_DEBUG=1 to see them\)\n",
        result.output,
    ), result.output
