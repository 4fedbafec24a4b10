"""``ingest``, ``segments`` and ``check-identifiers`` through the CLI: exit codes, exact error lines,
idempotency, store contents."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.ingest.folder import ingest_folder
from vbhc_code.models import Coding
from vbhc_code.store.store import Store

runner = CliRunner()


def run(*args: str, env: dict | None = None):
    return runner.invoke(app, list(args), env=env)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")
    return path


@pytest.fixture()
def study(tmp_path):
    folder = tmp_path / "study"
    write(
        folder,
        "INT01.txt",
        'Date: 3 May 2024\nLocation: online\n\nInterviewer: Welcome.\n\nP01: Thanks.\nIt is a "good" day.\n\nInterviewer: Next?\n',
    )
    write(folder, "sub/FG01.txt", "Moderator: Hi all.\nP02: One.\nP03: Two.\nP04: Three.\nP02: Again.\n")
    write(folder, "notes.pdf", "not a transcript")
    parts = write(
        tmp_path, "participants.csv", "participant_id,aliases,group\nP01,,SIM\nP02,,VBHC\nP03,,SIM\nP04,,VBHC\n"
    )
    return folder, parts, tmp_path / "s.sqlite"


def test_ingest_stores_documents_and_turns(study):
    folder, parts, store = study
    result = run("ingest", str(folder), "--participants", str(parts), "--store", str(store))
    assert result.exit_code == 0, result.output
    assert "skipped notes.pdf: not a transcript format (.pdf)" in result.stdout
    with Store.open(store) as st:
        assert st.document_names() == ["INT01.txt", "sub/FG01.txt"]
        doc = st.document("INT01.txt")
        assert doc.doc_type == "interview" and doc.encoding == "utf-8" and doc.format == "txt"
        assert doc.sha256 == hashlib.sha256((folder / "INT01.txt").read_bytes()).hexdigest()
        assert [(t.speaker, t.role, t.participant_id) for t in doc.turns] == [
            ("Interviewer", "interviewer", None), ("P01", "participant", "P01"), ("Interviewer", "interviewer", None)
        ]
        assert doc.turns[1].text == 'Thanks.\nIt is a "good" day.'
        for t in doc.turns:
            assert doc.plain_text[t.start : t.end] == t.text
            assert t.sentences and all(doc.plain_text[s:e].strip() for s, e in t.sentences)
        assert [doc.plain_text[s:e] for s, e in doc.turns[1].sentences] == ["Thanks.", 'It is a "good" day.']
        fg = st.document("sub/FG01.txt")
        assert fg.doc_type == "focus_group"
        assert [t.turn_index for t in fg.turns] == [1, 2, 3, 4, 5]


def test_ingest_is_idempotent_and_never_touches_inputs(study):
    folder, parts, store = study
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}
    assert run("ingest", str(folder), "--participants", str(parts), "--store", str(store)).exit_code == 0
    assert run("ingest", str(folder), "--participants", str(parts), "--store", str(store)).exit_code == 0
    with Store.open(store) as st:
        report = ingest_folder(folder, store=st, participants_file=parts)
    assert [(d.name, d.status, d.turns) for d in report.documents] == [
        ("INT01.txt", "unchanged", 3), ("sub/FG01.txt", "unchanged", 5)
    ]
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}
    assert before == after


def test_reingest_of_unchanged_files_reads_no_turn_text(study, monkeypatch):
    """The summary of an unchanged file (turns, speakers, words) comes without loading its turns or text."""
    folder, parts, store = study
    with Store.open(store) as st:
        first = [(d.name, d.turns, d.speakers, d.words) for d in ingest_folder(folder, store=st, participants_file=parts).documents]
        monkeypatch.setattr(Store, "turns", lambda *a, **k: pytest.fail("turn texts read"))
        monkeypatch.setattr(Store, "document", lambda *a, **k: pytest.fail("plain text read"))
        again = ingest_folder(folder, store=st, participants_file=parts).documents
        assert [(d.name, d.turns, d.speakers, d.words) for d in again] == first
        assert [d.status for d in again] == ["unchanged", "unchanged"]
        monkeypatch.undo()
        st.delete_meta("words:INT01.txt")  # a store written before word counts were kept
        st.set_meta("words:sub/FG01.txt", "0" * 64 + " 99")  # a count for other content is not used
        old = ingest_folder(folder, store=st, participants_file=parts).documents
        assert [(d.name, d.turns, d.speakers, d.words) for d in old] == first


def test_words_read_so_far_are_reported_after_each_stored_file(study):
    folder, parts, store = study
    seen: list[int] = []
    with Store.open(store) as st:
        report = ingest_folder(folder, store=st, participants_file=parts, on_words=seen.append)
        assert seen == sorted(seen) and seen[-1] == sum(d.words for d in report.documents) > 0
        assert len(seen) == 2
        again: list[int] = []
        ingest_folder(folder, store=st, participants_file=parts, on_words=again.append)
        assert again == []  # nothing read: unchanged files


def test_changed_file_with_codings_is_refused_unless_force(study):
    folder, parts, store = study
    assert run("ingest", str(folder), "--store", str(store)).exit_code == 0
    with Store.open(store) as st:
        st.replace_codings("anna", [Coding("INT01.txt", 2, "SIM1", "anna")], coded_documents=["INT01.txt"])
    write(folder, "INT01.txt", "Interviewer: Welcome back.\nP01: Changed.\n")
    result = run("ingest", str(folder), "--store", str(store))
    assert result.exit_code == 1
    assert (
        "error: INT01.txt: changed since it was ingested and has codings; re-reading it would move its offsets "
        "(use --force to re-read it and drop its codings)"
    ) in result.stderr
    with Store.open(store) as st:
        assert len(st.codings("anna")) == 1
    forced = run("ingest", str(folder), "--store", str(store), "--force")
    assert forced.exit_code == 0
    with Store.open(store) as st:
        assert st.document("INT01.txt").turns[1].text == "Changed."
        assert st.codings("anna") == []


def test_a_participants_sheet_given_later_rereads_unchanged_files_for_its_aliases(tmp_path):
    """Alias labels only exist once the sheet is known: an unchanged file is re-read when the labels change."""
    folder = tmp_path / "study"
    write(folder, "a.txt", "Interviewer: Hi.\nAnna de Vries: Four things.\nP02: Two.\n")
    parts = write(tmp_path, "p.csv", "participant_id,aliases\nP01,Anna de Vries\nP02,\n")
    store = tmp_path / "s.sqlite"
    assert run("ingest", str(folder), "--store", str(store)).exit_code == 0
    with Store.open(store) as st:
        assert [t.speaker for t in st.document("a.txt").turns] == ["Interviewer", "P02"]
    assert run("ingest", str(folder), "--store", str(store), "--participants", str(parts)).exit_code == 0
    with Store.open(store) as st:
        doc = st.document("a.txt")
        assert [(t.speaker, t.participant_id, t.text) for t in doc.turns] == [
            ("Interviewer", None, "Hi."), ("Anna de Vries", "P01", "Four things."), ("P02", "P02", "Two.")
        ]
    with Store.open(store) as st:  # same labels again (from the store): nothing is re-read
        assert [d.status for d in ingest_folder(folder, store=st).documents] == ["unchanged"]


def test_new_labels_never_move_the_turns_of_a_coded_document(tmp_path):
    folder = tmp_path / "study"
    write(folder, "a.txt", "Interviewer: Hi.\nAnna de Vries: Four things.\nP02: Two.\n")
    write(folder, "b.txt", "Interviewer: Hello.\nP02: Fine.\n")
    parts = write(tmp_path, "p.csv", "participant_id,aliases\nP01,Anna de Vries\nP02,\n")
    store = tmp_path / "s.sqlite"
    assert run("ingest", str(folder), "--store", str(store)).exit_code == 0
    with Store.open(store) as st:
        st.replace_codings("anna", [Coding("a.txt", 1, "SIM1", "anna"), Coding("b.txt", 2, "SIM1", "anna")],
                           coded_documents=["a.txt", "b.txt"])
    result = run("ingest", str(folder), "--store", str(store), "--participants", str(parts))
    assert result.exit_code == 0
    assert ("warning: a.txt: the new participants sheet/options would change its turns, but it has codings; "
            "kept as it was (use --force to re-read it and drop its codings)") in result.stderr
    with Store.open(store) as st:
        assert [t.speaker for t in st.document("a.txt").turns] == ["Interviewer", "P02"]
        assert [t.participant_id for t in st.document("b.txt").turns] == [None, "P02"]
        assert len(st.codings("anna")) == 2
    # --force re-reads the document whose turns change; b.txt keeps its turns and so its coding.
    assert run("ingest", str(folder), "--store", str(store), "--force").exit_code == 0
    with Store.open(store) as st:
        assert [t.speaker for t in st.document("a.txt").turns] == ["Interviewer", "Anna de Vries", "P02"]
        assert [(c.document, c.turn_index) for c in st.codings("anna")] == [("b.txt", 2)]


def test_documents_sheet_language_resegments_an_unchanged_file(tmp_path):
    folder = tmp_path / "study"
    write(folder, "a.txt", "Interviewer: Hoe gaat het? Goed.\nP01: Prima.\n")
    docs = write(tmp_path, "d.csv", "document,language\na.txt,nl\n")
    store = tmp_path / "s.sqlite"
    assert run("ingest", str(folder), "--store", str(store)).exit_code == 0
    assert run("ingest", str(folder), "--store", str(store), "--documents", str(docs)).exit_code == 0
    with Store.open(store) as st:
        assert st.document("a.txt").language == "nl"
    assert run("ingest", str(folder), "--store", str(store)).exit_code == 0  # no sheet: keeps its language
    with Store.open(store) as st:
        doc = st.document("a.txt")
        assert doc.language == "nl"
        assert [doc.plain_text[s:e] for s, e in doc.turns[0].sentences] == ["Hoe gaat het?", "Goed."]


def test_prune_removes_documents_gone_from_the_folder(study):
    folder, parts, store = study
    assert run("ingest", str(folder), "--store", str(store)).exit_code == 0
    (folder / "sub" / "FG01.txt").unlink()
    assert run("ingest", str(folder), "--store", str(store)).exit_code == 0
    with Store.open(store) as st:
        assert "sub/FG01.txt" in st.document_names()
    result = run("ingest", str(folder), "--store", str(store), "--prune")
    assert result.exit_code == 0 and "pruned sub/FG01.txt" in result.stdout
    with Store.open(store) as st:
        assert st.document_names() == ["INT01.txt"]


def test_unreadable_file_fails_but_others_are_stored(study):
    folder, parts, store = study
    (folder / "empty.txt").write_bytes(b"")
    result = run("ingest", str(folder), "--store", str(store))
    assert result.exit_code == 1
    assert "error: empty.txt" in result.stderr
    assert "Traceback" not in result.output
    with Store.open(store) as st:
        assert st.document_names() == ["INT01.txt", "sub/FG01.txt"]


def test_folder_without_transcripts(tmp_path):
    (tmp_path / "only.pdf").write_text("x")
    result = run("ingest", str(tmp_path), "--store", str(tmp_path / "s.sqlite"))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {tmp_path}: no transcripts found (.txt, .docx, .vtt, .srt, .md)"


def test_participants_sheet_without_id_column(study, tmp_path):
    folder, _, store = study
    bad = write(tmp_path, "bad.csv", "id,group\nP01,SIM\n")
    result = run("ingest", str(folder), "--participants", str(bad), "--store", str(store))
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: bad.csv line 1: no 'participant_id' column (the header row has 2 named columns)"
    assert not store.exists() or Store.open(store).document_names() == []


def test_usage_errors_exit_2(study):
    folder, _, store = study
    assert run("ingest", str(folder), "--language", "fr", "--store", str(store)).exit_code == 2
    assert run("ingest", str(folder), "--speaker-pattern", "([", "--store", str(store)).exit_code == 2
    assert run("ingest", str(folder / "nope"), "--store", str(store)).exit_code == 2
    assert run("segments", "--out", "x.json", "--store", str(store)).exit_code == 2


def test_unwritable_store(study, tmp_path):
    folder, _, _ = study
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    result = run("ingest", str(folder), "--store", str(blocker / "s.sqlite"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {blocker / 's.sqlite'}: cannot open the study store")


def test_store_from_environment(study, tmp_path):
    folder, _, store = study
    env = {"VBHC_CODE_STORE": str(store)}
    assert run("ingest", str(folder), env=env).exit_code == 0
    assert store.exists()
    seg = run("segments", env=env)
    assert seg.exit_code == 0 and seg.stdout_bytes.count(b"\r\n") == 1 + 3 + 5  # RFC 4180 CRLF
    ids = run("check-identifiers", "--json", env=env)
    assert ids.exit_code == 0 and json.loads(ids.stdout) == []
    # --store wins over the environment; a store that does not exist is never created by a reader.
    other = tmp_path / "other.sqlite"
    for cmd in (["segments"], ["check-identifiers"]):
        result = run(*cmd, "--store", str(other), env=env)
        assert result.exit_code == 1
        assert result.stderr == f"error: {other}: no study store here (ingest a folder first, or name the store: --store)\n"
    assert not other.exists()


def test_store_path_that_is_a_folder_or_not_a_store(study, tmp_path):
    folder, _, _ = study
    result = run("ingest", str(folder), "--store", str(tmp_path))
    assert result.exit_code == 1 and result.stderr == f"error: {tmp_path}: is a folder, not a store file\n"
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all, just some bytes" * 100)
    for cmd in (["ingest", str(folder)], ["segments"], ["check-identifiers"]):
        result = run(*cmd, "--store", str(junk))
        assert result.exit_code == 1
        assert result.stderr == f"error: {junk}: not a usable study store (file is not a database)\n"
    assert junk.read_bytes() == b"not a database at all, just some bytes" * 100


def test_segments_csv_is_rfc4180(study, tmp_path):
    folder, parts, store = study
    assert run("ingest", str(folder), "--participants", str(parts), "--store", str(store)).exit_code == 0
    result = run("segments", "--store", str(store), "--no-bom")
    assert result.exit_code == 0 and not result.stdout.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
    assert rows[0][:8] == ["document", "turn_index", "speaker", "participant_id", "turn_type", "start", "end", "text"]
    assert rows[0][8:11] == ["role", "timestamp", "spans"] and rows[0][11:] == ["group"]
    p01 = next(r for r in rows if r[3] == "P01")
    assert p01[7] == 'Thanks.\nIt is a "good" day.' and p01[-1] == "SIM"
    out = tmp_path / "seg.csv"
    assert run("segments", "--store", str(store), "--out", str(out)).exit_code == 0
    # a file for Excel: UTF-8 with a byte order mark by default, the same rows as stdout
    assert out.read_bytes().startswith(b"\xef\xbb\xbfdocument,turn_index,speaker,participant_id,turn_type,start,end")
    assert b"\r\n" in out.read_bytes()
    assert list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline=""))) == rows
    assert run("segments", "--store", str(store)).stdout.startswith("\ufeffdocument,")


def test_segments_csv_neutralises_formulas_unless_raw(tmp_path):
    folder = tmp_path / "study"
    write(folder, "INT01.txt", "Interviewer: -Hello.\n\nP01: =SUM(1;2) and more\n")
    parts = write(tmp_path, "participants.csv", "participant_id,role\nP01,=cmd|' /C calc'!A0\n")
    store = tmp_path / "s.sqlite"
    assert run("ingest", str(folder), "--participants", str(parts), "--store", str(store)).exit_code == 0
    out = tmp_path / "seg.csv"
    assert run("segments", "--store", str(store), "--out", str(out)).exit_code == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
    text, role = rows[0].index("text"), rows[0].index("role")
    assert [r[text] for r in rows[1:]] == ["'-Hello.", "'=SUM(1;2) and more"]
    assert rows[2][rows[0].index("participant_id")] == "P01" and rows[2][-1] == "'=cmd|' /C calc'!A0"
    assert all(not cell or cell[0] not in "=+-@\t\r" for r in rows for cell in r)
    result = run("segments", "--store", str(store), "--raw", "--no-bom")
    assert result.exit_code == 0
    raw = list(csv.reader(io.StringIO(result.stdout, newline="")))
    assert [r[text] for r in raw[1:]] == ["-Hello.", "=SUM(1;2) and more"] and raw[2][-1] == "=cmd|' /C calc'!A0"
    assert [r[role] for r in raw[1:]] == [r[role] for r in rows[1:]]  # roles are plain words: unchanged


def test_segments_without_store(tmp_path):
    result = run("segments", "--store", str(tmp_path / "none.sqlite"))
    assert result.exit_code == 1
    assert "no study store here" in result.stderr


def test_check_identifiers_json(tmp_path):
    folder = tmp_path / "study"
    write(folder, "INT09.txt", "Interviewer: Hello.\nP01: Mail me at jan.jansen@example.org or call 06-12345678.\n")
    store = tmp_path / "s.sqlite"
    assert run("ingest", str(folder), "--store", str(store)).exit_code == 0
    result = run("check-identifiers", "--json", "--store", str(store))
    assert result.exit_code == 0
    findings = json.loads(result.stdout)
    with Store.open(store) as st:
        text = st.document("INT09.txt").plain_text
    kinds = {f["kind"]: f for f in findings}
    assert {"email", "phone"} <= set(kinds)
    for f in findings:
        assert set(f) == {"document", "turn_index", "start", "end", "kind", "text"}
        assert text[f["start"] : f["end"]] == f["text"]
    assert kinds["email"]["text"] == "jan.jansen@example.org" and kinds["email"]["turn_index"] == 2
    assert run("check-identifiers", "--strict", "--store", str(store)).exit_code == 1
