"""The stat shortcut of re-ingest: an unchanged file (same size, mtime_ns, inode and stored sha256) is not read;
any change of those, ``force`` or a recent modification time makes ingest read and hash it again."""

from __future__ import annotations

import os
import time

import pytest

from vbhc_code.ingest import reading as folder_mod
from vbhc_code.ingest.filestat import STAT_META
from vbhc_code.ingest.folder import ingest_folder
from vbhc_code.store.store import Store

TEXT = "Interviewer: Welcome.\n\nP01: Thanks, a good day.\n"
OLD = time.time_ns() - 3_600_000_000_000  # an hour ago: older than the racy window


@pytest.fixture()
def study(tmp_path, monkeypatch):
    folder = tmp_path / "study"
    folder.mkdir()
    path = folder / "INT01.txt"
    path.write_text(TEXT, encoding="utf-8")
    os.utime(path, ns=(OLD, OLD))
    reads: list[str] = []
    real = folder_mod.read_input

    def counting(p, *, name):
        reads.append(name)
        return real(p, name=name)

    monkeypatch.setattr(folder_mod, "read_input", counting)
    return folder, path, tmp_path / "s.sqlite", reads


def ingest(folder, store_path, **kw):
    with Store.open(store_path) as store:
        return ingest_folder(folder, store=store, **kw)


def test_an_unchanged_file_is_not_read_again(study):
    folder, path, store_path, reads = study
    ingest(folder, store_path)
    assert reads == ["INT01.txt"]
    with Store.open(store_path) as store:
        recorded = store.get_meta(STAT_META + "INT01.txt")
        sha = store.document_sha("INT01.txt")
    st = os.stat(path)
    assert recorded == f"{sha} {st.st_size} {st.st_mtime_ns} {st.st_ino}"
    report = ingest(folder, store_path)
    assert reads == ["INT01.txt"]  # the stat matched: no read
    (doc,) = report.documents
    assert (doc.status, doc.turns, doc.words) == ("unchanged", 2, 5)


def test_force_reads_and_hashes_every_file(study):
    folder, _, store_path, reads = study
    ingest(folder, store_path)
    report = ingest(folder, store_path, force=True)
    assert reads == ["INT01.txt", "INT01.txt"]
    assert report.documents[0].status == "unchanged"


def test_a_changed_file_of_the_same_size_is_read_when_its_mtime_moved(study):
    folder, path, store_path, reads = study
    ingest(folder, store_path)
    path.write_text(TEXT.replace("good", "fine"), encoding="utf-8")
    os.utime(path, ns=(OLD + 1, OLD + 1))
    report = ingest(folder, store_path)
    assert reads == ["INT01.txt", "INT01.txt"] and report.documents[0].status == "stored"
    with Store.open(store_path) as store:
        assert "fine" in store.document("INT01.txt").plain_text


def test_a_touched_file_is_hashed_once_then_recorded_again(study):
    folder, path, store_path, reads = study
    ingest(folder, store_path)
    os.utime(path, ns=(OLD + 5, OLD + 5))
    assert ingest(folder, store_path).documents[0].status == "unchanged"
    assert ingest(folder, store_path).documents[0].status == "unchanged"
    assert reads == ["INT01.txt", "INT01.txt"]  # hashed once after the touch, then the new stat matches


def test_a_file_modified_just_now_is_not_recorded(study):
    folder, path, store_path, reads = study
    path.write_text(TEXT, encoding="utf-8")  # mtime: now (a second edit could follow in the same clock tick)
    ingest(folder, store_path)
    with Store.open(store_path) as store:
        assert store.get_meta(STAT_META + "INT01.txt") is None
    ingest(folder, store_path)
    assert reads == ["INT01.txt", "INT01.txt"]
