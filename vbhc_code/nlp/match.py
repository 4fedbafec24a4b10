"""spaCy matching for the autocoder: normalisation, lookup lemmas, PhraseMatcher/Matcher over big Docs.

Kept beside ``vbhc_code.nlp.segment`` (which builds the pipelines) so that spaCy stays confined to these
two modules; ``vbhc_code.autocode.run`` and ``vbhc_code.codebook.load`` never import spaCy themselves.
(A separate module because the two are edited by different people; merging them is mechanical.)
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from vbhc_code.nlp.segment import blank_nlp, make_docs

# Normalisation keeps text length unchanged, so token offsets in a normalised text are offsets
# in the original text too.


def _normalisation_table() -> dict[int, str]:
    import unicodedata

    table: dict[int, str] = {}
    for ch in "\u2018\u2019\u201a\u201b\u2032\u02bc\u0060\u00b4":
        table[ord(ch)] = "'"
    for ch in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb":
        table[ord(ch)] = '"'
    for ch in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212":
        table[ord(ch)] = "-"
    for ch in "\u00a0\u2007\u2009\u202f\u2002\u2003":
        table[ord(ch)] = " "
    # Precomposed Latin letters with diacritics -> base letter ("patiënt" == "patient", "financiële").
    for code in range(0xC0, 0x250):
        decomposed = unicodedata.normalize("NFD", chr(code))
        if len(decomposed) > 1 and decomposed[0].isascii() and decomposed[0].isalpha():
            if all(unicodedata.combining(c) for c in decomposed[1:]):
                table[code] = decomposed[0]
    return table


_NORMALISE = _normalisation_table()
_COMMON = [(chr(c), _NORMALISE[c]) for c in (0x2019, 0x2018, 0x201C, 0x201D, 0x2013, 0x2014)]


def normalise_for_matching(text: str) -> str:
    """Curly quotes, dashes, odd spaces and diacritics folded, one character for one character.

    >>> normalise_for_matching("Patiënt\u2019s “rapid” re\u2011assessment")
    'Patient\\'s "rapid" re-assessment'
    """
    if text.isascii():
        return text
    for old, new in _COMMON:  # str.replace is much faster than translate for the usual few
        text = text.replace(old, new)
    return text if text.isascii() else text.translate(_NORMALISE)


@functools.cache
def lemma_lookup(lang: str) -> dict[str, str]:
    """Lower-case (normalised) word form -> lemma, from ``spacy-lookups-data``'s lookup table."""
    from spacy.util import load_language_data, registry

    try:
        table: Any = load_language_data(registry.lookups.get(lang)["lemma_lookup"])
    except Exception:  # pragma: no cover - no spacy-lookups-data: phrases still match on LOWER
        return {}
    out: dict[str, str] = {}
    capitalised: dict[str, str] = {}
    for form, lemma in table.items():
        if not isinstance(form, str) or not isinstance(lemma, str):
            continue
        key = normalise_for_matching(form).lower()
        value = normalise_for_matching(lemma).lower()
        # A lower-case entry wins over a capitalised one ("Left" may be a name).
        (out if form == form.lower() else capitalised)[key] = value
    for key, value in capitalised.items():
        out.setdefault(key, value)
    return out


def pattern_problem(pattern: object) -> str | None:
    """Why spaCy's token ``Matcher`` rejects ``pattern`` (None when it accepts it)."""
    import re

    from spacy.matcher import Matcher

    if not isinstance(pattern, list) or not pattern or not all(isinstance(t, dict) for t in pattern):
        return "a token pattern must be a non-empty list of tables, one per token"
    matcher = Matcher(blank_nlp("en").vocab, validate=True)
    try:
        matcher.add("check", [pattern])
    except Exception as exc:  # spaCy raises ValueError/MatchPatternError/KeyError with long texts
        lines = [ln.strip().lstrip("- ").strip() for ln in str(exc).splitlines() if ln.strip()]
        detail = []
        for line in lines:
            m = re.match(r"^\[pattern -> (\d+) -> (.+?)\] (.*)$", line)
            if m:
                detail.append(f"token {m.group(1)} {m.group(2)}: {m.group(3)}")
            elif not re.match(r"^(\[E\d+\]|Invalid token patterns|Pattern \d+:?$)", line):
                detail.append(line)
        return "spaCy's Matcher rejects it: " + ("; ".join(detail) or (lines[0] if lines else type(exc).__name__))
    return None


