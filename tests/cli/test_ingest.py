"""Bad input through the CLI (exact error lines, exit codes, nothing half-written), kill-safety, encodings,
documents sheets, segments as xlsx and check-identifiers options."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from hostile import docx_bytes
from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.ingest.transcripts import SpeakerRules, read_transcript
from vbhc_code.store.store import Store

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]


def run(*args: str):
    return runner.invoke(app, list(args))


def errors(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def rezip(data: bytes, replace: dict[str, bytes], *, extra: dict[str, int] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, replace.get(info.filename, src.read(info)))
        for name, size in (extra or {}).items():
            with dst.open(name, "w", force_zip64=True) as fh:
                for _ in range(size // (1 << 20)):
                    fh.write(b"\0" * (1 << 20))
    return out.getvalue()


def corrupt_member(data: bytes, member: str) -> bytes:
    """The archive with ``member``'s deflated bytes replaced by an invalid deflate stream (same length)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(member)
    name_len, extra_len = (
        int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little"),
        int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little"),
    )
    start = info.header_offset + 30 + name_len + extra_len
    return data[:start] + b"\xff" * info.compress_size + data[start + info.compress_size:]


@pytest.fixture()
def good(tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "ok.txt").write_text("Interviewer: Hello.\nP01: Fine.\n", encoding="utf-8")
    return folder


ENTITY_XML = (
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
    b"<w:t>&b;</w:t></w:r></w:p></w:body></w:document>"
)


@pytest.mark.parametrize(
    ("name", "make", "line"),
    [
        ("empty.txt", lambda: b"", "error: empty.txt: empty file"),
        ("binary.txt", lambda: bytes(range(256)) * 8, "error: binary.txt: a binary file, not a text transcript"),
        (
            "bad.srt",
            lambda: b"1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:03,000 --> 00:00:04,000\n\x81\x90\n",
            "error: bad.srt line 7: neither UTF-8 nor cp1252 (byte 0x81 at offset 68); pass --encoding",
        ),
        (
            "notzip.docx",
            lambda: b"P01: plain text saved as .docx\n",
            "error: notzip.docx: not a .docx file (not a zip archive)",
        ),
        (
            "cut.docx",
            lambda: docx_bytes("P01: Hi.")[:3000],
            "error: cut.docx: a damaged or truncated .docx (the zip archive is incomplete)",
        ),
        (
            "entities.docx",
            lambda: rezip(docx_bytes("x"), {"word/document.xml": ENTITY_XML}),
            "error: entities.docx: entry 'word/document.xml': declares a DOCTYPE or XML entities; refused (Office never "
            "writes them; they can hide entity attacks)",
        ),
        (
            "deflate.docx",
            lambda: corrupt_member(docx_bytes("P01: Hi."), "word/document.xml"),
            "error: deflate.docx: entry 'word/document.xml' is damaged (bad compressed data or checksum); cannot read it",
        ),
        (
            "utf16.docx",
            lambda: rezip(
                docx_bytes("x"),
                {
                    "word/document.xml": ENTITY_XML.replace(b'"1.0"', b'"1.0" encoding="UTF-16"')
                    .decode()
                    .encode("utf-16")
                },
            ),
            "error: utf16.docx: entry 'word/document.xml': declares a DOCTYPE or XML entities; refused (Office never "
            "writes them; they can hide entity attacks)",
        ),
        (
            "bomb.docx",
            lambda: rezip(docx_bytes("x"), {}, extra={"word/media/bomb.bin": 40 << 20}),
            "error: bomb.docx: entry 'word/media/bomb.bin': compression ratio ",
        ),
        (
            "bigbomb.docx",
            lambda: rezip(docx_bytes("x"), {}, extra={"word/media/a.bin": 150 << 20, "word/media/b.bin": 150 << 20}),
            "error: bigbomb.docx: entry 'word/media/a.bin': 157286400 bytes uncompressed (limit 67108864); refused",
        ),
        (
            "long.txt",
            lambda: b"P01: " + b"word " * 300_000,
            "error: long.txt line 1: a line of more than 1,000,000 characters; not a transcript (no line breaks)",
        ),
        (
            "no-webvtt.vtt",
            lambda: b"00:00:01.000 --> 00:00:02.000\nhi\n",
            "error: no-webvtt.vtt line 1: not a WebVTT file (the first line must start with 'WEBVTT')",
        ),
    ],
)
def test_bad_files_fail_with_a_located_line_and_the_rest_is_stored(good, tmp_path, name, make, line):
    (good / name).write_bytes(make())
    store = tmp_path / "s.sqlite"
    result = run("ingest", str(good), "--store", str(store))
    assert result.exit_code == 1
    errs = errors(result)
    assert len(errs) == 1 and errs[0].startswith(line), errs
    assert "Traceback" not in result.output
    with Store.open(store) as st:
        assert st.document_names() == ["ok.txt"]


