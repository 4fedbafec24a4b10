"""Sentence spans: the fast path in segment.py gives exactly what spaCy's ``sentencizer`` component gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vbhc_code.nlp.segment import LONG_RUN, RUN_WINDOW, iter_sentence_spans, make_doc, sentence_spans

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


ALPHABET = "aZ9_.!?,;:'\"()-\u2026\u3002\u00e9e\u0301\U0001f600$%&* \n\t\u00a0\u3000"


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.text(ALPHABET, max_size=12), st.sampled_from(PIECES + [":)", "'s", "n't", "Dr.", "(a)"])),
                max_size=30))
def test_sentences_of_any_characters_equal_spacy_sentencizer(nlp_en, nlp_nl, parts):
    """Runs of punctuation, symbols, combining marks, "_" and every kind of whitespace, in any order."""
    text = "".join(parts)
    assert sentence_spans(text) == reference(nlp_en, text)
    assert sentence_spans(text, lang="nl") == reference(nlp_nl, text)


def test_batches_of_many_pieces_equal_one_piece_at_a_time():
    texts = ["One. Two!", "", "   ", "x", "Hi.\n\nThere ( yes ) . Next", "\"Quote.\" Then", "a.  \u00a0b"] * 40
    pieces = [(t, 10 * i) for i, t in enumerate(texts)]
    assert list(iter_sentence_spans(pieces)) == [sentence_spans(t, offset=o) for t, o in pieces]


def test_streamed_pieces_keep_their_own_offsets():
    pieces = [("One. Two.", 0), ("", 50), ("Three? Four!", 100)]
    assert list(iter_sentence_spans(pieces, batch_size=1)) == [[(0, 4), (5, 9)], [], [(100, 106), (107, 112)]]


class _Recording:
    """A pipeline stand-in whose tokenizer records what it is given (then delegates to the real one)."""

    def __init__(self, nlp) -> None:
        self.vocab = nlp.vocab
        self._tokenizer = nlp.tokenizer
        self.seen: list[str] = []

    def tokenizer(self, text: str):
        self.seen.append(text)
        return self._tokenizer(text)


@pytest.mark.parametrize("run", ["!" * 40_000, "\U0001f600" * 20_000, "'s" * 5_000, "(" * 3_000 + "x"])
def test_long_runs_reach_the_tokenizer_only_in_bounded_windows(nlp_en, run):
    text = f"Wow. {run} Yes!"
    rec = _Recording(nlp_en)
    doc = make_doc(rec, text)
    assert doc.text == text
    assert max(len(chunk) for piece in rec.seen for chunk in piece.split()) <= RUN_WINDOW
    assert [t.idx for t in doc] == sorted(t.idx for t in doc)


def test_pathological_turn_keeps_its_sentences():
    run = "\U0001f600" * 20_000
    text = f"Wow. {run} Yes! Fine."
    start = text.index("Fine")
    assert sentence_spans(text) == [(0, 4), (5, start - 1), (start, len(text))]


def test_runs_up_to_the_limit_are_tokenised_whole(nlp_en):
    word = "https://example.org/" + "a" * (LONG_RUN - 21)  # with its full stop: LONG_RUN characters
    text = f"See {word}. Then {'!' * LONG_RUN} more. Done"
    assert [t.text for t in make_doc(nlp_en, text)] == [t.text for t in nlp_en.tokenizer(text)]
    assert make_doc(nlp_en, text).text == text


def test_a_run_of_sentence_final_chunks_is_scanned_once(nlp_en):
    """"! ! ! ..." has a sentence-final token in every chunk and no ordinary token after any of them: each
    chunk is looked at a bounded number of times, not once per final before it (that was quadratic)."""
    from vbhc_code.nlp.segment import _ChunkSummaries, _sentence_starts

    summaries = _ChunkSummaries("en")
    calls = [0]

    class Counting:
        known: dict = {}  # nothing remembered here: every look-up is counted

        def __call__(self, chunk: str):
            calls[0] += 1
            return summaries(chunk)

    counting = Counting()

    for text in ("! " * 3_000, "Yes. " + ". ) " * 1_500 + "\n"):
        calls[0] = 0
        _sentence_starts(text, counting)
        assert calls[0] <= 2 * len(text.split())
        assert sentence_spans(text) == reference(nlp_en, text)
    assert sentence_spans("! " * 3_000) == [(0, 5_999)]
