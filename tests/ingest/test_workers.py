"""Reading in worker processes stores and reports exactly what one process does, on every ingest path."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from study_snapshot import document_digests, ingest_digests, write_mini_study

from vbhc_code.ingest.folder import IngestReport, ingest_folder
from vbhc_code.ingest.workers import MAX_WORKERS, PARALLEL_MIN, available_cpus, worker_count
from vbhc_code.models import Coding
from vbhc_code.store.store import Store

SNAPSHOT = Path(__file__).parent / "snapshots" / "store_digests.json"
OLD = 1_600_000_000_000_000_000  # an mtime well in the past: the stat shortcut may record it


def test_worker_count():
    assert worker_count(1, 5000) == 1
    assert worker_count(3, 2) == 2 and worker_count(3, 10) == 3  # never more workers than files
    assert worker_count(None, PARALLEL_MIN - 1) == 1
    assert worker_count(None, PARALLEL_MIN) == min(available_cpus(), MAX_WORKERS)
    assert worker_count(None, 100_000) <= MAX_WORKERS


def test_jobs_below_one_is_a_usage_error(tmp_path):
    from vbhc_code.errors import UsageError

    folder = write_mini_study(tmp_path / "few", files=1)
    with Store.open(tmp_path / "s.sqlite") as st, pytest.raises(UsageError, match=r"^jobs must be 1 or more, not 0$"):
        ingest_folder(folder, store=st, jobs=0)


def test_workers_store_the_snapshot(tmp_path):
    """The mini-study and the real transcripts, read by two workers, give the digests one process gave."""
    from repo_paths import SHARED

    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    mini = write_mini_study(tmp_path / "mini")
    got = ingest_digests(mini, tmp_path / "mini.sqlite", participants_file=tmp_path / "mini-participants.csv", jobs=2)
    assert got == expected["mini"]
    assert ingest_digests(SHARED / "realdata", tmp_path / "real.sqlite", jobs=2) == expected["realdata"]


def _report(report: IngestReport) -> dict[str, object]:
    return {
        "documents": [(d.name, d.status, d.format, d.encoding, d.doc_type, d.speakers, d.turns, d.chat_turns,
                       d.words, d.warnings, d.error, d.layout) for d in report.documents],
        "skipped": report.skipped, "pruned": report.pruned, "unmatched": report.unmatched_speakers,
        "identifiers": report.identifier_findings, "warnings": report.warnings,
    }


def _study(folder: Path) -> Path:
    write_mini_study(folder, files=30)
    (folder / "broken.docx").write_bytes(b"not a zip archive")
    (folder / "undecodable.txt").write_bytes(b"Interviewer: hello\n\nP01: \x81\x8d\n")
    (folder / "empty.md").write_text("   \n", encoding="utf-8")
    (folder / "nl.txt").write_text("Interviewer: Hoe gaat het? Goed.\n\nP01: Prima, dank u. Echt waar!\n", encoding="utf-8")
    for path in folder.iterdir():
        os.utime(path, ns=(OLD, OLD))
    return folder


def _both(folder: Path, stores: dict[int, Path], **options) -> dict[int, dict[str, object]]:  # noqa: ANN003
    out = {}
    for jobs, path in stores.items():
        with Store.open(path) as st:
            out[jobs] = _report(ingest_folder(folder, store=st, jobs=jobs, **options))
            out[jobs]["digests"] = document_digests(st)
    return out


@pytest.fixture
def pools(monkeypatch) -> list[int]:
    """How many files each ``ReadAhead`` of the test was given (so a test knows the workers ran)."""
    from vbhc_code.ingest import workers

    sizes: list[int] = []

    class Counting(workers.ReadAhead):
        def __init__(self, tasks, **kw) -> None:  # noqa: ANN001, ANN003
            tasks = list(tasks)
            sizes.append(len(tasks))
            super().__init__(tasks, **kw)

    monkeypatch.setattr(workers, "ReadAhead", Counting)
    return sizes


def test_every_ingest_path_is_the_same_with_workers(tmp_path, pools):
    folder = _study(tmp_path / "study")
    sheet = tmp_path / "study-participants.csv"
    docs = tmp_path / "documents.csv"
    docs.write_text("document,language,site\nnl.txt,nl,Utrecht\n", encoding="utf-8")
    stores = {1: tmp_path / "one.sqlite", 2: tmp_path / "two.sqlite"}

    first = _both(folder, stores, documents_file=docs)
    assert first[1] == first[2]
    statuses = {d[1] for d in first[1]["documents"]}
    assert statuses == {"stored", "error"}
    assert pools == [34]  # jobs=1 reads in this process; jobs=2 hands every file to the workers

    names = sorted(first[1]["digests"])
    coded, changed, touched, gone = names[:4]
    for path in stores.values():
        with Store.open(path) as st:
            turn = st.turns(document=coded, sentences=False)[0]
            st.replace_codings("A", [Coding(coded, turn.turn_index, "IPU", "A")], coded_documents=[coded])
    for name in (coded, changed):
        with open(folder / name, "a", encoding="utf-8") as f:
            f.write("\nP01: One more answer. Added later.\n")
    os.utime(folder / touched)  # new mtime, same content: hashed again, not parsed
    (folder / gone).unlink()
    again = _both(folder, stores, documents_file=docs, prune=True)
    assert again[1] == again[2]
    status = {d[0]: d[1] for d in again[1]["documents"]}
    assert status[coded] == "refused" and status[changed] == "stored" and status[touched] == "unchanged"
    assert again[1]["pruned"] == [gone]
    assert pools[-1] == 6  # coded, changed, touched and the three that failed; the rest pass the stat shortcut

    # New reading rules (a participants sheet): every file is read again; the coded one keeps its codings.
    rules = _both(folder, stores, participants_file=sheet, documents_file=docs)
    assert rules[1] == rules[2]
    assert {d[0]: d[1] for d in rules[1]["documents"]}[touched] == "stored"
    assert rules[1]["digests"] != again[1]["digests"]  # participant ids are matched now
    assert pools[-1] == 33  # new rules: every file is read again, by the workers

    forced = _both(folder, stores, participants_file=sheet, documents_file=docs, force=True)
    assert forced[1] == forced[2]
    assert {d[0]: d[1] for d in forced[1]["documents"]}[coded] == "stored"


def test_the_command_stores_the_same_with_and_without_workers(tmp_path):
    from vbhc_code.cli import run_command

    folder = _study(tmp_path / "study")
    for jobs in ("1", "2"):
        store = tmp_path / f"s{jobs}.sqlite"
        assert run_command(["ingest", str(folder), "--store", str(store), "--jobs", jobs, "--verbose"]) == 1
    with Store.open(tmp_path / "s2.sqlite") as st:
        assert "undecodable.txt" not in st.document_names()
    with Store.open(tmp_path / "s2.sqlite") as two, Store.open(tmp_path / "s1.sqlite") as one:
        assert document_digests(two) == document_digests(one)


def test_worker_errors_use_flags_in_the_report(tmp_path, capsys):
    from vbhc_code.cli import run_command

    folder = _study(tmp_path / "study")
    assert run_command(["ingest", str(folder), "--store", str(tmp_path / "s.sqlite"), "--jobs", "2"]) == 1
    out = capsys.readouterr()
    text = " ".join((out.out + out.err).split())
    assert "undecodable.txt line 3: neither UTF-8 nor cp1252 (byte 0x81 at offset 25); pass --encoding" in text


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_folder_below_the_threshold_reads_the_same(tmp_path, jobs):
    folder = write_mini_study(tmp_path / "few", files=3)
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    a = ingest_digests(folder, tmp_path / "a.sqlite", jobs=jobs)
    b = ingest_digests(copy, tmp_path / "b.sqlite")
    assert a == b and len(a) == 3


def test_without_processes_the_files_are_read_in_one_process(tmp_path, monkeypatch):
    """Where no process can be started (a sandbox, no /dev/shm) ingest reads in its own process, and says so."""
    from vbhc_code.ingest import workers

    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003
        raise PermissionError("no semaphores here")

    folder = _study(tmp_path / "study")
    with Store.open(tmp_path / "one.sqlite") as st:
        alone = _report(ingest_folder(folder, store=st, jobs=1))
    monkeypatch.setattr(workers, "ProcessPoolExecutor", refuse)
    with Store.open(tmp_path / "two.sqlite") as st:
        report = ingest_folder(folder, store=st, jobs=2)
    assert report.warnings == ["worker processes could not start (PermissionError); the files were read in one process"]
    report.warnings.clear()
    assert _report(report) == alone


def test_workers_that_die_leave_the_rest_to_this_process(tmp_path, monkeypatch):
    """A worker killed while reading (out of memory, say) breaks the pool: the files left are read here."""
    import signal

    from vbhc_code.ingest import workers

    folder = _study(tmp_path / "study")
    with Store.open(tmp_path / "one.sqlite") as st:
        alone = _report(ingest_folder(folder, store=st, jobs=1))
        digests = document_digests(st)
    real_take = workers.ReadAhead.take
    taken: list[str] = []

    def take(self, name):  # noqa: ANN001, ANN202
        taken.append(name)
        if len(taken) == 5:
            for pid in list(self._pool._processes):
                os.kill(pid, signal.SIGKILL)
        return real_take(self, name)

    monkeypatch.setattr(workers.ReadAhead, "take", take)
    with Store.open(tmp_path / "two.sqlite") as st:
        report = ingest_folder(folder, store=st, jobs=2)
        assert document_digests(st) == digests
    assert report.warnings == ["the worker processes stopped; the files left were read in one process"]
    report.warnings.clear()
    assert _report(report) == alone


def _ingest_in_a_pool_worker(args: tuple[str, str]) -> list[str]:
    folder, store = args
    with Store.open(Path(store)) as st:
        report = ingest_folder(Path(folder), store=st, jobs=2)
    return [d.status for d in report.documents] + report.warnings


def test_a_daemonic_caller_reads_in_its_own_process(tmp_path):
    """A process that may not have children (a multiprocessing pool's worker) ingests without workers."""
    import multiprocessing

    folder = write_mini_study(tmp_path / "few", files=3)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        statuses = pool.map(_ingest_in_a_pool_worker, [(str(folder), str(tmp_path / "s.sqlite"))])[0]
    assert statuses == ["stored"] * 3
