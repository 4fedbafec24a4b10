"""Quotes that read as prose: caption line breaks as spaces, sound and speaker descriptions left out,
at most ``MAX_WORDS`` words cut at a sentence or clause boundary, ``...`` wherever text is left out.

Every kept piece is verbatim: ``Prose.pieces`` are offsets into the turn text, and the quote text is
those pieces (whitespace runs read as one space) joined by ``...``.

>>> said = "So we tried ( laughs ) again.\\nAnd it worked."
>>> prose(said, 0, len(said)).text
'So we tried ... again. And it worked.'
>>> prose("(the agency) did it", 0, 19).text
'(the agency) did it'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vbhc_code.themes.quotes import MAX_WORDS, MIN_WORDS, word_count

ELLIPSIS = "..."
# a bracketed or parenthesised group on one caption line
_GROUP = re.compile(r"\[[^\[\]\n]{0,120}\]|\([^()\n]{0,120}\)")
# words of caption sound descriptions: ( laughs ), (applause), [MUSIC], (inaudible), (speaking Dutch) ...
_SOUND = re.compile(
    r"(?i)\b(?:laugh|chuckl|giggl|sigh|gasp|applau|music|inaudible|unintelligible|indistinct|crosstalk|cough|"
    r"pause|silence|noise|background|yell|cheer|sob|whistl|knock|voice|speaking|clap|murmur|groan|sniff|"
    r"overlapping|interpos|beep|ring|phone|door|static)"
)
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)")
_CLAUSE_END = re.compile(r"[,;:–—](?=\s)|\s[-–—](?=\s)")
_CONJUNCTION = re.compile(r"(?i)\s(?=(?:and|but|so|because|which|or|then|when|while|although|whereas)\s)")
_SPACE = re.compile(r"\s(?=\S)")
_TRAILING = " \t\r\n,;:–—-"


def is_description(group: str) -> bool:
    """A non-speech description: any ``[...]``; a ``(...)`` of at most eight words that is padded
    (``( people yelling )``) or names a sound (``(laughs)``). An aside (``(the agency)``, ``(UWV)``) stays."""
    inner = group[1:-1]
    if group.startswith("[") or not inner.strip():
        return True
    if word_count(inner) > 8:
        return False
    return inner != inner.strip() or bool(_SOUND.search(inner))


@dataclass(frozen=True)
class Prose:
    pieces: tuple[tuple[int, int], ...]  # offsets into the turn text of the verbatim pieces
    text: str  # the pieces, whitespace runs as one space, joined by ' ... ' (and cut marks at the ends)
    cut_before: bool
    cut_after: bool


def _pieces(text: str, start: int, end: int) -> tuple[list[tuple[int, int]], bool, bool]:
    """Pieces of ``text[start:end]`` around description groups; (pieces, description first, description last)."""
    pieces, pos = [], start
    for m in _GROUP.finditer(text, start, end):
        if is_description(m.group()):
            pieces.append((pos, m.start()))
            pos = m.end()
    pieces.append((pos, end))
    kept = []
    for k, (a, b) in enumerate(pieces):
        # after a left-out description, the punctuation that closed it goes too ("(laughs). The" -> "The")
        while a < b and (text[a].isspace() or k and text[a] in ".,;:"):
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b and any(ch.isalnum() for ch in text[a:b]):  # a lone '.' after a description is no piece
            kept.append((a, b))
    if not kept:
        return [], False, False
    return kept, kept[0][0] > start and bool(text[start:kept[0][0]].strip()), \
        kept[-1][1] < end and bool(text[kept[-1][1]:end].strip())


def _cut(text: str, pieces: list[tuple[int, int]], max_words: int) -> tuple[list[tuple[int, int]], bool]:
    """The longest prefix of ``pieces`` of at most ``max_words`` words ending at the best boundary."""
    total = sum(word_count(text[a:b]) for a, b in pieces)
    if total <= max_words:
        return pieces, False
    for boundary in (_SENTENCE_END, _CLAUSE_END, _CONJUNCTION, _SPACE):
        best: tuple[int, int] | None = None  # (piece index, end offset)
        words_before = 0
        for i, (a, b) in enumerate(pieces):
            for m in boundary.finditer(text, a, b):
                stop = m.end() if boundary is _SENTENCE_END or boundary is _CLAUSE_END and m.group()[0] != " " \
                    else m.start()
                n = words_before + word_count(text[a:stop])
                if n > max_words:
                    break
                best = (i, stop)
            words_before += word_count(text[a:b])
            if words_before > max_words:
                break
        # a boundary keeping too little of the quote loses to a finer one further on
        if best is not None:
            i, stop = best
            kept = [*pieces[:i], (pieces[i][0], stop)]
            if boundary is _SPACE or sum(word_count(text[a:b]) for a, b in kept) >= min(MIN_WORDS, max_words):
                a, b = kept[-1]
                while b > a and text[b - 1] in _TRAILING:
                    b -= 1
                kept[-1] = (a, b)
                return [p for p in kept if p[0] < p[1]], True
    return pieces[:1], len(pieces) > 1  # pragma: no cover - a space boundary always exists past max_words


def prose(text: str, start: int, end: int, *, cut_before: bool = False, cut_after: bool = False,
          max_words: int | None = MAX_WORDS) -> Prose:
    """The quote of ``text[start:end]`` as prose (see the module docstring); ``max_words=None`` keeps its length
    (a researcher's pinned quote)."""
    pieces, lead, trail = _pieces(text, start, end)
    cut = False
    if pieces and max_words is not None:
        pieces, cut = _cut(text, pieces, max_words)
    before, after = cut_before or lead, cut_after or trail or cut
    body = f" {ELLIPSIS} ".join(" ".join(text[a:b].split()) for a, b in pieces)
    out = (f"{ELLIPSIS} " if before and body else "") + body + (f" {ELLIPSIS}" if after and body else "")
    return Prose(tuple(pieces), out, before, after)


def verbatim_pieces(quote_text: str) -> list[str]:
    """The verbatim pieces of a quote's text (what lies between its ``...`` marks)."""
    return [p.strip() for p in quote_text.split(ELLIPSIS) if p.strip()]


__all__ = ["ELLIPSIS", "MAX_WORDS", "MIN_WORDS", "Prose", "is_description", "prose", "verbatim_pieces"]
