"""Re-ingest of unchanged files reports from the kept summary, exactly as from the stored turns."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from study_snapshot import document_digests, write_mini_study

from vbhc_code.ingest.folder import IngestReport, ingest_folder
from vbhc_code.models import Turn
from vbhc_code.store.store import SUMMARY_META, Store

OLD = 1_600_000_000_000_000_000


def _report(report: IngestReport) -> dict[str, object]:
    return {
        "documents": [(d.name, d.status, d.format, d.encoding, d.doc_type, d.speakers, d.turns, d.chat_turns,
                       d.words, d.warnings, d.error) for d in report.documents],
        "unmatched": report.unmatched_speakers, "warnings": report.warnings,
    }


@pytest.fixture
def study(tmp_path) -> Path:
    folder = write_mini_study(tmp_path / "study", files=6)
    (folder / "fg.vtt").write_text("WEBVTT\n\n00:01.000 --> 00:02.000\n<v Moderator>Welcome all.</v>\n\n"
                                   "00:02.000 --> 00:03.000\n<v Stranger>Hello &amp; thanks.</v>\n", encoding="utf-8")
    for path in folder.iterdir():
        os.utime(path, ns=(OLD, OLD))
    return folder


def _no_turn_reads(monkeypatch) -> None:
    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003
        raise AssertionError("the stored turns were read")

    for method in ("turn_outline", "turn_outlines", "document_header", "document_headers", "turns"):
        monkeypatch.setattr(Store, method, refuse)


def test_unchanged_files_report_from_the_summary_alone(tmp_path, study, monkeypatch):
    sheet = tmp_path / "study-participants.csv"
    with Store.open(tmp_path / "s.sqlite") as st:
        first = _report(ingest_folder(study, store=st, participants_file=sheet))
        assert len(st.meta_with_prefix(SUMMARY_META)) == 7
        with monkeypatch.context() as m:
            _no_turn_reads(m)
            again = _report(ingest_folder(study, store=st, participants_file=sheet))
        assert {d[1] for d in again["documents"]} == {"unchanged"}
        assert [d[2:] for d in again["documents"]] == [d[2:] for d in first["documents"]]
        assert again["unmatched"] == first["unmatched"] and again["unmatched"]  # Stranger is no participant


def test_the_summary_and_the_store_give_the_same_report(tmp_path, study):
    """Same runs on two stores, one without summaries (as written before them): same reports, same store."""
    sheet = tmp_path / "study-participants.csv"
    docs = tmp_path / "documents.csv"
    stores = [tmp_path / "kept.sqlite", tmp_path / "none.sqlite"]

    def both(**options) -> list[dict[str, object]]:  # noqa: ANN003
        out = []
        for path in stores:
            with Store.open(path) as st:
                if path == stores[1]:
                    for name in st.meta_with_prefix(SUMMARY_META):
                        st.delete_meta(SUMMARY_META + name)
                out.append(_report(ingest_folder(study, store=st, **options)))
                out[-1]["digests"] = document_digests(st)
        return out

    both()
    runs = [both(participants_file=sheet)]  # a participants sheet now: ids change, read from the store
    docs.write_text("document,type,site\nfg.vtt,focus_group,Utrecht\n", encoding="utf-8")
    runs.append(both(participants_file=sheet, documents_file=docs))  # new attributes and type
    runs.append(both(participants_file=sheet, documents_file=docs))  # nothing new: from the summary
    for kept, rebuilt in runs:
        assert kept == rebuilt
    assert dict((d[0], d[4]) for d in runs[-1][0]["documents"])["fg.vtt"] == "focus_group"


def test_every_change_to_a_document_drops_its_summary(tmp_path, study):
    with Store.open(tmp_path / "s.sqlite") as st:
        ingest_folder(study, store=st)
        names = sorted(st.meta_with_prefix(SUMMARY_META))
        a, b, c, d = names[:4]
        turns = st.turns(document=a, sentences=True)
        st.replace_sentences(a, [Turn(t.turn_index, t.start, t.end, t.text, sentences=t.sentences) for t in turns], "en")
        st.update_document_metadata(b, participant_ids={}, attributes={"x": "1"}, doc_type="interview")
        st.save_document(st.document(c), replace=True)
        st.delete_document(d)
        assert sorted(st.meta_with_prefix(SUMMARY_META)) == names[4:]
