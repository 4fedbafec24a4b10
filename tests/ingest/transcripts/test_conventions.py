"""Label conventions of transcription services and Word, written from their documented export formats.

Each fixture is small and hand-written after the service's export layout (Otter .txt, Rev, Teams .docx/.vtt,
Zoom, Trint, Descript, f4transkript/easytranscript, QualCoder, Word tables); every test checks speakers,
roles, texts and that each single-span turn is the exact slice of the plain text.
"""

from __future__ import annotations

import io

import pytest

from vbhc_code.ingest.transcripts import SpeakerRules, parse_plain_text, read_bytes, sniff_format
from vbhc_code.ingest.transcripts.conventions import is_annotation, scan_text

SHEET = SpeakerRules(known_labels=["P01", "Max Bigman"], interviewer_labels=["Anna de Vries", "AdV"])


def turns(text: str, rules: SpeakerRules = SHEET, fmt: str = "txt", name: str = "x.txt"):
    parsed = parse_plain_text(text, fmt=fmt, rules=rules, display_name=name)
    for t in parsed.turns:
        if t.is_single_span:
            assert parsed.plain_text[t.start : t.end] == t.text
        for s, e in t.text_spans:
            assert parsed.plain_text[s:e] == parsed.plain_text[s:e].strip() and e > s
    return parsed


def rows(parsed):
    return [(t.speaker, t.role, t.text, t.timestamps) for t in parsed.turns]


# -- recurring Name: labels (MAXQDA's rule) ---------------------------------------------------------------
def test_recurring_name_labels_are_speakers_once_only_stays_text_with_a_located_warning():
    text = ("Focus group 2\n\nJan Jansen: We measure outcomes.\nKarin Bos: Do we?\nStep one: measure what matters.\n"
            "Jan Jansen: Yes.\nBob: only once here.\nKarin Bos: Right.\n")
    parsed = turns(text, SpeakerRules())
    assert rows(parsed) == [
        ("Jan Jansen", "participant", "We measure outcomes.", ()),
        ("Karin Bos", "participant", "Do we?\nStep one: measure what matters.", ()),
        ("Jan Jansen", "participant", "Yes.\nBob: only once here.", ()),
        ("Karin Bos", "participant", "Right.", ()),
    ]
    # A once-only "Bob:" is reported with file, line and label, never the text; "Step one:" is prose.
    assert parsed.warnings == (
        "x.txt line 7: 'Bob:' looks like a speaker label but occurs once and is not a known speaker; read as text "
        "(name it in the participants sheet to make it one)",
    )
    assert parsed.layout == ("recurring labels",)


def test_lower_case_ids_and_their_family_admin_1_admin_2():
    parsed = turns("admin-1: hello\nadmin-2: hi\nadmin-1: bye\n", SpeakerRules())
    assert [(t.speaker, t.text) for t in parsed.turns] == [("admin-1", "hello"), ("admin-2", "hi"), ("admin-1", "bye")]
    assert parsed.warnings == ()


def test_prose_with_colons_gets_no_speakers():
    text = "Step one: measure. Then we see.\nNote: once.\nIn short: it works.\nThe point is: yes.\n"
    parsed = turns(text, SpeakerRules())
    assert {t.speaker for t in parsed.turns} == {None} and parsed.warnings[0].endswith(
        "(name the speakers in a participants sheet, or give a speaker pattern)"
    )
    # Header fields never count, however often they recur; long phrases and sentences are no labels.
    scan = scan_text("Note: a\nNote: b\nWhat I mean is, really: x\nWhat I mean is, really: y\n")
    assert scan.colon_labels == set()


def test_interviewer_missing_from_the_sheet_is_never_glued_to_the_participant():
    """The issue's worst case: a named interviewer's question must not become the participant's words."""
    text = ("Anna de Vries: Welcome. How do you work?\nMax Bigman: In the clinic we rarely see outcome data.\n"
            "Anna de Vries: What would value mean in your work?\nMax Bigman: Outcomes that matter.\n")
    parsed = turns(text, SpeakerRules(known_labels=["Max Bigman"]))
    assert [(t.speaker, t.text) for t in parsed.turns] == [
        ("Anna de Vries", "Welcome. How do you work?"),
        ("Max Bigman", "In the clinic we rarely see outcome data."),
        ("Anna de Vries", "What would value mean in your work?"),
        ("Max Bigman", "Outcomes that matter."),
    ]
    # With the sheet naming her an interviewer she has the interviewer role.
    assert [t.role for t in turns(text).turns] == ["interviewer", "participant", "interviewer", "participant"]


