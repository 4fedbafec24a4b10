"""vbhc_code.themes.build: counts against a hand-built store, quote rules, attribution, workbook, JSON, Markdown."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import openpyxl
import pytest
from themes_fixture import CODEBOOK, S, build_store, libreoffice_sheets, soffice

from vbhc_code.errors import DataError, UsageError, ValidationError
from vbhc_code.models import Coding, Turn
from vbhc_code.themes.build import (
    build_themes,
    resolve_codebook,
    themes_json,
    themes_markdown,
    write_themes_xlsx,
)
from vbhc_code.themes.prose import verbatim_pieces
from vbhc_code.themes.quotes import MAX_WORDS, MIN_WORDS, trim, word_count

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def store(tmp_path):
    st = build_store(tmp_path / "study.sqlite")
    yield st
    st.close()


def _turns(store):
    return {(t.document, t.turn_index): t for t in store.turns()}


def test_counts(store):
    r = build_themes(store, coder="consensus")
    t = r.themes.set_index("code")
    # A: FG1 #2 #3 #4 #5 and INT01 #2; participants P1 P2 P3 P4 of 4; INT02 (not coded by consensus) ignored
    assert t.loc["A", ["turns", "participants", "documents"]].tolist() == [5, 4, 2]
    assert t.loc["A", "participants_pct"] == 1.0
    assert t.loc["A", ["turns [SIM]", "participants [SIM]", "turns [VBHC]", "participants [VBHC]"]].tolist() == [
        3, 2, 2, 2]
    assert t.loc["A", ["documents [SIM]", "documents [VBHC]"]].tolist() == [1, 2]
    assert t.loc["A", ["turns [focus group]", "turns [interview]"]].tolist() == [4, 1]
    # C in the focus group: P1 (FG1 #2) and P3 (FG1 #4) of the 3 focus-group participants
    assert t.loc["C", ["participants [focus group]", "participants_pct [focus group]"]].tolist() == [2, 0.6667]
    # B on the moderator turn is out of the participant scope; C has two rows on FG1 #2 = one turn
    assert t.loc["B", ["turns", "participants"]].tolist() == [1, 1]
    assert t.loc["C", ["turns", "participants", "participants_pct"]].tolist() == [3, 3, 0.75]
    assert t.loc["C", ["participants [SIM]", "participants_pct [SIM]", "participants_pct [VBHC]"]].tolist() == [
        1, 0.5, 1.0]
    assert t.loc["A", "theme"] == "Value" and t.loc["C", "theme"] == "Data"
    co = r.cooccurrence.set_index("code")
    assert co.loc["A", "C"] == 3 and co.loc["A", "B"] == 1 and co.loc["B", "B"] == 1 and co.loc["C", "A"] == 3
    m = r.matrix.set_index("code")
    assert list(m.columns) == ["label", "title", "P1", "P2", "P3", "P4"]
    assert m.loc["A", ["P1", "P2", "P3", "P4"]].tolist() == [2, 1, 1, 1]
    g = r.groups.set_index("code")
    assert list(g.columns) == ["label", "title", "turns [SIM]", "turns [VBHC]", "participants [SIM]", "participants [VBHC]",
                               "participants_pct [SIM]", "participants_pct [VBHC]"]
    assert g.loc["C", ["turns [SIM]", "turns [VBHC]", "participants_pct [SIM]"]].tolist() == [1, 2, 0.5]
    fw = r.framework_table.set_index(["code", "health_system"])
    assert fw.loc[("A", "NL"), ["documents", "turns"]].tolist() == [1, 4]
    assert fw.loc[("A", "DE"), ["documents", "turns"]].tolist() == [1, 1]
    assert r.overview["documents_by_type"] == {"focus_group": 1, "interview": 1}
    assert r.overview["participants_by_group"] == {"SIM": 2, "VBHC": 2}
    assert r.warnings == []


def test_scope_all_counts_interviewer(store):
    t = build_themes(store, coder="consensus", scope="all").themes.set_index("code")
    assert t.loc["B", "turns"] == 2
    assert t.loc["B", "participants"] == 1  # the moderator's turn counts, but the moderator is no participant
    assert build_themes(store, coder="consensus", scope="all").matrix.set_index("code").loc["B", "Moderator"] == 1


def test_by_document_attribute(store):
    r = build_themes(store, coder="consensus", by="health_system")
    assert r.by_values == ["DE", "NL"]
    t = r.themes.set_index("code")
    assert t.loc["A", ["turns [NL]", "participants [NL]", "turns [DE]", "participants [DE]"]].tolist() == [4, 3, 1, 1]
    assert r.codes["A"]["by_group"] == {"DE": {"turns": 1, "participants": 1}, "NL": {"turns": 4, "participants": 3}}
    # {group} is the turn's --by value; {group_label} still describes the participant
    r2 = build_themes(store, coder="consensus", by="health_system", attribution="{participant_id}, {group_label}, "
                      "{group}")
    assert {q.attribution for q in r2.quote_objects if q.participant_id == "P4"} == {"P4, expert in VBHC, DE"}


def _norm(text):
    return " ".join(text.split())


def _check_quote(q, turns, store):
    turn = turns[(q.document, q.turn_index)]
    plain = store.document(q.document, with_turns=False).plain_text
    core = q.core
    assert core in turn.text
    pieces = verbatim_pieces(q.text)  # every piece between '...' marks is verbatim (line breaks read as spaces)
    from vbhc_code.themes.masking import mask_text

    masked_turn, masked_core = mask_text(turn.text)[0], mask_text(core)[0]  # identifiers read as placeholders
    assert pieces and all(_norm(p) in _norm(masked_turn) for p in pieces)
    assert _norm(masked_core).startswith(pieces[0]) and _norm(masked_core).endswith(pieces[-1])
    spans = turn.text_spans
    if any(s <= q.start and q.end <= e for s, e in spans):
        assert plain[q.start:q.end] == core
    else:  # across cues: start/end are the first and last quoted characters in the document
        first_end = next(e for s, e in spans if s <= q.start < e)
        last_start = next(s for s, e in spans if s < q.end <= e)
        assert core.startswith(plain[q.start:first_end]) and core.endswith(plain[last_start:q.end])
    pos = turn.text.index(core)
    assert q.text.startswith("... ") == bool(turn.text[:pos].strip())
    assert q.text.endswith(" ...") == bool(turn.text[pos + len(core):].strip())
    sentences = [(a, b) for a, b in turn.sentences if q.start <= a < q.end]
    assert sentences and sentences[0][0] == q.start  # starts at a sentence
    # ends with a sentence, or was cut (at a clause) because the sentence ran over MAX_WORDS
    assert sentences[-1][1] == q.end or q.text.endswith(" ...")
    assert word_count(" ".join(pieces)) <= MAX_WORDS or q.pinned
    assert MIN_WORDS <= word_count(core) or len(sentences) == 1


def test_quote_rules(store):
    turns = _turns(store)
    r = build_themes(store, coder="consensus", quotes=3)
    assert len(r.quote_objects) == 3 + 1 + 3
    for q in r.quote_objects:
        _check_quote(q, turns, store)
    a = [q for q in r.quote_objects if q.code == "A"]
    assert len({q.participant_id for q in a}) == 3  # spread over participants
    assert {q.group for q in a} == {"SIM", "VBHC"}  # and over groups
    # most specific turns first: FG1 #3 carries only A; then a VBHC participant before a second SIM one
    assert [(q.document, q.turn_index) for q in a] == [("FG1.txt", 3), ("FG1.txt", 4), ("FG1.txt", 5)]
    assert [q.group for q in a] == ["SIM", "VBHC", "SIM"]
    # FG1 #3 has 24 words: quoted whole, no cut marks
    assert a[0].text == " ".join(S[2:5]) and "..." not in a[0].text
    # the VTT turn merged from three cues (41 words) is quoted whole, across the cues
    vtt = [q for q in r.quote_objects if q.document == "INT01.vtt"]
    turn = turns[("INT01.vtt", 2)]
    assert vtt and all(q.text == turn.text for q in vtt)
    assert (vtt[0].start, vtt[0].end) == (turn.spans[0][0], turn.spans[-1][1])
    again = build_themes(store, coder="consensus", quotes=3)
    assert again.quote_objects == r.quote_objects  # deterministic
    more = build_themes(store, coder="consensus", quotes=10)
    a10 = [q for q in more.quote_objects if q.code == "A"]
    assert len(a10) == 5 and [q.participant_id for q in a10[:4]].count("P1") == 1  # P1 again only at the end
    assert a10[4].participant_id == "P1"


def _turn(text, offset=0):
    sents = tuple((offset + m.start(), offset + m.end()) for m in re.finditer(r"[^.]+\.", text))
    sents = tuple((a + (len(text[a - offset:b - offset]) - len(text[a - offset:b - offset].lstrip())), b)
                  for a, b in sents)
    return Turn(1, offset, offset + len(text), text, "P1", "P1", sentences=sents, document="d")


def test_trim_rules():
    short = "Too short to reach the minimum."
    t = _turn(short)
    assert trim(t, short) == (0, len(short), short, False, False)  # under 15 words: quoted whole
    long = " ".join(S * 2)  # 16 sentences, 110 words
    t = _turn(long)
    ds, de, core, before, after = trim(t, long)
    assert core == " ".join(S[:2]) and (before, after) == (False, True)
    assert MIN_WORDS <= word_count(core) <= MAX_WORDS
    # evidence in sentence 5 puts that sentence first
    focus = long.index(S[5]) + 2
    ds, de, core, before, after = trim(t, long, focus)
    assert core.startswith(S[5]) and before and after and ds <= focus < de
    # evidence in the last sentence: the run must end there and still reach 15 words
    focus = long.rindex(S[7])
    _, de, core, before, after = trim(t, long, focus)
    assert core.endswith(S[7]) and word_count(core) >= MIN_WORDS and before and not after
    # one sentence over 80 words is kept whole (never cut inside a sentence)
    giant = "word " * 90 + "end. Then a short one."
    t = _turn(giant.strip())
    _, _, core, before, after = trim(t, giant.strip())
    assert core == ("word " * 90 + "end.").strip() and not before and after
    # offsets are document offsets, the quote is the same text in the turn and the document
    plain = "Speaker: " + long
    t = _turn(long, offset=9)
    ds, de, core, *_ = trim(t, plain)
    assert plain[ds:de] == core and core in long


def test_trim_joins_a_sentence_cut_by_a_cue_break():
    """WebVTT cues often break mid-sentence: the quote never starts or ends at such a break."""
    cues = ["I chair the knee unit in our hospital,", "which we reorganised around one patient group.",
            " ".join(S[:3]), " ".join(S[3:6]), S[6] + " " + S[7]]
    plain, spans = "", []
    for k, text in enumerate(cues):
        plain += f"00:00:0{k}.000 --> 00:00:0{k + 1}.000\n"
        spans.append((len(plain), len(plain) + len(text)))
        plain += text + "\n\n"
    sents = []
    for s, e in spans:  # sentences as a segmenter sees them, one cue at a time
        sents += [(s + m.start(), s + m.end()) for m in re.finditer(r"[^ ][^.,]*[.,]", plain[s:e])
                  if not plain[s + m.end() - 1] == "," or m.end() == e - s]
    text = " ".join(cues)
    turn = Turn(1, spans[0][0], spans[-1][1], text, "P1", "P1", spans=tuple(spans), sentences=tuple(sents),
                document="d")
    ds, de, core, before, after = trim(turn, plain)  # 93 words: trimmed
    assert core == cues[0] + " " + cues[1] and (before, after) == (False, True)
    assert (ds, de) == (spans[0][0], spans[1][1])
    focus = spans[1][0] + 5  # evidence in the continuation: the quote still starts with the sentence
    _, _, core, before, _ = trim(turn, plain, focus)
    assert core.startswith(cues[0]) and not before


def test_pins_and_excludes(store, tmp_path):
    pins = tmp_path / "pins.csv"
    pins.write_text("document,turn_index,code\nINT01.vtt,2,A\nFG1.txt,2,B\n", encoding="utf-8")
    excl = tmp_path / "excl.csv"
    excl.write_text("document,turn_index\nFG1.txt,3\n", encoding="utf-8")
    r = build_themes(store, coder="consensus", quotes=2, pins=pins, excludes=excl)
    a = [q for q in r.quote_objects if q.code == "A"]
    assert (a[0].document, a[0].turn_index, a[0].pinned) == ("INT01.vtt", 2, True)
    assert all((q.document, q.turn_index) != ("FG1.txt", 3) for q in r.quote_objects)
    assert len(a) == 2 and not a[1].pinned
    assert r.quotes["pinned"].tolist().count("yes") == 2
    b = [q for q in r.quote_objects if q.code == "B"]
    assert [(q.document, q.turn_index, q.pinned) for q in b] == [("FG1.txt", 2, True)]
    assert r.warnings == []


def test_pin_exact_offsets_from_quotes_sheet(store, tmp_path):
    """A researcher keeps a copy of the Quotes sheet: the exact quoted words are kept across runs."""
    plain = store.document("FG1.txt", with_turns=False).plain_text
    turn = _turns(store)[("FG1.txt", 2)]
    start = plain.index(S[3], turn.start)
    end = start + len(S[3]) + 1 + len(S[4])
    first = build_themes(store, coder="consensus")
    out = write_themes_xlsx(first, tmp_path / "themes.xlsx")
    wb = openpyxl.load_workbook(out)
    ws = wb["Quotes"]
    ws.delete_rows(2, ws.max_row)
    ws.append(["C", "Data trust", "Data trust", "edited text is ignored", "", "FG1.txt", 2, "P1", start, end, "yes"])
    wb.save(tmp_path / "keep.xlsx")
    r = build_themes(store, coder="consensus", pins=tmp_path / "keep.xlsx", quotes=1)
    c = [q for q in r.quote_objects if q.code == "C"]
    assert len(c) == 1 and c[0].pinned and (c[0].start, c[0].end) == (start, end)
    assert c[0].text == "... " + S[3] + " " + S[4] + " ..."
    assert r.quotes.set_index("code").loc["C", "pinned"] == "yes"


def test_pin_problems_are_located(store, tmp_path):
    pins = tmp_path / "pins.csv"
    pins.write_text("document,turn_index,code,start,end\nFG1.txt,3,B,,\nNOPE.txt,1,,,\nFG1.txt,4,C,0,5\n",
                    encoding="utf-8")
    r = build_themes(store, coder="consensus", pins=pins)
    assert r.warnings == [
        "[pins.csv line 2] FG1.txt #3 is not coded B by consensus; pin ignored",
        "[pins.csv line 3] NOPE.txt #1 is not an in-scope turn of a document coded by consensus; pin ignored",
        "[pins.csv line 4] offsets 0-5 are not inside FG1.txt #4; quoted by the selection rules",
    ]
    assert any(q.pinned and (q.document, q.turn_index, q.code) == ("FG1.txt", 4, "C") for q in r.quote_objects)
    bad = tmp_path / "bad.csv"
    bad.write_text("document,turn_index,start,end\nFG1.txt,x,,\n,2,,\nFG1.txt,2,9,3\n", encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        build_themes(store, coder="consensus", pins=bad)
    assert str(err.value).splitlines() == [
        "bad.csv: 3 problem(s) in the --pin file",
        "[bad.csv line 2] turn_index must be a whole number",
        "[bad.csv line 3] empty document",
        "[bad.csv line 4] start and end must both be given, start < end",
    ]
    nocols = tmp_path / "nocols.csv"
    nocols.write_text("doc,turn\nFG1.txt,2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"^nocols.csv: --exclude file needs columns document, turn_index"):
        build_themes(store, coder="consensus", excludes=nocols)


def test_attribution_formats(store):
    r = build_themes(store, coder="consensus")
    by_pid = {q.participant_id: q.attribution for q in r.quote_objects}
    assert by_pid["P1"] == "P1, expert in SIM, focus group"
    assert by_pid["P3"] == "P3, VBHC professional, focus group"  # the group_label column wins
    assert by_pid["P4"] == "P4, expert in VBHC, interview"
    r2 = build_themes(store, coder="consensus", attribution="{participant_id} ({group}; {document} #{turn_index})")
    assert {q.attribution for q in r2.quote_objects if q.participant_id == "P4"} == {"P4 (VBHC; INT01.vtt #2)"}
    r3 = build_themes(store, coder="consensus", attribution="{speaker} [{turn_index:03d}], {document_type}")
    assert {q.attribution for q in r3.quote_objects if q.participant_id == "P4"} == {"P4 [002], interview"}
    with pytest.raises(UsageError, match=r"unknown placeholder \{age\}"):
        build_themes(store, coder="consensus", attribution="{participant_id}, {age}")
    with pytest.raises(UsageError, match=r"^attribution: malformed format"):
        build_themes(store, coder="consensus", attribution="{participant_id:%}")
    with pytest.raises(UsageError, match=r"^attribution: malformed format"):
        build_themes(store, coder="consensus", attribution="{participant_id")


def test_attribution_without_group(tmp_path):
    """No group attribute: empty parts are dropped, not printed as ', ,'."""
    from vbhc_code.models import Participant

    st = build_store(tmp_path / "s.sqlite")
    st.save_participants([Participant(p) for p in ("P1", "P2", "P3", "P4", "P5")])
    r = build_themes(st, coder="consensus")
    st.close()
    assert r.by is None and r.by_values == []
    assert {q.attribution for q in r.quote_objects if q.participant_id == "P1"} == {"P1, focus group"}
    assert "turns [SIM]" not in r.themes.columns and r.overview["participants_by_group"] == {}


def _all_cells(wb):
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            yield from row


def test_workbook_safe_and_equals_json(tmp_path):
    st = build_store(tmp_path / "hostile.sqlite", hostile=True)
    r = build_themes(st, coder="consensus", quotes=5)
    st.close()
    path = write_themes_xlsx(r, tmp_path / "themes.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Overview", "Themes", "Quotes", "Matrix", "Groups", "Cooccurrence", "Framework",
                             "Charts", "Methods"]
    assert all(cell.data_type != "f" for cell in _all_cells(wb))
    quotes = list(wb["Quotes"].iter_rows(values_only=True))
    assert any(str(v[3]).startswith("=HYPERLINK") for v in quotes[1:])
    data = themes_json(r)
    head = quotes[0]
    got = [dict(zip(head, v)) for v in quotes[1:]]
    assert [(g["code"], g["document"], g["turn_index"], g["participant_id"], g["start"], g["end"], g["quote"],
             g["attribution"]) for g in got] == [
        (q["code"], q["document"], q["turn_index"], q["participant_id"], q["start"], q["end"], q["text"],
         q["attribution"]) for q in data["quotes"]]
    themes = list(wb["Themes"].iter_rows(values_only=True))
    th = {v[1]: dict(zip(themes[0], v)) for v in themes[1:]}
    assert set(th) == set(data["codes"])
    for code, js in data["codes"].items():
        row = th[code]
        assert (row["theme"], row["label"], row["turns"], row["participants"], row["documents"]) == (
            js["theme"], js["label"], js["turns"], js["participants"], js["documents"])
        for grp, counts in js["by_group"].items():
            assert (row[f"turns [{grp}]"], row[f"participants [{grp}]"]) == (counts["turns"], counts["participants"])
    co = list(wb["Cooccurrence"].iter_rows(values_only=True))
    assert {v[0]: dict(zip(co[0][1:], v[1:])) for v in co[1:]} == data["cooccurrence"]
    groups = list(wb["Groups"].iter_rows(values_only=True))
    for v in groups[1:]:
        row = dict(zip(groups[0], v))
        assert row["turns [SIM]"] == data["codes"][row["code"]]["by_group"]["SIM"]["turns"]
    matrix = list(wb["Matrix"].iter_rows(values_only=True))
    assert {v[0]: sum(v[3:]) for v in matrix[1:]} == {c: js["turns"] for c, js in data["codes"].items()}
    fw = wb["Framework"]
    dvs = list(fw.data_validations.dataValidation)
    assert len(dvs) == 1 and dvs[0].formula1 == '"red,amber,green"' and str(dvs[0].sqref) == "G2:G7"
    assert any("G2:G7" in str(rng.sqref) for rng in fw.conditional_formatting)
    assert [c.value for c in fw[1]] == ["code", "label", "health_system", "documents", "turns", "quotes", "rating",
                                        "notes"]
    charts = wb["Charts"]._charts
    refs = [[(x.val.numRef.f, x.cat.strRef.f, x.tx.v) for x in ch.series] for ch in charts]
    assert refs == [  # participants per code (Themes), then share of participants by group (Groups)
        [("Themes!$G$2:$G$4", "Themes!$D$2:$D$4", "participants")],  # categories: the codes' titles
        [("Groups!$H$2:$H$4", "Groups!$C$2:$C$4", "SIM"), ("Groups!$I$2:$I$4", "Groups!$C$2:$C$4", "VBHC")],
    ]
    assert [ch.tagname for ch in charts] == ["barChart", "barChart"]
    # codes read top-down in the table's order; the share axis reads in percent
    assert [ch.x_axis.scaling.orientation for ch in charts] == ["maxMin", "maxMin"]  # openpyxl: x = categories
    assert charts[1].y_axis.numFmt.formatCode == "0%" and charts[0].y_axis.numFmt.formatCode == "General"
    assert wb["Themes"].freeze_panes == "C2" and wb["Themes"]["A1"].font.b
    assert wb["Quotes"].freeze_panes == "A2" and wb["Matrix"].freeze_panes == "C2"
    # wrapped text gets a row height (LibreOffice does not fit rows itself): a longer quote, a taller row
    qs = wb["Quotes"]
    heights = {len(qs.cell(r, 4).value): qs.row_dimensions[r].height for r in range(2, qs.max_row + 1)}
    assert all(h and h >= 30 for h in heights.values())
    assert heights[max(heights)] >= heights[min(heights)]
    assert qs.page_setup.orientation == "landscape" and qs.print_title_rows == "$1:$1"
    assert wb["Themes"].cell(1, 8).number_format == "General"
    assert wb["Themes"].cell(2, 8).number_format == "0.0%"  # participants_pct
    methods = [c.value for c in wb["Methods"]["A"] if c.value]
    assert methods[0] == "Methods" and methods[1:] == r.methods
    overview = {v[0]: v[1] for v in wb["Overview"].iter_rows(min_row=2, values_only=True)}
    assert overview["codebook"] == "VBHC" and overview["codebook version"] == "1.2"
    assert overview["documents by type"] == "focus group: 1; interview: 1"
    assert (
        overview["vbhc-code version"] == r.overview["vbhc_code_version"] and overview["study store"] == "hostile.sqlite"
    )


@pytest.mark.slow
@pytest.mark.skipif(not soffice(), reason="LibreOffice absent")
def test_libreoffice_opens_the_themes_workbook(tmp_path):
    st = build_store(tmp_path / "hostile.sqlite", hostile=True)
    r = build_themes(st, coder="consensus", quotes=5)
    st.close()
    path = write_themes_xlsx(r, tmp_path / "themes.xlsx")
    sheets = libreoffice_sheets(path, tmp_path / "lo")
    assert list(sheets) == ["Overview", "Themes", "Quotes", "Matrix", "Groups", "Cooccurrence", "Framework",
                            "Charts", "Methods"]
    quotes = sheets["Quotes"]
    assert [q[3] for q in quotes[1:]] == [q["text"] for q in themes_json(r)["quotes"]]
    # text, not a formula result (the URL itself is an identifier the check flags: masked)
    assert any(q[3].startswith('=HYPERLINK("[url]")') for q in quotes[1:])
    assert [int(q[6]) for q in quotes[1:]] == [q.turn_index for q in r.quote_objects]


def test_ratings_carried_over(store, tmp_path):
    path = tmp_path / "themes.xlsx"
    write_themes_xlsx(build_themes(store, coder="consensus"), path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Framework"]
    head = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if (row[0].value, row[2].value) == ("A", "NL"):
            row[head.index("rating")].value = "green"
            row[head.index("notes")].value = "strong in NL"
    wb.save(path)
    r = build_themes(store, coder="consensus")
    write_themes_xlsx(r, path)
    assert r.kept_ratings == 1
    rows = list(openpyxl.load_workbook(path)["Framework"].iter_rows(values_only=True))
    kept = {(v[0], v[2]): (v[6], v[7]) for v in rows[1:] if v[6]}
    assert kept == {("A", "NL"): ("green", "strong in NL")}


def test_markdown_snapshot(store):
    md = themes_markdown(build_themes(store, coder="consensus"))
    assert md == (DATA / "themes_snapshot.md").read_text(encoding="utf-8")


def test_markdown_escapes_interview_text(tmp_path):
    st = build_store(tmp_path / "hostile.sqlite", hostile=True)
    md = themes_markdown(build_themes(st, coder="consensus", quotes=5))
    st.close()
    line = next(x for x in md.splitlines() if "HYPERLINK" in x)
    # Table 2: code title (on a code's first quote only), quote, attribution; no stray cell breaks
    # the URL is an identifier the check flags: masked as [url] (Markdown-escaped)
    assert '“=HYPERLINK("\\[url]") says it.' in line and line.count(" | ") == 2
    from vbhc_code.themes.report import _md_cell

    assert _md_cell("a\x07b | *c*\ud800\n d") == "ab \\| \\*c\\* d"  # no control characters in a paper


STAMP = "2026-01-05T10:00:00+00:00"  # one --apply stamps all its rows alike


def _reconciled(store):
    store.replace_codings("anna", [Coding("FG1.txt", 2, "A", "anna"), Coding("FG1.txt", 3, "A", "anna"),
                                   Coding("INT02.txt", 1, "A", "anna")],
                          coded_documents=["FG1.txt", "INT02.txt"], codebook=CODEBOOK)
    store.replace_codings("ben", [Coding("FG1.txt", 2, "A", "ben")], coded_documents=["FG1.txt"], codebook=CODEBOOK)
    store.add_reconciliation_log([
        {"document": "FG1.txt", "turn_index": 2, "code": "A", "coder_a": "anna", "coder_b": "ben", "value_a": 1,
         "value_b": 0, "decision": "apply", "rationale": "clear", "decided_by": "anna", "decided_at": STAMP},
        {"document": "FG1.txt", "turn_index": 3, "code": "B", "coder_a": "anna", "coder_b": "ben", "value_a": 0,
         "value_b": 1, "decision": "omit", "decided_by": "ben", "decided_at": STAMP},
        {"document": "FG1.txt", "turn_index": 4, "code": "B", "coder_a": "anna", "coder_b": "ben", "value_a": 0,
         "value_b": 1, "decision": "ben", "rationale": "as ben", "decided_by": "ben", "decided_at": STAMP},
    ])


def test_methods_reconciliation_and_agreement(store, monkeypatch):
    _reconciled(store)
    calls = []

    def fake_report(st, *, coders, unit="turn", scope="participant", **_):
        calls.append((tuple(coders), unit, scope))
        return {"unit": unit, "scope": scope, "coders": list(coders), "n_units": 120,
                "pooled": {"percent_agreement": 0.925, "cohen_kappa": 0.712, "cohen_kappa_ci95": [0.61, 0.81],
                           "krippendorff_alpha": 0.71, "krippendorff_alpha_ci95": None, "gwet_ac1": 0.9,
                           "brennan_prediger": 0.85, "positive_agreement": None},
                "macro": {"cohen_kappa": 0.654}, "per_code": {}, "reasons": {}}

    monkeypatch.setitem(sys.modules, "vbhc_code.agreement.report",
                        types.SimpleNamespace(agreement_report=fake_report))
    r = build_themes(store, coder="consensus")
    assert calls == [(("anna", "ben"), "turn", "participant")]
    assert r.overview["agreement"] == (
        "Agreement between anna and ben (unit: turn x code, participant turns; 120 turns): percent agreement "
        "92.5%, Cohen's kappa 0.71 (95% CI 0.61 to 0.81), Krippendorff's alpha 0.71, Gwet's AC1 0.90, "
        "Brennan-Prediger 0.85, positive agreement undefined, mean Cohen's kappa over codes 0.65.")
    text = "\n".join(r.methods)
    assert "Two coders, anna and ben, coded the transcripts independently; their codings were reconciled into " \
           "'consensus'." in text
    assert "Cohen's kappa corrects it for the agreement expected by chance" in text
    assert ("reconciliation log: 3 decisions (apply: 1, as ben: 1, omit: 1), 2 with a written rationale, "
            "decided by anna, ben.") in text
    assert "codebook 'VBHC' version 1.2 (3 codes in 2 themes)" in text and "(group: 2 SIM, 2 VBHC)" in text
    assert r.overview["reconciliation_decisions"] == 3 and r.overview["agreement_coders"] == ["anna", "ben"]


def test_agreement_with_the_real_module(store):
    pytest.importorskip("vbhc_code.agreement.report")
    _reconciled(store)
    r = build_themes(store, coder="consensus")
    assert r.overview["agreement"].startswith("Agreement between anna and ben (unit: turn x code")
    assert "percent agreement" in r.overview["agreement"]


def test_no_pair_no_agreement(store):
    r = build_themes(store, coder="consensus")
    assert r.overview["agreement"].startswith("Agreement: not computed")
    assert "No reconciliation log for 'consensus' is recorded in the store." in r.methods


def test_codebook_resolution(store, monkeypatch):
    from dataclasses import replace

    from vbhc_code.models import Code

    assert resolve_codebook(store, "consensus").name == "VBHC"  # the coder's stored codebook first
    builtin = replace(CODEBOOK, name="vbhc-sim", version="9", sha256="b" * 64)
    monkeypatch.setitem(sys.modules, "vbhc_code.codebook.load",
                        types.SimpleNamespace(load_codebook=lambda path=None: builtin))
    store.replace_codings("nocb", [Coding("FG1.txt", 3, "A", "nocb")], coded_documents=["FG1.txt"])
    assert resolve_codebook(store, "nocb") is builtin  # no stored codebook: the built-in one
    other = replace(CODEBOOK, version="2.0", codes=(*CODEBOOK.codes, Code("D", "T2", "Unused")), sha256="c" * 64)
    r = build_themes(store, coder="consensus", codebook=other, quotes=0)
    assert r.quotes.empty and r.themes.set_index("code").loc["D", "turns"] == 0
    assert themes_json(r)["quotes"] == []
    assert r.warnings == ["coder 'consensus' coded with codebook 'VBHC' 1.2; the tables use 'VBHC' 2.0 (labels and "
                          "definitions may differ)"]


def test_codes_outside_the_codebook_are_listed(store):
    store.replace_codings("x", [Coding("FG1.txt", 3, "ZZ", "x")], coded_documents=["FG1.txt"], codebook=CODEBOOK)
    r = build_themes(store, coder="x")
    assert r.themes.set_index("code").loc["ZZ", "turns"] == 1
    assert r.warnings == ["codes not in codebook 'VBHC' 1.2: ZZ (listed without label or theme)"]


def test_coder_without_documents(store, tmp_path):
    store.replace_codings("empty", [], coded_documents=[], codebook=CODEBOOK)
    r = build_themes(store, coder="empty")
    assert r.warnings == ["coder 'empty' coded no documents: every count is zero"]
    assert r.themes["turns"].tolist() == [0, 0, 0] and r.quote_objects == []
    assert openpyxl.load_workbook(write_themes_xlsx(r, tmp_path / "e.xlsx")).sheetnames[-1] == "Methods"


def test_bundled_sample_with_annas_codings(sample_store, tmp_path):
    """The real flow: the bundled study, anna's codings imported, every quote rule checked on real text."""
    import shutil

    from repo_paths import REPO

    from vbhc_code.coding.imports import import_codings
    from vbhc_code.store.store import Store

    anna = REPO / "codings" / "coder-anna.csv"
    path = tmp_path / "sample.sqlite"
    shutil.copy(sample_store, path)
    with Store.open(path) as st:
        import_codings(st, [anna], coder="anna")
        r = build_themes(st, coder="anna", quotes=3)
        turns = _turns(st)
        for q in r.quote_objects:
            _check_quote(q, turns, st)
        participants = st.participants()
    # the sample's one residual e-mail address (INT02.txt) is masked in its quote, with a warning
    assert r.warnings == ["quote of VBHC5 from INT02.txt #18: possible identifiers masked (1 [e-mail]); check "
                          "the transcript with 'vbhc-code check-identifiers'"]
    assert r.masked_quotes == 1 and "@" not in " ".join(q.text for q in r.quote_objects)
    assert r.overview["participants_by_group"].keys() == {"SIM", "VBHC"}
    for q in r.quote_objects:
        p = participants[q.participant_id]
        kind = "focus group" if q.document.startswith("FG") else "interview"
        assert q.attribution == f"{q.participant_id}, {p.attributes['group_label']}, {kind}"
    for code, js in r.codes.items():  # spread: distinct participants while candidates last
        quoted = [q.participant_id for q in r.quote_objects if q.code == code]
        assert len(quoted) == min(3, js["turns"])
        assert len(set(quoted)) == min(len(quoted), js["participants"])
    data = themes_json(r)
    assert sum(js["turns"] for js in data["codes"].values()) == sum(data["cooccurrence"][c][c] for c in data["codes"])


