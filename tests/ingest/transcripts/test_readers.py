"""Transcript readers: exact turns, offsets, labels, timestamps, chat, encodings (synthetic inputs)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from vbhc_code.errors import DataError
from vbhc_code.ingest.transcripts import SUPPORTED_SUFFIXES, SpeakerRules, parse_plain_text, read_bytes, read_transcript

RULES = SpeakerRules(known_labels=["P01", "P02", "Anna de Vries"])


def turns_of(text: str, fmt: str = "txt", rules: SpeakerRules = RULES):
    parsed = parse_plain_text(text, fmt=fmt, rules=rules)
    return parsed


def assert_offsets(parsed) -> None:
    for t in parsed.turns:
        if t.is_single_span:
            assert parsed.plain_text[t.start : t.end] == t.text


def test_supported_suffixes():
    assert SUPPORTED_SUFFIXES == (".txt", ".md", ".docx", ".vtt", ".srt")


# -- plain text -------------------------------------------------------------------------------------
def test_txt_header_labels_timestamps_and_continuation_lines():
    text = (
        "Project: VBHC\nDate: 3 May 2024\nNote: online\n\n"
        "Interviewer: [00:00:05] Welcome.\n\n"
        "P01 (00:00:12): First line.\n\nSecond paragraph.  \n\n"
        "00:01:02 P02: Leading stamp.\n"
        "P1: 01:02:03 Bare stamp.\n"
        "Int: short\n"
    )
    parsed = turns_of(text)
    got = [(t.speaker, t.role, t.text, t.timestamps, t.line) for t in parsed.turns]
    assert got == [
        ("Interviewer", "interviewer", "Welcome.", ("00:00:05",), 5),
        ("P01", "participant", "First line.\n\nSecond paragraph.", ("00:00:12",), 7),
        ("P02", "participant", "Leading stamp.", ("00:01:02",), 11),
        ("P1", "participant", "Bare stamp.", ("01:02:03",), 12),
        ("Int", "interviewer", "short", (), 13),
    ]
    assert [t.turn_index for t in parsed.turns] == [1, 2, 3, 4, 5]
    assert parsed.turns[0].start == text.index("Welcome.")
    assert_offsets(parsed)


def test_header_fields_are_never_labels_and_unknown_names_are_text():
    text = "Date: today\nInterviewer: Hi.\nLocation: not a speaker\nBob: not known either\nP02: Yes.\n"
    parsed = turns_of(text)
    assert [(t.speaker, t.text) for t in parsed.turns] == [
        ("Interviewer", "Hi.\nLocation: not a speaker\nBob: not known either"),
        ("P02", "Yes."),
    ]


def test_role_lines_among_header_fields_are_metadata_not_turns():
    text = (
        "Interview 3\nDate: 12-03-2024\nInterviewer: JdV\nRespondent: P03\n\nInterviewer: So, welcome.\nP03: Thanks.\n"
    )
    parsed = turns_of(text)
    assert [(t.speaker, t.text, t.line) for t in parsed.turns] == [
        ("Interviewer", "So, welcome.", 6),
        ("P03", "Thanks.", 7),
    ]
    # Without a header field in the first block, or with long speech, a label line is a turn as usual.
    assert [t.text for t in turns_of("Interviewer: JdV\n\nP03: Thanks.\n").turns] == ["JdV", "Thanks."]
    long = "Date: x\nInterviewer: " + "word " * 20 + "\n\nP03: Yes.\n"
    assert [t.speaker for t in turns_of(long).turns] == ["Interviewer", "P03"]
    speech = "Date: x\nInterviewer: Hi.\nP01: Hello there!\n\nInterviewer: Next.\n"
    assert [t.text for t in turns_of(speech).turns] == ["Hi.", "Hello there!", "Next."]
    # A title block before the header block ("Interview 7", "# Interview 7") is part of the header.
    titled = (
        "Interview 7\n\nDate: 2025-01-01\nInterviewer: A. Jansen\nRespondent: P03\n\nInterviewer: Hello.\nP03: Hi.\n"
    )
    assert [(t.speaker, t.text, t.line) for t in turns_of(titled).turns] == [
        ("Interviewer", "Hello.", 7),
        ("P03", "Hi.", 8),
    ]
    md = "# Interview 7\n\n**Date:** 2025-01-01\n**Interviewer:** A. Jansen\n\n**Interviewer:** Hello.\n**P03:** Hi.\n"
    assert [t.text for t in turns_of(md, fmt="md").turns] == ["Hello.", "Hi."]
    # Short turns before a block of fields are turns, not header.
    early = "Interviewer: Hi\nP01: Sure\n\nDate: 2025\n\nP01: ok then.\n"
    assert [t.text for t in turns_of(early).turns] == ["Hi", "Sure\n\nDate: 2025", "ok then."]


def test_default_role_labels_and_participant_style_ids():
    rules = SpeakerRules()
    for label, role in [("Interviewer", "interviewer"), ("Moderator", "interviewer"), ("Facilitator", "interviewer"),
                        ("Researcher", "interviewer"), ("Int", "interviewer"), ("I", "interviewer"),
                        ("Q", "interviewer"), ("R", "participant"), ("A", "participant"), ("P01", "participant"),
                        ("P1", "participant"), ("R3", "participant"), ("Participant 4", "participant"),
                        ("Respondent 2", "participant"), ("Interviewer 2", "interviewer")]:
        assert rules.accepts(label), label
        assert rules.role(label) == role, label
    for label in ["Date", "Note", "Location", "Duration", "Anna", "The point is", "http", "Participant"]:
        assert not rules.accepts(label), label


def test_known_labels_match_case_insensitively_and_p1_equals_p01():
    rules = SpeakerRules(known_labels=["P01", "Dr Bakker"])
    assert rules.accepts("p1") and rules.accepts("DR BAKKER")
    parsed = turns_of("dr bakker: hello\np1: hi\n", rules=rules)
    assert [t.speaker for t in parsed.turns] == ["dr bakker", "p1"]


def test_speaker_pattern_adds_to_the_default_rules():
    rules = SpeakerRules(pattern=r"[A-Z][a-z]+")
    parsed = turns_of("Interviewer: x\nAnna: one\nBert: two\n", rules=rules)
    assert [(t.speaker, t.text) for t in parsed.turns] == [("Interviewer", "x"), ("Anna", "one"), ("Bert", "two")]
    parsed = turns_of("P01: x\nAnna: one\n", rules=rules)
    assert [(t.speaker, t.text) for t in parsed.turns] == [("P01", "x"), ("Anna", "one")]  # P01 still a label
    # Without the pattern a once-only "Anna:" is text (with a located warning, see test_conventions.py).
    assert [t.speaker for t in turns_of("P01: x\nAnna: one\n", rules=SpeakerRules()).turns] == ["P01"]


def test_chat_lines_are_their_own_turns_in_sequence():
    text = "Moderator: Start.\n[chat 00:12:03] P02: see the link\nP01: Speech.\n[Chat 00:13:00] Anna de Vries: +1\n"
    parsed = turns_of(text)
    got = [(t.turn_index, t.speaker, t.turn_type, t.text, t.timestamps) for t in parsed.turns]
    assert got == [
        (1, "Moderator", "speech", "Start.", ()),
        (2, "P02", "chat", "see the link", ("00:12:03",)),
        (3, "P01", "speech", "Speech.", ()),
        (4, "Anna de Vries", "chat", "+1", ("00:13:00",)),
    ]
    assert_offsets(parsed)


def test_label_on_its_own_line_and_teams_style_name_time_line():
    parsed = turns_of("Interviewer:\n\n  Opening words.\nAnna de Vries   0:03\nHello there.\n")
    assert [(t.speaker, t.text, t.timestamps) for t in parsed.turns] == [
        ("Interviewer", "Opening words.", ()),
        ("Anna de Vries", "Hello there.", ("0:03",)),
    ]
    assert_offsets(parsed)


def test_teams_export_names_with_times_start_turns_without_a_participants_sheet():
    text = "Meeting notes\nKarin Smit   0:03\nGood morning.\nJoost van Dam   0:09\nMorning!\nDate 2024 1:00\n"
    parsed = parse_plain_text(text, fmt="txt", rules=SpeakerRules())
    assert [(t.speaker, t.text, t.timestamps) for t in parsed.turns] == [
        ("Karin Smit", "Good morning.", ("0:03",)),
        ("Joost van Dam", "Morning!\nDate 2024 1:00", ("0:09",)),
    ]


def test_empty_turns_are_dropped():
    parsed = turns_of("Interviewer:\nP01: Answer.\n")
    assert [(t.turn_index, t.speaker) for t in parsed.turns] == [(1, "P01")]


def test_no_labels_gives_paragraph_turns_with_a_warning():
    parsed = parse_plain_text("First para\nstill first.\n\n\nSecond.\n", fmt="txt", rules=RULES, display_name="x.txt")
    assert [(t.speaker, t.text, t.line) for t in parsed.turns] == [
        (None, "First para\nstill first.", 1),
        (None, "Second.", 5),
    ]
    assert parsed.warnings == (
        "x.txt: no speaker labels found; each paragraph is a turn with no speaker (name the speakers in a participants sheet, or give a speaker pattern)",
    )
    assert_offsets(parsed)


def test_markup_and_unicode_stay_in_the_plain_text():
    text = "P01: \u201csmart\u201d\u00a0quotes, <b>tags</b> and =SUM(A1) stay.\n"
    parsed = turns_of(text)
    assert parsed.plain_text == text
    assert parsed.turns[0].text == "\u201csmart\u201d\u00a0quotes, <b>tags</b> and =SUM(A1) stay."


# -- markdown ---------------------------------------------------------------------------------------
def test_markdown_bold_labels_headings_rules_and_chat_quotes():
    text = (
        "# Focus group\n\nDate: 2025-04-10\n\n"
        "**Moderator:** Welcome.\nMore welcome.\n\n"
        "**Karin Smit**: Any bold name counts.\n\n"
        "> **[chat 00:07:12] P02:** a chat line\n\n"
        "**P01:** After chat.\n\n---\n\nNot in any turn.\n\n## Part 2\n\n"
        "**Date:** a bold header field is not a speaker\n\n"
        "P02: plain label in markdown\n"
    )
    parsed = turns_of(text, fmt="md")
    assert [(t.speaker, t.turn_type, t.text) for t in parsed.turns] == [
        ("Moderator", "speech", "Welcome.\nMore welcome."),
        ("Karin Smit", "speech", "Any bold name counts."),
        ("P02", "chat", "a chat line"),
        ("P01", "speech", "After chat."),
        ("P02", "speech", "plain label in markdown"),
    ]
    assert parsed.turns[2].timestamps == ("00:07:12",)
    assert_offsets(parsed)


def test_label_without_a_space_after_the_colon_and_markdown_time_outside_the_bold():
    text = "Interviewer:So, A:B testing?\nP01:Yes.\nI:/share is a path\nNote:this stays text\n"
    parsed = turns_of(text)
    assert [(t.speaker, t.text) for t in parsed.turns] == [
        ("Interviewer", "So, A:B testing?"), ("P01", "Yes.\nI:/share is a path\nNote:this stays text")
    ]
    md = "**Interviewer** (00:02:00): Hm.\n**P01** [00:02:05]: Yes.\n**P02 (00:02:07):** No.\n"
    parsed = turns_of(md, fmt="md")
    assert [(t.speaker, t.timestamps, t.text) for t in parsed.turns] == [
        ("Interviewer", ("00:02:00",), "Hm."), ("P01", ("00:02:05",), "Yes."), ("P02", ("00:02:07",), "No.")
    ]
    assert_offsets(parsed)


# -- captions ---------------------------------------------------------------------------------------
VTT = """WEBVTT
Kind: captions

