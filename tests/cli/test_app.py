"""The CLI surface: --version, --help on every command, python -m, README commands in sync with CI."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from vbhc_code import __version__
from vbhc_code.cli import app
from vbhc_code.cli.app import expand_coders, progress, split_coders

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
    import vbhc_code.ingest.folder as ingest_folder

    def boom(*args, **kwargs):
        raise ValueError("P01 said something confidential")

    monkeypatch.setattr(ingest_folder, "ingest_folder", boom)
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


# -- the CLI grammar ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "names"),
    [
        (["A", "B"], ["A", "B"]),
        (["A,B"], ["A", "B"]),
        (["A, B", "C"], ["A", "B", "C"]),
        (["A,,B,"], ["A", "B"]),
        ([], []),
        (None, []),
    ],
)
def test_split_coders(values, names):
    assert split_coders(values) == names


@pytest.mark.parametrize(
    ("args", "expanded"),
    [
        (["--coders", "A", "B", "--out", "x"], ["--coders", "A", "--coders", "B", "--out", "x"]),
        (["--coders=A", "B"], ["--coders=A", "--coders", "B"]),
        (["--coder", "A", "B"], ["--coder", "A", "--coder", "B"]),
        (["--coders", "A", "--", "B"], ["--coders", "A", "--", "B"]),
        (["--status", "F", "--coders", "A", "B"], ["--status", "F", "--coders", "A", "--coders", "B"]),
    ],
)
def test_expand_coders_keeps_the_command_line_order(args, expanded):
    flags = ["--coder", "--coders"] if args[0] == "--coder" else ["--coders", "--coder"]
    assert expand_coders(args, flags) == expanded


def test_a_wrong_choice_is_one_line_and_exit_2():
    result = runner.invoke(app, ["autocode", "--unit", "word"])
    assert result.exit_code == 2
    assert result.stderr == "error: --unit must be turn or sentence, not 'word'\n"
    result = runner.invoke(app, ["agreement", "--coders", "A", "B", "--unit=word"])
    assert result.exit_code == 2
    assert result.stderr == "error: --unit must be one of turn, sentence, document, character, segment, not 'word'\n"
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("path", "option", "choices"),
    [
        (["agreement"], "--scope", "participant|all"),
        (["agreement"], "--unit", "turn|sentence|document|character|segment"),
        (["agreement"], "--mode", "nvivo|maxqda"),
        (["evaluate"], "--unit", "turn|sentence|document|character"),
        (["autocode"], "--unit", "turn|sentence"),
        (["autocode"], "--scope", "participant|all"),
        (["codings", "workbook"], "--scope", "participant|all"),
        (["reconcile"], "--scope", "participant|all"),
        (["themes"], "--scope", "participant|all"),
        (["refi", "export"], "--line-endings", "lf|crlf"),
    ],
)
def test_help_lists_the_choices(path, option, choices):
    result = runner.invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert re.search(rf"{option} <{re.escape(choices)}>", result.stdout), result.stdout


def test_every_coders_option_takes_every_form():
    """One grammar: wherever a command takes several coders, --coders A B, A,B and the repeated option work."""
    for path in all_command_paths():
        command = typer.main.get_command(app)
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        coders = [p for p in command.params if p.name == "coders"]
        if coders:
            assert set(coders[0].opts) == {"--coder", "--coders"}, path
            assert coders[0].multiple, path


def test_a_stray_argument_is_one_line_and_exit_2():
    result = runner.invoke(app, ["agreement", "--coders", "A", "B", "--json", "stray"])
    assert result.exit_code == 2
    assert result.stderr == "error: unexpected argument 'stray'\n"


def test_progress_counts_work_and_is_silent_when_not_a_terminal(capsys):
    with progress("work", unit="turns") as advance:
        advance(2, 4)
        task = advance._bar.tasks[0]
        assert (task.completed, task.total, task.description) == (2, 4, "work")
        advance(4, description="done")
        assert (task.completed, task.total, task.description) == (4, 4, "done")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_shows_a_rate_on_a_terminal(monkeypatch):
    import importlib
    import io

    from rich.console import Console

    cli_app = importlib.import_module("vbhc_code.cli.app")  # the attribute vbhc_code.cli.app is the typer app

    buf = io.StringIO()
    monkeypatch.setattr(cli_app, "console_err", Console(file=buf, force_terminal=True, width=120))
    with progress("autocode", unit="turns") as advance:
        for done in range(0, 101, 20):
            advance(done, 100)
            time.sleep(0.01)  # rich measures the rate between updates
        advance._bar.refresh()
    assert "autocode" in buf.getvalue() and "turns/s" in buf.getvalue()


def test_progress_rate_in_words_when_asked(monkeypatch):
    """Ingest counts files on its bar but shows its rate in words/s (what the speed targets are in)."""
    import importlib
    import io

    from rich.console import Console

    cli_app = importlib.import_module("vbhc_code.cli.app")
    buf = io.StringIO()
    monkeypatch.setattr(cli_app, "console_err", Console(file=buf, force_terminal=True, width=120))
    with progress("ingest", unit="files", rate_unit="words") as advance:
        for done in range(0, 11, 2):
            advance(done, 10, rated=done * 1_500)
            time.sleep(0.01)
        assert advance._bar.tasks[0].fields["rated"] == 15_000
        advance._bar.refresh()
    assert "words/s" in buf.getvalue() and "files/s" not in buf.getvalue()


# -- start-up -------------------------------------------------------------------------------------------------
HEAVY = ("spacy", "pandas", "openpyxl")
PROBE = """
import sys
from vbhc_code.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code or 0
else:
    code = 0
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})
print('EXIT', code, 'HEAVY', ','.join(heavy), file=sys.stderr)
"""


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["codings", "list"], ["codings", "list", "--json"]])
def test_start_up_imports_no_spacy_pandas_or_openpyxl(argv, tmp_path):
    from agreement_fixture import A_ROWS, make_store

    store = tmp_path / "s.sqlite"
    make_store(store, {"A": A_ROWS}, {"A": ["d1", "d2"]}).close()
    extra = ["--store", str(store)] if argv[0] == "codings" else []
    proc = subprocess.run([sys.executable, "-c", PROBE.format(heavy=set(HEAVY)), *argv, *extra],
                          capture_output=True, text=True, cwd=tmp_path)
    last = proc.stderr.splitlines()[-1]
    assert last == "EXIT 0 HEAVY ", proc.stderr
    if argv[0] == "codings":
        assert "A" in proc.stdout  # the command did its work, it was not a no-op


def test_the_probe_sees_a_heavy_import(tmp_path):
    """The start-up test can fail: a module that imports pandas at its top is seen."""
    proc = subprocess.run([sys.executable, "-c", "import pandas\n" + PROBE.format(heavy=set(HEAVY)), "--version"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.stderr.strip().splitlines()[-1].startswith("EXIT 0 HEAVY pandas"), proc.stderr


def _documented_command_lines() -> list[str]:
    """Concrete ``vbhc-code ...`` lines of the fenced blocks in README.md and docs/*.md (no placeholders)."""
    lines: set[str] = set()
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for block in re.findall(r"```[a-z]*\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S):
            for line in block.splitlines():
                line = line.split(" #", 1)[0].strip()
                if not line.startswith("vbhc-code ") or any(c in line for c in "[|\\<>") or "..." in line:
                    continue
                if any(re.fullmatch(r"[A-Z]+(\.[a-z]+)?", tok) for tok in line.split()):
                    continue  # DOC TURN, FILE, F.qdpx: placeholders, not values
                lines.add(line)
    return sorted(lines)


@pytest.mark.parametrize("line", _documented_command_lines())
def test_every_documented_command_line_parses(line):
    """The grammar accepts every concrete command line the README and docs show (parsing only, nothing runs)."""
    import shlex

    args = shlex.split(line)[1:]
    command = typer.main.get_command(app)
    name = "vbhc-code"
    while hasattr(command, "commands") and args and args[0] in command.commands:
        name, command = args[0], command.commands[args[0]]
        args = args[1:]
    assert not hasattr(command, "commands"), line
    command.make_context(name, args)  # raises a usage error (exit 2) when the line does not parse


def test_documented_command_lines_are_found():
    lines = _documented_command_lines()
    assert "vbhc-code agreement --coders anna ben --out outputs/agreement.xlsx" in lines
    assert "vbhc-code refi export --out outputs/study.qdpx --coders anna ben consensus" in lines
    assert len(lines) >= 15


@pytest.mark.parametrize("value", ["5", " 5 ", "5.0", "5.000", "5.5", "0.0", "-5.0", "1_000", "+3", "\u0663",
                                   "\uff15", "1e3", "", "abc", "5.", ".5", "0", "1__0", "_1", "00012", "-0"])
def test_whole_number_options_convert_as_pydantic_does(value):
    """``--jobs``/``--top`` convert without pydantic (start-up), accepting and refusing what it does."""
    import typer
    from pydantic import TypeAdapter, ValidationError

    from vbhc_code.cli.app import _PlainInt

    try:
        expected: object = TypeAdapter(int).validate_python(value)
        expected = expected if expected >= 1 else "below"
    except ValidationError:
        expected = "invalid"
    try:
        got: object = _PlainInt(1, None)(value)
    except typer.BadParameter as exc:
        got = "below" if "greater than or equal to 1" in str(exc) else "invalid"
    assert got == expected
