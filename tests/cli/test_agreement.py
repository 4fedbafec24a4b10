"""CLI: vbhc-code agreement / evaluate (exit codes, exact error lines, JSON equal to the Python API)."""

from __future__ import annotations

import json

import openpyxl
import pytest
from agreement_fixture import A_ROWS, B_ROWS, make_store
from typer.testing import CliRunner

from vbhc_code.agreement.report import agreement_report, evaluate
from vbhc_code.cli import app
from vbhc_code.store.store import Store

runner = CliRunner()


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "s.sqlite"
    make_store(path, {"A": A_ROWS, "B": B_ROWS, "C": A_ROWS[:3]},
               {"A": ["d1", "d2"], "B": ["d1", "d2", "d3"], "C": ["d1", "d2"]}).close()
    return path


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ([], {}),
        (["--unit", "sentence", "--scope", "all"], {"unit": "sentence", "scope": "all"}),
        (["--unit", "character"], {"unit": "character"}),
        (["--unit", "segment", "--overlap", "0.5"], {"unit": "segment", "overlap": 0.5}),
        (["--mode", "nvivo"], {"unit": "character", "mode": "nvivo"}),
        (["--mode", "maxqda", "--unit", "document"], {"unit": "document", "mode": "maxqda"}),
    ],
)
def test_json_equals_python_api(store_path, args, kwargs):
    result = run("agreement", "--coders", "A", "B", *args, "--json", "--store", str(store_path))
    assert result.exit_code == 0, result.output
    with Store.open(store_path, create=False) as st:
        expected = agreement_report(st, coders=["A", "B"], **kwargs)
    assert json.loads(result.stdout) == json.loads(json.dumps(expected.to_dict()))
    assert json.loads(result.stdout)["unit"] == kwargs.get("unit", "turn")


def test_three_coders_with_repeated_option(store_path):
    result = run("agreement", "--coders", "A", "B", "--coders", "C", "--json", "--store", str(store_path))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["coders"] == ["A", "B", "C"]  # the command line's order, not repeated option first
    assert "fleiss_kappa" in data["pooled"] and "cohen_kappa" not in data["pooled"]