def test_codebook_terms_place_the_window_of_a_turn_level_coding(tmp_path):
    """Human codings have no evidence offsets: the code's codebook terms say which sentences to quote."""
    from dataclasses import replace

    from vbhc_code.models import Code, Document, Participant

    text = " ".join(S * 2)  # 110 words: trimmed
    plain = "P1: " + text
    sents = tuple((4 + m.start(), 4 + m.end()) for m in re.finditer(r"[^ ][^.]*\.", text))
    doc = Document("D.txt", "txt", "utf-8", "x", plain, (Turn(1, 4, len(plain), text, "P1", "P1", sentences=sents,
                                                               document="D.txt"),), "interview", "en")
    cb = replace(CODEBOOK, codes=(Code("A", "T1", "Outcomes", terms={"en": ("regional  network",)}),
                                  Code("B", "T1", "Payment", terms={"nl": ("dashboard",)}), *CODEBOOK.codes[2:]),
                 sha256="d" * 64)
    from vbhc_code.store.store import Store

    with Store.open(tmp_path / "t.sqlite") as st:
        st.save_document(doc)
        st.save_participants([Participant("P1")])
        st.replace_codings("h", [Coding("D.txt", 1, "A", "h"), Coding("D.txt", 1, "B", "h")],
                           coded_documents=["D.txt"], codebook=cb)
        r = build_themes(st, coder="h")
    a, b = (next(q for q in r.quote_objects if q.code == c) for c in "AB")
    assert a.core.startswith(S[6]) and a.text.startswith("... ")  # "regional network" (any spacing/case)
    assert b.core.startswith(S[0]) and not b.text.startswith("...")  # only a Dutch term: no focus in English


