"""vbhc_code.agreement.report: units built from the store, per code / pooled / macro, modes, evaluate."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
from agreement_fixture import A_ROWS, B_ROWS, CODEBOOK, TURNS, P, make_doc, make_store

from vbhc_code.agreement.report import REPORT_KEYS, agreement_report, codes_to_discuss, evaluate, write_agreement_xlsx
from vbhc_code.agreement.statistics import coefficients, coefficients_from_table
from vbhc_code.errors import DataError, UsageError
from vbhc_code.models import Coding
from vbhc_code.store.store import Store


@pytest.fixture
def store(tmp_path):
    st = make_store(tmp_path / "s.sqlite", {"A": A_ROWS, "B": B_ROWS, "C": A_ROWS[:3]},
                    {"A": ["d1", "d2"], "B": ["d1", "d2", "d3"], "C": ["d1", "d2"]})
    yield st
    st.close()


def test_report_keys_and_turn_counts(store):
    r = agreement_report(store, coders=["A", "B"])
    assert list(r) == list(REPORT_KEYS)
    assert r["unit"] == "turn" and r["scope"] == "participant" and r["coders"] == ["A", "B"]
    assert r["n_units"] == 6  # 3 participant turns x 2 documents coded by both
    c1, c2 = r["per_code"]["C1"], r["per_code"]["C2"]
    assert (c1["both"], c1["first_only"], c1["second_only"], c1["neither"]) == (1, 2, 1, 2)
    assert (c2["both"], c2["first_only"], c2["second_only"], c2["neither"]) == (1, 0, 1, 4)
    pooled = r["pooled"]
    assert (pooled["both"], pooled["first_only"], pooled["second_only"], pooled["neither"]) == (2, 2, 2, 12)
    # the statistics are those of the same 2x2 table
    ref = coefficients_from_table([[1, 2], [1, 2]])
    assert c1["cohen_kappa"] == pytest.approx(ref["cohen_kappa"])
    assert c1["cohen_kappa"] == pytest.approx(0.0)  # po = 0.5, pe = 0.5 (hand computed)
    assert c1["percent_agreement"] == pytest.approx(0.5)
    assert c1["positive_agreement"] == pytest.approx(2 / 5)
    lo, hi = c1["cohen_kappa_ci95"]
    assert lo == pytest.approx(-1.959964 * c1["cohen_kappa_se"]) and hi == pytest.approx(
        1.959964 * c1["cohen_kappa_se"]
    )
    assert c2["cohen_kappa"] == pytest.approx((5 / 6 - 22 / 36) / (1 - 22 / 36))  # pe = 1/6 * 2/6 + 5/6 * 4/6
    assert pooled["cohen_kappa"] == pytest.approx(coefficients_from_table([[2, 2], [2, 12]])["cohen_kappa"])
    lo, hi = pooled["krippendorff_alpha_ci95"]
    assert lo <= pooled["krippendorff_alpha"] <= hi
    assert c2["kappa_band"] == "moderate"


def test_turn_unit_agrees_with_sklearn_on_expanded_vectors(store):
    from sklearn.metrics import cohen_kappa_score

    r = agreement_report(store, coders=["A", "B"])
    units = [(d, t) for d in ("d1", "d2") for t in (2, 3, 5)]
    for code in ("C1", "C2"):
        a = [int((d, t, code) in A_ROWS) for d, t in units]
        b = [int((d, t, code) in B_ROWS) for d, t in units]
        assert r["per_code"][code]["cohen_kappa"] == pytest.approx(cohen_kappa_score(a, b))


def test_document_coded_by_one_coder_is_missing_not_zero(store):
    r = agreement_report(store, coders=["A", "B"])
    assert r["reasons"]["documents"] == (
        "1 document(s) coded by only one coder left out (missing data, not 'no code'): d3")


def test_code_nobody_used_is_null_with_reason_never_one(store):
    r = agreement_report(store, coders=["A", "B"])
    c3 = r["per_code"]["C3"]
    assert c3["neither"] == 6 and c3["percent_agreement"] == 1.0
    for key in ("cohen_kappa", "krippendorff_alpha", "positive_agreement", "cohen_kappa_ci95"):
        assert c3[key] is None
    assert "neither coder applied this code" in r["reasons"]["per_code.C3.cohen_kappa"]
    assert c3["kappa_band"] == "undefined"
    # the macro mean leaves C3 out and says so
    assert r["macro"]["cohen_kappa"] == pytest.approx(
        (r["per_code"]["C1"]["cohen_kappa"] + r["per_code"]["C2"]["cohen_kappa"]) / 2)
    assert r["reasons"]["macro.cohen_kappa"] == "mean over 2 of 3 codes; undefined for C3"
    assert r["macro"]["percent_agreement"] == pytest.approx((0.5 + 5 / 6 + 1) / 3)


def _nulls(block: dict, where: str):
    for key, value in block.items():
        if isinstance(value, dict):
            yield from _nulls(value, f"{where}.{key}")
        elif value is None:
            yield f"{where}.{key}"


@pytest.mark.parametrize(
    ("coders", "kwargs"),
    [
        (["A", "B"], {}),
        (["A", "B"], {"unit": "document"}),
        (["A", "B"], {"unit": "segment"}),
        (["A", "B"], {"unit": "character", "mode": "nvivo"}),
        (["A", "B"], {"n_boot": 0}),
        (["A", "B", "C"], {}),
    ],
)
def test_every_null_has_a_reason(store, coders, kwargs):
    r = agreement_report(store, coders=coders, **kwargs)
    nulls = [k for part in ("pooled", "macro", "per_code") for k in _nulls(r[part], part)]
    assert nulls  # C3 is never used: there is something to explain
    assert [k for k in nulls if k not in r["reasons"]] == []


def test_null_intervals_say_why(store):
    r = agreement_report(store, coders=["A", "B"])
    assert r["per_code"]["C3"]["krippendorff_alpha_ci95"] is None
    assert r["reasons"]["per_code.C3.cohen_kappa_ci95"].startswith("no interval: neither coder applied this code")
    assert r["reasons"]["per_code.C3.krippendorff_alpha_ci95"].startswith("no interval: neither coder applied")
    quick = agreement_report(store, coders=["A", "B"], n_boot=0)
    assert quick["pooled"]["krippendorff_alpha_ci95"] is None
    assert quick["reasons"]["pooled.krippendorff_alpha_ci95"] == "no bootstrap requested (n_boot = 0)"


def test_codes_to_discuss(store):
    assert codes_to_discuss(agreement_report(store, coders=["A", "B"])) == ["C1 (0.00)", "C2 (0.57)"]


def test_codes_to_discuss_follow_the_kappa_band_edge():
    def report(kappas):
        return {"unit": "turn", "per_code": {f"K{i}": {"cohen_kappa": k, "first_only": 1, "second_only": 0,
                                                         "percent_agreement": 0.9} for i, k in enumerate(kappas)}}

    # 0.6063 is "substantial" for Landis & Koch (and kappa_band): not listed, though it prints as 0.61
    assert codes_to_discuss(report([0.6063, 0.60, 0.5999, -0.2, None])) == [
        "K4 (undefined)", "K3 (-0.20)", "K2 (0.60)", "K1 (0.60)"]


def test_scope_all_adds_uncoded_interviewer_turns_and_says_so(store):
    r = agreement_report(store, coders=["A", "B"], scope="all")
    assert r["n_units"] == 10
    assert r["per_code"]["C1"]["neither"] == 2 + 4
    assert "inflate" in r["reasons"]["scope"]
    assert r["pooled"]["percent_agreement"] > agreement_report(store, coders=["A", "B"])["pooled"]["percent_agreement"]


def test_sentence_unit_uses_spans_when_known(tmp_path):
    doc = make_doc("d1", TURNS)
    t2 = doc.turns[1]
    s1, s2 = t2.sentences
    st = make_store(tmp_path / "s.sqlite",
                    {"A": [("d1", 2, "C1", s1[0], s1[1])], "B": [("d1", 2, "C1")]},
                    {"A": ["d1"], "B": ["d1"]}, docs=("d1",))
    r = agreement_report(st, coders=["A", "B"], unit="sentence")
    assert r["n_units"] == 5  # 2 + 1 + 2 sentences in participant turns
    c1 = r["per_code"]["C1"]
    assert (c1["both"], c1["first_only"], c1["second_only"], c1["neither"]) == (1, 0, 1, 3)
    turn = agreement_report(st, coders=["A", "B"], unit="turn")["per_code"]["C1"]
    assert (turn["both"], turn["first_only"], turn["second_only"]) == (1, 0, 0)


def test_document_unit(store):
    r = agreement_report(store, coders=["A", "B"], unit="document")
    assert r["n_units"] == 2
    c1, c2 = r["per_code"]["C1"], r["per_code"]["C2"]
    assert (c1["both"], c1["first_only"], c1["second_only"], c1["neither"]) == (1, 1, 0, 0)
    assert (c2["both"], c2["first_only"], c2["second_only"], c2["neither"]) == (1, 0, 0, 1)
    assert c2["cohen_kappa"] == pytest.approx(1.0)
    # C1: B says 'present' in every document, so chance agreement equals observed: kappa 0
    assert c1["cohen_kappa"] == pytest.approx(0.0)


def test_character_unit_counts_characters(tmp_path):
    doc = make_doc("d1", TURNS)
    t2, t3 = doc.turns[1], doc.turns[2]
    st = make_store(tmp_path / "s.sqlite",
                    {"A": [("d1", 2, "C1", t2.start, t2.start + 5)], "B": [("d1", 2, "C1"), ("d1", 3, "C2")]},
                    {"A": ["d1"], "B": ["d1"]}, docs=("d1",))
    r = agreement_report(st, coders=["A", "B"], unit="character")
    participant_chars = sum(t.end - t.start for t in doc.turns if t.role == P)
    assert r["n_units"] == participant_chars
    c1 = r["per_code"]["C1"]
    assert (c1["both"], c1["first_only"], c1["second_only"]) == (5, 0, len(t2.text) - 5)
    assert c1["neither"] == participant_chars - len(t2.text)
    assert r["per_code"]["C2"]["second_only"] == len(t3.text)
    table = [[c1["both"], c1["first_only"]], [c1["second_only"], c1["neither"]]]
    assert c1["cohen_kappa"] == pytest.approx(coefficients_from_table(table)["cohen_kappa"])


def test_nvivo_mode_uses_every_character_per_document(tmp_path):
    docs = {d: make_doc(d, TURNS) for d in ("d1", "d2")}
    t2 = docs["d1"].turns[1]
    st = make_store(tmp_path / "s.sqlite", {"A": [("d1", 2, "C1")], "B": [("d1", 2, "C1", t2.start, t2.end - 3)]},
                    {"A": ["d1", "d2"], "B": ["d1", "d2"]}, docs=("d1", "d2"))
    r = agreement_report(st, coders=["A", "B"], unit="character", mode="nvivo")
    assert r["n_units"] == sum(len(d.plain_text) for d in docs.values())
    per_doc = r["per_code"]["C1"]["per_document"]
    assert per_doc["d1"]["both"] == len(t2.text) - 3 and per_doc["d1"]["first_only"] == 3
    assert per_doc["d1"]["neither"] == len(docs["d1"].plain_text) - len(t2.text)
    assert per_doc["d2"]["cohen_kappa"] is None  # NVivo would print 1 here
    assert "NVivo itself prints kappa 1" in r["reasons"]["mode"]
    assert "per_code.C1.per_document.d2.cohen_kappa" in r["reasons"]


@pytest.mark.parametrize("unit", ["turn", "sentence", "document", "character", "segment"])
def test_empty_span_counts_as_the_whole_turn_in_every_unit(tmp_path, unit):
    # a zero-length span (start == end, e.g. from another tool) used to crash the turn unit
    st = make_store(tmp_path / "s.sqlite", {"A": [("d1", 2, "C1", 10, 10)], "B": [("d1", 2, "C1")]},
                    {"A": ["d1"], "B": ["d1"]}, docs=("d1",))
    c1 = agreement_report(st, coders=["A", "B"], unit=unit)["per_code"]["C1"]
    assert c1["both"] > 0 and c1["first_only"] == c1["second_only"] == 0


def test_segment_unit_overlap_threshold(tmp_path):
    doc = make_doc("d1", TURNS)
    t2 = doc.turns[1]
    n = len(t2.text)
    a = ("d1", 2, "C1", t2.start, t2.end)
    b = ("d1", 2, "C1", t2.start, t2.end - n // 4)  # overlap 0.75 of the union
    st = make_store(tmp_path / "s.sqlite", {"A": [a, ("d1", 3, "C2")], "B": [b]}, {"A": ["d1"], "B": ["d1"]},
                    docs=("d1",))
    strict = agreement_report(st, coders=["A", "B"], unit="segment", overlap=0.9)["per_code"]["C1"]
    loose = agreement_report(st, coders=["A", "B"], unit="segment", overlap=0.7)
    assert (strict["both"], strict["first_only"], strict["second_only"], strict["neither"]) == (0, 1, 1, 0)
    c1 = loose["per_code"]["C1"]
    assert (c1["both"], c1["first_only"], c1["second_only"]) == (1, 0, 0)
    assert loose["pooled"]["percent_agreement"] == pytest.approx(1 / 2)  # C1 matched, C2 A only
    assert loose["pooled"]["cohen_kappa"] is None and "segment level" in loose["reasons"]["pooled.cohen_kappa"]


def test_maxqda_mode_kappa_uses_one_over_number_of_codes(store):
    r = agreement_report(store, coders=["A", "B"], unit="document", mode="maxqda")
    # documents: C1 both in d1, A only in d2; C2 both in d2; C3 unused (ignored, as MAXQDA does)
    po = 2 / 3
    assert r["pooled"]["maxqda_percent_agreement"] == pytest.approx(po)
    assert r["pooled"]["maxqda_n_codes"] == 2
    assert r["pooled"]["maxqda_kappa"] == pytest.approx((po - 0.5) / 0.5)
    seg = agreement_report(store, coders=["A", "B"], mode="maxqda", unit="segment")
    both, first, second = (seg["pooled"][k] for k in ("both", "first_only", "second_only"))
    assert (both, first, second) == (2, 2, 2)
    assert seg["pooled"]["maxqda_kappa"] == pytest.approx((2 / 6 - 1 / 2) / (1 - 1 / 2))


def test_three_coders_fleiss_with_missing_documents(tmp_path):
    st = make_store(tmp_path / "s.sqlite", {"A": A_ROWS, "B": B_ROWS, "C": A_ROWS[:3]},
                    {"A": ["d1", "d2"], "B": ["d1", "d2"], "C": ["d1"]})
    r = agreement_report(st, coders=["A", "B", "C"])
    c1 = r["per_code"]["C1"]
    assert "cohen_kappa" not in c1 and "both" not in c1
    units = []
    for d in ("d1", "d2"):
        for t in (2, 3, 5):
            units.append([int((d, t, "C1") in A_ROWS), int((d, t, "C1") in B_ROWS),
                          None if d == "d2" else int((d, t, "C1") in A_ROWS[:3])])
    ref = coefficients(units, categories=[0, 1])
    assert c1["fleiss_kappa"] == pytest.approx(ref["fleiss_kappa"])
    assert c1["krippendorff_alpha"] == pytest.approx(ref["krippendorff_alpha_nominal"])
    assert "missing" in r["reasons"]


def test_usage_and_data_errors(store):
    with pytest.raises(UsageError, match="at least two coders"):
        agreement_report(store, coders=["A"])
    with pytest.raises(UsageError, match="named twice"):
        agreement_report(store, coders=["A", "A"])
    with pytest.raises(DataError, match=r"^unknown coder 'Z' \(coders in the store: A, B, C\)$"):
        agreement_report(store, coders=["A", "Z"])
    with pytest.raises(UsageError, match="^unit must be one of"):
        agreement_report(store, coders=["A", "B"], unit="paragraph")
    with pytest.raises(UsageError, match="^mode=nvivo compares characters: use unit=character"):
        agreement_report(store, coders=["A", "B"], mode="nvivo")
    with pytest.raises(UsageError, match="^overlap must be"):
        agreement_report(store, coders=["A", "B"], unit="segment", overlap=0)


def test_no_document_in_common(tmp_path):
    st = make_store(tmp_path / "s.sqlite", {"A": [], "B": []}, {"A": ["d1"], "B": ["d2"]})
    with pytest.raises(DataError, match="no coded document in common"):
        agreement_report(st, coders=["A", "B"])


def test_evaluate_hand_computed(store):
    e = evaluate(store, coder="B", against="A")
    assert list(e) == ["coder", "against", "unit", "scope", "n_units", "pooled", "macro", "per_code",
                       "confidence_bands", "reasons"]
    assert e["confidence_bands"] is None and "only autocode" in e["reasons"]["confidence_bands"]
    c1 = e["per_code"]["C1"]
    assert (c1["tp"], c1["fp"], c1["fn"], c1["tn"]) == (1, 1, 2, 2)
    assert c1["precision"] == pytest.approx(0.5) and c1["recall"] == pytest.approx(1 / 3)
    assert c1["f1"] == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3))
    assert c1["cohen_kappa"] == pytest.approx(0.0)
    p = e["pooled"]
    assert (p["tp"], p["fp"], p["fn"]) == (2, 2, 2) and p["precision"] == pytest.approx(0.5)
    assert e["per_code"]["C3"]["precision"] is None and "per_code.C3.precision" in e["reasons"]
    assert e["macro"]["f1"] == pytest.approx((c1["f1"] + e["per_code"]["C2"]["f1"]) / 2)
    # the same numbers as the agreement report (one implementation)
    r = agreement_report(store, coders=["A", "B"])
    assert e["per_code"]["C2"]["cohen_kappa"] == r["per_code"]["C2"]["cohen_kappa"]
    assert e["per_code"]["C2"]["f1"] == r["per_code"]["C2"]["positive_agreement"]


def test_bootstrap_ci_is_deterministic(store):
    a = agreement_report(store, coders=["A", "B"])
    b = agreement_report(store, coders=["A", "B"])
    assert a == b


def test_workbook_has_table_and_chart(store, tmp_path):
    import openpyxl

    r = agreement_report(store, coders=["A", "B"])
    out = tmp_path / "agreement.xlsx"
    write_agreement_xlsx(r, out)
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb.sheetnames == ["Agreement", "Summary", "Notes"]
    rows = list(wb["Agreement"].iter_rows(values_only=True))
    assert rows[0][:3] == ("code", "both", "A only")
    assert [row[0] for row in rows[1:]] == ["C1", "C2", "C3"]
    kappa_col = rows[0].index("Cohen's kappa")
    assert rows[2][kappa_col] == pytest.approx(r["per_code"]["C2"]["cohen_kappa"])
    assert rows[3][kappa_col] is None  # undefined stays empty, never 1
    summary = list(wb["Summary"].iter_rows(values_only=True))
    assert [row[0] for row in summary[1:]] == ["pooled", "macro mean"]
    with zipfile.ZipFile(out) as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())


def test_large_store_is_fast_enough(tmp_path):
    """Guard against quadratic unit building: 2 coders x 3,000 turns x 3 codes in a few seconds."""
    import time

    st = Store.open(tmp_path / "big.sqlite")
    rng = np.random.default_rng(0)
    turns = [(P, f"turn {i}. more.") for i in range(3000)]
    st.save_document(make_doc("big", turns))
    rows = {c: [("big", i + 1, code) for i in range(3000) for code in ("C1", "C2", "C3") if rng.random() < 0.3]
            for c in ("A", "B")}
    for c, rr in rows.items():
        st.replace_codings(c, [Coding(*r, c) for r in rr], coded_documents=["big"], codebook=CODEBOOK)
    t0 = time.perf_counter()
    r = agreement_report(st, coders=["A", "B"])
    assert time.perf_counter() - t0 < 5
    assert r["pooled"]["n_units"] == 9000
    assert not math.isnan(r["pooled"]["cohen_kappa"])



def test_sample_study_anna_ben_against_sklearn(sample_store, tmp_path):
    """The bundled sample study: turn-level kappa per code equals sklearn on the expanded 0/1 vectors."""
    import csv
    import shutil

    from sklearn.metrics import cohen_kappa_score

    codings_dir = Path(__file__).resolve().parents[2] / "codings"
    path = tmp_path / "s.sqlite"
    shutil.copy(sample_store, path)
    rows = {}
    with Store.open(path) as st:
        for coder in ("anna", "ben"):
            with open(codings_dir / f"coder-{coder}.csv", encoding="utf-8", newline="") as fh:
                rows[coder] = {(r["document"], int(r["turn_index"]), r["code"]) for r in csv.DictReader(fh)}
            st.replace_codings(coder, [Coding(d, t, c, coder) for d, t, c in sorted(rows[coder])],
                               coded_documents=st.document_names())
        report = agreement_report(st, coders=["anna", "ben"])
        turns = [(t.document, t.turn_index) for t in st.turns(scope="participant")]
    assert report["n_units"] == len(turns)
    codes = sorted({c for r in rows.values() for _d, _t, c in r})
    assert sorted(report["per_code"]) == codes
    for code in codes:
        a = [int((d, t, code) in rows["anna"]) for d, t in turns]
        b = [int((d, t, code) in rows["ben"]) for d, t in turns]
        mine = report["per_code"][code]["cohen_kappa"]
        if len(set(a) | set(b)) == 1:
            assert mine is None
        else:
            assert mine == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)
    assert 0.6 < report["pooled"]["cohen_kappa"] < 0.95


def test_nvivo_mode_names_itself_and_its_scope_and_writes_per_document_figures(store, tmp_path):
    from openpyxl import load_workbook

    plain = agreement_report(store, coders=["A", "B"], unit="character")
    assert plain["mode"] is None and plain["scope"] == "participant"
    r = agreement_report(store, coders=["A", "B"], unit="character", mode="nvivo")
    assert r["mode"] == "nvivo" and r["scope"] == "all characters"
    write_agreement_xlsx(r, tmp_path / "a.xlsx")
    rows = list(load_workbook(tmp_path / "a.xlsx")["Per document"].iter_rows(values_only=True))
    assert rows[0][:6] == ("code", "document", "both", "first_only", "second_only", "neither")
    expected = {(code, d): (f["both"], f["first_only"], f["second_only"], f["neither"])
                for code, stats in r["per_code"].items() for d, f in stats["per_document"].items()}
    assert {(row[0], row[1]): row[2:6] for row in rows[1:]} == expected and len(rows) - 1 == len(expected) > 0
    write_agreement_xlsx(plain, tmp_path / "b.xlsx")
    assert "Per document" not in load_workbook(tmp_path / "b.xlsx").sheetnames
