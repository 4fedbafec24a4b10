"""Pooled kappa and its bootstrap interval over turns, checked against a direct computation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vbhc_code.agreement.bootstrap import pooled_kappa, pooled_kappa_interval
from vbhc_code.agreement.statistics import coefficients_from_table


def _turns(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 4) TP, FN, FP, TN counts of n turns over 5 codes, mostly agreeing."""
    out = np.zeros((n, 4), dtype=np.int64)
    for i in range(n):
        for _ in range(5):
            ref = rng.random() < 0.3
            auto = ref if rng.random() < 0.8 else not ref
            out[i, 0 if ref and auto else 1 if ref else 2 if auto else 3] += 1
    return out


@pytest.mark.parametrize("cells", [(20, 5, 10, 15), (3, 0, 1, 40), (0, 4, 4, 0), (7, 2, 0, 1)])
def test_pooled_kappa_is_cohens_kappa_of_the_2x2_table(cells):
    tp, fn, fp, tn = cells
    want = coefficients_from_table([[tp, fn], [fp, tn]])["cohen_kappa"]
    assert pooled_kappa(*cells) == pytest.approx(want)


def test_pooled_kappa_is_undefined_when_every_cell_is_one_category():
    assert math.isnan(pooled_kappa(0, 0, 0, 9))


def test_interval_equals_a_direct_resampling_of_turns():
    turns = _turns(np.random.default_rng(1), 12)
    n_boot, seed = 200, 7
    draws = np.random.default_rng(seed).integers(0, len(turns), size=(n_boot, len(turns)))
    direct = []
    for row in draws:
        tp, fn, fp, tn = (sum(int(turns[i, c]) for i in row) for c in range(4))
        k = coefficients_from_table([[tp, fn], [fp, tn]])["cohen_kappa"]
        if math.isfinite(k):
            direct.append(k)
    want = np.percentile(direct, [2.5, 97.5])
    assert pooled_kappa_interval(turns, n_boot=n_boot, seed=seed) == pytest.approx(tuple(want))


def test_interval_brackets_the_estimate_and_narrows_with_more_turns():
    rng = np.random.default_rng(2)
    few, many = _turns(rng, 30), _turns(rng, 600)
    for turns in (few, many):
        lo, hi = pooled_kappa_interval(turns, n_boot=500)
        assert lo <= pooled_kappa(*turns.sum(axis=0)) <= hi
    width = [np.subtract(*pooled_kappa_interval(t, n_boot=500)[::-1]) for t in (few, many)]
    assert width[1] < width[0] / 2


def test_interval_is_seeded_and_undefined_without_turns():
    turns = _turns(np.random.default_rng(3), 20)
    assert pooled_kappa_interval(turns, seed=5) == pooled_kappa_interval(turns, seed=5)
    assert all(math.isnan(x) for x in pooled_kappa_interval(np.zeros((0, 4))))
    assert all(math.isnan(x) for x in pooled_kappa_interval(np.array([[0, 0, 0, 3]] * 4)))
