"""Quotes read as prose: line breaks, sound descriptions, the word cap, and every kept piece verbatim."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from repo_paths import SHARED

from vbhc_code.themes.prose import is_description, prose, verbatim_pieces
from vbhc_code.themes.quotes import MAX_WORDS, word_count


def _norm(text):
    return " ".join(text.split())


def _verbatim(quote, text):
    pieces = verbatim_pieces(quote)
    assert pieces and all(_norm(p) in _norm(text) for p in pieces), quote
    return pieces


def test_caption_line_breaks_read_as_spaces():
    text = "we reorganised the unit\naround one patient group,\nfrom the first visit."
    p = prose(text, 0, len(text))
    assert p.text == "we reorganised the unit around one patient group, from the first visit."
    assert "\n" not in p.text and p.pieces == ((0, len(text)),)


def test_sound_and_speaker_descriptions_are_left_out_with_an_ellipsis():
    text = "( people yelling ) So we tried it again [MUSIC] and it worked (laughs). The agency (UWV) paid."
    p = prose(text, 0, len(text))
    assert p.text == "... So we tried it again ... and it worked ... The agency (UWV) paid."
    assert "yelling" not in p.text and "MUSIC" not in p.text and "laughs" not in p.text
    _verbatim(p.text, text)
    assert is_description("( sighs )") and is_description("[inaudible]") and is_description("(APPLAUSE)") and not is_description("(UWV)")
    assert is_description("(speaking Dutch)") and not is_description("(the benefits agency)")


def test_a_long_unpunctuated_sentence_is_cut_at_a_boundary_never_mid_word():
    words = [f"word{i}" for i in range(222)]
    text = " ".join(words)  # one 222-word "sentence" without punctuation
    p = prose(text, 0, len(text))
    pieces = _verbatim(p.text, text)
    assert p.text.endswith(" ...") and word_count(" ".join(pieces)) <= MAX_WORDS
    end = p.pieces[-1][1]
    assert text[end] == " "  # cut between words
    with_clauses = ", ".join(" ".join(words[i:i + 9]) for i in range(0, 222, 9))
    q = prose(with_clauses, 0, len(with_clauses))
    assert word_count(q.text) <= MAX_WORDS and q.text.endswith(" ...")
    assert with_clauses[q.pieces[-1][1]] == ","  # at a clause boundary, the comma left out
    conj = " ".join(words[:40]) + " and " + " ".join(words[40:100])
    c = prose(conj, 0, len(conj))
    assert c.text == " ".join(words[:40]) + " ..."  # before the conjunction, no comma to cut at


def test_sentence_boundary_wins_over_clause():
    first = "We started small, with one team, and one condition, in one hospital."
    text = first + " " + ", ".join(["then we grew slowly"] * 20) + "."
    p = prose(text, 0, len(text))
    assert p.text.startswith(first) and p.text.endswith(" ...")
    assert word_count(p.text) <= MAX_WORDS
    assert prose(text, 0, len(text), max_words=None).text == _norm(text)  # a pinned quote keeps its length


def test_cut_marks_at_both_ends():
    text = "Before. The middle part is what we quote here. After."
    p = prose(text, 8, 46, cut_before=True, cut_after=True)
    assert p.text == "... The middle part is what we quote here. ..."


@pytest.mark.skipif(not (SHARED / "realdata").is_dir(), reason="../shared/realdata is not there")
def test_real_captions_read_as_prose():
    """Every window of real WebVTT captions: no description left, verbatim pieces, at most MAX_WORDS words."""
    checked = 0
    for path in sorted(Path(SHARED / "realdata").glob("*.vtt")):
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
                 if ln.strip() and "-->" not in ln and ln.strip() != "WEBVTT" and not ln.strip().isdigit()]
        text = "\n".join(lines)
        for start in range(0, max(1, len(text) - 1500), 700):
            a = text.rfind("\n", 0, start) + 1
            p = prose(text, a, min(len(text), a + 1500))
            if not p.pieces:
                continue
            pieces = _verbatim(p.text, text)
            assert word_count(" ".join(pieces)) <= MAX_WORDS
            assert not re.search(r"\(\s+\w[^()]*\s+\)", p.text)  # no "( people yelling )"
            assert "\n" not in p.text
            checked += 1
    assert checked > 5
