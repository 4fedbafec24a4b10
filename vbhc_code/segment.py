"""spaCy pipelines (blank + rule-based components only: no model downloads) and sentence spans."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator

import spacy
from spacy.language import Language

from vbhc_code.errors import UsageError

SUPPORTED_LANGUAGES = ("en", "nl")


@functools.lru_cache(maxsize=None)
def blank_nlp(lang: str = "en", *, lemmatizer: bool = False) -> Language:
    """A blank pipeline with a rule-based sentencizer (and the lookup lemmatizer when asked).

    The lemma tables come from the ``spacy-lookups-data`` package, so nothing is downloaded.
    """
    if lang not in SUPPORTED_LANGUAGES:
        raise UsageError(f"unsupported language '{lang}' (supported: {', '.join(SUPPORTED_LANGUAGES)})")
    nlp = spacy.blank(lang)
    nlp.add_pipe("sentencizer")
    if lemmatizer:
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
    return nlp


def sentence_spans(text: str, *, offset: int = 0, lang: str = "en") -> list[tuple[int, int]]:
    """Sentence spans of ``text`` as (start, end) shifted by ``offset``, trimmed of whitespace.

    >>> sentence_spans("It works. Does it? Yes!", offset=10)
    [(10, 19), (20, 28), (29, 33)]
    """
    return next(iter_sentence_spans([(text, offset)], lang=lang))


def iter_sentence_spans(
    pieces: Iterable[tuple[str, int]], *, lang: str = "en", batch_size: int = 256
) -> Iterator[list[tuple[int, int]]]:
    """Sentence spans for many (text, offset) pieces, streamed through ``nlp.pipe``."""
    nlp = blank_nlp(lang)
    pieces = iter(pieces)

    def texts_and_offsets() -> Iterator[tuple[str, int]]:
        yield from pieces

    for doc, off in nlp.pipe(texts_and_offsets(), as_tuples=True, batch_size=batch_size):
        spans: list[tuple[int, int]] = []
        for sent in doc.sents:
            s, e = sent.start_char, sent.end_char
            raw = doc.text
            while s < e and raw[s].isspace():
                s += 1
            while e > s and raw[e - 1].isspace():
                e -= 1
            if e > s:
                spans.append((s + off, e + off))
        yield spans