def test_participants_sheet_with_duplicate_ids_lists_every_problem_and_writes_nothing(good, tmp_path):
    sheet = tmp_path / "participants.csv"
    sheet.write_text("participant_id,group\nP01,SIM\nP1,VBHC\n,SIM\nP02,SIM\nP02,SIM\n", encoding="utf-8")
    store = tmp_path / "s.sqlite"
    result = run("ingest", str(good), "--participants", str(sheet), "--store", str(store))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: participants.csv: 3 problem(s) in the participants sheet",
        "[participants.csv line 3] duplicate participant_id (the same as at participants.csv line 2)",
        "[participants.csv line 4] empty participant_id",
        "[participants.csv line 6] duplicate participant_id (the same as at participants.csv line 5)",
    ]
    assert not store.exists()


def test_participants_xlsx_without_id_column(good, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["id", "group"])
    wb.active.append(["P01", "SIM"])
    wb.save(tmp_path / "p.xlsx")
    result = run("ingest", str(good), "--participants", str(tmp_path / "p.xlsx"), "--store", str(tmp_path / "s.sqlite"))
    assert result.exit_code == 1
    assert errors(result) == ["error: p.xlsx row 1: no 'participant_id' column (the header row has 2 named columns)"]


def test_participants_and_documents_from_xlsx_match_p1_to_p01_and_override_type(tmp_path):
    from openpyxl import Workbook

    folder = tmp_path / "f"
    (folder / "sub").mkdir(parents=True)
    (folder / "fg.txt").write_text("Moderator: Hi.\nP1: one\nP02: two\nR3: three\nAnna de Vries: four\nP5: five\n",
                                   encoding="utf-8")
    (folder / "sub" / "b.txt").write_text("Interviewer: Hi.\nanna: x\n", encoding="utf-8")
    wb = Workbook()
    for row in (["Participant_ID", "aliases", "group", "age"], ["P01", "Anna; Anna de Vries", "SIM", 45],
                ["P2", None, "VBHC", 50.0], ["R03", "", "SIM", None]):
        wb.active.append(row)
    wb.save(tmp_path / "p.xlsx")
    wb = Workbook()
    for row in (
        ["document", "type", "health_system"],
        ["fg.txt", "interview", "NL"],
        ["sub/b.txt", "focus_group", "BE"],
    ):
        wb.active.append(row)
    wb.save(tmp_path / "d.xlsx")
    store = tmp_path / "s.sqlite"
    result = run(
        "ingest",
        str(folder),
        "--participants",
        str(tmp_path / "p.xlsx"),
        "--documents",
        str(tmp_path / "d.xlsx"),
        "--store",
        str(store),
    )
    assert result.exit_code == 0, result.output
    assert [w for w in result.stderr.splitlines() if w.startswith("warning")] == [
        "warning: fg.txt: speakers not in the participants sheet: P5"
    ]
    with Store.open(store) as st:
        fg, b = st.document("fg.txt"), st.document("sub/b.txt")
        assert [(t.speaker, t.participant_id) for t in fg.turns] == [
            ("Moderator", None), ("P1", "P01"), ("P02", "P2"), ("R3", "R03"), ("Anna de Vries", "P01"), ("P5", None)
        ]
        assert (fg.doc_type, b.doc_type) == ("interview", "focus_group")  # the sheet overrides the detection
        assert dict(b.attributes) == {"health_system": "BE"}
        assert dict(st.participants()["P2"].attributes) == {"group": "VBHC", "age": "50"}
    again = run("ingest", str(folder), "--store", str(store))  # unchanged files: still reported
    assert again.exit_code == 0
    assert [w for w in again.stderr.splitlines() if w.startswith("warning")] == [
        "warning: fg.txt: speakers not in the participants sheet: P5"
    ]
    seg = run("segments", "--store", str(store), "--no-bom")
    assert seg.stdout.splitlines()[0] == (
        "document,turn_index,speaker,participant_id,turn_type,start,end,text,role,timestamp,spans,group,age"
    )