@pytest.mark.parametrize(
    ("args", "order"),
    [
        (["--coders", "C", "--coders", "A", "B"], ["C", "A", "B"]),
        (["--coders=B", "C", "--scope", "all", "--coders", "A"], ["B", "C", "A"]),
        (["--coders", "B", "--coders", "A", "--coders", "C"], ["B", "A", "C"]),
    ],
)
def test_coders_follow_the_command_line_order(store_path, args, order):
    result = run("agreement", *args, "--json", "--store", str(store_path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["coders"] == order
    table = run("agreement", *args, "--store", str(store_path))
    assert f"Agreement of {', '.join(order)}:" in table.stdout


def test_table_output_names_codes_to_discuss(store_path):
    result = run("agreement", "--coders", "A", "B", "--store", str(store_path))
    assert result.exit_code == 0, result.output
    assert "Agreement of A, B: unit turn, scope participant, 6 units" in result.stdout
    assert "moderate" in result.stdout  # Landis & Koch words for C2
    text = " ".join(result.stdout.split())  # rich wraps long lines
    assert "Codes to discuss (kappa 0.60 or lower, Landis & Koch 'moderate' or lower): C1 (0.00), C2 (0.57)" in text
    assert "note: 1 document(s) coded by only one coder left out (missing data, not 'no code'): d3" in text


def test_scope_all_warns_in_table_output(store_path):
    result = run("agreement", "--coders", "A", "B", "--scope", "all", "--store", str(store_path))
    assert result.exit_code == 0
    assert "inflate percent agreement" in " ".join(result.stdout.split())


def test_out_writes_workbook(store_path, tmp_path):
    out = tmp_path / "agreement.xlsx"
    result = run("agreement", "--coders", "A", "B", "--out", str(out), "--store", str(store_path))
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb.sheetnames == ["Agreement", "Summary", "Notes"]


@pytest.mark.parametrize(
    ("args", "code", "line"),
    [
        (["--coders", "A"], 2, "error: agreement needs at least two coders (--coders A B)"),
        ([], 2, "error: agreement needs at least two coders (--coders A B)"),
        (["--coders", "A", "Z"], 1, "error: unknown coder 'Z' (coders in the store: A, B, C)"),
        (["--coders", "A", "B", "--unit", "word"], 2,
         "error: --unit must be one of turn, sentence, document, character, segment, not 'word'"),
        (["--coders", "A", "B", "--scope", "everyone"], 2, "error: --scope must be participant or all, not 'everyone'"),
        (["--coders", "A", "B", "--mode", "atlas"], 2, "error: --mode must be nvivo or maxqda, not 'atlas'"),
        (["--coders", "A", "B", "--out", "x.csv"], 2, "error: --out x.csv: the report is written as .xlsx"),
    ],
)
def test_errors_exit_codes_and_lines(store_path, args, code, line):
    result = run("agreement", *args, "--store", str(store_path))
    assert result.exit_code == code
    assert result.stderr.strip() == line


def test_missing_store_is_exit_1(tmp_path):
    result = run("agreement", "--coders", "A", "B", "--store", str(tmp_path / "none.sqlite"))
    assert result.exit_code == 1
    assert "no study store here" in result.stderr


def test_help_documents_every_unit():
    result = run("agreement", "--help")
    text = " ".join(result.stdout.split())
    for phrase in ("turn (default): each turn in scope x each code", "sentence: each sentence",
                   "document: each document x each code", "character: each character", "segment: each coded span",
                   "--overlap", "nvivo =", "maxqda =", "Where they differ from the default: nvivo also counts "
                   "interviewer turns", "maxqda drops the 'absent for both' cell"):
        assert phrase in text


def test_evaluate_json_equals_python_api(store_path):
    result = run("evaluate", "--coder", "B", "--against", "A", "--json", "--store", str(store_path))
    assert result.exit_code == 0, result.output
    with Store.open(store_path, create=False) as st:
        expected = evaluate(st, coder="B", against="A")
    assert json.loads(result.stdout) == json.loads(json.dumps(expected.to_dict()))
    assert set(expected["per_code"]["C1"]) == {"tp", "fp", "fn", "tn", "precision", "recall", "f1", "cohen_kappa"}


def test_evaluate_table_and_errors(store_path):
    result = run("evaluate", "--coder", "B", "--against", "A", "--store", str(store_path))
    assert result.exit_code == 0
    assert "B against A: unit turn, scope participant" in result.stdout
    assert "macro mean" in result.stdout
    missing = run("evaluate", "--coder", "B", "--store", str(store_path))
    assert missing.exit_code == 2
    assert missing.stderr.strip() == "error: evaluate needs a reference coder: --against NAME"
    unknown = run("evaluate", "--against", "A", "--store", str(store_path))  # default coder 'auto'
    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == "error: unknown coder 'auto' (coders in the store: A, B, C)"


def test_maxqda_mode_prints_its_kappa(store_path):
    result = run("agreement", "--coders", "A", "B", "--mode", "maxqda", "--store", str(store_path))
    assert result.exit_code == 0, result.output
    # segments: both 2, A only 2, B only 2 over 2 codes -> (2/6 - 1/2) / (1 - 1/2) = -0.33
    assert "MAXQDA kappa (Brennan & Prediger, chance 1/2 codes): -0.33" in result.stdout
    assert "Agreement of A, B: unit segment" in result.stdout


def test_segment_unit_names_no_kappa_band(store_path):
    """Landis & Koch bands are for kappa; the segment unit has none, so its discuss line names no band."""
    result = run("agreement", "--coders", "A", "B", "--unit", "segment", "--store", str(store_path))
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("Codes to discuss")]
    assert len(lines) == 1 and lines[0].startswith("Codes to discuss (positive agreement 0.60 or lower): ")
    assert "Landis" not in lines[0]


def test_root_help_shows_the_whole_first_sentence_of_evaluate():
    result = run("--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "evaluate Score one coder (e.g. the autocoder) against a reference coder." in text


@pytest.mark.parametrize(
    ("args", "order"),
    [
        (["--coders", "A,B"], ["A", "B"]),
        (["--coders=A,B"], ["A", "B"]),
        (["--coder", "A", "--coder", "B"], ["A", "B"]),
        (["--coders", "A", "--coders", "B"], ["A", "B"]),
        (["--coders", "B,A", "--coders", "C"], ["B", "A", "C"]),
        (["--coders", "A", "B,C"], ["A", "B", "C"]),
    ],
)
def test_every_form_of_the_coders_option(store_path, args, order):
    result = run("agreement", *args, "--json", "--store", str(store_path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["coders"] == order


def test_wrote_goes_to_stderr_and_stdout_keeps_the_data(store_path, tmp_path):
    out = tmp_path / "agreement.xlsx"
    result = run("agreement", "--coders", "A", "B", "--json", "--out", str(out), "--store", str(store_path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["coders"] == ["A", "B"]  # stdout is only the JSON
    assert result.stderr == f"wrote {out}\n"