def test_a_label_found_by_another_rule_starts_a_turn_everywhere():
    # "Karin Bos" is found on a name line; her "Karin Bos:" line (once) later starts a turn, not glue.
    text = "Karin Bos  0:02\nHello.\n\nJoost Dam  0:05\nHi there.\nKarin Bos: And one more thing.\n"
    parsed = turns(text, SpeakerRules())
    assert [(t.speaker, t.text) for t in parsed.turns] == [
        ("Karin Bos", "Hello."), ("Joost Dam", "Hi there."), ("Karin Bos", "And one more thing.")
    ]
    assert parsed.warnings == ()


# -- name lines: Otter, Rev, Teams, Trint, Descript, Word Transcribe ---------------------------------------
def test_otter_txt_name_two_spaces_time_then_text():
    text = "Anna de Vries  0:02\nWelcome to this interview.\nIt is recorded.\n\nMax Bigman  0:09\nThank you.\n\nAnna de Vries  1:02:03\nGood.\n"
    parsed = turns(text)
    assert rows(parsed) == [
        ("Anna de Vries", "interviewer", "Welcome to this interview.\nIt is recorded.", ("0:02",)),
        ("Max Bigman", "participant", "Thank you.", ("0:09",)),
        ("Anna de Vries", "interviewer", "Good.", ("1:02:03",)),
    ]
    assert parsed.layout == ("name lines",)


def test_rev_speaker_time_colon_lines():
    text = "Speaker 1 (00:00:05):\nHello there.\n\nKarin de Boer (00:00:09):\nHi.\n\nSpeaker 1 (01:00):\nBye.\n"
    assert [(t.speaker, t.text, t.timestamps) for t in turns(text, SpeakerRules()).turns] == [
        ("Speaker 1", "Hello there.", ("00:00:05",)), ("Karin de Boer", "Hi.", ("00:00:09",)),
        ("Speaker 1", "Bye.", ("01:00",)),
    ]


def test_trint_and_descript_time_then_name_lines():
    text = (
        "[00:00:05] Karin Bos\nHello.\n\n[00:00:09] Jan de Wit\nHi back.\n[00:01:00] Yes.\n00:01:30 Karin Bos\nBye.\n"
    )
    parsed = turns(text, SpeakerRules())
    assert rows(parsed) == [
        ("Karin Bos", "participant", "Hello.", ("00:00:05",)),
        ("Jan de Wit", "participant", "Hi back.\n[00:01:00] Yes.", ("00:00:09",)),  # a timed line of speech
        ("Karin Bos", "participant", "Bye.", ("00:01:30",)),
    ]


def test_a_name_the_sheet_knows_needs_no_timestamp():
    text = "Anna de Vries\nWhat matters to you?\n\nMax Bigman\nGetting back to work.\n"
    assert rows(turns(text)) == [
        ("Anna de Vries", "interviewer", "What matters to you?", ()),
        ("Max Bigman", "participant", "Getting back to work.", ()),
    ]
    # Unknown names alone on a line stay text.
    assert {t.speaker for t in turns(text.replace("Max Bigman", "Some Title"), SpeakerRules()).turns} == {None}


def test_timestamp_first_lines_zoom_style():
    text = "00:03:40 Karin Bos: one\n[00:03:45] admin-1: two\n00:03:40.5 Karin Bos: three\n00:04:00\tJan Dam:\tfour\n"
    parsed = turns(text, SpeakerRules())
    assert rows(parsed) == [
        ("Karin Bos", "participant", "one", ("00:03:40",)),
        ("admin-1", "participant", "two", ("00:03:45",)),
        ("Karin Bos", "participant", "three", ("00:03:40.5",)),
        ("Jan Dam", "participant", "four", ("00:04:00",)),
    ]
    assert parsed.layout[0] == "timestamp-first lines"


# -- f4transkript / easytranscript -----------------------------------------------------------------------------
def test_f4_time_marks_are_metadata_and_i_b_r_are_labels():
    text = ("I: Wie geht es Ihnen? #00:00:05-2#\nB: Gut, danke. #00:00:09-1#\nUnd weiter so. #00:00:15-0#\n"
            "I: Schön. #00:00:20-3#\n\nR: A respondent. #00:01:02-3#\n")
    parsed = turns(text, SpeakerRules())
    assert rows(parsed) == [
        ("I", "interviewer", "Wie geht es Ihnen?", ("00:00:05-2",)),
        ("B", "participant", "Gut, danke. Und weiter so.", ("00:00:09-1", "00:00:15-0")),
        ("I", "interviewer", "Schön.", ("00:00:20-3",)),
        ("R", "participant", "A respondent.", ("00:01:02-3",)),
    ]
    b = parsed.turns[1]
    assert [text[s:e] for s, e in b.text_spans] == ["Gut, danke.", "Und weiter so."]  # the mark is in no span
    assert all("#" not in text[s:e] for t in parsed.turns for s, e in t.text_spans)
    assert "time marks" in parsed.layout