def test_failed_sheet_on_an_existing_store_keeps_it(good, tmp_path):
    store = tmp_path / "s.sqlite"
    assert run("ingest", str(good), "--store", str(store)).exit_code == 0
    (tmp_path / "bad.csv").write_text("name\nx\n", encoding="utf-8")
    assert run("ingest", str(good), "--participants", str(tmp_path / "bad.csv"), "--store", str(store)).exit_code == 1
    with Store.open(store) as st:
        assert st.document_names() == ["ok.txt"]


def test_encoding_option_and_unknown_encoding(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "w.txt").write_bytes("Interviewer: caf\u00e9\n".encode("cp1252"))
    store = tmp_path / "s.sqlite"
    result = run("ingest", str(folder), "--store", str(store))
    assert result.exit_code == 0
    assert (
        "warning: w.txt: not valid UTF-8 (line 1); read as cp1252 (Windows-1252); name the file's encoding to override"
        in result.stderr
    )
    with Store.open(store) as st:
        assert st.document("w.txt").encoding == "cp1252"
    assert run("ingest", str(folder), "--encoding", "klingon", "--store", str(store)).exit_code == 2
    utf8 = run("ingest", str(folder), "--encoding", "utf-8", "--store", str(tmp_path / "t.sqlite"))
    assert utf8.exit_code == 1
    assert errors(utf8) == ["error: w.txt line 1: not valid utf-8 (byte 0xe9 at offset 16)"]


def test_documents_sheet_sets_type_language_and_attributes(tmp_path):
    folder = tmp_path / "f"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("Interviewer: Goedemorgen. Hoe gaat het?\nP01: Goed.\n", encoding="utf-8")
    (folder / "docs.csv").write_text(
        "document,type,language,health_system\nsub/a.txt,focus_group,nl,NL\nmissing.txt,,,\n", encoding="utf-8"
    )
    store = tmp_path / "s.sqlite"
    result = run("ingest", str(folder), "--documents", str(folder / "docs.csv"), "--store", str(store))
    assert result.exit_code == 0
    assert "skipped docs.csv: study sheet (participants/documents)" in result.stdout
    assert "warning: docs.csv: document 'missing.txt' is not in the folder" in result.stderr
    with Store.open(store) as st:
        doc = st.document("sub/a.txt")
    assert (doc.doc_type, doc.language, dict(doc.attributes)) == ("focus_group", "nl", {"health_system": "NL"})
    assert [doc.plain_text[s:e] for s, e in doc.turns[0].sentences] == ["Goedemorgen.", "Hoe gaat het?"]


def test_focus_group_detection_and_unmatched_speakers(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "fg.txt").write_text("Moderator: Hi.\nP01: a\nP02: b\nP03: c\n[chat 00:01:00] P04: d\n", encoding="utf-8")
    (tmp_path / "p.csv").write_text("participant_id\nP01\nP02\n", encoding="utf-8")
    result = run(
        "ingest", str(folder), "--participants", str(tmp_path / "p.csv"), "--store", str(tmp_path / "s.sqlite")
    )
    assert result.exit_code == 0
    assert "warning: fg.txt: speakers not in the participants sheet: P03, P04" in result.stderr
    with Store.open(tmp_path / "s.sqlite") as st:
        doc = st.document("fg.txt")
    assert doc.doc_type == "focus_group"
    assert [(t.turn_index, t.turn_type, t.participant_id) for t in doc.turns] == [
        (1, "speech", None), (2, "speech", "P01"), (3, "speech", "P02"), (4, "speech", None), (5, "chat", None)
    ]


def test_changed_file_is_reread_and_unchanged_are_skipped(good, tmp_path):
    store = tmp_path / "s.sqlite"
    assert run("ingest", str(good), "--store", str(store)).exit_code == 0
    (good / "ok.txt").write_text("Interviewer: Hello again.\nP01: Changed.\n", encoding="utf-8")
    (good / "new.md").write_text("**P02:** New.\n", encoding="utf-8")
    result = run("ingest", str(good), "--store", str(store))
    assert result.exit_code == 0
    with Store.open(store) as st:
        assert st.document("ok.txt").turns[1].text == "Changed."
        assert st.document_names() == ["new.md", "ok.txt"]
        rows = st.conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0]
    assert rows == 3  # the old turns of ok.txt were replaced, not added


