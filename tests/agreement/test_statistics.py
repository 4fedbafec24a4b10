"""vbhc_code.agreement.statistics: published worked examples, invariants, undefined cases, independent libraries."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from vbhc_code.agreement.statistics import (
    KEYS,
    binary_pattern_counts,
    coefficients,
    coefficients_from_patterns,
    coefficients_from_table,
    cohen_kappa_ci95,
    fleiss_kappa_se0,
    krippendorff_alpha_ci,
    landis_koch,
    positive_agreement,
)

CASES_DIR = Path(__file__).resolve().parents[3] / "shared" / "agreement-cases"
CASE_FILES = sorted(p for p in CASES_DIR.glob("*.json") if p.name != "INDEX.json") if CASES_DIR.is_dir() else []

# Metrics in the case files that vbhc-code does not offer, and why: no test parameter is generated for them
# (test_not_offered_metrics_are_really_absent keeps this list honest).
NOT_OFFERED = {
    "conger_kappa": "Conger's multi-rater kappa is not offered (Fleiss' kappa and alpha are)",
    "cohen_kappa_linear": "weighted kappa is for ordinal scales; codes are nominal",
    "cohen_kappa_quadratic": "weighted kappa is for ordinal scales; codes are nominal",
    "cohen_kappa_linear_se": "weighted kappa is for ordinal scales; codes are nominal",
    "krippendorff_alpha_ordinal": "only nominal alpha is offered (codes are nominal)",
    "krippendorff_alpha_interval": "only nominal alpha is offered (codes are nominal)",
    "krippendorff_alpha_ratio": "only nominal alpha is offered (codes are nominal)",
    "cohen_kappa_p_two_sided_H0": "p-values are not offered (they differ between implementations)",
}
# Gwet-type standard errors of AC1/BP/Fleiss/alpha: implementation-specific per the folder README.
INFORMATIONAL_SUFFIX = "_se"


def _checked(metric: str) -> bool:
    """Metrics of the case files that are compared; the others are listed above and never generated."""
    if metric in NOT_OFFERED:
        return False
    return not metric.endswith(INFORMATIONAL_SUFFIX) or metric == "cohen_kappa_se"


def _expectations():
    for path in CASE_FILES:
        case = json.loads(path.read_text(encoding="utf-8"))
        for metric, exp in case["expected"].items():
            if _checked(metric):
                yield pytest.param(case, metric, exp, id=f"{case['id']}-{metric}")


def _mine(case: dict, metric: str) -> float:
    units, cats = case["data"]["units"], case["data"]["categories"]
    c = coefficients(units, categories=cats)
    if metric in c:
        return c[metric]
    if metric == "cohen_kappa_z_H0":
        return c["cohen_kappa"] / c["cohen_kappa_se0"]
    if metric.startswith("cohen_kappa_ci95_"):
        lo, hi = cohen_kappa_ci95(c["cohen_kappa"], c["cohen_kappa_se"])
        return lo if "lower" in metric else hi
    if metric == "fleiss_kappa_z_H0":
        return c["fleiss_kappa"] / fleiss_kappa_se0(units, categories=cats)
    raise KeyError(metric)


@pytest.mark.parametrize(("case", "metric", "exp"), list(_expectations()))
def test_shared_case(case, metric, exp):
    mine = _mine(case, metric)
    if exp["value"] == "NaN":
        assert math.isnan(mine)
    elif exp["provenance"] == "published":
        assert abs(mine - exp["value"]) <= 0.5 * 10 ** -exp["check_decimals"] + 1e-12, (mine, exp["value"])
    else:
        assert abs(mine - exp["value"]) <= exp.get("tolerance", 1e-6), (mine, exp["value"])


def test_not_offered_metrics_are_really_absent(shared_dir):
    units = [["a", "b", "a"], ["a", "a", "b"], ["b", "b", "b"]]
    offered = set(coefficients(units))
    listed = set(NOT_OFFERED)
    assert not listed & offered
    in_cases = {m for p in CASE_FILES for m in json.loads(p.read_text(encoding="utf-8"))["expected"]}
    assert listed <= in_cases  # every entry still names a metric some case file has
    compared = {m for m in in_cases if _checked(m)}
    assert "cohen_kappa_se" in compared and len(compared) > 10


def test_every_case_file_was_found():
    if not CASES_DIR.is_dir():
        pytest.skip("../shared is not beside the checkout")
    index = json.loads((CASES_DIR / "INDEX.json").read_text(encoding="utf-8"))
    assert {c["id"] for c in index} == {p.stem for p in CASE_FILES}
    assert len(CASE_FILES) == 23


def test_contingency_table_route_equals_raw_units(shared_dir):
    case = json.loads((shared_dir / "agreement-cases" / "gwet_cont3x3abstractors.json").read_text())
    from_units = coefficients(case["data"]["units"], categories=case["data"]["categories"])
    from_table = coefficients_from_table(case["data"]["contingency_table"])
    for key in KEYS[:-1]:
        assert from_table[key] == pytest.approx(from_units[key], abs=1e-12), key


# -- contract and undefined values ---------------------------------------------------------------
def test_keys_are_exactly_the_contract():
    c = coefficients([["a", "b"], ["a", "a"]])
    assert list(c) == [
        "percent_agreement", "cohen_kappa", "cohen_kappa_se", "cohen_kappa_se0", "scott_pi", "fleiss_kappa",
        "krippendorff_alpha_nominal", "gwet_ac1", "brennan_prediger", "n_units", "n_pairable", "reasons",
    ]


def test_empty_input_is_nan_with_reasons():
    c = coefficients([])
    assert c["n_units"] == 0 and c["n_pairable"] == 0
    for key in KEYS[:9]:
        assert math.isnan(c[key]), key
        assert c["reasons"][key] == "no units: the input is empty"


def test_one_category_used_by_everyone_is_undefined_not_one():
    c = coefficients([["x", "x"]] * 5, categories=["x", "y"])
    assert c["percent_agreement"] == 1.0
    for key in ("cohen_kappa", "cohen_kappa_se", "cohen_kappa_se0", "scott_pi", "fleiss_kappa",
                "krippendorff_alpha_nominal"):
        assert math.isnan(c[key]), key
        assert "0/0" in c["reasons"][key]
    # AC1 and Brennan-Prediger have a chance term below 1 with two declared categories: both are 1.
    assert c["gwet_ac1"] == 1.0 and c["brennan_prediger"] == 1.0


def test_single_unit_same_category_is_undefined():
    c = coefficients([[1, 1]], categories=[1, 2])
    assert math.isnan(c["cohen_kappa"]) and math.isnan(c["krippendorff_alpha_nominal"])


def test_no_pairable_units():
    c = coefficients([[1, None], [None, 2], [None, None]])
    assert c["n_units"] == 3 and c["n_pairable"] == 0
    assert c["reasons"]["percent_agreement"] == "no unit has ratings from two or more coders"
    assert c["reasons"]["cohen_kappa"] == "no unit was coded by both coders"
    assert math.isnan(c["krippendorff_alpha_nominal"])


def test_one_declared_category_ac1_and_bp_undefined():
    c = coefficients([["x", "x"], ["x", "x"]], categories=["x"])
    assert math.isnan(c["gwet_ac1"]) and math.isnan(c["brennan_prediger"])
    assert "q >= 2" in c["reasons"]["gwet_ac1"]


def test_two_coder_statistics_need_two_coders():
    c = coefficients([[1, 1, 2], [2, 2, 2], [1, 1, 1]])
    assert math.isnan(c["cohen_kappa"]) and math.isnan(c["scott_pi"])
    assert c["reasons"]["cohen_kappa"] == "defined for exactly two coders; there are 3 (see fleiss_kappa)"
    assert math.isfinite(c["fleiss_kappa"])


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError, match="one value per coder"):
        coefficients([[1, 2], [1]])
    with pytest.raises(ValueError, match="unit 2, coder 1: value 3 is not a declared category"):
        coefficients([[1, 2], [3, 1]], categories=[1, 2])


def test_nan_counts_as_missing():
    assert coefficients([[1, float("nan")], [1, 1], [2, 2]])["n_pairable"] == 2


# -- invariants ----------------------------------------------------------------------------------
def _random_units(rng: random.Random, n: int, m: int, cats: list, p_missing: float = 0.0) -> list[list]:
    units = []
    for _ in range(n):
        truth = rng.choice(cats)
        units.append([None if rng.random() < p_missing else (truth if rng.random() < 0.7 else rng.choice(cats))
                      for _ in range(m)])
    return units


def test_identical_coders_give_one():
    rng = random.Random(1)
    units = [[v, v] for v in (rng.choice("abc") for _ in range(50))]
    c = coefficients(units, categories=list("abc"))
    for key in ("percent_agreement", "cohen_kappa", "scott_pi", "fleiss_kappa", "krippendorff_alpha_nominal",
                "gwet_ac1", "brennan_prediger"):
        assert c[key] == pytest.approx(1.0), key
    assert c["cohen_kappa_se"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_coder_order_and_relabelling_do_not_matter(seed):
    rng = random.Random(seed)
    m = 2 if seed % 2 == 0 else 4
    units = _random_units(rng, 60, m, ["a", "b", "c"], p_missing=0.1 * (seed % 3))
    base = coefficients(units, categories=["a", "b", "c"])
    order = list(range(m))
    rng.shuffle(order)
    swapped = coefficients([[u[j] for j in order] for u in units], categories=["a", "b", "c"])
    relabel = {"a": "z", "b": "x", "c": "y"}
    renamed = coefficients([[relabel.get(v) if v else None for v in u] for u in units], categories=["y", "z", "x"])
    shuffled_units = units[:]
    rng.shuffle(shuffled_units)
    reordered = coefficients(shuffled_units, categories=["a", "b", "c"])
    for key in KEYS[:9]:
        for other in (swapped, renamed, reordered):
            if math.isnan(base[key]):
                assert math.isnan(other[key])
            else:
                assert other[key] == pytest.approx(base[key], abs=1e-12), key


def test_unused_declared_category_changes_only_ac1_and_bp():
    units = [["a", "a"], ["a", "b"], ["b", "b"], ["b", "b"]]
    two = coefficients(units, categories=["a", "b"])
    three = coefficients(units, categories=["a", "b", "c"])
    for key in ("cohen_kappa", "scott_pi", "fleiss_kappa", "krippendorff_alpha_nominal", "cohen_kappa_se"):
        assert two[key] == pytest.approx(three[key]), key
    assert two["brennan_prediger"] != pytest.approx(three["brennan_prediger"])


def test_binary_patterns_equal_raw_units():
    rng = np.random.default_rng(3)
    values = rng.integers(-1, 2, size=(200, 3))
    units = [[None if v < 0 else int(v) for v in row] for row in values]
    raw = coefficients(units, categories=[0, 1])
    compact = coefficients_from_patterns(binary_pattern_counts(values), 3)
    for key in KEYS[:9]:
        a, b = raw[key], compact[key]
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1e-12), key


# -- helpers -------------------------------------------------------------------------------------
def test_cohen_ci_is_normal_interval():
    lo, hi = cohen_kappa_ci95(0.5, 0.1)
    assert lo == pytest.approx(0.5 - 0.1959964) and hi == pytest.approx(0.5 + 0.1959964)
    assert all(math.isnan(x) for x in cohen_kappa_ci95(math.nan, 0.1))


def test_positive_agreement_and_bands():
    assert positive_agreement(3, 1, 1) == pytest.approx(0.75)
    assert math.isnan(positive_agreement(0, 0, 0))
    assert landis_koch(0.0) == "slight" and landis_koch(0.21) == "fair" and landis_koch(0.6) == "moderate"
    assert landis_koch(-0.01) == "poor" and landis_koch(math.nan) == "undefined"


def test_alpha_bootstrap_ci_is_seeded_and_brackets_alpha(shared_dir):
    case = json.loads((shared_dir / "agreement-cases" / "artstein_poesio_2008_3cat.json").read_text())
    units, cats = case["data"]["units"], case["data"]["categories"]
    ci1 = krippendorff_alpha_ci(units, categories=cats, n_boot=500)
    ci2 = krippendorff_alpha_ci(units, categories=cats, n_boot=500)
    assert ci1 == ci2
    alpha = coefficients(units, categories=cats)["krippendorff_alpha_nominal"]
    assert ci1[0] < alpha < ci1[1]
    assert 0.05 < ci1[1] - ci1[0] < 0.4
    assert krippendorff_alpha_ci(units, categories=cats, n_boot=500, seed=7) != ci1


def test_alpha_bootstrap_ci_undefined_when_alpha_is():
    assert all(math.isnan(x) for x in krippendorff_alpha_ci([["a", "a"]] * 10, n_boot=50))


# -- independent libraries on random data (test dependencies only) --------------------------------
@pytest.fixture(scope="module")
def random_sets():
    rng = random.Random(42)
    return [_random_units(rng, rng.randint(20, 120), 2, [0, 1, 2, 3][: rng.randint(2, 4)]) for _ in range(8)]


def test_cohen_against_sklearn_and_statsmodels(random_sets):
    from sklearn.metrics import cohen_kappa_score
    from statsmodels.stats.inter_rater import cohens_kappa

    for units in random_sets:
        cats = sorted({v for u in units for v in u})
        c = coefficients(units, categories=cats)
        a, b = [u[0] for u in units], [u[1] for u in units]
        assert c["cohen_kappa"] == pytest.approx(cohen_kappa_score(a, b), abs=1e-9)
        table = np.zeros((len(cats), len(cats)))
        for x, y in zip(a, b):
            table[cats.index(x), cats.index(y)] += 1
        res = cohens_kappa(table)
        assert c["cohen_kappa_se"] == pytest.approx(res.std_kappa, abs=1e-9)
        assert c["cohen_kappa_se0"] == pytest.approx(res.std_kappa0, abs=1e-9)


def test_alpha_against_krippendorff_and_nltk():
    import krippendorff
    from nltk.metrics.agreement import AnnotationTask

    rng = random.Random(7)
    for _ in range(6):
        m = rng.randint(2, 5)
        units = _random_units(rng, rng.randint(15, 60), m, [1, 2, 3], p_missing=0.2)
        c = coefficients(units)
        data = np.array([[np.nan if v is None else v for v in u] for u in units], dtype=float).T
        ref = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
        assert c["krippendorff_alpha_nominal"] == pytest.approx(ref, abs=1e-9)
        triples = [(str(j), str(i), v) for i, u in enumerate(units) for j, v in enumerate(u) if v is not None]
        pairable = [t for t in triples if sum(1 for x in triples if x[1] == t[1]) >= 2]
        assert c["krippendorff_alpha_nominal"] == pytest.approx(AnnotationTask(data=pairable).alpha(), abs=1e-9)


def test_fleiss_against_statsmodels():
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    rng = random.Random(11)
    for _ in range(5):
        units = _random_units(rng, rng.randint(10, 50), rng.randint(3, 7), ["x", "y", "z"])
        counts, _cats = aggregate_raters(np.array(units, dtype=object))
        c = coefficients(units)
        assert c["fleiss_kappa"] == pytest.approx(fleiss_kappa(counts, method="fleiss"), abs=1e-9)
        assert c["brennan_prediger"] == pytest.approx(fleiss_kappa(counts, method="randolph"), abs=1e-9)


def test_gwet_fleiss_with_missing_against_irrcac():
    import pandas as pd
    from irrCAC.raw import CAC

    rng = random.Random(5)
    for _ in range(4):
        cats = [1, 2, 3, 4]
        units = _random_units(rng, rng.randint(15, 40), rng.randint(2, 4), cats, p_missing=0.15)
        units = [u for u in units if any(v is not None for v in u)]
        frame = pd.DataFrame([[np.nan if v is None else float(v) for v in u] for u in units])
        cac = CAC(frame, categories=[float(x) for x in cats], digits=10)
        c = coefficients(units, categories=cats)
        assert c["gwet_ac1"] == pytest.approx(cac.gwet()["est"]["coefficient_value"], abs=1e-8)
        assert c["fleiss_kappa"] == pytest.approx(cac.fleiss()["est"]["coefficient_value"], abs=1e-8)
        assert c["brennan_prediger"] == pytest.approx(cac.bp()["est"]["coefficient_value"], abs=1e-8)
        assert c["krippendorff_alpha_nominal"] == pytest.approx(
            cac.krippendorff()["est"]["coefficient_value"], abs=1e-8)


def test_kappa_interval_is_clipped_to_minus_one_one():
    """kappa 0.80 on 10 units: the normal interval reaches 1.164; kappa cannot exceed 1, so the bound is 1."""
    c = coefficients_from_table([[5, 0], [1, 4]])
    assert c["cohen_kappa"] == pytest.approx(0.8)
    assert c["cohen_kappa"] + 1.959964 * c["cohen_kappa_se"] > 1.1
    lo, hi = cohen_kappa_ci95(c["cohen_kappa"], c["cohen_kappa_se"])
    assert hi == 1.0 and lo == pytest.approx(c["cohen_kappa"] - 1.959964 * c["cohen_kappa_se"])
    assert cohen_kappa_ci95(-0.9, 0.2) == (-1.0, pytest.approx(-0.9 + 1.959964 * 0.2))
