"""errors.py: Problem records, errors as data, and option names that follow the front end."""

import json

import pytest
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.errors import Problem, Problems, UsageError, ValidationError, cli_messages, opt


def test_problem_round_trips_through_its_printed_form():
    for p in (Problem("INT03.txt line 41", "unknown speaker"), Problem("codes[2].theme", "x] y", "warning"),
              Problem("", "no place")):
        assert Problem.parse(str(p)) == p


def test_validation_error_keeps_records_and_prints_as_json():
    err = ValidationError("a.csv: 2 problem(s)", [Problem("a.csv line 2", "bad type"), "[a.csv line 3] bad id"])
    assert err.problems == ["[a.csv line 2] bad type", "[a.csv line 3] bad id"]
    data = json.loads(json.dumps(err.to_dict()))
    assert data["error"] == "ValidationError" and data["exit_code"] == 1
    assert data["problems"][1] == {"where": "a.csv line 3", "what": "bad id", "level": "error"}


def test_dropped_problems_are_counted_in_the_dict():
    kept = Problems(keep=2)
    for i in range(5):
        kept.append(f"[f line {i}] bad")
    assert ValidationError("f: 5 problems", kept).to_dict()["more_problems"] == 3


def test_option_names_follow_the_front_end():
    assert opt("min_confidence") == "min_confidence"
    with cli_messages():
        assert opt("min_confidence") == "--min-confidence"
        with cli_messages():
            assert opt("force", True) == "--force"
        assert opt("as_coder", "x", flag="as") == "--as x"
    assert opt("force", True) == "force=True"  # the style is reset when the block ends


def test_a_core_message_names_the_keyword_in_python_and_the_flag_on_the_command_line(tmp_path):
    from vbhc_code.agreement.units import check_options

    with pytest.raises(UsageError, match=r"^overlap must be a share in \(0, 1\], not 2"):
        check_options(coders=["A", "B"], unit="segment", scope="participant", overlap=2, mode=None)
    res = CliRunner().invoke(app, ["agreement", "--store", str(tmp_path / "s.db"), "--coders", "A", "B",
                                   "--unit", "segment", "--overlap", "2"])
    assert res.exit_code == 2
    assert "--overlap must be a share in (0, 1], not 2" in res.stderr