def test_short_turns_are_a_last_resort():
    """A turn under 15 words cannot give a 15-80 word quote: it is used only when no longer turn is left,
    even when it ranks first (no other code, evidence) and its participant is not quoted yet."""
    from vbhc_code.themes.quotes import Candidate, Quote, select_quotes

    def turn(i, pid, text):
        return Turn(i, 0, len(text), text, pid, pid, document="D.txt")

    short = Candidate(turn(1, "P1", "Yes, exactly that."), 0, True, None, "SIM")
    long_a = Candidate(turn(2, "P2", " ".join(S[:3])), 2, False, None, "SIM")
    long_b = Candidate(turn(3, "P2", " ".join(S[3:6])), 3, False, None, "SIM")

    def make(c):
        return Quote("A", "D.txt", c.turn.turn_index, c.who, 0, 1, c.turn.text, c.turn.text, c.who, c.group)

    cands = [short, long_b, long_a]
    assert [q.turn_index for q in select_quotes(cands, n=2, make=make)] == [2, 3]  # P2 twice before P1's "Yes"
    assert [q.turn_index for q in select_quotes(cands, n=3, make=make)] == [2, 3, 1]
    assert [q.turn_index for q in select_quotes([short], n=3, make=make)] == [1]  # better than no quote


def test_overview_study_and_store(store):
    ov = build_themes(store, coder="consensus").overview
    assert (ov["study"], ov["study_store"]) == ("study", "study.sqlite")  # no study name recorded: the store's
    store.set_meta("study_name", "VBHC in SIM 2025")
    assert build_themes(store, coder="consensus").overview["study"] == "VBHC in SIM 2025"


