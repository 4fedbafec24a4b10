"""Sentences of caption turns: split over the turn's joined text, mapped back to document offsets."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vbhc_code.autocode.run import autocode
from vbhc_code.codebook.load import load_codebook
from vbhc_code.ingest.folder import document_from_text
from vbhc_code.ingest.transcripts.captions import clean_cue_text
from vbhc_code.nlp.segment import sentence_spans
from vbhc_code.store.store import Store
from vbhc_code.themes.quotes import _sentences, word_count

VTT = """WEBVTT

1
00:00:01.000 --> 00:00:04.000
<v P01>Yes. We send the questionnaire to

2
00:00:04.000 --> 00:00:07.000
<v P01>every patient twice. Then we wait.

3
00:00:07.000 --> 00:00:08.000
<v Interviewer>Why?
"""


def cue_text(plain: str, spans, start: int, end: int) -> str:
    """The document range start:end without the cue material between the turn's spans, as turn text."""
    return " ".join(clean_cue_text(plain[max(s, start):min(e, end)]) for s, e in spans if s < end and e > start)


def test_a_sentence_over_two_cues_is_one_sentence():
    doc = document_from_text("a.vtt", VTT, fmt="vtt")
    turn = doc.turns[0]
    assert turn.text == "Yes. We send the questionnaire to every patient twice. Then we wait."
    (s1, e1), (s2, e2) = turn.spans
    plain = doc.plain_text
    crossing = (plain.index("We send"), plain.index("twice.") + len("twice."))
    assert turn.sentences == ((s1, s1 + 4), crossing, (crossing[1] + 1, e2))
    assert crossing[0] < e1 and crossing[1] > s2  # it spans the second cue's id and timing line
    assert "00:00:04.000 --> 00:00:07.000" in plain[crossing[0]:crossing[1]]
    assert cue_text(plain, turn.spans, *crossing) == "We send the questionnaire to every patient twice."
    # a single-span turn keeps the plain rule
    assert doc.turns[1].sentences == tuple(sentence_spans("Why?", offset=doc.turns[1].start))


def test_joined_text_sentences_equal_sentence_spans_of_the_text():
    doc = document_from_text("a.vtt", VTT.replace("<v P01>every", "<v P01><i>every</i> &amp;"), fmt="vtt")
    turn = doc.turns[0]
    assert "every & patient" in turn.text
    expected = [turn.text[a:b] for a, b in sentence_spans(turn.text)]
    got = [cue_text(doc.plain_text, turn.spans, s, e) for s, e in turn.sentences]
    assert got == expected and len(got) == 3
    # the mapped sentence ends right after its last character, the entity taken whole
    assert doc.plain_text[turn.sentences[1][0]:turn.sentences[1][1]].endswith("&amp; patient twice.")


def test_autocode_sentence_unit_and_quote_sentences_over_cues(tmp_path):
    doc = document_from_text("a.vtt", VTT, fmt="vtt")
    turn = doc.turns[0]
    with Store.open(tmp_path / "s.sqlite", create=True) as store:
        store.save_document(doc)
        autocode(store, codebook=load_codebook(), unit="sentence")
        spans = {(c.code, c.start, c.end) for c in store.codings("auto")}
    # the questionnaire mention is coded with the whole crossing sentence as its span
    assert ("VBHC2", turn.sentences[1][0], turn.sentences[1][1]) in spans
    # quote trimming sees the crossing sentence as one piece of text, no word lost or duplicated
    sents = _sentences(turn, doc.plain_text)
    assert [turn.text[a:b] for _, _, a, b in sents] == [
        "Yes.", "We send the questionnaire to every patient twice.", "Then we wait."]
    assert sum(word_count(turn.text[a:b]) for _, _, a, b in sents) == word_count(turn.text)


word = st.sampled_from(["we", "send", "it", "Dr.", "e.g.", "3.5", "care", "fast", "ok", "U.S.", "zorg", "Wat"])
punct = st.sampled_from(["", "", "", ".", "?", "!", "...", ".\"", ",", "?!"])
markup = st.sampled_from([("", ""), ("<i>", "</i>"), ("<b>", "</b>"), ("", " &amp;"), ("&lt;", ""), ("<c.x>", "</c>")])
cue_body = st.lists(st.tuples(word, punct, markup), min_size=1, max_size=6).map(
    lambda ws: " ".join(f"{m[0]}{w}{p}{m[1]}" for w, p, m in ws))
cue = st.tuples(st.sampled_from(["P01", "Interviewer", "Anna"]), st.lists(cue_body, min_size=1, max_size=2))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(cue, min_size=1, max_size=8), st.sampled_from(["en", "nl"]))
def test_mapped_sentences_read_as_the_joined_text_sentences(cues, lang):
    blocks = ["WEBVTT", ""]
    for i, (label, lines) in enumerate(cues, 1):
        blocks += [str(i), f"00:00:{i:02d}.000 --> 00:00:{i:02d}.500", f"<v {label}>" + "\n".join(lines), ""]
    doc = document_from_text("p.vtt", "\n".join(blocks), fmt="vtt", language=lang)
    plain = doc.plain_text
    for turn in doc.turns:
        expected = sentence_spans(turn.text, lang=lang)
        assert len(turn.sentences) == len(expected)
        last = turn.start
        for (s, e), (a, b) in zip(turn.sentences, expected):
            assert last <= s < e <= turn.end  # in order, inside the turn
            last = e
            assert cue_text(plain, turn.text_spans, s, e) == turn.text[a:b]
        if turn.is_single_span and plain[turn.start:turn.end] == turn.text:
            assert list(turn.sentences) == sentence_spans(turn.text, offset=turn.start, lang=lang)


def test_a_store_split_cue_by_cue_gets_its_sentences_again_and_keeps_codings(tmp_path):
    from vbhc_code.ingest.folder import _READING_META, ingest_folder
    from vbhc_code.models import Coding

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.vtt").write_text(VTT, encoding="utf-8")
    with Store.open(tmp_path / "s.sqlite", create=True) as store:
        ingest_folder(folder, store=store)
        want = store.document("a.vtt").turns[0].sentences
        # what an older version stored: sentences cut at the cue break, under its own reading key
        (s1, e1), (s2, e2) = store.document("a.vtt").turns[0].spans
        old = [(s1, s1 + 4), (s1 + 5, e1), (s2, want[1][1]), (want[2][0], e2)]
        with store.transaction():
            store.conn.execute("DELETE FROM sentences")
            store.conn.executemany(
                'INSERT INTO sentences (turn_id, sentence_index, start, "end") '
                "VALUES ((SELECT id FROM turns WHERE turn_index = 1), ?, ?, ?)",
                [(i, s, e) for i, (s, e) in enumerate(old, 1)])
        store.set_meta(_READING_META + "a.vtt", "an older reading")
        store.replace_codings("anna", [Coding("a.vtt", 1, "SIM1", "anna")], coded_documents=["a.vtt"])
        report = ingest_folder(folder, store=store)
        assert [d.status for d in report.documents] == ["unchanged"]
        assert store.document("a.vtt").turns[0].sentences == want
        assert [(c.turn_index, c.code) for c in store.codings("anna")] == [(1, "SIM1")]
        ingest_folder(folder, store=store)  # and then it is settled
        assert store.get_meta(_READING_META + "a.vtt") != "an older reading"
