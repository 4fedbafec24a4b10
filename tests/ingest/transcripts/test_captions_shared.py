"""Readers on real captions and transcripts written by others (../shared/realdata, read in place).

The expected counts and offsets were checked by reading the files (see ../shared/realdata/SOURCES.md).
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from vbhc_code.ingest.transcripts import SpeakerRules, read_transcript
from vbhc_code.ingest.transcripts.captions import clean_cue_text

RULES = SpeakerRules()


@pytest.fixture(scope="module")
def realdata(shared_dir):
    path = shared_dir / "realdata"
    if not path.is_dir():
        pytest.skip("../shared/realdata missing")
    return path


def check_offsets(parsed) -> None:
    for t in parsed.turns:
        pieces = [parsed.plain_text[s:e] for s, e in t.text_spans]
        assert t.text == " ".join(clean_cue_text(p) for p in pieces)
        for s, e in t.text_spans:
            assert parsed.plain_text[s:e] == parsed.plain_text[s:e].strip()  # spans never start/end on blanks
        if t.is_single_span and "&" not in pieces[0] and "<" not in pieces[0]:
            assert parsed.plain_text[t.start : t.end] == t.text


def test_cdp_brief_bom_escaped_chevrons_and_cue_settings(realdata):
    raw = (realdata / "cdp_brief_080221_2012161.vtt").read_bytes().decode("utf-8-sig")
    parsed = read_transcript(realdata / "cdp_brief_080221_2012161.vtt", rules=RULES)
    assert parsed.encoding == "utf-8-sig" and parsed.plain_text == raw and parsed.plain_text.startswith("WEBVTT")
    # 17 lines start with &gt;&gt; (one &gt;&gt;&gt;), so 17 turns; none named.
    assert len(parsed.turns) == 17 == len(re.findall(r"^&gt;&gt;", raw, flags=re.M))
    assert {t.speaker for t in parsed.turns} == {None}
    first, second = parsed.turns[0], parsed.turns[1]
    assert first.text.startswith("GOOD MORNING\nEVERYONE. THE AUGUST 2nd, 2021") and len(first.text_spans) == 19
    assert first.start == raw.index("&gt;&gt;&gt; GOOD") + len("&gt;&gt;&gt; ")
    assert (second.text, second.line) == ("JUAREZ?", 75)
    assert second.start == raw.index("&gt;&gt; JUAREZ?") + len("&gt;&gt; ")
    assert second.timestamps == ("00:00:40.807 --> 00:00:43.209",)  # settings are not part of the timing
    assert all("align:" not in t.text and "-->" not in t.text for t in parsed.turns)
    assert parsed.warnings == (
        "cdp_brief_080221_2012161.vtt: speaker changes are marked with '>>' but not named; turns have no speaker",
    )
    check_offsets(parsed)


def test_cdp_fake_caption_trailing_spaces_are_not_in_spans(realdata):
    parsed = read_transcript(realdata / "cdp_fake_caption.vtt", rules=RULES)
    assert [(t.line, len(t.text_spans)) for t in parsed.turns] == [(4, 1), (7, 1), (10, 15), (55, 1)]
    assert parsed.turns[3].text == "I MAY HAVE AN OBJECTION."
    assert sum(len(t.text_spans) for t in parsed.turns) == 18  # every cue once
    check_offsets(parsed)


def test_cdp_oakland_literal_and_mid_cue_chevrons(realdata):
    raw = (realdata / "cdp_oakland_captions.vtt").read_text(encoding="utf-8")
    parsed = read_transcript(realdata / "cdp_oakland_captions.vtt", rules=RULES)
    # 54 '>>' markers (53 at a line start, one as '!>>') + the speech before the first marker.
    assert raw.count(">>") == 54
    assert len(parsed.turns) == 55
    assert (parsed.turns[0].text, parsed.turns[0].line) == ("successor agency/city council.", 7)
    present = parsed.turns[2]
    assert present.text == "present." and present.start == raw.index("fife?\n>> present.") + len("fife?\n>> ")
    fife = parsed.turns[1]
    assert fife.text.endswith("fife?") and fife.text_spans[-1][1] == raw.index("fife?") + 5  # the mid-cue split
    apologize = next(t for t in parsed.turns if t.text.startswith("I do apologize, MS."))
    assert apologize.line == 1350
    # 424 cues, the first empty; cues holding several speakers give one span per speaker.
    assert sum(len(t.text_spans) for t in parsed.turns) == 444
    check_offsets(parsed)


def test_pycaption_srt_caps_labels_manner_and_mid_cue_label(realdata):
    raw = (realdata / "pycaption_example.srt").read_text(encoding="utf-8")
    parsed = read_transcript(realdata / "pycaption_example.srt", rules=RULES)
    assert parsed.warnings == () and len(parsed.turns) == 103
    counts = Counter(t.speaker for t in parsed.turns)
    assert counts["LITHGOW"] == 39 and counts["MAN"] == 9 and counts[None] == 1
    assert "WOMAN ( gasping )" not in counts and counts["WOMAN"] == 6  # the manner is not part of the label
    first = parsed.turns[0]
    assert (first.speaker, first.text) == (None, "( clock ticking )")
    man = parsed.turns[1]
    assert (man.speaker, man.line, len(man.text_spans)) == ("MAN", 8, 3)
    narrator = next(t for t in parsed.turns if t.speaker == "NARRATOR")
    assert narrator.start == raw.index("A hundred years ago,") and narrator.line == 249  # label mid-cue 53
    before = parsed.turns[narrator.turn_index - 2]
    assert before.text.endswith("Major funding for NOVA\nis provided")
    assert parsed.turns[-1].text.endswith("NOVA is a production\nof WGBH Boston.")
    assert sum(len(t.text_spans) for t in parsed.turns) == 1848  # 1847 cues, cue 53 split in two
    check_offsets(parsed)


def test_qualcoder_txt_bracketed_ids_are_speakers(realdata):
    raw = (realdata / "qualcoder_transcript.txt").read_text(encoding="utf-8")
    parsed = read_transcript(realdata / "qualcoder_transcript.txt", rules=RULES)
    assert [t.speaker for t in parsed.turns] == ["id1", "id2", "id3", "id1", "id3", "id1", "id2"]
    assert [t.line for t in parsed.turns] == [1, 3, 5, 7, 9, 11, 13]
    assert all(not t.text.startswith("[") and t.role == "participant" for t in parsed.turns)
    assert parsed.turns[0].start == len("[id1] ") and parsed.turns[0].text.startswith("hello, I like the course.")
    assert parsed.turns[-1].text == "Hmm, I will ask the tutor for more help as I am really struggling."
    assert parsed.turns[-1].end == len(raw.rstrip())
    assert parsed.warnings == () and parsed.layout == ("bracketed ids",)
    check_offsets(parsed)


def test_qualcoder_docx_runs_and_paragraphs(realdata):
    parsed = read_transcript(realdata / "qualcoder_ID1.docx", rules=RULES)
    assert len(parsed.turns) == 3 and parsed.plain_text.endswith("\n")  # the empty last paragraph
    assert parsed.turns[2].text.endswith("I'm happy to pay \u20ac200.")  # the € run joins its neighbours
    assert parsed.plain_text.count("\n") == 3
    check_offsets(parsed)


def test_speaker_markers_never_reach_the_text(realdata):
    for name in ("cdp_brief_080221_2012161.vtt", "cdp_fake_caption.vtt", "cdp_oakland_captions.vtt"):
        parsed = read_transcript(realdata / name, rules=RULES)
        assert all("&gt;" not in t.text and ">>" not in t.text for t in parsed.turns), name
