"""Speed work changes nothing: what ingest stores equals the digests written before it (see study_snapshot)."""

from __future__ import annotations

import json
from pathlib import Path

from study_snapshot import current_digests, document_digests, write_mini_study

SNAPSHOT = Path(__file__).parent / "snapshots" / "store_digests.json"


def test_stored_documents_equal_the_snapshot(tmp_path):
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    current = current_digests(tmp_path)
    assert set(current) <= set(expected)
    for corpus, digests in current.items():
        assert digests.keys() == expected[corpus].keys(), corpus
        changed = sorted(name for name in digests if digests[name] != expected[corpus][name])
        assert not changed, f"{corpus}: stored content differs for {changed}"


def test_the_ingest_command_stores_the_same_as_the_library(tmp_path):
    """The command (WAL writes, progress, summary) stores what ``ingest_folder`` stores, and autocode
    codes both stores alike."""
    from vbhc_code.cli import run_command
    from vbhc_code.store.store import Store

    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["mini"]
    folder = write_mini_study(tmp_path / "mini")
    store = tmp_path / "cli.sqlite"
    argv = ["ingest", str(folder), "--participants", str(tmp_path / "mini-participants.csv"), "--store", str(store)]
    assert run_command(argv) == 0
    assert not store.with_name(store.name + "-wal").exists()  # back to one file
    with Store.open(store) as st:
        assert document_digests(st) == expected
        assert st.conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert run_command(["autocode", "--store", str(store)]) == 0
    other = tmp_path / "lib.sqlite"
    from study_snapshot import ingest_digests

    ingest_digests(folder, other, participants_file=tmp_path / "mini-participants.csv")
    assert run_command(["autocode", "--store", str(other)]) == 0
    with Store.open(store) as a, Store.open(other) as b:
        assert a.codings("auto") == b.codings("auto")
        assert a.codings("auto")