def test_segments_xlsx(good, tmp_path):
    from openpyxl import load_workbook

    (good / "ok.txt").write_text('Interviewer: =HYPERLINK("x")\nP01: Line one.\nline "two".\n', encoding="utf-8")
    store = tmp_path / "s.sqlite"
    assert run("ingest", str(good), "--store", str(store)).exit_code == 0
    out = tmp_path / "seg.xlsx"
    result = run("segments", "--store", str(store), "--out", str(out))
    assert result.exit_code == 0
    ws = load_workbook(out, read_only=True).worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0][:11] == ["document", "turn_index", "speaker", "participant_id", "turn_type", "start", "end", "text",
                            "role", "timestamp", "spans"]
    assert rows[1][7] == '=HYPERLINK("x")'  # stored as text, not as a formula
    assert rows[2][1] == 2 and rows[2][7] == 'Line one.\nline "two".'


def test_segments_xlsx_numeric_attributes_are_numbers(tmp_path):
    from openpyxl import load_workbook

    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text("Interviewer: Hi.\nP01: 12 years.\n", encoding="utf-8")
    parts = tmp_path / "p.csv"
    parts.write_text("participant_id,age,badge\nP01,54,007\n", encoding="utf-8")
    store = tmp_path / "s.sqlite"
    assert run("ingest", str(folder), "--participants", str(parts), "--store", str(store)).exit_code == 0
    out = tmp_path / "seg.xlsx"
    assert run("segments", "--store", str(store), "--out", str(out)).exit_code == 0
    ws = load_workbook(out).worksheets[0]
    head = [c.value for c in ws[1]]
    p01 = next(r for r in ws.iter_rows(min_row=2) if r[head.index("participant_id")].value == "P01")
    age, badge, text = p01[head.index("age")], p01[head.index("badge")], p01[head.index("text")]
    assert (age.value, age.data_type, age.number_format) == (54, "n", "0")
    assert (badge.value, badge.data_type) == ("007", "s") and (text.value, text.data_type) == ("12 years.", "s")


def test_check_identifiers_allow_json_and_strict(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "Interviewer: As prof. Porter says.\nP01: Ask dr. Jansen, 06-12345678.\n", encoding="utf-8"
    )
    store = tmp_path / "s.sqlite"
    ingest = run("ingest", str(folder), "--store", str(store))
    assert "warning: a.txt: possible identifiers (2 name, 1 phone); run 'vbhc-code check-identifiers'" in ingest.stderr
    allow = tmp_path / "allow.txt"
    allow.write_text("# framework authors\nPorter\n", encoding="utf-8")
    result = run("check-identifiers", "--store", str(store), "--allow", str(allow), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [
        {"document": "a.txt", "turn_index": 2, "start": 44, "end": 54, "kind": "name", "text": "dr. Jansen"},
        {"document": "a.txt", "turn_index": 2, "start": 56, "end": 67, "kind": "phone", "text": "06-12345678"},
    ]
    assert run("check-identifiers", "--store", str(store), "--allow", str(allow), "--strict").exit_code == 1
    allow.write_text("Porter\nJansen\n06-12345678\n", encoding="utf-8")
    clean = run("check-identifiers", "--store", str(store), "--allow", str(allow), "--strict", "--json")
    assert clean.exit_code == 0 and json.loads(clean.stdout) == []
    missing = run("check-identifiers", "--store", str(store), "--allow", str(tmp_path / "nope.txt"))
    assert missing.exit_code == 1 and errors(missing) == [f"error: {tmp_path / 'nope.txt'}: file not found"]
    (tmp_path / "latin.txt").write_bytes("Müller\n".encode("cp1252"))
    latin = run("check-identifiers", "--store", str(store), "--allow", str(tmp_path / "latin.txt"))
    assert latin.exit_code == 1 and errors(latin) == ["error: latin.txt: cannot read the allow list (not UTF-8 text)"]


def test_check_identifiers_allow_titled_framework_names_from_a_bom_file(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "Interviewer: What about Dr. Porter's value agenda and Prof. Michael Porter?\n"
        "P01: Ask dr. Jansen, or Prof. Teisberg.\n", encoding="utf-8")
    store = tmp_path / "s.sqlite"
    assert run("ingest", str(folder), "--store", str(store)).exit_code == 0
    allow = tmp_path / "allow.txt"
    allow.write_bytes("Dr. Porter\r\n  # frameworks\r\nMichael Porter\r\n  Teisberg  \r\n".encode("utf-8-sig"))
    result = run("check-identifiers", "--store", str(store), "--allow", str(allow), "--json", "--strict")
    assert result.exit_code == 1
    assert [(f["turn_index"], f["kind"], f["text"]) for f in json.loads(result.stdout)] == [(2, "name", "dr. Jansen")]


def test_realdata_folder_ingests(shared_dir, tmp_path):
    folder = shared_dir / "realdata"
    result = run("ingest", str(folder), "--store", str(tmp_path / "s.sqlite"))
    assert result.exit_code == 0, result.stderr
    assert "skipped primock57_day1_consultation01_doctor.TextGrid: not a transcript format (.TextGrid)" in result.stdout
    assert "skipped SOURCES.md: documentation file" in result.stdout
    assert "skipped LICENSE-cdp.txt: documentation file" in result.stdout
    with Store.open(tmp_path / "s.sqlite") as st:
        names = st.document_names()
        assert "pycaption_example.srt" in names and "qualcoder_ID1.docx" in names
        assert len(st.document("pycaption_example.srt").turns) == 103


KILL_SCRIPT = """
import sys
from pathlib import Path
from vbhc_code.ingest.folder import ingest_folder
from vbhc_code.store.store import Store
with Store.open(Path(sys.argv[2])) as st:
    ingest_folder(Path(sys.argv[1]), store=st)
"""


def _descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat_file.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


@pytest.mark.slow
def test_killed_ingest_leaves_a_store_with_only_whole_documents(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    body = " ".join(["The assessment took long and the client waited."] * 6)
    for i in range(150):
        lines = [f"{'Interviewer' if j % 2 == 0 else 'P01'}: {body} {j}" for j in range(60)]
        (folder / f"d{i:03d}.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    store = tmp_path / "s.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(folder), str(store)], cwd=REPO)
    deadline = time.time() + 60
    n = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
        if store.exists():
            try:
                con = sqlite3.connect(store, timeout=0.1)
                n = con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
                con.close()
            except sqlite3.Error:
                n = 0
            if n >= 3:
                break
    workers = _descendants(proc.pid)  # the fork server and the processes reading files
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert n >= 3, "ingest finished or never started before the kill"
    assert len(workers) >= 3
    deadline = time.time() + 10
    while time.time() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], "worker processes outlived the kill"
    with Store.open(store) as st:
        assert st.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        names = st.document_names()
        assert 3 <= len(names) < 150
        for name in names:
            assert len(st.document(name).turns) == 60
    # A re-run completes the study.
    result = run("ingest", str(folder), "--store", str(store))
    assert result.exit_code == 0
    with Store.open(store) as st:
        assert len(st.document_names()) == 150