# -- QualCoder bracketed ids -------------------------------------------------------------------------------
def test_bracketed_ids_and_annotations_are_never_labels():
    text = "[id1] hello\n[laughs] all laugh\n\n[id2] hi [inaudible]\n[laughs] again\n[id1] bye\n[crosstalk] x\n"
    parsed = turns(text, SpeakerRules())
    assert [(t.speaker, t.text) for t in parsed.turns] == [
        ("id1", "hello\n[laughs] all laugh"), ("id2", "hi [inaudible]\n[laughs] again"), ("id1", "bye\n[crosstalk] x")
    ]
    for token in ("laughs", "inaudible", "crosstalk", "pause", "long pause", "Laughter", "coughing", "both laugh"):
        assert is_annotation(token), token
    for token in ("id1", "Interviewer", "James", "P01", "Speaker 2"):
        assert not is_annotation(token), token


# -- --speaker-pattern adds, never switches off explicit structure --------------------------------------------
def test_speaker_pattern_keeps_default_rules_and_explicit_structure():
    rules = SpeakerRules(pattern=r"Spk\d")
    parsed = turns("Spk1: one\nInterviewer: two\nAnna de Vries  0:03\nthree\n", rules)
    assert [(t.speaker, t.text) for t in parsed.turns] == [
        ("Spk1", "one"),
        ("Interviewer", "two"),
        ("Anna de Vries", "three"),
    ]
    md = turns("**Karin:** one\n**Joost:** two\n", rules, fmt="md")
    assert [t.speaker for t in md.turns] == ["Karin", "Joost"]
    data = _docx(lambda d: _table(d, [("Speaker", "Text"), ("Karin", "Hello."), ("Joost", "Hi.")]))
    parsed = read_bytes(data, fmt="docx", rules=rules, name="t.docx")
    assert [(t.speaker, t.text) for t in parsed.turns] == [("Karin", "Hello."), ("Joost", "Hi.")]


# -- format from content ------------------------------------------------------------------------------------
def test_txt_holding_webvtt_or_srt_is_read_as_captions():
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Karin Bos>Hello.</v>\n"
    parsed = read_bytes(vtt.encode(), fmt="txt", rules=SpeakerRules(), name="s.txt")
    assert parsed.format == "vtt" and [(t.speaker, t.text) for t in parsed.turns] == [("Karin Bos", "Hello.")]
    srt = "1\n00:00:01,000 --> 00:00:02,000\nKAREN: Hi.\n\n2\n00:00:02,000 --> 00:00:03,000\nmore\n"
    parsed = read_bytes(("\ufeff" + srt).encode(), fmt="txt", rules=SpeakerRules(), name="s.txt")
    assert parsed.format == "srt" and [(t.speaker, t.text) for t in parsed.turns] == [("KAREN", "Hi. more")]
    assert sniff_format("Interviewer: WEBVTT is a format\n", "txt") == "txt"
    assert sniff_format("1\nInterviewer: x\n", "txt") == "txt"
    assert read_bytes(b"P01: plain", fmt="txt", rules=SpeakerRules(), name="p.txt").format == "txt"


# -- Word ---------------------------------------------------------------------------------------------------
def _docx(build) -> bytes:
    import docx

    document = docx.Document()
    build(document)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _table(d, values):
    table = d.add_table(rows=len(values), cols=len(values[0]))
    for row, cells in zip(table.rows, values):
        for cell, value in zip(row.cells, cells):
            cell.text = value
    return table


def test_word_table_of_four_columns_header_number_time_and_multi_paragraph_cell():
    def build(d):
        d.add_paragraph("Interview 9")
        t = _table(d, [("#", "Speaker", "Time", "Text"), ("1", "Anna de Vries", "00:00:05", "What would value mean?"),
                       ("2", "Max Bigman", "00:00:09", "First paragraph."), ("3", "AdV", "00:00:30", "Thanks.")])
        t.rows[2].cells[3].add_paragraph("Second paragraph.")

    parsed = read_bytes(_docx(build), fmt="docx", rules=SHEET, name="t.docx")
    assert rows(parsed) == [
        ("Anna de Vries", "interviewer", "What would value mean?", ("00:00:05",)),
        ("Max Bigman", "participant", "First paragraph.\nSecond paragraph.", ("00:00:09",)),
        ("AdV", "interviewer", "Thanks.", ("00:00:30",)),
    ]
    assert all(parsed.plain_text[t.start : t.end] == t.text for t in parsed.turns)
    assert parsed.layout == ("table",)