STYLE
::cue { color: yellow }

REGION
id:fred width:40%

NOTE a comment block
Interviewer: not speech

1
00:00:01.000 --> 00:00:03.000 align:start position:10%
<v Anna de Vries>Hello &amp; welcome</v>

2
00:00:03.500 --> 00:00:05.000
<v Anna de Vries>to the group.</v>

00:00:05.500 --> 00:00:07.000
<v.loud Bert Jansen>Thanks,
glad to be here.

NOTE
[chat 00:00:06] Bert Jansen: typed in the chat

00:00:07.500 --> 00:00:08.000
<v Bert Jansen>And more.</v>
"""


def test_vtt_voices_merge_same_speaker_cues_with_spans_and_decode_entities():
    parsed = parse_plain_text(VTT, fmt="vtt", rules=RULES)
    t1, t2, t3, t4 = parsed.turns
    assert (t1.speaker, t1.text, t1.turn_type) == ("Anna de Vries", "Hello & welcome to the group.", "speech")
    assert t1.text_spans == ((VTT.index("Hello"), VTT.index("</v>")), (VTT.index("to the"), VTT.index("group.") + 6))
    assert (t1.start, t1.end) == (t1.text_spans[0][0], t1.text_spans[1][1])
    assert t1.timestamps == ("00:00:01.000 --> 00:00:03.000", "00:00:03.500 --> 00:00:05.000")
    assert (t2.speaker, t2.text, t2.is_single_span) == ("Bert Jansen", "Thanks,\nglad to be here.", True)
    assert VTT[t2.start : t2.end] == t2.text
    assert (t3.turn_index, t3.turn_type, t3.speaker, t3.text) == (3, "chat", "Bert Jansen", "typed in the chat")
    assert (t4.turn_index, t4.speaker, t4.text) == (4, "Bert Jansen", "And more.")  # a chat line splits speech
    assert "not speech" not in " ".join(t.text for t in parsed.turns)


def test_vtt_name_colon_and_chevron_speaker_changes():
    text = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nAnna de Vries: Hi all.\n\n"
        "00:00:02.000 --> 00:00:03.000\nstill Anna.\n\n"
        "00:00:03.000 --> 00:00:04.000\n>> Someone else.\n\n"
        "00:00:04.000 --> 00:00:05.000\nmore of them? >> a third voice\n"
    )
    parsed = parse_plain_text(text, fmt="vtt", rules=SpeakerRules())
    assert [(t.speaker, t.text, len(t.text_spans)) for t in parsed.turns] == [
        ("Anna de Vries", "Hi all. still Anna.", 2),
        (None, "Someone else. more of them?", 2),
        (None, "a third voice", 1),
    ]


def test_vtt_without_speakers_gives_one_turn_per_cue_with_a_warning():
    text = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\none\n\n00:00:02.000 --> 00:00:03.000\ntwo\n"
    parsed = parse_plain_text(text, fmt="vtt", rules=RULES, display_name="c.vtt")
    assert [t.text for t in parsed.turns] == ["one", "two"]
    assert parsed.warnings == ("c.vtt: no speakers marked in the captions; each cue is a turn with no speaker",)


def test_a_timing_line_without_a_blank_line_starts_the_next_cue():
    text = "WEBVTT\n\n00:01.000 --> 00:02.000\n<v P01>one\n00:02.000 --> 00:03.000\n<v P02>two\n"
    parsed = parse_plain_text(text, fmt="vtt", rules=RULES)
    assert [(t.speaker, t.text, t.timestamps) for t in parsed.turns] == [
        ("P01", "one", ("00:01.000 --> 00:02.000",)), ("P02", "two", ("00:02.000 --> 00:03.000",))
    ]


def test_cues_with_only_tags_give_no_empty_turns():
    text = ("WEBVTT\n\n00:01.000 --> 00:02.000\n<v P01>Hello.</v>\n\n00:02.000 --> 00:03.000\n<i></i>\n\n"
            "00:03.000 --> 00:04.000\n<00:00:03.500>\n\n00:04.000 --> 00:05.000\n<v P02>Bye.</v>\n")
    parsed = turns_of(text, fmt="vtt")
    assert [(t.speaker, t.text, t.text_spans) for t in parsed.turns] == [
        ("P01", "Hello.", ((text.index("Hello."), text.index("Hello.") + 6),)),
        ("P02", "Bye.", ((text.index("Bye."), text.index("Bye.") + 4),)),
    ]


def test_not_a_webvtt_file():
    with pytest.raises(DataError) as exc:
        parse_plain_text("00:00:01.000 --> 00:00:02.000\nhi\n", fmt="vtt", rules=RULES, display_name="x.vtt")
    assert str(exc.value) == "x.vtt line 1: not a WebVTT file (the first line must start with 'WEBVTT')"


def test_srt_labels_caps_labels_mid_cue_and_merging():
    text = (
        "1\n00:00:01,000 --> 00:00:02,000\nINTERVIEWER: Hello.\n\n"
        "2\n00:00:02,500 --> 00:00:04,000\nP01: <i>First</i> part\n\n"
        "3\n00:00:04,000 --> 00:00:05,000\nsecond part\nNARRATOR:\nMeanwhile.\n\n"
        "4\n00:00:05,000 --> 00:00:06,000\nWOMAN ( gasping ): Oh!\n"
    )
    parsed = parse_plain_text(text, fmt="srt", rules=RULES)
    got = [(t.speaker, t.role, t.text, len(t.text_spans)) for t in parsed.turns]
    assert got == [
        ("INTERVIEWER", "interviewer", "Hello.", 1),
        ("P01", "participant", "First part second part", 2),
        ("NARRATOR", "participant", "Meanwhile.", 1),
        ("WOMAN", "participant", "Oh!", 1),
    ]
    p01 = parsed.turns[1]
    assert [text[s:e] for s, e in p01.text_spans] == ["<i>First</i> part", "second part"]
    assert p01.timestamps == ("00:00:02,500 --> 00:00:04,000", "00:00:04,000 --> 00:00:05,000")


def test_caption_labels_inside_formatting_tags():
    text = ("1\n00:00:01,000 --> 00:00:02,000\n<i>Interviewer:</i> Hello\n\n"
            "2\n00:00:02,000 --> 00:00:03,000\n<font color=\"#fff\">MAN: Yes</font>\n\n"
            "3\n00:00:03,000 --> 00:00:04,000\n<b>not a label</b>\n")
    parsed = parse_plain_text(text, fmt="srt", rules=RULES)
    assert [(t.speaker, t.text) for t in parsed.turns] == [("Interviewer", "Hello"), ("MAN", "Yes not a label")]
    assert parsed.turns[0].start == text.index("Hello") and parsed.turns[0].text_spans == (
        (text.index("Hello"), text.index("Hello") + 5),
    )


# -- docx -------------------------------------------------------------------------------------------
def _docx(build) -> bytes:
    import docx

    document = docx.Document()
    build(document)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_docx_bold_labels_timestamps_and_empty_paragraphs():
    def build(d):
        d.add_paragraph("Interview INT03")
        d.add_paragraph("")
        p = d.add_paragraph()
        p.add_run("Karin Smit:").bold = True
        p.add_run(" [00:00:10] Shall we start?")
        p = d.add_paragraph()
        p.add_run("Joost").bold = True
        p.add_run(": Yes.")
        d.add_paragraph("A second paragraph of Joost.")
        p = d.add_paragraph()
        p.add_run("Date:").bold = True
        p.add_run(" not a speaker")

    parsed = read_bytes(_docx(build), fmt="docx", rules=SpeakerRules(), name="x.docx")
    assert parsed.plain_text == (
        "Interview INT03\n\nKarin Smit: [00:00:10] Shall we start?\nJoost: Yes.\n"
        "A second paragraph of Joost.\nDate: not a speaker"
    )
    assert [(t.speaker, t.text, t.timestamps) for t in parsed.turns] == [
        ("Karin Smit", "Shall we start?", ("00:00:10",)),
        ("Joost", "Yes.\nA second paragraph of Joost.\nDate: not a speaker", ()),
    ]
    assert parsed.encoding == "utf-8"
    assert_offsets(parsed)


def test_docx_bold_from_a_character_style_and_explicit_not_bold():
    def build(d):
        p = d.add_paragraph()
        p.add_run("Karin Smit:").style = "Strong"
        p.add_run(" hello")
        p = d.add_paragraph()
        p.add_run("Nope:").bold = False
        p.add_run(" not a label")

    parsed = read_bytes(_docx(build), fmt="docx", rules=SpeakerRules(), name="s.docx")
    assert [(t.speaker, t.text) for t in parsed.turns] == [("Karin Smit", "hello\nNope: not a label")]


def test_docx_speaker_time_text_table_read_row_by_row_in_document_order():
    def build(d):
        d.add_paragraph("Before the table")
        table = d.add_table(rows=3, cols=3)
        for row, cells in zip(table.rows, [("Speaker", "Time", "Text"), ("Mila", "00:01:02", "Hello."),
                                           ("Interviewer", "", "Go on.")]):
            for cell, value in zip(row.cells, cells):
                cell.text = value
        d.add_paragraph("After the table")

    parsed = read_bytes(_docx(build), fmt="docx", rules=SpeakerRules(), name="t.docx")
    assert (
        parsed.plain_text
        == "Before the table\nSpeaker\tTime\tText\nMila\t00:01:02\tHello.\nInterviewer\t\tGo on.\nAfter the table"
    )
    assert [(t.speaker, t.role, t.text, t.timestamps) for t in parsed.turns] == [
        ("Mila", "participant", "Hello.", ("00:01:02",)),
        ("Interviewer", "interviewer", "Go on.\nAfter the table", ()),
    ]
    assert_offsets(parsed)


def test_docx_table_header_row_ends_the_turn_before_the_table():
    def build(d):
        d.add_paragraph("Interviewer: Before the table.")
        table = d.add_table(rows=2, cols=3)
        for row, cells in zip(table.rows, [("Speaker", "Time", "Text"), ("Mila", "00:01:02", "Hello.")]):
            for cell, value in zip(row.cells, cells):
                cell.text = value

    parsed = read_bytes(_docx(build), fmt="docx", rules=SpeakerRules(), name="t.docx")
    assert [(t.speaker, t.text) for t in parsed.turns] == [("Interviewer", "Before the table."), ("Mila", "Hello.")]
    assert_offsets(parsed)


def test_docx_tracked_changes_read_as_accepted():
    """A pseudonym typed over a name with track changes on: the insertion is text, the deletion is not."""
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'

    def build(d):
        p = d.add_paragraph("P01: I work at ")
        p._p.append(parse_xml(f'<w:del {w} w:id="1" w:author="a"><w:r><w:delText>Acme BV</w:delText></w:r></w:del>'))
        p._p.append(parse_xml(f'<w:ins {w} w:id="2" w:author="a"><w:r><w:t>[employer]</w:t></w:r></w:ins>'))
        p.add_run(".")
        table = d.add_table(rows=1, cols=2)
        table.rows[0].cells[0].text = "Interviewer"
        cell = table.rows[0].cells[1].paragraphs[0]
        cell._p.append(parse_xml(f'<w:ins {w} w:id="3" w:author="a"><w:r><w:t>Thanks.</w:t></w:r></w:ins>'))

    parsed = read_bytes(_docx(build), fmt="docx", rules=SpeakerRules(), name="t.docx")
    assert parsed.plain_text == "P01: I work at [employer].\nInterviewer\tThanks."
    assert [(t.speaker, t.text) for t in parsed.turns] == [("P01", "I work at [employer]."), ("Interviewer", "Thanks.")]


def test_docx_chat_line_and_no_label_paragraphs():
    parsed = read_bytes(_docx(lambda d: [d.add_paragraph("P01: Hi."), d.add_paragraph("[chat 00:01:00] Mila: typed")]),
                        fmt="docx", rules=SpeakerRules(), name="c.docx")
    assert [(t.speaker, t.turn_type) for t in parsed.turns] == [("P01", "speech"), ("Mila", "chat")]
    parsed = read_bytes(_docx(lambda d: [d.add_paragraph("One."), d.add_paragraph("Two.")]), fmt="docx",
                        rules=SpeakerRules(), name="n.docx")
    assert [t.text for t in parsed.turns] == ["One.", "Two."]  # .docx: every paragraph is a turn
    assert "no speaker labels found" in parsed.warnings[0]


# -- decoding ---------------------------------------------------------------------------------------
def test_bom_crlf_and_lone_cr_are_normalised(tmp_path: Path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"\xef\xbb\xbfInterviewer: one\r\ntwo\rP01: three\r\n")
    parsed = read_transcript(path, rules=RULES)
    assert parsed.plain_text == "Interviewer: one\ntwo\nP01: three\n"
    assert parsed.encoding == "utf-8-sig"
    assert [t.text for t in parsed.turns] == ["one\ntwo", "three"]


def test_cp1252_fallback_warns_and_encoding_option_overrides(tmp_path: Path):
    path = tmp_path / "w.txt"
    path.write_bytes("Interviewer: caf\u00e9 \u2019quote\u2019\n".encode("cp1252"))
    parsed = read_transcript(path, rules=RULES, display_name="sub/w.txt")
    assert parsed.encoding == "cp1252" and parsed.turns[0].text == "caf\u00e9 \u2019quote\u2019"
    assert parsed.warnings == (
        "sub/w.txt: not valid UTF-8 (line 1); read as cp1252 (Windows-1252); name the file's encoding to override",
    )
    latin = read_transcript(path, rules=RULES, encoding="latin-1")
    assert latin.encoding == "iso8859-1" and latin.warnings == () and latin.turns[0].text == "caf\u00e9 \x92quote\x92"


def test_utf16_with_bom(tmp_path: Path):
    path = tmp_path / "u.txt"
    path.write_bytes("P01: h\u00e9\n".encode("utf-16"))
    parsed = read_transcript(path, rules=RULES)
    assert parsed.encoding == "utf-16" and parsed.turns[0].text == "h\u00e9"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "e.txt: empty file"),
        (b" \n\t\n", "e.txt: no text (only whitespace)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "e.txt: a binary file, not a text transcript"),
        (b"\x01\x02\x03\x04\x05 control bytes only", "e.txt: a binary file, not a text transcript"),
        (
            b"ok line\nP01: \x81\x8d\n",
            "e.txt line 2: neither UTF-8 nor cp1252 (byte 0x81 at offset 13); pass encoding",
        ),
        (
            b"P01: " + b"x" * 1_000_001,
            "e.txt line 1: a line of more than 1,000,000 characters; not a transcript (no line breaks)",
        ),
    ],
)
def test_unreadable_text_files(data, message):
    with pytest.raises(DataError) as exc:
        read_bytes(data, fmt="txt", rules=RULES, name="e.txt")
    assert str(exc.value) == message