def test_reader_and_store_agree(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "c.vtt").write_text("WEBVTT\n\n00:01.000 --> 00:02.000\n<v P01>a &amp; b</v>\n\n00:02.000 --> 00:03.000\n"
                                  "<v P01>c</v>\n", encoding="utf-8")
    store = tmp_path / "s.sqlite"
    assert run("ingest", str(folder), "--store", str(store)).exit_code == 0
    parsed = read_transcript(folder / "c.vtt", rules=SpeakerRules())
    with Store.open(store) as st:
        doc = st.document("c.vtt")
    assert doc.plain_text == parsed.plain_text
    a, c = doc.plain_text.index("a &amp; b"), doc.plain_text.index("c</v>")
    assert [(t.text, t.text_spans, t.timestamps) for t in doc.turns] == [
        ("a & b c", ((a, a + 9), (c, c + 1)), ("00:01.000 --> 00:02.000", "00:02.000 --> 00:03.000"))
    ]
    assert [(t.text, t.text_spans) for t in parsed.turns] == [("a & b c", ((a, a + 9), (c, c + 1)))]


def test_one_warning_line_for_many_files_and_one_summary_line(tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    for i in range(6):  # cp1252 files with a phone number: the same two warnings for each
        (folder / f"i{i}.txt").write_bytes(b"Interviewer: Caf\xe9?\n\nP01: Yes. Call me on 06-12345678.\n")
    store = tmp_path / "s.sqlite"
    r = run("ingest", str(folder), "--store", str(store))
    assert r.exit_code == 0, r.output
    warnings = [line for line in r.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2, warnings
    assert "read as cp1252" in warnings[0] and warnings[0].endswith("(6 documents: i0.txt, i1.txt, i2.txt and 3 more)")
    assert warnings[1].startswith("warning: possible identifiers (6 phone) in 6 documents: i0.txt, i1.txt, i2.txt")
    last = r.stderr.strip().splitlines()[-1]
    assert re.fullmatch(rf"ingest: 6 documents \(6 stored\); 36 words read in \d+\.\d s \([\d,]+ words/s\) "
                        rf"into {re.escape(str(store))}", last), last
    again = run("ingest", str(folder), "--store", str(store))
    assert again.stderr.strip().splitlines()[-1].startswith("ingest: 6 documents (6 unchanged); 0 words read")
