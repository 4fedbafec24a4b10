"""The bundled synthetic study (transcripts/) ingests cleanly: every format, every planted feature."""

from __future__ import annotations

from collections import Counter

from vbhc_code.ingest.identifiers import scan_document
from vbhc_code.store.store import Store


def test_sample_study_ingests_every_format(sample_store):
    with Store.open(sample_store) as st:
        docs = {d.name: d for d in st.documents(with_turns=True)}
        participants = st.participants()
    assert {d.format for d in docs.values()} == {"txt", "md", "docx", "vtt", "srt"}
    assert len(docs) >= 6
    assert docs["INT02.txt"].encoding == "cp1252" and any("read as cp1252" in w for w in docs["INT02.txt"].warnings)
    assert "\r" not in docs["INT01.txt"].plain_text  # the CRLF file is normalised
    assert docs["INT06.txt"].language == "nl"
    for doc in docs.values():
        assert doc.turns, doc.name
        for t in doc.turns:
            if t.is_single_span:
                assert doc.plain_text[t.start : t.end] == t.text, (doc.name, t.turn_index)
            # every participant speaker is in the participants sheet
            if t.role == "participant":
                assert t.participant_id in participants, (doc.name, t.turn_index, t.speaker)
            assert t.sentences
    focus = [d for d in docs.values() if d.doc_type == "focus_group"]
    assert len(focus) >= 2
    for d in focus:
        chats = [t for t in d.turns if t.turn_type == "chat"]
        assert chats and all(t.timestamps and t.participant_id for t in chats)
    fg01 = docs["FG01.vtt"]
    assert any(len(t.text_spans) > 1 for t in fg01.turns)  # Teams-style multi-cue turns merged
    counts = Counter(t.turn_type for t in fg01.turns)
    assert counts["chat"] == 3
    docx = docs["INT03.docx"]
    assert [t.speaker for t in docx.turns[:2]] == ["Interviewer", "P03"] and docx.turns[0].timestamps


def test_sample_study_has_exactly_the_planted_identifiers(sample_store):
    with Store.open(sample_store) as st:
        findings = [f for d in st.documents(with_turns=True)
                    for f in scan_document(d.name, d.plain_text, list(d.turns), fmt=d.format)]
    assert sorted((f["document"], f["kind"]) for f in findings) == [("FG01.vtt", "phone"), ("INT02.txt", "email")]
