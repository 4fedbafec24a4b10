"""``vbhc-code demo`` runs every step on the bundled sample and prints each step's time."""

from __future__ import annotations

import re
import shutil

import pytest
from repo_paths import REPO, SAMPLE
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.cli.demo import demo_steps, step_time


def test_step_time_line_names_the_command():
    argv = ["codings", "import", "x.csv", "--coder", "anna"]
    assert step_time(8, 14, argv, 0.4567) == "[8/14] codings import: 0.46 s"
    assert step_time(1, 14, ["ingest", "transcripts", "--store", "s"], 2.0) == "[1/14] ingest: 2.00 s"


@pytest.mark.slow
def test_demo_prints_each_steps_time(tmp_path):
    if not (SAMPLE / "participants.csv").is_file():
        pytest.skip("no bundled sample")
    shutil.copytree(REPO / "codings", tmp_path / "codings")
    out = tmp_path / "outputs"
    r = CliRunner().invoke(app, ["demo", "--study", str(SAMPLE), "--codings", str(tmp_path / "codings"),
                                 "--outputs", str(out), "--store", str(out / "s.sqlite")])
    assert r.exit_code == 0, r.output
    n = len(demo_steps(study=SAMPLE, codings=tmp_path / "codings", outputs=out, store=out / "s.sqlite"))
    times = re.findall(rf"^\[(\d+)/{n}\] [a-z -]+: \d+\.\d\d s$", r.output, flags=re.MULTILINE)
    assert [int(i) for i in times] == list(range(1, n + 1))
    assert re.search(r"Done in \d+\.\d s", r.output)
