"""vbhc_code.agreement.units: rating patterns per code for each unit, counted by hand on a tiny study.

Pattern index with two coders: value_A + 3 * value_B (0 absent, 1 present, 2 missing).
"""

from __future__ import annotations

import numpy as np
import pytest
from agreement_fixture import A_ROWS, B_ROWS, make_store

from vbhc_code.agreement.units import build_units, check_options
from vbhc_code.errors import DataError, UsageError


def pat(**counts: int) -> list[int]:
    """A 9-pattern row from counts named like n00, n10 (A present, B absent), n01, n11."""
    row = [0] * 9
    for name, n in counts.items():
        a, b = int(name[1]), int(name[2])
        row[a + 3 * b] = n
    return row


@pytest.fixture()
def store(tmp_path):
    st = make_store(tmp_path / "s.sqlite", {"A": A_ROWS, "B": B_ROWS},
                    {"A": ["d1", "d2", "d3"], "B": ["d1", "d2"]})  # fmt: skip
    yield st
    st.close()


def test_turn_units_cross_participant_turns_with_codes(store):
    data = build_units(store, coders=["A", "B"], unit="turn")
    assert (data.codes, data.documents, data.n_units) == (["C1", "C2", "C3"], ["d1", "d2"], 6)
    # C1: d1t2 both, d1t3 A only, d1t5 B only, d2t5 A only; C2: d2t2 both, d2t3 B only
    assert data.patterns.tolist() == [pat(n11=1, n10=2, n01=1, n00=2), pat(n11=1, n01=1, n00=4), pat(n00=6)]
    assert "d3" in data.notes["documents"] and "coded by only one coder" in data.notes["documents"]


def test_scope_all_adds_interviewer_turns_as_agreed_absences(store):
    data = build_units(store, coders=["A", "B"], unit="turn", scope="all")
    assert data.n_units == 10
    assert data.patterns[2].tolist() == pat(n00=10)
    assert data.patterns[0].tolist() == pat(n11=1, n10=2, n01=1, n00=6)
    assert "inflate percent agreement" in data.notes["scope"]


def test_document_units_are_code_existence(store):
    data = build_units(store, coders=["A", "B"], unit="document")
    assert data.n_units == 2
    # C1: d1 both, d2 only A (t5); C2: d2 both
    assert data.patterns.tolist() == [pat(n11=1, n10=1), pat(n11=1, n00=1), pat(n00=2)]


def test_sentence_units_follow_the_coding_span(tmp_path):
    # d1 turn 2 is "First point. Second point.": A's span covers the first sentence only, B codes the turn
    text_start = 3 + len("Question one?\n") + 3
    rows_a = [("d1", 2, "C1", text_start, text_start + 5)]
    rows_b = [("d1", 2, "C1")]
    with make_store(tmp_path / "s.sqlite", {"A": rows_a, "B": rows_b}, {"A": ["d1"], "B": ["d1"]},
                    docs=("d1",)) as st:  # fmt: skip
        data = build_units(st, coders=["A", "B"], unit="sentence")
        turns = st.turns(scope="participant")
        turn_data = build_units(st, coders=["A", "B"], unit="turn")
    assert data.n_units == sum(len(t.sentences) for t in turns) == 5
    assert data.patterns[0].tolist() == pat(n11=1, n01=1, n00=3)
    assert turn_data.patterns[0].tolist() == pat(n11=1, n00=2)  # a span does not matter for turn units


def test_character_units_count_covered_characters(tmp_path):
    rows_a = [("d1", 3, "C1")]  # the whole of "Third point here." (17 characters)
    start = len("I: Question one?\nP: First point. Second point.\nP: ")
    rows_b = [("d1", 3, "C1", start, start + 5)]  # "Third"
    with make_store(tmp_path / "s.sqlite", {"A": rows_a, "B": rows_b}, {"A": ["d1"], "B": ["d1"]},
                    docs=("d1",)) as st:  # fmt: skip
        data = build_units(st, coders=["A", "B"], unit="character")
        chars = sum(t.end - t.start for t in st.turns(scope="participant"))
    assert data.n_units == chars
    assert data.patterns[0].tolist() == pat(n11=5, n10=12, n00=chars - 17)
    assert set(data.per_document) == {"d1"} and data.per_document["d1"].sum() == data.patterns.sum()


def test_three_coders_mark_uncoded_documents_missing(tmp_path):
    codings = {"A": A_ROWS, "B": B_ROWS, "C": [("d1", 2, "C1")]}
    coded = {"A": ["d1", "d2"], "B": ["d1", "d2"], "C": ["d1"]}
    with make_store(tmp_path / "s.sqlite", codings, coded) as st:
        data = build_units(st, coders=["A", "B", "C"], unit="document")
    assert data.patterns.shape == (3, 27)
    # C1 on d2: A present (t5), B absent, C missing -> 1 + 3*0 + 9*2 = 19; on d1 all three present -> 13
    assert np.flatnonzero(data.patterns[0]).tolist() == [13, 19]
    assert "missing data" in data.notes["missing"]


def test_codes_outside_the_codebook_come_after_it(tmp_path):
    with make_store(tmp_path / "s.sqlite", {"A": [("d1", 2, "ZZ")], "B": [("d1", 2, "C1")]},
                    {"A": ["d1"], "B": ["d1"]}, docs=("d1",)) as st:  # fmt: skip
        data = build_units(st, coders=["A", "B"])
    assert data.codes == ["C1", "C2", "C3", "ZZ"]
    assert data.patterns[3].tolist() == pat(n10=1, n00=2)


def test_unknown_coders_and_nothing_in_common_are_data_errors(store, tmp_path):
    with pytest.raises(DataError, match=r"unknown coder 'X' \(coders in the store: A, B\)"):
        build_units(store, coders=["A", "X"])
    with make_store(tmp_path / "o.sqlite", {"A": [], "B": []}, {"A": ["d1"], "B": ["d2"]}) as st:
        with pytest.raises(DataError, match="have no coded document in common"):
            build_units(st, coders=["A", "B"])


@pytest.mark.parametrize(("options", "message"), [
    ({"coders": ["A"]}, "at least two coders"),
    ({"coders": ["A", "A"]}, "coder 'A' is named twice"),
    ({"unit": "word"}, "must be one of turn, sentence, document, character, segment"),
    ({"scope": "some"}, "must be participant or all"),
    ({"overlap": 0.0}, r"share in \(0, 1\]"),
    ({"mode": "atlas"}, "must be nvivo or maxqda"),
    ({"mode": "nvivo", "unit": "turn"}, "compares characters"),
    ({"unit": "segment", "coders": ["A", "B", "C"]}, "exactly two coders"),
])  # fmt: skip
def test_option_problems_are_usage_errors(options, message):
    kwargs = {"coders": ["A", "B"], "unit": "turn", "scope": "participant", "overlap": 0.9, "mode": None, **options}
    with pytest.raises(UsageError, match=message):
        check_options(**kwargs)
