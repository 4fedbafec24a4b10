"""spaCy pipelines (blank + rule-based components only: no model downloads) and sentence spans."""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from vbhc_code.errors import UsageError
from vbhc_code.ingest.transcripts.captions import _TAG, clean_cue_text
from vbhc_code.models import Turn
from vbhc_code.nlp import SUPPORTED_LANGUAGES  # re-exported: callers import it from here too

if TYPE_CHECKING:
    from spacy.language import Language

# spaCy is imported when a pipeline is first needed, not with this module: commands that need no tokenizer
# (e.g. ingest of an unchanged folder) then start without it (importing spaCy takes about a second).
TOKENIZER_CACHE = 500_000
# spaCy strips prefixes and suffixes from a whitespace-free chunk one character at a time, searching the rest
# of the chunk each time: quadratic on long runs ("!!!…", emoji). A run longer than LONG_RUN characters is
# tokenised in RUN_WINDOW-character windows instead, so the work per run is linear. No word of real speech
# is that long; only such runs can tokenise differently at a window's edge.
LONG_RUN = 128
RUN_WINDOW = 32
_LONG_RUN = re.compile(rf"\S{{{LONG_RUN + 1},}}")


@functools.cache
def blank_nlp(lang: str = "en", *, lemmatizer: bool = False) -> Language:
    """A blank pipeline with a rule-based sentencizer (and the lookup lemmatizer when asked).

    The lemma tables come from the ``spacy-lookups-data`` package, so nothing is downloaded.
    """
    if lang not in SUPPORTED_LANGUAGES:
        raise UsageError(f"unsupported language '{lang}' (supported: {', '.join(SUPPORTED_LANGUAGES)})")
    import spacy

    nlp = spacy.blank(lang)
    # spaCy's tokenizer caches 10,000 distinct chunks; an interview study has several times that many
    # ("care", "care,", "Care"), and a miss costs the affix rules again. A chunk is a few hundred bytes.
    tokenizer: Any = nlp.tokenizer  # spaCy types it as a plain callable
    tokenizer.max_cache_size = max(getattr(tokenizer, "max_cache_size", 0), TOKENIZER_CACHE)
    nlp.add_pipe("sentencizer")
    if lemmatizer:
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
    return nlp


def make_doc(nlp: Language, text: str):  # noqa: ANN201  # a spaCy Doc
    """``nlp``'s tokenizer on ``text``, with runs longer than ``LONG_RUN`` characters cut into windows.

    The Doc's text is ``text`` exactly (same character offsets); when there is no such run, the Doc is the
    tokenizer's own.
    """
    tokenizer: Any = nlp.tokenizer  # spaCy types it as a plain callable
    if len(text) <= LONG_RUN or _LONG_RUN.search(text) is None:
        return tokenizer(text)
    from spacy.tokens import Doc

    words: list[str] = []
    spaces: list[bool] = []
    for piece in _run_pieces(text):
        for token in tokenizer(piece):
            words.append(token.text)
            spaces.append(bool(token.whitespace_))
    return Doc(nlp.vocab, words=words, spaces=spaces)


def make_docs(nlp: Language, texts: Iterable[str]) -> Iterator[Any]:
    """``make_doc`` over a stream of texts."""
    for text in texts:
        yield make_doc(nlp, text)


def _run_pieces(text: str) -> Iterator[str]:
    """``text`` in consecutive pieces: the text between long runs, and each long run in windows."""
    pos = 0
    for m in _LONG_RUN.finditer(text):
        if m.start() > pos:
            yield text[pos:m.start()]
        for lo in range(m.start(), m.end(), RUN_WINDOW):
            yield text[lo:min(lo + RUN_WINDOW, m.end())]
        pos = m.end()
    if pos < len(text):
        yield text[pos:]