# Set only by trained pipeline components, which the autocoder never loads (spacy.blank only).
UNSET_ATTRS = ("POS", "TAG", "DEP", "MORPH", "ENT_TYPE", "ENT_IOB", "ENT_ID")


def pattern_unset_attrs(pattern: list[dict]) -> list[tuple[int, str]]:
    """(token, attribute) pairs of ``pattern`` that a tokenizer-only pipeline leaves empty.

    >>> pattern_unset_attrs([{"LOWER": "value"}, {"pos": "NOUN", "OP": "?"}])
    [(1, 'POS')]
    """
    return [(i, key.upper()) for i, tok in enumerate(pattern) for key in tok if key.upper() in UNSET_ATTRS]


_TEXT_ATTRS = ("LOWER", "LEMMA", "ORTH", "TEXT", "NORM")
CACHE_CHUNKS = 500_000
_ANCHOR = "\x00anchor"


def _normalise_pattern(pattern: list[dict]) -> list[dict]:
    """Pattern strings normalised like the text (LOWER/LEMMA/NORM values also lower-cased)."""

    def norm(attr: str, value: object) -> object:
        if isinstance(value, str):
            v = normalise_for_matching(value)
            return v.lower() if attr in ("LOWER", "LEMMA", "NORM") else v
        if isinstance(value, dict):
            return {
                k: ([norm(attr, x) for x in v] if k in ("IN", "NOT_IN") and isinstance(v, list) else v)
                for k, v in value.items()
            }
        return value

    return [{k: (norm(k.upper(), v) if k.upper() in _TEXT_ATTRS else v) for k, v in tok.items()} for tok in pattern]


def _pattern_anchor(pattern: list[dict]) -> tuple[str, list[str]] | None:
    """One (attr, values) a text must contain for ``pattern`` to match, if the pattern has one."""
    for tok in pattern:
        if str(tok.get("OP", "1")) not in ("1", "+"):
            continue
        for attr in ("LOWER", "LEMMA"):
            value = tok.get(attr)
            if isinstance(value, str):
                return attr, [value]
            if isinstance(value, dict) and isinstance(value.get("IN"), list) and len(value) == 1:
                return attr, [str(v) for v in value["IN"]]
    return None


def _pattern_span(pattern: list[dict]) -> int | None:
    """The most tokens ``pattern`` can match (None when unbounded)."""
    total = 0
    for tok in pattern:
        op = str(tok.get("OP", "1"))
        if op in ("1", "!", "?"):
            total += 1
        elif op.startswith("{") and op.endswith("}"):
            high = op[1:-1].split(",")[-1].strip()
            if not high:
                return None
            total += int(high)
        else:  # * and +
            return None
    return total


