"""spaCy matching for the autocoder: normalisation, lookup lemmas, PhraseMatcher/Matcher over big Docs.

Kept beside ``vbhc_code.segment`` (which builds the pipelines) so that spaCy stays confined to these
two modules; ``vbhc_code.autocode`` and ``vbhc_code.codebook`` never import spaCy themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator

from vbhc_code.segment import blank_nlp

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


def normalise_for_matching(text: str) -> str:
    """Curly quotes, dashes, odd spaces and diacritics folded, one character for one character.

    >>> normalise_for_matching("Patiënt\u2019s “rapid” re\u2011assessment")
    'Patient\\'s "rapid" re-assessment'
    """
    return text.translate(_NORMALISE)


@functools.lru_cache(maxsize=None)
def lemma_lookup(lang: str) -> dict[str, str]:
    """Lower-case (normalised) word form -> lemma, from ``spacy-lookups-data``'s lookup table."""
    from spacy.util import load_language_data, registry

    try:
        table = load_language_data(registry.lookups.get(lang)["lemma_lookup"])
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


_TEXT_ATTRS = ("LOWER", "LEMMA", "ORTH", "TEXT", "NORM")


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

    Texts are tokenized only (no pipeline components) and joined into large ``Doc`` chunks; lemmas
    come from the lookup table and are set for all tokens at once with ``Doc.from_array`` (no
    per-token Python); the token ``Matcher`` runs only on windows around tokens a pattern requires.
    """

    def __init__(self, lang: str) -> None:
        from spacy.matcher import Matcher, PhraseMatcher

        self.lang = lang
        self.nlp = blank_nlp(lang)
        self.vocab = self.nlp.vocab
        self._lower = PhraseMatcher(self.vocab, attr="LOWER")
        self._lemma = PhraseMatcher(self.vocab, attr="LEMMA")
        self._tokens = Matcher(self.vocab)
        self._full_lemmas = lemma_lookup(lang)
        self._wanted: set[str] = set()  # lemmas that occur in phrases or patterns
        self._anchors: dict[str, set[int]] = {"LOWER": set(), "LEMMA": set()}
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
            doc.from_array([LEMMA], np.array([self.vocab.strings.add(x) for x in lemmas], dtype="uint64"))
            docs.append(doc)
        if docs:
            self._lemma.add(key, docs)
            self._n_lemma += len(docs)
            self._ready = False

    def add_pattern(self, key: str, pattern: list[dict]) -> None:
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
        if anchor is None:
            self._unanchored = True
        else:
            attr, values = anchor
            self._anchors[attr].update(self.vocab.strings.add(v) for v in values)
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
        self._anchor_arrays = {a: np.array(sorted(v), dtype="uint64") for a, v in self._anchors.items()}
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

    def _candidate_windows(self, lower, lemmas, piece_tokens) -> list[tuple[int, int]]:  # noqa: ANN001
        """Token ranges the token ``Matcher`` must see: around tokens some pattern requires.

        Every match contains its pattern's anchor token, so a window of the longest pattern's
        length either side of each anchor (clipped to its text) finds every match.
        """
        import numpy as np

        n_pieces = len(piece_tokens) - 1
        if self._unanchored:
            return [(int(piece_tokens[i]), int(piece_tokens[i + 1])) for i in range(n_pieces)]
        hits = np.zeros(len(lower), dtype=bool)
        for arr, anchors in ((lower, self._anchor_arrays["LOWER"]), (lemmas, self._anchor_arrays["LEMMA"])):
            if len(anchors):
                hits |= np.isin(arr, anchors)
        positions = np.flatnonzero(hits)
        if not len(positions):
            return []
        pieces = np.searchsorted(piece_tokens, positions, side="right") - 1
        lo_piece, hi_piece = piece_tokens[pieces], piece_tokens[pieces + 1]
        if self._window is None:
            lo, hi = lo_piece, hi_piece
        else:
            lo = np.maximum(positions - self._window + 1, lo_piece)
            hi = np.minimum(positions + self._window, hi_piece)
        windows: list[tuple[int, int]] = []
        for a, b in zip(lo.tolist(), hi.tolist()):
            if windows and windows[-1][0] <= a <= windows[-1][1]:
                # overlapping windows merge; a match that crosses two texts is dropped later
                if b > windows[-1][1]:
                    windows[-1] = (windows[-1][0], b)
                continue
            windows.append((a, b))
        return windows

    def pipe(self, texts: Iterable[str], *, chunk_chars: int = 200_000) -> Iterator[list[tuple[str, str, int, int]]]:
        """Matches per text, as ``(key, via, start_char, end_char)`` offsets into that text.

        ``via`` is ``lower``, ``lemma`` or ``pattern``. Texts are joined into large chunks separated
        by a blank line (which no phrase can span), so the per-``Doc`` cost is paid per chunk.
        """
        if not self._ready:
            self._prepare()
        chunk: list[str] = []
        size = 0
        for text in texts:
            chunk.append(text)
            size += len(text) + 2
            if size >= chunk_chars:
                yield from self._match_chunk(chunk)
                chunk, size = [], 0
        if chunk:
            yield from self._match_chunk(chunk)

    def _match_chunk(self, texts: list[str]) -> list[list[tuple[str, str, int, int]]]:
        import numpy as np
        from spacy.attrs import IDX

        starts = []
        pos = 0
        for text in texts:
            starts.append(pos)
            pos += len(text) + 2
        out: list[list[tuple[str, str, int, int]]] = [[] for _ in texts]
        doc = self.nlp.make_doc(normalise_for_matching("\n\n".join(texts)))
        if not len(doc):
            return out
        lower, lemmas = self._set_lemmas(doc)
        token_idx = doc.to_array(IDX).astype("int64")
        # piece_tokens[i] = first token of text i; a sentinel closes the last one.
        piece_tokens = np.append(np.searchsorted(token_idx, np.array(starts, dtype="int64")), len(doc))
        found: list[tuple[int, str, int, int]] = []
        for via, matcher in (("lower", self._lower), ("lemma", self._lemma)):
            found += [(match_id, via, start, end) for match_id, start, end in matcher(doc)]
        if self._n_patterns:
            for lo, hi in self._candidate_windows(lower, lemmas, piece_tokens):
                if hi > lo:
                    found += [(m, "pattern", s + lo, e + lo) for m, s, e in self._tokens(doc[lo:hi])]
        strings = self.vocab.strings
        for match_id, via, start, end in found:
            piece = int(np.searchsorted(piece_tokens, start, side="right")) - 1
            if end > piece_tokens[piece + 1]:
                continue  # spans two texts (only a pattern with wildcards could)
            first, last = doc[start], doc[end - 1]
            base = starts[piece]
            out[piece].append((strings[match_id], via, first.idx - base, last.idx + len(last) - base))
        return out
