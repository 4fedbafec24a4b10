"""Sentence spans: the fast path in segment.py gives exactly what spaCy's ``sentencizer`` component gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vbhc_code.nlp.segment import iter_sentence_spans, sentence_spans

PIECES = ["word", "Dr.", "e.g.", "3.5", "!", "?", "...", '"', "\u2019", "(", ")", "a.", ".", "\n", "  ", "U.S.",
          "?!", "Yes.", "no", "\u3002", "\u0964", "Zorg", "Wat?", "'", "\u00a0", "\t", "\u2026"]


def reference(nlp, text: str, offset: int = 0) -> list[tuple[int, int]]:
    out = []
    for sent in nlp(text).sents:
        s, e = sent.start_char, sent.end_char
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s + offset, e + offset))
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40), st.sampled_from([" ", "", "\n"]), st.integers(0, 10_000))
def test_fast_sentences_equal_spacy_sentencizer(nlp_en, nlp_nl, pieces, sep, offset):
    text = sep.join(pieces)
    assert sentence_spans(text, offset=offset) == reference(nlp_en, text, offset)
    assert sentence_spans(text, offset=offset, lang="nl") == reference(nlp_nl, text, offset)


def test_streamed_pieces_keep_their_own_offsets():
    pieces = [("One. Two.", 0), ("", 50), ("Three? Four!", 100)]
    assert list(iter_sentence_spans(pieces, batch_size=1)) == [[(0, 4), (5, 9)], [], [(100, 106), (107, 112)]]
