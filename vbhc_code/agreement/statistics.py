"""Inter-coder agreement statistics for nominal data, written from the formulas (numpy only).

``coefficients(units, categories=...)`` takes one row per unit with one value per coder (``None`` =
missing) and returns every statistic with the conventions of ``../shared/agreement-cases/README.md``:

* ``percent_agreement``: mean over units with >= 2 ratings of the share of agreeing coder pairs.
* ``cohen_kappa`` (Cohen 1960) on the units coded by both coders, its large-sample standard error
  ``cohen_kappa_se`` (Fleiss, Cohen & Everitt 1969; SAS "ASE") and ``cohen_kappa_se0`` (under H0: kappa = 0);
  ``scott_pi`` (Scott 1955, pooled marginals). These four exist for exactly two coders.
* ``fleiss_kappa`` (Fleiss 1971); with missing data Gwet's (2014) form: pi_k averaged over every unit with
  at least one rating.
* ``krippendorff_alpha_nominal`` (Krippendorff 2004/2011, coincidence matrix; units with < 2 values ignored).
* ``gwet_ac1`` (Gwet 2008) and ``brennan_prediger`` (Brennan & Prediger 1981 = Bennett's S, Randolph's
  free-marginal kappa): both depend on q, the number of *declared* categories.

An undefined value (0/0: no pairable unit, or chance agreement 1 because every rating is the same
category) is NaN and ``reasons[name]`` says why, in words. It is never reported as 1.

Wikipedia's grant-proposal example (Cohen's kappa 0.4):

>>> units = [["Yes", "Yes"]] * 20 + [["Yes", "No"]] * 5 + [["No", "Yes"]] * 10 + [["No", "No"]] * 15
>>> c = coefficients(units, categories=["Yes", "No"])
>>> round(c["percent_agreement"], 2), round(c["cohen_kappa"], 2)
(0.7, 0.4)

Krippendorff (2011, section C): four observers, twelve units, missing data, nominal alpha 0.743:

>>> k = [[1, 1, None, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2],
...      [1, 2, 3, 4], [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [None, 5, 5, 5],
...      [None, None, 1, 1], [None, 3, None, None]]
>>> c = coefficients(k, categories=[1, 2, 3, 4, 5])
>>> round(c["krippendorff_alpha_nominal"], 3), round(c["fleiss_kappa"], 5), round(c["gwet_ac1"], 5)
(0.743, 0.76117, 0.77544)

One category used by everybody: kappa is 0/0, not 1:

>>> c = coefficients([["a", "a"], ["a", "a"]], categories=["a", "b"])
>>> c["cohen_kappa"], c["percent_agreement"]
(nan, 1.0)
>>> c["reasons"]["cohen_kappa"]
'chance agreement is 1 (every rating is the same category), so the coefficient is 0/0'
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

Z95 = 1.959964  # two-sided 95% normal quantile, as SAS and statsmodels use
TWO_CODER_KEYS = ("cohen_kappa", "cohen_kappa_se", "cohen_kappa_se0", "scott_pi")
MULTI_KEYS = ("percent_agreement", "fleiss_kappa", "krippendorff_alpha_nominal", "gwet_ac1", "brennan_prediger")
KEYS = (
    "percent_agreement", "cohen_kappa", "cohen_kappa_se", "cohen_kappa_se0", "scott_pi", "fleiss_kappa",
    "krippendorff_alpha_nominal", "gwet_ac1", "brennan_prediger", "n_units", "n_pairable", "reasons",
)
BOOT_SEED = 20070401  # fixed default seed: the same data always give the same interval
N_BOOT = 1000

_CHANCE_ONE = "chance agreement is 1 (every rating is the same category), so the coefficient is 0/0"
_LANDIS_KOCH = ((0.20, "slight"), (0.40, "fair"), (0.60, "moderate"), (0.80, "substantial"),
                (1.0, "almost perfect"))


# -- public API ----------------------------------------------------------------------------------
def coefficients(units: Sequence[Sequence[Any]], *, categories: Sequence[Hashable] | None = None) -> dict[str, Any]:
    """All agreement statistics for ``units`` (rows = units, one value per coder, ``None`` = missing).

    ``categories`` is the declared category list (q for AC1 and Brennan-Prediger); by default the
    values seen, in order of first appearance. A value outside the declared list is a ``ValueError``.
    """
    rows, weights, n_coders, cats = encode_units(units, categories)
    return coefficients_from_rows(rows, weights, n_coders=n_coders, q=len(cats), n_units=len(units))


def encode_units(
    units: Sequence[Sequence[Any]], categories: Sequence[Hashable] | None = None
) -> tuple[np.ndarray, np.ndarray, int, list[Hashable]]:
    """Distinct rating patterns (category indexes, -1 = missing) with their frequencies."""
    widths = {len(u) for u in units}
    if len(widths) > 1:
        raise ValueError(f"every unit needs one value per coder; got rows of lengths {sorted(widths)}")
    n_coders = widths.pop() if widths else 0
    index: dict[Hashable, int] = {}
    if categories is not None:
        for cat in categories:
            index.setdefault(cat, len(index))
    cats = list(index) if categories is not None else []
    codes = np.full((len(units), n_coders), -1, dtype=np.int64)
    for i, unit in enumerate(units):
        for j, value in enumerate(unit):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            k = index.get(value)
            if k is None:
                if categories is not None:
                    raise ValueError(f"unit {i + 1}, coder {j + 1}: value {value!r} is not a declared category")
                k = index[value] = len(index)
                cats.append(value)
            codes[i, j] = k
    if len(units) == 0 or n_coders == 0:
        return np.zeros((0, n_coders), dtype=np.int64), np.zeros(0), n_coders, cats
    rows, weights = np.unique(codes, axis=0, return_counts=True)
    return rows, weights.astype(float), n_coders, cats


def binary_pattern_counts(values: np.ndarray) -> np.ndarray:
    """Frequencies of the 3**m rating patterns of binary data (``values``: units x m, -1 missing / 0 / 1).

    Pattern p encodes coder j's value v_j (missing = 2) as sum_j v_j * 3**j; this is the compact input of
    ``coefficients_from_patterns`` and lets very large data sets be summarised with one ``bincount``.
    """
    values = np.asarray(values)
    m = values.shape[1]
    state = np.where(values < 0, 2, values).astype(np.int64)
    code = state @ (3 ** np.arange(m, dtype=np.int64))
    return np.bincount(code, minlength=3**m)


def pattern_rows(n_coders: int) -> np.ndarray:
    """The rating pattern (0/1/-1 per coder) of every index used by ``binary_pattern_counts``."""
    idx = np.arange(3**n_coders)
    digits = (idx[:, None] // (3 ** np.arange(n_coders))[None, :]) % 3
    return np.where(digits == 2, -1, digits)


def coefficients_from_patterns(counts: np.ndarray, n_coders: int) -> dict[str, Any]:
    """``coefficients`` for binary (absent 0 / present 1) data summarised by ``binary_pattern_counts``."""
    counts = np.asarray(counts, dtype=float)
    keep = counts > 0
    return coefficients_from_rows(
        pattern_rows(n_coders)[keep], counts[keep], n_coders=n_coders, q=2, n_units=int(counts.sum())
    )


def coefficients_from_table(table: Sequence[Sequence[float]]) -> dict[str, Any]:
    """``coefficients`` for two coders from a q x q contingency table (rows: coder 1, columns: coder 2).

    >>> round(coefficients_from_table([[20, 5], [10, 15]])["cohen_kappa"], 2)
    0.4
    """
    t = np.asarray(table, dtype=float)
    q = t.shape[0]
    a, b = np.divmod(np.arange(q * q), q)
    return coefficients_from_rows(np.stack([a, b], 1), t.ravel(), n_coders=2, q=q, n_units=int(t.sum()))


def coefficients_from_rows(
    rows: np.ndarray, weights: np.ndarray, *, n_coders: int, q: int, n_units: int
) -> dict[str, Any]:
    """The common core: ``rows`` = distinct patterns (category index per coder, -1 missing), ``weights``
    = how many units have each pattern, ``q`` = number of declared categories."""
    rows = np.asarray(rows, dtype=np.int64).reshape(-1, n_coders) if n_coders else np.zeros((0, 0), np.int64)
    weights = np.asarray(weights, dtype=float)
    out: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    counts = count_matrix(rows, max(q, 1))
    out.update(_multi_rater(counts, weights, q, reasons))
    if n_coders == 2:
        out.update(_two_coders(rows, weights, max(q, 1), reasons))
    else:
        for key in TWO_CODER_KEYS:
            out[key] = math.nan
            reasons[key] = f"defined for exactly two coders; there are {n_coders} (see fleiss_kappa)"
    if n_units == 0:
        for key in (*MULTI_KEYS, *TWO_CODER_KEYS):
            out[key] = math.nan
            reasons[key] = "no units: the input is empty"
    result = {key: out[key] for key in KEYS if key in out}
    result["n_units"] = int(n_units)
    result["n_pairable"] = int(round(out["n_pairable"]))
    result["reasons"] = {k: reasons[k] for k in KEYS if k in reasons}
    return {key: result[key] for key in KEYS}


def cohen_kappa_ci95(kappa: float, se: float) -> tuple[float, float]:
    """Normal 95% interval kappa +/- 1.959964 SE (SAS, statsmodels), clipped to kappa's range [-1, 1].

    Small tables with a high kappa give a normal interval past 1 (0.66 to 1.11); kappa cannot exceed 1,
    so a bound outside is clipped to it (documented in docs/agreement.md); inside, the bounds are SAS's.

    SAS PROC FREQ example (n = 19): kappa 0.4842, ASE 0.1380, 95% CI (0.2137, 0.7547).

    >>> c = coefficients_from_table([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    >>> round(c["cohen_kappa"], 4), round(c["cohen_kappa_se"], 4), round(c["cohen_kappa_se0"], 4)
    (0.4842, 0.138, 0.1484)
    >>> lo, hi = cohen_kappa_ci95(c["cohen_kappa"], c["cohen_kappa_se"])
    >>> round(lo, 4), round(hi, 4)
    (0.2137, 0.7547)
    """
    if not (math.isfinite(kappa) and math.isfinite(se)):
        return (math.nan, math.nan)
    return (max(-1.0, kappa - Z95 * se), min(1.0, kappa + Z95 * se))


def positive_agreement(both: float, first_only: float, second_only: float) -> float:
    """Specific positive agreement 2a / (2a + b + c) (= F1 when one coder is the reference); NaN if nobody coded.

    >>> positive_agreement(20, 5, 10)
    0.7272727272727273
    """
    denom = 2 * both + first_only + second_only
    return 2 * both / denom if denom else math.nan


def landis_koch(kappa: float | None) -> str:
    """Landis & Koch (1977) benchmark words for a kappa-type value.

    >>> [landis_koch(x) for x in (-0.1, 0.2, 0.41, 0.8, 0.81, None)]
    ['poor', 'slight', 'moderate', 'substantial', 'almost perfect', 'undefined']
    """
    if kappa is None or not math.isfinite(kappa):
        return "undefined"
    if kappa < 0:
        return "poor"
    for upper, word in _LANDIS_KOCH:
        if kappa <= upper + 1e-12:
            return word
    return "almost perfect"


def krippendorff_alpha_ci(
    units: Sequence[Sequence[Any]],
    *,
    categories: Sequence[Hashable] | None = None,
    n_boot: int = N_BOOT,
    level: float = 0.95,
    seed: int = BOOT_SEED,
) -> tuple[float, float]:
    """Percentile bootstrap interval for nominal alpha, resampling units (seeded: deterministic)."""
    rows, weights, n_coders, cats = encode_units(units, categories)
    return alpha_bootstrap_ci(count_matrix(rows, max(len(cats), 1)), weights, n_boot=n_boot, level=level, seed=seed)


def alpha_bootstrap_ci(
    counts: np.ndarray, weights: np.ndarray, *, n_boot: int = N_BOOT, level: float = 0.95, seed: int = BOOT_SEED
) -> tuple[float, float]:
    """Bootstrap over units (Zapf et al. 2016): the pairable units are drawn with replacement ``n_boot``
    times (a multinomial draw over the distinct count rows, so millions of units cost no more than a
    few), alpha is recomputed, and the (1 - level)/2 and (1 + level)/2 percentiles are returned.
    NaN when alpha is undefined in more than half of the resamples."""
    counts = np.asarray(counts, dtype=float)
    weights = np.asarray(weights, dtype=float)
    m_u = counts.sum(1)
    pair = (m_u >= 2) & (weights > 0)
    counts, weights, m_u = counts[pair], weights[pair], m_u[pair]
    n_pairable = int(round(weights.sum()))
    if n_pairable == 0 or n_boot <= 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n_pairable, weights / weights.sum(), size=n_boot).astype(float)
    agree = (counts * (counts - 1)).sum(1) / (m_u - 1)
    n = draws @ m_u
    ao = (draws @ agree) / n
    n_c = draws @ counts
    ae = (n_c * (n_c - 1)).sum(1) / (n * (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(1 - ae > 1e-12, 1 - (1 - ao) / (1 - ae), np.nan)
    finite = alpha[np.isfinite(alpha)]
    if finite.size * 2 < n_boot:
        return (math.nan, math.nan)
    lo, hi = np.quantile(finite, [(1 - level) / 2, (1 + level) / 2])
    return (float(lo), float(hi))


def fleiss_kappa_se0(units: Sequence[Sequence[Any]], *, categories: Sequence[Hashable] | None = None) -> float:
    """SE of Fleiss' kappa under H0 (Fleiss, Nee & Landis 1979; R irr ``kappam.fleiss``).

    Needs the same number of ratings on every unit; NaN otherwise. z = kappa / SE0: 17.65 for Fleiss'
    (1971) 30 patients x 6 psychiatrists.
    """
    rows, weights, _n, cats = encode_units(units, categories)
    counts = count_matrix(rows, max(len(cats), 1))
    m_u = counts.sum(1)
    if counts.size == 0 or len(set(m_u.tolist())) != 1 or m_u[0] < 2:
        return math.nan
    m, n = m_u[0], weights.sum()
    p = (weights @ counts) / (n * m)
    pq = p * (1 - p)
    s = pq.sum()
    if s == 0:
        return math.nan
    var0 = 2 / (n * m * (m - 1)) * (s**2 - (pq * (1 - 2 * p)).sum()) / s**2
    return float(math.sqrt(var0))


# -- internals -----------------------------------------------------------------------------------
def count_matrix(rows: np.ndarray, q: int) -> np.ndarray:
    """r[u, k]: how many coders put pattern u in category k."""
    counts = np.zeros((rows.shape[0], q))
    for j in range(rows.shape[1]):
        col = rows[:, j]
        ok = col >= 0
        counts[np.nonzero(ok)[0], col[ok]] += 1
    return counts


def _kappa(po: float, pe: float) -> float:
    return math.nan if 1 - pe <= 1e-12 else (po - pe) / (1 - pe)


def _multi_rater(counts: np.ndarray, weights: np.ndarray, q: int, reasons: dict[str, str]) -> dict[str, float]:
    m_u = counts.sum(1)
    rated = m_u >= 1
    pair = m_u >= 2
    n_pairable = float(weights[pair].sum())
    out: dict[str, float] = {"n_pairable": n_pairable}
    if n_pairable == 0:
        for key in MULTI_KEYS:
            out[key] = math.nan
            reasons[key] = "no unit has ratings from two or more coders"
        return out
    c, w, m = counts[pair], weights[pair], m_u[pair]
    pa = float(w @ ((c * (c - 1)).sum(1) / (m * (m - 1))) / n_pairable)
    out["percent_agreement"] = pa
    # Gwet (2014): category shares averaged over every unit with at least one rating.
    pi = (weights[rated] @ (counts[rated] / m_u[rated, None])) / weights[rated].sum()
    out["fleiss_kappa"] = _kappa(pa, float((pi**2).sum()))
    if math.isnan(out["fleiss_kappa"]):
        reasons["fleiss_kappa"] = _CHANCE_ONE
    if q >= 2:
        out["gwet_ac1"] = _kappa(pa, float((pi * (1 - pi)).sum() / (q - 1)))
        out["brennan_prediger"] = _kappa(pa, 1 / q)
    else:
        for key in ("gwet_ac1", "brennan_prediger"):
            out[key] = math.nan
            reasons[key] = "only one category is declared; the chance term 1/(q - 1) needs q >= 2"
    # Krippendorff: coincidence matrix over pairable values.
    n = float(w @ m)
    ao = float(w @ ((c * (c - 1)).sum(1) / (m - 1)) / n)
    n_c = w @ c
    ae = float((n_c * (n_c - 1)).sum() / (n * (n - 1)))
    out["krippendorff_alpha_nominal"] = _kappa(ao, ae)
    if math.isnan(out["krippendorff_alpha_nominal"]):
        reasons["krippendorff_alpha_nominal"] = "expected disagreement is 0 (every pairable value is the same " \
            "category), so alpha is 0/0"
    return out


def _two_coders(rows: np.ndarray, weights: np.ndarray, q: int, reasons: dict[str, str]) -> dict[str, float]:
    both = (rows[:, 0] >= 0) & (rows[:, 1] >= 0)
    table = np.zeros((q, q))
    np.add.at(table, (rows[both, 0], rows[both, 1]), weights[both])
    nan = dict.fromkeys(TWO_CODER_KEYS, math.nan)
    n = table.sum()
    if n == 0:
        for key in TWO_CODER_KEYS:
            reasons[key] = "no unit was coded by both coders"
        return nan
    p = table / n
    row, col = p.sum(1), p.sum(0)
    po = float(np.trace(p))
    pe = float(row @ col)
    if 1 - pe <= 1e-12:
        for key in TWO_CODER_KEYS:
            reasons[key] = _CHANCE_ONE
        return nan
    kappa = (po - pe) / (1 - pe)
    diag = np.diag(p)
    # Fleiss, Cohen & Everitt (1969) large-sample variance.
    term_a = float((diag * (1 - (row + col) * (1 - kappa)) ** 2).sum())
    off = p * (col[:, None] + row[None, :]) ** 2
    np.fill_diagonal(off, 0)
    term_b = (1 - kappa) ** 2 * float(off.sum())
    term_c = (kappa - pe * (1 - kappa)) ** 2
    var = (term_a + term_b - term_c) / ((1 - pe) ** 2 * n)
    var0 = (pe + pe**2 - float((row * col * (row + col)).sum())) / ((1 - pe) ** 2 * n)
    shares = (row + col) / 2
    return {
        "cohen_kappa": kappa,
        "cohen_kappa_se": math.sqrt(max(var, 0.0)),
        "cohen_kappa_se0": math.sqrt(max(var0, 0.0)),
        "scott_pi": _kappa(po, float((shares**2).sum())),
    }
