"""Pooled Cohen's kappa of an autocoder against a reference coding, with a bootstrap interval over turns.

The evaluation of the autocoder (``benchmarks/eval_autocode.py``) pools every (turn, code) cell into one 2x2
table (reference x autocoder: TP, FN, FP, TN). Cells of one turn are not independent, so the interval
resamples whole turns: each turn contributes its own four counts, ``n_boot`` resamples of the turns are
drawn with replacement (seeded: the same data give the same interval), kappa is recomputed on each, and the
2.5th and 97.5th percentiles of the finite values are the 95% interval (percentile bootstrap).

>>> round(pooled_kappa(20, 5, 10, 15), 2)  # Wikipedia's grant-proposal example
0.4
"""

from __future__ import annotations

import math

import numpy as np

N_BOOT = 2000
SEED = 20240416


def pooled_kappa(tp: float, fn: float, fp: float, tn: float) -> float:
    """Cohen's kappa of a 2x2 table (reference x coder); NaN when undefined (chance agreement 1)."""
    den = (tp + fp) * (fp + tn) + (tp + fn) * (fn + tn)
    return 2 * (tp * tn - fn * fp) / den if den else math.nan


def pooled_kappa_interval(
    per_turn: np.ndarray, *, n_boot: int = N_BOOT, seed: int = SEED, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of pooled kappa, resampling turns.

    ``per_turn`` is a (turns, 4) array of TP, FN, FP, TN counts; (NaN, NaN) when there are no turns or
    kappa is undefined in every resample.
    """
    per_turn = np.asarray(per_turn, dtype=float).reshape(-1, 4)
    n = len(per_turn)
    if n == 0 or n_boot <= 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(n_boot, n))
    tp, fn, fp, tn = per_turn[draws].sum(axis=1).T  # each (n_boot,)
    den = (tp + fp) * (fp + tn) + (tp + fn) * (fn + tn)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(den > 0, 2 * (tp * tn - fn * fp) / den, np.nan)
    values = values[np.isfinite(values)]
    if not len(values):
        return math.nan, math.nan
    lo, hi = np.percentile(values, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return float(lo), float(hi)
