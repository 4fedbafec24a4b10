"""Term matching around pathological runs: matches on either side keep their exact offsets."""

from __future__ import annotations

from vbhc_code.nlp.match import TermMatcher, word_lemmas


def test_matches_either_side_of_a_long_run_keep_their_offsets():
    tm = TermMatcher("en")
    tm.add_lower("CP", ["care pathway"])
    text = "A care pathway " + "!" * 30_000 + " and another care pathway."
    (found,) = list(tm.pipe([text]))
    spans = sorted((s, e) for _, _, s, e in found)
    assert [text[s:e] for s, e in spans] == ["care pathway", "care pathway"]
    assert spans[1][0] == text.rindex("care pathway")


def test_word_lemmas_skip_the_symbols_of_a_long_run():
    text = "Patients " + "\U0001f600" * 10_000 + " were paid"
    (words,) = list(word_lemmas([text], "en"))
    assert [w for w, _ in words] == ["patients", "were", "paid"]