class TermMatcher:
    """Phrases on LOWER and LEMMA (``PhraseMatcher``) plus token patterns (``Matcher``).

    Texts are tokenized only (no pipeline components); lemmas come from the lookup table and are
    set for all tokens at once with ``Doc.from_array`` (no per-token Python); the token ``Matcher``
    runs only on windows around a token each pattern requires (found by the phrase matchers), and in each
    window only the patterns whose required token is there.
    """

    def __init__(self, lang: str) -> None:
        from spacy.matcher import Matcher, PhraseMatcher

        self.lang = lang
        self.nlp = blank_nlp(lang)
        self.vocab = self.nlp.vocab
        # spaCy's tokenizer caches at most 10,000 distinct chunks by default; the thousands of
        # phrase variants tokenized here would fill it and leave the transcripts' words uncached
        # (3-10x slower). A larger cache costs a few MB per 100k distinct chunks.
        tokenizer: Any = self.nlp.tokenizer  # spaCy types it as a plain callable
        if getattr(tokenizer, "max_cache_size", 0) < CACHE_CHUNKS:
            tokenizer.max_cache_size = CACHE_CHUNKS
        self._lower = PhraseMatcher(self.vocab, attr="LOWER")
        self._lemma = PhraseMatcher(self.vocab, attr="LEMMA")
        self._tokens = Matcher(self.vocab)
        self._anchored: dict[str, Any] = {}  # anchor key -> a Matcher of the one pattern that anchor belongs to
        self._full_lemmas = lemma_lookup(lang)
        self._wanted: set[str] = set()  # lemmas that occur in phrases or patterns
        self._unanchored = False
        self._window: int | None = 0  # longest pattern; None when some pattern is unbounded
        self._n_lower = self._n_lemma = self._n_patterns = 0
        self._ready = False

    def lemmatise(self, phrase: str) -> list[str]:
        """The lemma of every token of ``phrase`` (normalised, lower-case)."""
        doc = self.nlp.make_doc(normalise_for_matching(phrase))
        return [self._full_lemmas.get(t.lower_, t.lower_) for t in doc]

    def add_lower(self, key: str, phrases: Iterable[str]) -> None:
        docs = [self.nlp.make_doc(normalise_for_matching(p)) for p in phrases if p.strip()]
        if docs:
            self._lower.add(key, docs)
            self._n_lower += len(docs)
            self._ready = False

    def add_lemma(self, key: str, phrases: Iterable[str]) -> None:
        import numpy as np
        from spacy.attrs import LEMMA

        docs = []
        for phrase in phrases:
            doc = self.nlp.make_doc(normalise_for_matching(phrase))
            if not len(doc):
                continue
            lemmas = [self._full_lemmas.get(t.lower_, t.lower_) for t in doc]
            self._wanted.update(lemmas)
            lemma_ids = np.array([self.vocab.strings.add(x) for x in lemmas], dtype="uint64")
            doc.from_array([LEMMA], lemma_ids)  # type: ignore[arg-type]  # one attribute: a 1-D array works
            docs.append(doc)
        if docs:
            self._lemma.add(key, docs)
            self._n_lemma += len(docs)
            self._ready = False

    def add_pattern(self, key: str, pattern: list[dict]) -> None:
        import numpy as np
        from spacy.attrs import LEMMA

        pattern = _normalise_pattern(pattern)
        self._tokens.add(key, [pattern])
        self._n_patterns += 1
        for tok in pattern:
            value = tok.get("LEMMA")
            if isinstance(value, str):
                self._wanted.add(value)
            elif isinstance(value, dict):
                self._wanted.update(str(v) for v in value.get("IN", []))
        span = _pattern_span(pattern)
        self._window = None if span is None or self._window is None else max(self._window, span)
        anchor = _pattern_anchor(pattern)
        docs = []
        if anchor is not None:
            attr, values = anchor
            docs = [self.nlp.make_doc(v) for v in values]
            if attr == "LEMMA":
                for doc in docs:
                    lemma_ids = np.array([self.vocab.strings.add(doc.text)], dtype="uint64")
                    doc.from_array([LEMMA], lemma_ids)  # type: ignore[arg-type]  # one attribute: 1-D works
        if anchor is None or any(len(d) != 1 for d in docs):
            self._unanchored = True
        else:
            # Anchor tokens ride along in the phrase matchers: their hits say where patterns can match.
            # Each pattern has its own anchor key and Matcher: a window runs only the patterns anchored in it.
            from spacy.matcher import Matcher

            anchor_key = f"{_ANCHOR}{self._n_patterns}"
            (self._lemma if anchor[0] == "LEMMA" else self._lower).add(anchor_key, docs)
            self._anchored[anchor_key] = Matcher(self.vocab)
            self._anchored[anchor_key].add(key, [pattern])
        self._ready = False

    def _prepare(self) -> None:
        import numpy as np

        # Only forms whose lemma some phrase or pattern uses need a lemma; the rest keep LOWER.
        pairs = sorted(
            (self.vocab.strings.add(form), self.vocab.strings.add(lemma))
            for form, lemma in self._full_lemmas.items()
            if lemma in self._wanted and form != lemma
        )
        self._keys = np.array([k for k, _ in pairs], dtype="uint64")
        self._values = np.array([v for _, v in pairs], dtype="uint64")
        self._anchor_ids = {self.vocab.strings.add(k): m for k, m in self._anchored.items()}
        self._ready = True

    def _set_lemmas(self, doc):  # noqa: ANN001, ANN202
        import numpy as np
        from spacy.attrs import LEMMA, LOWER

        lower = doc.to_array(LOWER)
        lemmas = lower
        if len(self._keys):
            idx = np.searchsorted(self._keys, lower)
            idx[idx >= len(self._keys)] = 0
            hit = self._keys[idx] == lower
            if hit.any():
                lemmas = np.where(hit, self._values[idx], lower)
        doc.from_array([LEMMA], lemmas)
        return lower, lemmas

    def _windows(self, anchors: list[int], n_tokens: int) -> list[tuple[int, int]]:
        """Token ranges the token ``Matcher`` must see: around tokens some pattern requires.

        Every match contains its pattern's anchor token, so a window of the longest pattern's
        length either side of each anchor finds every match.
        """
        if self._unanchored or self._window is None:
            return [(0, n_tokens)] if (self._unanchored or anchors) else []
        windows: list[tuple[int, int]] = []
        for pos in sorted(anchors):
            lo, hi = max(pos - self._window + 1, 0), min(pos + self._window, n_tokens)
            if windows and lo <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(hi, windows[-1][1]))
            else:
                windows.append((lo, hi))
        return windows

    def _pattern_matches(self, doc, anchors: list[tuple[int, int]]) -> list[tuple[int, str, int, int]]:  # noqa: ANN001
        """Token-pattern matches: each pattern run only in the windows around its own anchor tokens (every
        pattern anchored and bounded), else every pattern in the windows around all anchors (or the whole doc)."""
        found = []
        if self._unanchored or self._window is None:
            for lo, hi in self._windows([s for _, s in anchors], len(doc)):
                found += [(m, "pattern", s + lo, e + lo) for m, s, e in self._tokens(doc[lo:hi])]
            return found
        by_anchor: dict[int, list[int]] = defaultdict(list)
        for m, s in anchors:
            by_anchor[m].append(s)
        for anchor, positions in by_anchor.items():
            matcher = self._anchor_ids[anchor]
            for lo, hi in self._windows(positions, len(doc)):
                found += [(m, "pattern", s + lo, e + lo) for m, s, e in matcher(doc[lo:hi])]
        return found

    def pipe(self, texts: Iterable[str], *, batch_size: int = 1000) -> Iterator[list[tuple[str, str, int, int]]]:
        """Matches per text, as ``(key, via, start_char, end_char)`` offsets into that text.

        ``via`` is ``lower``, ``lemma`` or ``pattern``. One tokenizer-only ``Doc`` per text: spaCy's
        tokenizer cache stops working within a ``Doc`` after its first special case, so joining
        texts into big Docs would be slower, while the per-``Doc`` work here is a few array calls.
        """
        if not self._ready:
            self._prepare()
        strings = self.vocab.strings
        anchor_ids = self._anchor_ids
        normalised = (normalise_for_matching(t) for t in texts)
        for doc in make_docs(self.nlp, normalised):
            if not len(doc):
                yield []
                continue
            self._set_lemmas(doc)
            found = [(m, "lower", s, e) for m, s, e in self._lower(doc)]
            found += [(m, "lemma", s, e) for m, s, e in self._lemma(doc)]
            if self._n_patterns:
                found += self._pattern_matches(doc, [(m, s) for m, _, s, _ in found if m in anchor_ids])
            out = []
            for match_id, via, start, end in found:
                if match_id in anchor_ids:
                    continue
                last = doc[end - 1]
                out.append((strings[match_id], via, doc[start].idx, last.idx + len(last)))
            yield out


def word_lemmas(texts: Iterable[str], lang: str) -> Iterator[list[tuple[str, str]]]:
    """Per text, its words as (lower-case form, lookup lemma), punctuation, numbers and spaces left out."""
    nlp = blank_nlp(lang)
    lemmas = lemma_lookup(lang)
    for doc in make_docs(nlp, (normalise_for_matching(t) for t in texts)):
        yield [(t.lower_, lemmas.get(t.lower_, t.lower_)) for t in doc if t.is_alpha and len(t) > 1]


def stop_words(lang: str) -> frozenset[str]:
    """spaCy's stop words of ``lang`` (lower case), for filtering n-grams."""
    return frozenset(blank_nlp(lang).Defaults.stop_words)
