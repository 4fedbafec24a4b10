"""Done-when of issue 13: a folder with one file per export convention and a participants sheet that names
the interviewers ingests with every turn's speaker, role, participant, text and offsets exact, no extra turns.

The files follow the services' documented layouts (Otter, Rev, Trint/Descript, Zoom, f4transkript, QualCoder,
Teams .docx/.vtt, a typist's Word table, MAXQDA's recurring labels).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from vbhc_code.ingest.folder import ingest_folder
from vbhc_code.ingest.segments import iter_segment_rows
from vbhc_code.store.store import Store

SHEET = """participant_id,aliases,speaker_role,group
P01,Max Bigman;id1;B,participant,SIM
P02,Lisa Smit;id2;Speaker 2,,VBHC
INT1,Anna de Vries;AdV;I;Speaker 1,interviewer,
INT2,Joost Dam;id3,interviewer,
"""
A, J = ("interviewer", None), ("interviewer", None)
P1, P2 = ("participant", "P01"), ("participant", "P02")

# file -> (content, expected turns as (speaker, role, participant_id, text))
TEXT_FILES: dict[str, tuple[str, list[tuple]]] = {
    "maxqda.txt": (
        "Focus group 3\nDate: 2025-05-01\n\nAnna de Vries: What do you measure?\nMax Bigman: Outcomes.\n"
        "Step one: measure what matters.\nLisa Smit: And costs.\nAnna de Vries: Thanks.\n",
        [("Anna de Vries", *A, "What do you measure?"),
         ("Max Bigman", *P1, "Outcomes.\nStep one: measure what matters."),
         ("Lisa Smit", *P2, "And costs."), ("Anna de Vries", *A, "Thanks.")],
    ),
    "otter.txt": (
        "Anna de Vries  0:02\nWelcome to the interview.\nIt is recorded.\n\nMax Bigman  0:09\nThank you.\n\n"
        "Anna de Vries  1:02\nWhat would value mean in your work?\n",
        [("Anna de Vries", *A, "Welcome to the interview.\nIt is recorded."), ("Max Bigman", *P1, "Thank you."),
         ("Anna de Vries", *A, "What would value mean in your work?")],
    ),
    "rev.txt": (
        "Speaker 1 (00:00:05):\nHello there.\n\nSpeaker 2 (00:00:09):\nHi, I work in a hospital.\n",
        [("Speaker 1", *A, "Hello there."), ("Speaker 2", *P2, "Hi, I work in a hospital.")],
    ),
    "trint.txt": (
        "[00:00:05] Joost Dam\nShall we begin?\n\n[00:00:09] Lisa Smit\nYes.\n[00:00:12] Fine.\n",
        [("Joost Dam", *J, "Shall we begin?"), ("Lisa Smit", *P2, "Yes.\n[00:00:12] Fine.")],
    ),
    "zoom.txt": (
        "00:03:40 Anna de Vries: one question\n[00:03:45] Max Bigman: one answer\n00:03:50.5 Karin Bos: a guest\n",
        [("Anna de Vries", *A, "one question"), ("Max Bigman", *P1, "one answer"),
         ("Karin Bos", "participant", None, "a guest")],
    ),
    "f4.txt": (
        "I: Wie geht es? #00:00:05-2#\nB: Gut, danke. #00:00:09-1#\nI: Und sonst? #00:00:15-0#\n",
        [("I", *A, "Wie geht es?"), ("B", *P1, "Gut, danke."), ("I", *A, "Und sonst?")],
    ),
    "qualcoder.txt": (
        "[id1] I like the course.\n\n[id2] I do not. [laughs]\n\n[id3] Why not?\n\n[id1] It helps.\n",
        [("id1", *P1, "I like the course."), ("id2", *P2, "I do not. [laughs]"), ("id3", *J, "Why not?"),
         ("id1", *P1, "It helps.")],
    ),
    "captions.txt": (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Anna de Vries>Welcome.</v>\n\n"
        "00:00:02.500 --> 00:00:04.000\n<v Lisa Smit>Thank you.</v>\n",
        [("Anna de Vries", *A, "Welcome."), ("Lisa Smit", *P2, "Thank you.")],
    ),
    "teams.vtt": (
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\n<v Joost Dam>Good morning.</v>\n\n"
        "2\n00:00:02.500 --> 00:00:04.000\n<v Max Bigman>Morning!</v>\n",
        [("Joost Dam", *J, "Good morning."), ("Max Bigman", *P1, "Morning!")],
    ),
}


def _docx(build) -> bytes:
    import docx

    d = docx.Document()
    build(d)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _table(d, values):
    t = d.add_table(rows=len(values), cols=len(values[0]))
    for row, cells in zip(t.rows, values):
        for cell, value in zip(row.cells, cells):
            cell.text = value
    return t


def _typist_table(d):
    d.add_paragraph("Interview 4")
    t = _table(d, [("#", "Speaker", "Time", "Text"), ("1", "Anna de Vries", "00:00:05", "What would value mean?"),
                   ("2", "Max Bigman", "00:00:09", "First paragraph."), ("3", "AdV", "00:00:30", "Thanks.")])
    t.rows[2].cells[3].add_paragraph("Second paragraph.")


def _headerless_table(d):
    _table(d, [("00:01", "Joost Dam", "Hello there."), ("00:05", "Lisa Smit", "Hi."), ("00:09", "Joost Dam", "Bye.")])


def _teams_docx(d):
    d.add_paragraph("Transcript")
    d.add_paragraph("Anna de Vries   0:03")
    d.add_paragraph("Welcome both.")
    p = d.add_paragraph()
    p.add_run("Lisa Smit\t0:09").bold = True
    d.add_paragraph("Happy to be here.")


def _word_labels(d):
    d.add_paragraph("Joost Dam: Shall we start?")
    d.add_paragraph("Max Bigman: Sure.")
    d.add_paragraph("Joost Dam: Good.")


DOCX_FILES = {
    "typist.docx": (_typist_table, [("Anna de Vries", *A, "What would value mean?"),
                                    ("Max Bigman", *P1, "First paragraph.\nSecond paragraph."), ("AdV", *A, "Thanks.")]),
    "headerless.docx": (_headerless_table, [("Joost Dam", *J, "Hello there."), ("Lisa Smit", *P2, "Hi."),
                                            ("Joost Dam", *J, "Bye.")]),
    "teams.docx": (_teams_docx, [("Anna de Vries", *A, "Welcome both."), ("Lisa Smit", *P2, "Happy to be here.")]),
    "word.docx": (_word_labels, [("Joost Dam", *J, "Shall we start?"), ("Max Bigman", *P1, "Sure."),
                                 ("Joost Dam", *J, "Good.")]),
}


@pytest.fixture
def services(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "study"
    folder.mkdir()
    for name, (content, _) in TEXT_FILES.items():
        (folder / name).write_text(content, encoding="utf-8")
    for name, (build, _) in DOCX_FILES.items():
        (folder / name).write_bytes(_docx(build))
    sheet = tmp_path / "participants.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    return folder, sheet


def test_one_file_per_convention_comes_out_exact(services, tmp_path):
    folder, sheet = services
    with Store.open(tmp_path / "s.sqlite") as store:
        report = ingest_folder(folder, store=store, participants_file=sheet)
        docs = {d.name: d for d in store.documents(with_turns=True)}
        rows = list(iter_segment_rows(store))
    assert not report.failed
    expected = {name: turns for name, (_, turns) in {**TEXT_FILES, **DOCX_FILES}.items()}
    assert set(docs) == set(expected)
    for name, want in expected.items():
        doc = docs[name]
        got = [(t.speaker, t.role, t.participant_id, t.text) for t in doc.turns]
        assert got == want, name  # speakers, roles, participants, texts; no extra turns
        pos = 0
        for t in doc.turns:
            if t.is_single_span:
                assert doc.plain_text[t.start : t.end] == t.text, (name, t.turn_index)
            for s, e in t.text_spans:
                piece = doc.plain_text[s:e]
                assert s == doc.plain_text.index(piece, pos), (name, t.turn_index)  # in order, nothing skipped
                assert "-->" not in piece and "#" not in piece and not piece.startswith("[id"), (name, t.turn_index)
                assert not any(ts in piece for ts in t.timestamps), (name, t.turn_index)  # times are metadata
                pos = e
    # Format from content; the segments export keeps the role column; interviewers are never participants.
    assert docs["captions.txt"].format == "vtt" and docs["otter.txt"].format == "txt"
    assert {r["role"] for r in rows if r["speaker"] in ("Anna de Vries", "AdV", "I", "Joost Dam", "id3")} == {"interviewer"}
    assert all(r["participant_id"] == "" for r in rows if r["role"] == "interviewer")
    # Unknown speakers are listed per document; interviewers of the sheet are known.
    assert report.unmatched_speakers == {"zoom.txt": ["Karin Bos"]}
    f4 = docs["f4.txt"]
    assert [t.timestamps for t in f4.turns] == [("00:00:05-2",), ("00:00:09-1",), ("00:00:15-0",)]