def sentence_spans(text: str, *, offset: int = 0, lang: str = "en") -> list[tuple[int, int]]:
    """Sentence spans of ``text`` as (start, end) shifted by ``offset``, trimmed of whitespace.

    >>> sentence_spans("It works. Does it? Yes!", offset=10)
    [(10, 19), (20, 28), (29, 33)]
    """
    return next(iter_sentence_spans([(text, offset)], lang=lang))


def iter_sentence_spans(
    pieces: Iterable[tuple[str, int]], *, lang: str = "en", batch_size: int = 256
) -> Iterator[list[tuple[int, int]]]:
    """Sentence spans for many (text, offset) pieces: spaCy's ``sentencizer`` rule (tested to give the same).

    The rule: a sentence starts at the first token and at the first token after a sentence-final token
    (one of the sentencizer's ``punct_chars``) that is neither punctuation nor sentence-final itself (an
    "ordinary" token). spaCy tokenizes each whitespace-free chunk on its own, and only a chunk holding a
    non-word character can hold a punctuation or sentence-final token (every Unicode punctuation character
    but ``_`` is outside ``\\w``). So only such chunks go through the tokenizer (each distinct one once); any
    other chunk is ordinary tokens from its first character, and whitespace makes tokens exactly as spaCy's
    tokenizer makes them (a whitespace run is one token, less a single leading space, which belongs to the
    token before it). ``batch_size`` is kept for callers; pieces are independent.
    """
    del batch_size
    summary = _ChunkSummaries(lang)
    for text, off in pieces:
        yield _trimmed(_sentence_starts(text, summary), text, off)


# A whitespace-free chunk with a character that is not a word character (or is "_"): only such a chunk can
# hold a punctuation token.
_PUNCT_CHUNK = re.compile(r"(?<!\S)\S*?(?:[^\w\s]|_)\S*")
_SPACES = re.compile(r"\s*")
_SUMMARY_CACHE = 1_000_000  # distinct chunks remembered per language (a few hundred bytes each)


class _ChunkSummaries:
    """Per distinct chunk: (offset of its first ordinary token or -1, offsets of the ordinary tokens that
    follow a sentence-final token inside it, whether a sentence-final token is left open at its end)."""

    _cache: dict[str, dict[str, tuple[int, tuple[int, ...], bool]]] = {}

    def __init__(self, lang: str) -> None:
        self.nlp = blank_nlp(lang)
        sentencizer: Any = self.nlp.get_pipe("sentencizer")
        self.finals = frozenset(sentencizer.punct_chars)
        self.known = self._cache.setdefault(lang, {})

    def __call__(self, chunk: str) -> tuple[int, tuple[int, ...], bool]:
        known = self.known.get(chunk)
        if known is not None:
            return known
        first, inner, open_final = -1, [], False
        for token in make_doc(self.nlp, chunk):
            if token.text in self.finals:
                open_final = True
            elif not token.is_punct:
                if first < 0:
                    first = token.idx
                if open_final:
                    inner.append(token.idx)
                    open_final = False
        found = (first, tuple(inner), open_final)
        if len(chunk) <= LONG_RUN:
            if len(self.known) >= _SUMMARY_CACHE:
                self.known.clear()
            self.known[chunk] = found
        return found


def _sentence_starts(text: str, summary: _ChunkSummaries) -> list[int]:
    """Character offsets where the sentencizer's rule starts a sentence in ``text`` (the first at 0)."""
    starts = {0}
    after: dict[int, int | None] = {}  # chunk end -> the first ordinary token after it (each run of text scanned once)
    known = summary.known
    for m in _PUNCT_CHUNK.finditer(text):
        chunk = m.group()
        _, inner, open_final = known.get(chunk) or summary(chunk)
        if inner:
            start = m.start()
            starts.update([start + k for k in inner])
        if open_final:
            at = _ordinary_after(text, m.end(), summary, after)
            if at is not None:
                starts.add(at)
    return sorted(starts)


