"""vbhc_code.themes: counts against a hand-built store, quote rules, attribution, workbook, JSON, Markdown."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from themes_fixture import build_store

from vbhc_code.errors import UsageError
from vbhc_code.themes import (
    build_themes,
    themes_json,
    themes_markdown,
    write_themes_xlsx,
)
from vbhc_code.themes_quotes import MAX_WORDS, MIN_WORDS

DATA = Path(__file__).parent / "data"


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
    assert t.loc["A", ["turns [focus group]", "turns [interview]"]].tolist() == [4, 1]
    # B on the moderator turn is out of the participant scope; C has two rows on FG1 #2 = one turn
    assert t.loc["B", ["turns", "participants"]].tolist() == [1, 1]
    assert t.loc["C", ["turns", "participants", "participants_pct"]].tolist() == [3, 3, 0.75]
    assert t.loc["A", "theme"] == "Value" and t.loc["C", "theme"] == "Data"
    co = r.cooccurrence.set_index("code")
    assert co.loc["A", "C"] == 3 and co.loc["A", "B"] == 1 and co.loc["B", "B"] == 1 and co.loc["C", "A"] == 3
    m = r.matrix.set_index("code")
    assert m.loc["A", ["P1", "P2", "P3", "P4"]].tolist() == [2, 1, 1, 1]
    g = r.groups.set_index(["code", "group"])
    assert g.loc[("C", "SIM"), "participants_pct"] == 0.5
    fw = r.framework_table.set_index(["code", "health_system"])
    assert fw.loc[("A", "NL"), ["documents", "turns"]].tolist() == [1, 4]
    assert r.overview["documents_by_type"] == {"focus_group": 1, "interview": 1}
    assert r.overview["participants_by_group"] == {"SIM": 2, "VBHC": 2}


def test_scope_all_counts_interviewer(store):
    t = build_themes(store, coder="consensus", scope="all").themes.set_index("code")
    assert t.loc["B", "turns"] == 2


def _check_quote(q, turns, store):
    turn = turns[(q.document, q.turn_index)]
    plain = store.document(q.document, with_turns=False).plain_text
    core = q.text.removeprefix("... ").removesuffix(" ...")
    assert core in turn.text
    assert plain[q.start:q.end] == core
    assert q.text.startswith("... ") == bool(turn.text[: turn.text.index(core)].strip())
    n_words = len(re.findall(r"\w+", core))
    sentences = [(a, b) for a, b in turn.sentences if q.start <= a and b <= q.end]
    assert sentences and sentences[0][0] == q.start and sentences[-1][1] == q.end  # whole sentences
    assert MIN_WORDS <= n_words <= MAX_WORDS or len(sentences) == 1


def test_quote_rules(store):
    turns = _turns(store)
    r = build_themes(store, coder="consensus", quotes=3)
    assert len(r.quote_objects) == 3 + 1 + 3
    for q in r.quote_objects:
        _check_quote(q, turns, store)
    a = [q for q in r.quote_objects if q.code == "A"]
    assert len({q.participant_id for q in a}) == 3  # spread over participants
    assert {q.group for q in a} == {"SIM", "VBHC"}  # and over groups
    # most specific turns first: FG1 #3 carries only A
    assert (a[0].document, a[0].turn_index) == ("FG1.txt", 3)
    # the VTT turn (text != plain slice) gives a quote inside one cue
    vtt = [q for q in r.quote_objects if q.document == "INT01.vtt"]
    spans = turns[("INT01.vtt", 2)].spans
    assert vtt and all(any(s <= q.start and q.end <= e for s, e in spans) for q in vtt)
    again = build_themes(store, coder="consensus", quotes=3)
    assert again.quote_objects == r.quote_objects  # deterministic
    more = build_themes(store, coder="consensus", quotes=10)
    a10 = [q for q in more.quote_objects if q.code == "A"]
    assert len(a10) == 5 and [q.participant_id for q in a10[:4]].count("P1") == 1  # P1 again only at the end


def test_pins_and_excludes(store, tmp_path):
    pins = tmp_path / "pins.csv"
    pins.write_text("document,turn_index,code\nINT01.vtt,2,A\n", encoding="utf-8")
    excl = tmp_path / "excl.csv"
    excl.write_text("document,turn_index\nFG1.txt,3\n", encoding="utf-8")
    r = build_themes(store, coder="consensus", quotes=2, pins=pins, excludes=excl)
    a = [q for q in r.quote_objects if q.code == "A"]
    assert (a[0].document, a[0].turn_index, a[0].pinned) == ("INT01.vtt", 2, True)
    assert all((q.document, q.turn_index) != ("FG1.txt", 3) for q in r.quote_objects)
    assert len(a) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("document,turn_index\nFG1.txt,x\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"bad.csv line 2: turn_index must be a whole number"):
        build_themes(store, coder="consensus", pins=bad)


def test_attribution_formats(store):
    r = build_themes(store, coder="consensus")
    by_pid = {q.participant_id: q.attribution for q in r.quote_objects}
    assert by_pid["P1"] == "P1, expert in SIM, focus group"
    assert by_pid["P3"] == "P3, VBHC professional, focus group"  # group_label attribute wins
    assert by_pid["P4"] == "P4, expert in VBHC, interview"
    r2 = build_themes(store, coder="consensus", attribution="{participant_id} ({group}; {document} #{turn_index})")
    assert {q.attribution for q in r2.quote_objects if q.participant_id == "P4"} == {"P4 (VBHC; INT01.vtt #2)"}
    with pytest.raises(UsageError, match=r"unknown placeholder \{age\}"):
        build_themes(store, coder="consensus", attribution="{participant_id}, {age}")


def test_workbook_safe_and_equals_json(tmp_path):
    st = build_store(tmp_path / "hostile.sqlite", hostile=True)
    r = build_themes(st, coder="consensus")
    st.close()
    path = write_themes_xlsx(r, tmp_path / "themes.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Overview", "Themes", "Quotes", "Matrix", "Groups", "Cooccurrence", "Framework",
                             "Methods", "Charts"]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            assert all(cell.data_type != "f" for cell in row), ws.title
    quotes = list(wb["Quotes"].iter_rows(values_only=True))
    assert any(str(v[2]).startswith("=HYPERLINK") for v in quotes[1:])
    data = themes_json(r)
    head = quotes[0]
    got = [dict(zip(head, v)) for v in quotes[1:]]
    assert [(g["code"], g["document"], g["turn_index"], g["start"], g["end"], g["quote"], g["attribution"])
            for g in got] == [(q["code"], q["document"], q["turn_index"], q["start"], q["end"], q["text"],
                               q["attribution"]) for q in data["quotes"]]
    themes = list(wb["Themes"].iter_rows(values_only=True))
    th = [dict(zip(themes[0], v)) for v in themes[1:]]
    for row in th:
        js = data["codes"][row["code"]]
        assert (row["turns"], row["participants"], row["documents"]) == (js["turns"], js["participants"],
                                                                           js["documents"])
        for grp, counts in js["by_group"].items():
            assert row[f"turns [{grp}]"] == counts["turns"]
    co = list(wb["Cooccurrence"].iter_rows(values_only=True))
    assert {v[0]: dict(zip(co[0][1:], v[1:])) for v in co[1:]} == data["cooccurrence"]
    dvs = [dv for dv in wb["Framework"].data_validations.dataValidation]
    assert dvs and dvs[0].formula1 == '"red,amber,green"'
    assert len(wb["Charts"]._charts) == 2


def test_markdown_snapshot(store):
    md = themes_markdown(build_themes(store, coder="consensus"))
    assert md == (DATA / "themes_snapshot.md").read_text(encoding="utf-8")


def test_quote_focus_in_later_cue(store):
    """Evidence inside the second cue of a merged VTT turn moves the quote there."""
    from vbhc_code.themes_quotes import trim

    turn = _turns(store)[("INT01.vtt", 2)]
    plain = store.document("INT01.vtt", with_turns=False).plain_text
    s2, e2 = turn.spans[1]
    ds, de, core, before, after = trim(turn, plain, focus=s2 + 3)
    assert s2 <= ds and de <= e2 and plain[ds:de] == core and core in turn.text and before and after


def test_methods_reconciliation_and_agreement_fallback(store):
    from themes_fixture import CODEBOOK

    from vbhc_code.models import Coding

    store.replace_codings("ben", [Coding("FG1.txt", 2, "A", "ben")], coded_documents=["FG1.txt"], codebook=CODEBOOK)
    store.add_reconciliation_log([
        {"document": "FG1.txt", "turn_index": 2, "code": "A", "coder_a": "anna", "coder_b": "ben", "value_a": 1,
         "value_b": 0, "decision": "keep"},
        {"document": "FG1.txt", "turn_index": 3, "code": "B", "coder_a": "anna", "coder_b": "ben", "value_a": 0,
         "value_b": 1, "decision": "drop"},
    ])
    r = build_themes(store, coder="consensus")
    text = "\n".join(r.methods)
    assert "reconciliation log of 2 decisions (drop: 1, keep: 1)" in text
    assert "codebook 'VBHC' version 1.2" in text and "2 in group SIM" in text
    assert r.overview["agreement"].startswith("Agreement between coders anna, ben")
    assert r.overview["reconciliation_decisions"] == 2


def test_zero_quotes_and_other_codebook(store):
    from dataclasses import replace

    from themes_fixture import CODEBOOK

    from vbhc_code.models import Code

    cb = replace(CODEBOOK, codes=(*CODEBOOK.codes, Code("D", "T2", "Unused")))
    r = build_themes(store, coder="consensus", codebook=cb, quotes=0)
    assert r.quotes.empty and r.themes.set_index("code").loc["D", "turns"] == 0
    assert themes_json(r)["quotes"] == []
