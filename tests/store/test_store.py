"""The study store: schema version, transactions, codings replacement, kill-safety."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vbhc_code.errors import DataError
from vbhc_code.models import Code, Codebook, Coding, Document, Participant, Theme, Turn
from vbhc_code.store.store import SCHEMA_VERSION, Store


def make_doc(name: str = "a.txt", n: int = 3) -> Document:
    text = "\n".join(f"P1: turn {i}." for i in range(1, n + 1))
    turns, pos = [], 0
    for i, line in enumerate(text.split("\n"), 1):
        start = pos + 4
        turns.append(Turn(i, start, pos + len(line), line[4:], speaker="P1", sentences=((start, pos + len(line)),)))
        pos += len(line) + 1
    return Document(name, "txt", "utf-8", "sha-" + name, text, tuple(turns))


CB = Codebook("cb", "1.0", ("en",), (Theme("T", "t"),), (Code("C1", "T", "c1"), Code("C2", "T", "c2")))


@pytest.fixture()
def store(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as st:
        yield st


def test_schema_version_and_foreign_keys(store):
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_document_round_trip_keeps_offsets(store):
    doc = make_doc()
    store.save_document(doc)
    back = store.document("a.txt")
    assert back.plain_text == doc.plain_text
    assert [t.text for t in back.turns] == [t.text for t in doc.turns]
    for t in back.turns:
        assert back.plain_text[t.start : t.end] == t.text
        assert t.document == "a.txt"
        assert t.sentences == ((t.start, t.end),)


def test_duplicate_document_refused_without_replace(store):
    store.save_document(make_doc())
    with pytest.raises(DataError, match="already in the store"):
        store.save_document(make_doc())
    assert len(store.document_names()) == 1


def test_replace_codings_is_atomic(store):
    store.save_document(make_doc())
    store.replace_codings("anna", [Coding("a.txt", 1, "C1", "anna")], coded_documents=["a.txt"], codebook=CB)
    with pytest.raises(DataError, match=r"unknown turn a.txt #9"):
        store.replace_codings("anna", [Coding("a.txt", 2, "C2", "anna"), Coding("a.txt", 9, "C1", "anna")],
                              coded_documents=["a.txt"])
    # the failed replacement left the previous codings in place
    assert [(c.turn_index, c.code) for c in store.codings("anna")] == [(1, "C1")]
    assert store.coder_codebook("anna").code_ids == ("C1", "C2")
    info = store.coders()[0]
    assert (info.name, info.n_documents, info.n_codings, info.codebook_version) == ("anna", 1, 1, "1.0")


def test_replacing_a_document_drops_its_codings(store):
    store.save_document(make_doc())
    store.replace_codings("anna", [Coding("a.txt", 1, "C1", "anna")], coded_documents=["a.txt"])
    assert store.has_codings("a.txt")
    store.save_document(make_doc(n=2), replace=True)
    assert store.codings("anna") == [] and not store.has_codings("a.txt")


def test_participants_and_scope(store):
    doc = make_doc()
    turns = list(doc.turns)
    turns[0] = Turn(1, turns[0].start, turns[0].end, turns[0].text, speaker="Interviewer", role="interviewer")
    store.save_document(Document(doc.name, "txt", "utf-8", "x", doc.plain_text, tuple(turns)))
    store.save_participants([Participant("P01", ("Anna",), {"group": "SIM"})])
    assert store.participants()["P01"].attributes["group"] == "SIM"
    assert [t.turn_index for t in store.turns(scope="participant")] == [2, 3]
    assert len(store.turns(scope="all")) == 3


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(DataError, match="newer than this vbhc-code understands"):
        Store.open(path)


def test_not_a_store(tmp_path):
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DataError, match=r"s.sqlite: not a usable study store"):
        Store.open(path)


def test_unwritable_location(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DataError, match="cannot open the study store"):
        Store.open(blocker / "sub" / "s.sqlite")


@pytest.mark.slow
@pytest.mark.parametrize("fast", [False, True], ids=["rollback-journal", "fast_writes-WAL"])
def test_killed_writer_leaves_a_store_that_opens(tmp_path, fast):
    """A process killed in the middle of writing documents leaves only whole documents behind
    (also in ``fast_writes`` mode, WAL with synchronous=NORMAL, as ingest writes)."""
    path = tmp_path / "s.sqlite"
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
        from test_store import make_doc
        from vbhc_code.store.store import Store
        st = Store.open({str(path)!r})
        if {fast!r}:
            st.fast_writes().__enter__()
        i = 0
        while True:
            st.save_document(make_doc(f"d{{i:06d}}.txt", n=50))
            i += 1
            if i == 5:
                print("ready", flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Store.open(path) as st:
        names = st.document_names()
        assert len(names) >= 5
        assert st.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for name in names:  # every stored document is complete
            assert len(st.turns(document=name)) == 50


def test_confidence_round_trips_and_human_codings_have_none(store):
    store.save_document(make_doc())
    store.replace_codings("auto", [Coding("a.txt", 1, "C1", "auto", 4, 8, "term 'x'", 0.75)], coded_documents=["a.txt"])
    store.replace_codings("anna", [Coding("a.txt", 1, "C1", "anna")], coded_documents=["a.txt"])
    assert [c.confidence for c in store.codings("auto")] == [0.75]
    assert [c.confidence for c in store.codings("anna")] == [None]


def test_version_1_store_is_migrated_keeping_its_codings(tmp_path):
    from vbhc_code.store.schema import MIGRATIONS

    path = tmp_path / "v1.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute(
        "INSERT INTO documents VALUES (1, 'a.txt', 'txt', 'utf-8', 'x', 'P1: hi', 'interview', 'en', '{}', '[]', 't')"
    )
    conn.execute("INSERT INTO turns (id, document_id, turn_index, role, turn_type, start, \"end\", text) "
                 "VALUES (1, 1, 1, 'participant', 'speech', 4, 6, 'hi')")
    conn.execute("INSERT INTO coders VALUES ('anna', NULL, '', 't')")
    conn.execute("INSERT INTO codings (coder, turn_id, code) VALUES ('anna', 1, 'C1')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with Store.open(path) as st:
        assert st.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 2
        assert [(c.code, c.confidence) for c in st.codings("anna")] == [("C1", None)]


def test_migration_runs_as_one_script_and_rolls_back_on_failure(tmp_path, monkeypatch):
    from vbhc_code.store import store as store_module

    # A broken second migration leaves the store at version 1, with nothing of the broken script applied.
    path = tmp_path / "s.sqlite"
    Store.open(path).close()
    broken = "CREATE TABLE extra (x TEXT DEFAULT 'a;b');\nCREATE TABLE extra (y);"
    monkeypatch.setattr(store_module, "MIGRATIONS", [*store_module.MIGRATIONS, broken])
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(DataError, match="not a usable study store"):
        Store.open(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'extra'").fetchone() is None
    conn.close()
    # a ';' inside a string literal is not a statement boundary
    monkeypatch.setattr(store_module, "MIGRATIONS", [*store_module.MIGRATIONS[:-1], broken.split("\n")[0]])
    with Store.open(path) as st:
        assert st.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        st.conn.execute("INSERT INTO extra DEFAULT VALUES")
        assert st.conn.execute("SELECT x FROM extra").fetchone()[0] == "a;b"


def test_open_store_removes_a_store_it_created_when_the_run_fails(tmp_path):
    from vbhc_code.store import open_store

    path = tmp_path / "new.sqlite"
    with pytest.raises(DataError, match="boom"):
        with open_store(path) as st:
            st.save_document(make_doc())
            raise DataError("boom")
    assert not path.exists() and not list(tmp_path.iterdir())
    # an existing store is never removed, whatever the run does
    with open_store(path) as st:
        st.save_document(make_doc())
    with pytest.raises(DataError, match="boom"):
        with open_store(path) as st:
            raise DataError("boom")
    with Store.open(path, create=False) as st:
        assert st.document_names() == ["a.txt"]


def test_open_store_keeps_a_new_store_on_ctrl_c(tmp_path):
    from vbhc_code.store import open_store

    path = tmp_path / "new.sqlite"
    with pytest.raises(KeyboardInterrupt):
        with open_store(path) as st:
            st.save_document(make_doc())
            raise KeyboardInterrupt
    with Store.open(path, create=False) as st:
        assert st.document_names() == ["a.txt"]


def test_document_queries_and_updates(store):
    store.save_document(make_doc())
    store.save_document(make_doc("b.txt", n=2))
    assert store.document_state("a.txt") == ("sha-a.txt", "en")
    assert store.document_state("zz.txt") is None
    assert store.document_languages() == {"a.txt": "en", "b.txt": "en"}
    assert store.turn_bounds() == [
        ("a.txt", 1, 4, 11), ("a.txt", 2, 16, 23), ("a.txt", 3, 28, 35), ("b.txt", 1, 4, 11), ("b.txt", 2, 16, 23)
    ]
    turns = store.turns(document="a.txt", sentences=False)
    assert [t.sentences for t in turns] == [(), (), ()]
    # new sentences and language, turns untouched
    from dataclasses import replace

    split = [replace(t, sentences=((t.start, t.start + 4), (t.start + 5, t.end))) for t in turns]
    store.replace_sentences("a.txt", split, "nl")
    assert [t.sentences for t in store.turns(document="a.txt")] == [t.sentences for t in split]
    assert store.turns(document="b.txt")[0].sentences == ((4, 11),)
    assert store.document_state("a.txt") == ("sha-a.txt", "nl")
    store.update_document_metadata("a.txt", participant_ids={2: "P01"}, attributes={"site": "Ghent"},
                                   doc_type="focus_group")
    doc = store.document("a.txt")
    assert [t.participant_id for t in doc.turns] == [None, "P01", None]
    assert (dict(doc.attributes), doc.doc_type) == ({"site": "Ghent"}, "focus_group")
    with pytest.raises(DataError, match="unknown document 'zz.txt'"):
        store.replace_sentences("zz.txt", [], "en")


def test_meta_codebook_sha_and_coding_spans(store):
    store.set_meta("k", "v")
    store.delete_meta("k")
    assert store.get_meta("k") is None
    sha = store.codebook_sha(CB)
    assert sha == store.codebook_sha(CB) and store.codebook_by_sha(sha).name == "cb"
    store.save_document(make_doc())
    store.replace_codings("anna", [Coding("a.txt", 2, "C2", "anna", 16, 20), Coding("a.txt", 1, "C1", "anna")],
                          coded_documents=["a.txt"])
    assert sorted(store.coding_spans("anna")) == [("a.txt", 1, "C1", None, None), ("a.txt", 2, "C2", 16, 20)]
    assert store.coding_spans("bob") == []


def test_version_1_store_gains_reconciled_from(tmp_path):
    """A store written before reconciliations were remembered opens, keeps its coders and gains the column."""
    from vbhc_code.store.schema import MIGRATIONS

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("INSERT INTO coders (name, source, updated_at) VALUES ('anna', 'coder-anna.xlsx', 'x')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with Store.open(path) as st:
        assert st.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 3
        assert [c.name for c in st.coders()] == ["anna"]
        assert st.reconciled_from("anna") is None


def test_consensus_remembers_its_sources_and_goes_stale(store):
    from vbhc_code.store.store import Reconciliation

    store.save_document(make_doc())
    store.replace_codings("anna", [Coding("a.txt", 1, "C1", "anna")], coded_documents=["a.txt"])
    store.replace_codings("ben", [Coding("a.txt", 2, "C1", "ben")], coded_documents=["a.txt"])
    origin = Reconciliation("consensus", "r.xlsx", (("anna", store.codings_fingerprint("anna")),
                                                     ("ben", store.codings_fingerprint("ben"))))
    store.replace_codings("consensus", [Coding("a.txt", 1, "C1", "consensus")], coded_documents=["a.txt"],
                          reconciled_from=origin)
    assert store.reconciled_from("consensus").sources == ("anna", "ben")
    assert store.stale_reconciliations() == []
    # the same codings again: same fingerprint, not stale; a different span: stale
    store.replace_codings("anna", [Coding("a.txt", 1, "C1", "anna")], coded_documents=["a.txt"])
    assert store.stale_reconciliations() == []
    store.replace_codings("anna", [Coding("a.txt", 1, "C1", "anna", 0, 3)], coded_documents=["a.txt"])
    (stale,) = store.stale_reconciliations()
    assert (stale.coder, stale.workbook, stale.changed) == ("consensus", "r.xlsx", ("anna",))
    assert store.stale_reconciliations(["anna", "ben"]) == []


def test_turns_of_a_batch_of_documents_equal_those_read_one_by_one(store):
    for name, n in (("a.txt", 3), ("b.txt", 2), ("c.txt", 4)):
        store.save_document(make_doc(name, n))
    one_by_one = store.turns(document="a.txt") + store.turns(document="c.txt")
    assert store.turns(documents=["c.txt", "a.txt"]) == one_by_one
    assert all(t.sentences for t in one_by_one)
    assert store.turns(documents=[]) == []
    assert store.plain_texts(["b.txt"]) == {"b.txt": store.document("b.txt").plain_text}
    assert store.count_turns() == len(store.turns()) == 9
    assert store.count_turns(scope="participant") == len(store.turns(scope="participant"))


def test_a_failed_first_run_keeps_a_store_another_run_uses(tmp_path):
    """Two runs that create one store at once: the one that fails must not delete the other's documents."""
    from dataclasses import replace

    from vbhc_code.store import open_store

    path = tmp_path / "new.sqlite"
    with pytest.raises(DataError, match="boom"):
        with open_store(path) as st:
            st.save_document(make_doc())
            with Store.open(path) as other:  # the other run stores a document of its own meanwhile
                other.save_document(replace(make_doc(), name="b.txt"))
            raise DataError("boom")
    with Store.open(path, create=False) as st:
        assert st.document_names() == ["a.txt", "b.txt"]
    fresh = tmp_path / "fresh.sqlite"
    with pytest.raises(DataError, match="boom"):
        with open_store(fresh) as st:
            reader = sqlite3.connect(fresh, isolation_level=None)
            reader.execute("BEGIN")
            reader.execute("SELECT COUNT(*) FROM documents").fetchone()  # another run reading it now
            raise DataError("boom")
    reader.rollback()
    reader.close()
    assert fresh.exists()