def _ordinary_after(text: str, j: int, summary: _ChunkSummaries, after: dict[int, int | None]) -> int | None:
    """Start of the first ordinary token after the chunk that ends at ``j``, or None.

    Punctuation-only chunks in a row ("! ! ! ...") are passed over; ``after`` remembers the answer for every
    chunk end passed, so a turn is scanned once however many sentence-final tokens it has.
    """
    n, passed, found = len(text), [], None
    while j < n:
        if j in after:
            found = after[j]
            break
        passed.append(j)
        k = _SPACES.match(text, j).end()  # type: ignore[union-attr]  # \s* always matches
        if k > j and text[j] != " ":
            found = j  # a whitespace token
            break
        if k - j > 1:
            found = j + 1  # a whitespace token after the single space the chunk before keeps
            break
        if k >= n:
            break
        m = _PUNCT_CHUNK.match(text, k)
        if m is None:
            found = k  # a chunk of word characters: ordinary tokens only
            break
        first = summary(m.group())[0]
        if first >= 0:
            found = k + first
            break
        j = m.end()
    for p in passed:
        after[p] = found
    return found


def _trimmed(starts: list[int], raw: str, off: int) -> list[tuple[int, int]]:
    """Sentences from their start characters, whitespace trimmed, shifted by ``off``."""
    ends = [*starts[1:], len(raw)]
    spans: list[tuple[int, int]] = []
    for s, e in zip(starts, ends):
        while s < e and raw[s].isspace():
            s += 1
        while e > s and raw[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s + off, e + off))
    return spans


# html.unescape's own pattern (stdlib ``html._charref``): replaying it match by match keeps each decoded
# character's source range.
_CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")


def turn_text_offsets(turn: Turn, plain_text: str) -> tuple[list[int], list[int]] | None:
    """Document offsets of every character of ``turn.text``: (starts, ends), end-exclusive.

    ``turn.text`` is the cue texts (tags removed, HTML entities decoded) joined with one space; a decoded
    entity maps to its whole source range, the joining space to the gap between two cues. ``None`` when
    the text cannot be rebuilt from the spans (then no character maps exactly).
    """
    starts: list[int] = []
    ends: list[int] = []
    for k, (s, e) in enumerate(turn.text_spans):
        if k:
            starts.append(ends[-1] if ends else s)
            ends.append(s)
        _cue_offsets(plain_text, s, e, starts, ends)
    if len(starts) != len(turn.text):
        return None
    rebuilt = " ".join(clean_cue_text(plain_text[s:e]) for s, e in turn.text_spans)
    return (starts, ends) if rebuilt == turn.text else None


def _cue_offsets(plain: str, s: int, e: int, starts: list[int], ends: list[int]) -> None:
    """Append the source range of each character of ``clean_cue_text(plain[s:e])`` (tags, then entities)."""
    raw = plain[s:e]
    kept: list[int] = []  # document offset of each character left after removing tags
    pos = 0
    for m in _TAG.finditer(raw) if "<" in raw else ():
        kept.extend(range(s + pos, s + m.start()))
        pos = m.end()
    kept.extend(range(s + pos, e))
    untagged = _TAG.sub("", raw) if "<" in raw else raw
    if "&" not in untagged:
        starts.extend(kept)
        ends.extend(k + 1 for k in kept)
        return
    pos = 0
    for m in _CHARREF.finditer(untagged):
        starts.extend(kept[pos:m.start()])
        ends.extend(k + 1 for k in kept[pos:m.start()])
        lo, hi = kept[m.start()], kept[m.end() - 1] + 1
        decoded = html.unescape(m.group(0))
        starts.extend([lo] * len(decoded))
        ends.extend([hi] * len(decoded))
        pos = m.end()
    starts.extend(kept[pos:])
    ends.extend(k + 1 for k in kept[pos:])


def mapped_sentence_spans(spans: list[tuple[int, int]], offsets: tuple[list[int], list[int]]) -> list[tuple[int, int]]:
    """Sentence ``spans`` (offsets into a turn's text) as document spans: from the document offset of the first
    character to just after the last one."""
    starts, ends = offsets
    return [(starts[a], ends[b - 1]) for a, b in spans if b > a]