def test_methods_count_only_the_application_behind_the_consensus(store):
    """A --partial run then the full one: the log keeps both, the Methods text counts the last one only."""
    store.add_reconciliation_log([
        {"document": "FG1.txt", "turn_index": t, "code": "A", "coder_a": "anna", "coder_b": "ben", "value_a": 1,
         "value_b": 0, "decision": "apply", "decided_by": "anna", "decided_at": "2026-01-04T09:00:00+00:00"}
        for t in (2, 3, 5, 6)
    ])
    _reconciled(store)
    assert len(store.reconciliation_log()) == 7
    r = build_themes(store, coder="consensus")
    assert r.overview["reconciliation_decisions"] == 3
    assert ("reconciliation log: 3 decisions (apply: 1, as ben: 1, omit: 1), 2 with a written rationale, "
            "decided by anna, ben.") in "\n".join(r.methods)


def test_cooccurrence_and_code_by_person_count_like_a_loop():
    import random

    from vbhc_code.themes.build import code_by_person, cooccurrence

    rng = random.Random(7)
    ids = ["B", "A", "C", "D"]
    codes_at = {("d", i): set(rng.sample(ids[:3], rng.randint(1, 3))) for i in range(40)}
    table = cooccurrence(codes_at, ids)
    assert list(table.columns) == ["code", *ids] and list(table["code"]) == ids
    for a in ids:
        for b in ids:
            expected = sum(1 for cs in codes_at.values() if a in cs and b in cs)
            assert table.set_index("code").loc[a, b] == expected
    turns = {k: Turn(k[1], 0, 1, "x", speaker=rng.choice(["P1", "P2"])) for k in codes_at}
    turns_with = {c: [turns[k] for k in codes_at if c in codes_at[k]] for c in ids}
    rows = [(c, "T", f"label {c}", "") for c in ids]
    m = code_by_person(rows, turns_with, lambda t: t.speaker, ["P2", "P1", "P3"])
    assert list(m.columns) == ["code", "label", "P2", "P1", "P3"]
    for c in ids:
        row = m.set_index("code").loc[c]
        assert row["label"] == f"label {c}"
        for p in ("P1", "P2", "P3"):
            assert row[p] == sum(1 for t in turns_with[c] if t.speaker == p)
    assert list(cooccurrence({}, []).columns) == ["code"]


def test_methods_name_the_autocoder_settings_of_used_codings(store):
    from vbhc_code.autocode.run import autocode_source

    codings = [Coding("FG1.txt", 2, "A", "auto")]
    store.replace_codings("auto", codings, coded_documents=["FG1.txt"], codebook=CODEBOOK,
                          source=autocode_source("turn", "participant", 0.6))
    text = "\n".join(build_themes(store, coder="auto").methods)
    assert ("The codings of 'auto' were made by the vbhc-code autocoder (terms and patterns of codebook 'VBHC' version "
            "1.2, with its domain-context rules and vetoes) with unit turn, participant turns only (interviewer and "
            "moderator turns were not auto-coded), and minimum confidence 0.6") in text
    store.replace_codings("anna", codings, coded_documents=["FG1.txt"], codebook=CODEBOOK, source="anna.xlsx")
    assert "autocoder" not in "\n".join(build_themes(store, coder="anna").methods)
