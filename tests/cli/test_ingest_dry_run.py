"""``ingest DIR --dry-run`` writes nothing and shows how each file is read; large folders get a summary report."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from vbhc_code.cli import app
from vbhc_code.ingest.preview import preview_folder, shorten

runner = CliRunner()


def study(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "otter.txt").write_text(
        "Anna de Vries  0:02\nWelcome to this interview about value in social insurance medicine, "
        "which will take about forty minutes.\n\nMax Bigman  0:09\nThank you.\n\nKarin Bos  0:12\nHello.\n",
        encoding="utf-8",
    )
    (folder / "qualcoder.txt").write_text("[id1] one\n[id2] two\n[id1] three\n", encoding="utf-8")
    (folder / "broken.docx").write_bytes(b"not a zip")
    sheet = tmp_path / "participants.csv"
    sheet.write_text("participant_id,aliases,speaker_role\nP01,Max Bigman,\nINT,Anna de Vries,interviewer\n",
                     encoding="utf-8")
    return folder, sheet


def test_preview_reports_layout_speakers_and_first_turns(tmp_path):
    folder, sheet = study(tmp_path)
    previews, skipped = preview_folder(folder, participants_file=sheet)
    by = {p.name: p for p in previews}
    otter = by["otter.txt"]
    assert (otter.format, otter.layout, otter.turns) == ("txt", ["name lines"], 3)
    assert (otter.known, otter.interviewers, otter.unknown) == (["Max Bigman"], ["Anna de Vries"], ["Karin Bos"])
    first = otter.first[0]
    assert (first.speaker, first.role, first.participant_id) == ("Anna de Vries", "interviewer", None)
    assert first.text.endswith("\u2026") and len(first.text) == 70  # the user's text, cut short
    assert [(t.speaker, t.participant_id) for t in otter.first[1:]] == [("Max Bigman", "P01"), ("Karin Bos", None)]
    assert by["qualcoder.txt"].layout == ["bracketed ids"] and by["qualcoder.txt"].unknown == ["id1", "id2"]
    assert by["broken.docx"].error == "broken.docx: not a .docx file (not a zip archive)"
    assert skipped == []
    assert shorten("a \n b") == "a b"


def test_dry_run_writes_nothing_not_even_a_store(tmp_path, monkeypatch):
    folder, sheet = study(tmp_path)
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "s.sqlite"
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = runner.invoke(app, ["ingest", str(folder), "--participants", str(sheet), "--dry-run", "--store", str(store)])
    assert result.exit_code == 1  # the broken .docx, as ingest would
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # no store, no outputs/
    out = result.stdout
    assert "otter.txt  [txt; name lines]  3 turn(s)" in out
    assert "speakers  known: Max Bigman; interviewer: Anna de Vries; unknown: Karin Bos" in out
    assert "Max Bigman [P01]: Thank you." in out and "Anna de Vries (interviewer): Welcome" in out
    assert "error: broken.docx: not a .docx file (not a zip archive)" in result.stderr
    assert "dry run: nothing was written" in result.stderr


def test_large_folders_get_a_summary_and_verbose_lists_every_document(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(45):
        (folder / f"INT{i:02d}.txt").write_text(f"Interviewer: Question {i}?\nP01: Answer {i}.\n", encoding="utf-8")
    (folder / "INT99.txt").write_text("Interviewer: Hi.\nBob: once only here.\nP01: Yes.\n", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(folder), "--store", str(tmp_path / "a.sqlite")])
    assert result.exit_code == 0, result.output
    assert "listed above: the 1 document(s) with warnings or errors; --verbose lists all" in result.stdout
    assert "INT99.txt" in result.stdout and "INT07.txt" not in result.stdout
    assert "46 documents: 46 stored; 92 turns" in result.stdout
    assert "INT99.txt line 2: 'Bob:' looks like a speaker label" in result.stderr
    verbose = runner.invoke(app, ["ingest", str(folder), "--store", str(tmp_path / "b.sqlite"), "--verbose"])
    assert verbose.exit_code == 0 and "INT07.txt" in verbose.stdout and "listed above" not in verbose.stdout
