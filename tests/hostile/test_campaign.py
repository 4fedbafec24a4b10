"""A fast subset of the hostile-input campaign (benchmarks/hostile_campaign.py): two cases of every class of
issue 12, each through the CLI in a subprocess with a 30 s timeout, checked for exit code (never 70), no
traceback, no hang, peak RSS <= 500 MB, no interview text in any message and the case's own check."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import hostile_campaign as campaign  # noqa: E402

_PER_CLASS = 2


def _subset() -> list:
    picked: dict[int, list] = {}
    for case in campaign.hc.all_cases(full=False):
        if case.quick and len(picked.setdefault(case.cls, [])) < _PER_CLASS:
            picked[case.cls].append(case)
    return [c for cases in picked.values() for c in cases]


CASES = _subset()


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return campaign.build_base(tmp_path_factory.mktemp("hostile"))


def test_the_subset_covers_every_class():
    assert {c.cls for c in CASES} == set(range(1, 10))


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[f"{c.cls}-{c.name}" for c in CASES])
def test_a_hostile_case_is_handled(case, base, tmp_path):
    outcome = campaign.run_case(case, base, tmp_path)
    assert outcome.ok, outcome.problems
    assert outcome.code in case.exits and outcome.rss < campaign.MAX_RSS