@pytest.mark.parametrize("header", [("Spreker", "Tekst", "Tijd"), ("Name", "Utterance", "Timestamp"),
                                    ("Participant", "Transcript", "Start")])
def test_word_table_header_names_and_text_column_anywhere(header):
    parsed = read_bytes(_docx(lambda d: _table(d, [header, ("Karin", "Hallo.", "00:01"), ("Jan", "Dag.", "00:02")])),
                        fmt="docx", rules=SpeakerRules(), name="t.docx")
    assert rows(parsed) == [("Karin", "participant", "Hallo.", ("00:01",)), ("Jan", "participant", "Dag.", ("00:02",))]


def test_word_table_without_header_row_and_a_column_of_recurring_names():
    values = [("00:01", "Karin", "Hello there."), ("00:05", "Jan", "Hi."), ("00:09", "Karin", "Bye.")]
    parsed = read_bytes(_docx(lambda d: _table(d, values)), fmt="docx", rules=SpeakerRules(), name="t.docx")
    assert [(t.speaker, t.text, t.timestamps) for t in parsed.turns] == [
        ("Karin", "Hello there.", ("00:01",)), ("Jan", "Hi.", ("00:05",)), ("Karin", "Bye.", ("00:09",))
    ]
    # A table of fields (no recurring names, header fields) is no speaker table.
    fields = read_bytes(_docx(lambda d: [d.add_paragraph("P01: Hi."), _table(d, [("Date", "2024"), ("Place", "Utrecht"),
                                                                                  ("Duration", "40 min")])]),
                        fmt="docx", rules=SpeakerRules(), name="t.docx")
    assert [t.speaker for t in fields.turns] == ["P01"]


def test_word_bold_name_tab_time_and_teams_name_time_paragraphs():
    def build(d):
        d.add_paragraph("Transcript")
        p = d.add_paragraph()
        p.add_run("admin-1\t0:03").bold = True
        d.add_paragraph("Hello from admin.")
        p = d.add_paragraph()
        p.add_run("Karin Bos").bold = True
        p.add_run("   0:09")
        d.add_paragraph("Hi.")
        d.add_paragraph("Anna de Vries   0:12")  # Teams .docx: plain paragraph, name and time
        d.add_paragraph("Welcome both.")

    parsed = read_bytes(_docx(build), fmt="docx", rules=SHEET, name="w.docx")
    assert rows(parsed) == [
        ("admin-1", "participant", "Hello from admin.", ("0:03",)),
        ("Karin Bos", "participant", "Hi.", ("0:09",)),
        ("Anna de Vries", "interviewer", "Welcome both.", ("0:12",)),
    ]


def test_older_teams_docx_time_range_then_name_then_text():
    def build(d):
        for line in ["0:0:0.0 --> 0:0:5.100", "Anna de Vries", "Hello everyone.", "0:0:5.100 --> 0:0:8.250",
                     "Max Bigman", "Hi.", "0:0:8.250 --> 0:0:9.0", "And more from Max."]:
            d.add_paragraph(line)

    parsed = read_bytes(_docx(build), fmt="docx", rules=SHEET, name="t.docx")
    assert rows(parsed) == [
        ("Anna de Vries", "interviewer", "Hello everyone.", ("0:0:0.0 --> 0:0:5.100",)),
        ("Max Bigman", "participant", "Hi. And more from Max.", ("0:0:5.100 --> 0:0:8.250", "0:0:8.250 --> 0:0:9.0")),
    ]
    max_turn = parsed.turns[1]
    assert [parsed.plain_text[s:e] for s, e in max_turn.text_spans] == ["Hi.", "And more from Max."]  # no timing inside


def test_zoom_saved_transcript_bracketed_name_and_time():
    parsed = turns("[Anna de Vries] 10:15:02\nHello.\n[Karin Bos] 10:15:09\nHi.\nMore.\n", SpeakerRules())
    assert [(t.speaker, t.text, t.timestamps) for t in parsed.turns] == [
        ("Anna de Vries", "Hello.", ("10:15:02",)), ("Karin Bos", "Hi.\nMore.", ("10:15:09",))
    ]
