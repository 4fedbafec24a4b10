"""The study store: one SQLite file per study (stdlib ``sqlite3``).

Schema versions live in ``PRAGMA user_version``; ``MIGRATIONS[n]`` takes a store from version n to
n + 1, each in its own transaction, so an old store is upgraded in place and a newer one is refused.
Every document is written in one transaction, so a killed process leaves a consistent store.
``open_store`` is the way a command opens a store that its run may create: a failed first run removes it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vbhc_code.errors import DataError, opt, store_error
from vbhc_code.models import Codebook, Coding, Document, Participant, Turn, frozen_mapping
from vbhc_code.store.schema import MIGRATIONS, SCHEMA_VERSION, codebook_from_json, codebook_to_json

_LOG_KEYS = (
    "document", "turn_index", "code", "coder_a", "coder_b", "value_a", "value_b",
    "decision", "rationale", "decided_by", "decided_at", "consensus_coder",
)


BUSY_TIMEOUT = 60.0  # seconds a command waits for another one that holds the store (then exit 75)


def busy_timeout() -> float:
    """``$VBHC_CODE_BUSY_TIMEOUT`` seconds, else ``BUSY_TIMEOUT``: how long a command waits for the store."""
    import os

    try:
        return max(0.0, float(os.environ.get("VBHC_CODE_BUSY_TIMEOUT", BUSY_TIMEOUT)))
    except ValueError:
        return BUSY_TIMEOUT


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class CoderInfo:
    name: str
    codebook_name: str | None
    codebook_version: str | None
    codebook_sha256: str | None
    source: str
    n_documents: int
    n_codings: int
    updated_at: str


@dataclass(frozen=True)
class Reconciliation:
    """Where a consensus coder came from: the workbook, and each source coder's codings fingerprint."""

    coder: str
    workbook: str
    fingerprints: tuple[tuple[str, str], ...]  # (source coder, codings_fingerprint) at apply time
    applied_at: str = ""
    changed: tuple[str, ...] = ()  # filled by Store.stale_reconciliations

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.fingerprints)

    def to_json(self) -> str:
        return json.dumps({"workbook": self.workbook, "coders": dict(self.fingerprints),
                           "applied_at": self.applied_at}, ensure_ascii=False)  # fmt: skip

    @classmethod
    def from_json(cls, coder: str, text: str) -> Reconciliation:
        data = json.loads(text)
        return cls(coder, str(data.get("workbook", "")), tuple(data.get("coders", {}).items()),
                   str(data.get("applied_at", "")))  # fmt: skip


# meta key (+ document name) of the summary ingest keeps of a document (``ingest.summary``); every change to the
# document here drops it, so a summary that is there describes the document as stored.
SUMMARY_META = "summary:"

class Store:
    """A study store. Use ``Store.open(path)``; it is also a context manager that closes itself."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._depth = 0
        self.saved_documents = 0  # documents this connection stored (open_store: whose store is it?)

    # -- opening and schema -------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path | str, *, create: bool = True) -> Store:
        path = Path(path)
        if not create and not path.exists():
            raise DataError(f"{path}: no study store here (ingest a folder first, or name the store: {opt('store')})")
        if path.is_dir():
            raise DataError(f"{path}: is a folder, not a store file")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout())
        except (OSError, sqlite3.Error) as exc:
            raise store_error(path, exc, "cannot open the study store") from None
        conn.row_factory = sqlite3.Row
        store = cls(conn, path)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            store._migrate()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise store_error(path, exc, "not a usable study store") from None
        return store

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise DataError(
                f"{self.path}: store schema version {version} is newer than this vbhc-code "
                f"understands ({SCHEMA_VERSION}); upgrade vbhc-code"
            )
        for target in range(version, SCHEMA_VERSION):
            # The script carries its own BEGIN/COMMIT (the connection is in autocommit mode, so executescript
            # adds no implicit commit); SQLite parses the statements, we never split the text ourselves.
            script = f"BEGIN IMMEDIATE;\n{MIGRATIONS[target]}\nPRAGMA user_version = {target + 1};\nCOMMIT;"
            try:
                self.conn.executescript(script)
            except BaseException:
                self._rollback()
                if self.conn.execute("PRAGMA user_version").fetchone()[0] > target:
                    continue  # another process created or upgraded the store while we waited for its lock
                raise

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; ROLLBACK on any error. Nested calls join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise store_error(self.path, exc) from None
        self._depth = 1
        try:
            yield self.conn
        except sqlite3.Error as exc:
            self._rollback()
            raise store_error(self.path, exc) from None
        except BaseException:
            self._rollback()
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise store_error(self.path, exc) from None
        finally:
            self._depth = 0

    def _rollback(self) -> None:
        """ROLLBACK only when a transaction is still open: after a full disk or an I/O error SQLite may have
        rolled back already, and a second ROLLBACK would fail and hide the real error."""
        if self.conn.in_transaction:
            with suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

    @contextmanager
    def fast_writes(self) -> Iterator[None]:
        """Many small transactions (ingest: one per document) without an fsync for each.

        Inside, the store runs in WAL mode with ``synchronous=NORMAL``: a commit survives the process being
        killed (the kill -9 test) and the store can never be left corrupt, but the last commits before a power
        loss or OS crash may be rolled back (each document whole, never half). On leaving, the journal mode
        goes back to what it was, which checkpoints the WAL into the store file (one file again).
        """
        mode = self.conn.execute("PRAGMA journal_mode").fetchone()[0]
        try:
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error:
            pass  # e.g. another connection holds the store: keep the rollback journal
        try:
            yield
        finally:
            try:
                self.conn.execute("PRAGMA synchronous = FULL")
                if str(mode).lower() != "wal":
                    self.conn.execute(f"PRAGMA journal_mode = {mode}")
            except sqlite3.Error:
                pass  # still readable in WAL mode; the next writer checkpoints

    # -- meta -----------------------------------------------------------------------------------
    def delete_meta(self, key: str) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM meta WHERE key = ?", (key,))

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

    def meta_with_prefix(self, prefix: str) -> dict[str, str]:
        """Every meta value whose key starts with ``prefix``, by the rest of its key."""
        rows = self.conn.execute("SELECT key, value FROM meta WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))
        return {key[len(prefix):]: value for key, value in rows}

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- documents ------------------------------------------------------------------------------
    def document_names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM documents ORDER BY name")]

    def document_sha(self, name: str) -> str | None:
        row = self.conn.execute("SELECT sha256 FROM documents WHERE name = ?", (name,)).fetchone()
        return None if row is None else row[0]

    def document_state(self, name: str) -> tuple[str, str] | None:
        """``(sha256, language)`` of a stored document, or None when it is not stored."""
        row = self.conn.execute("SELECT sha256, language FROM documents WHERE name = ?", (name,)).fetchone()
        return None if row is None else (row[0], row[1])

    def document_header(self, name: str) -> Document:
        """A stored document without its plain text and turns (cheap: what re-ingest of an unchanged file needs)."""
        row = self.conn.execute(
            "SELECT name, format, encoding, sha256, '' AS plain_text, doc_type, language, attributes, warnings"
            " FROM documents WHERE name = ?", (name,),
        ).fetchone()
        if row is None:
            raise DataError(f"unknown document '{name}'")
        return _document_from_row(row, ())

    def turn_outline(self, name: str) -> list[tuple[int, str | None, str, str | None, str]]:
        """``(turn_index, speaker, role, participant_id, turn_type)`` of a document's turns, without their text."""
        sql = ("SELECT t.turn_index, t.speaker, t.role, t.participant_id, t.turn_type FROM turns t"
               " JOIN documents d ON d.id = t.document_id WHERE d.name = ? ORDER BY t.turn_index")
        cursor = self.conn.cursor()
        cursor.row_factory = None  # plain tuples: this runs for every unchanged file of a re-ingest
        return cursor.execute(sql, (name,)).fetchall()

    def document_states(self) -> dict[str, tuple[str, str]]:
        """``document_state`` of every stored document, in one query."""
        return {r[0]: (r[1], r[2]) for r in self.conn.execute("SELECT name, sha256, language FROM documents")}

    def document_headers(self) -> dict[str, Document]:
        """``document_header`` of every stored document, in one query."""
        rows = self.conn.execute(
            "SELECT name, format, encoding, sha256, '' AS plain_text, doc_type, language, attributes, warnings"
            " FROM documents"
        )
        return {row["name"]: _document_from_row(row, ()) for row in rows}

    def turn_outlines(self) -> dict[str, list[tuple[int, str | None, str, str | None, str]]]:
        """``turn_outline`` of every stored document, in one query."""
        sql = ("SELECT d.name, t.turn_index, t.speaker, t.role, t.participant_id, t.turn_type FROM turns t"
               " JOIN documents d ON d.id = t.document_id ORDER BY d.name, t.turn_index")
        cursor = self.conn.cursor()
        cursor.row_factory = None
        out: dict[str, list[tuple[int, str | None, str, str | None, str]]] = {}
        for name, *outline in cursor.execute(sql):
            out.setdefault(name, []).append(tuple(outline))
        return out

    def document_languages(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self.conn.execute("SELECT name, language FROM documents")}

    def replace_sentences(self, name: str, turns: Iterable[Turn], language: str) -> None:
        """New sentences (and language) for a stored document whose turns stay as they are."""
        with self.transaction():
            doc_id = self._document_id(name)
            ids = dict(self.conn.execute("SELECT turn_index, id FROM turns WHERE document_id = ?", (doc_id,)))
            self.conn.execute(
                "DELETE FROM sentences WHERE turn_id IN (SELECT id FROM turns WHERE document_id = ?)", (doc_id,)
            )
            self.conn.executemany(
                'INSERT INTO sentences (turn_id, sentence_index, start, "end") VALUES (?, ?, ?, ?)',
                [(ids[t.turn_index], i, s, e) for t in turns for i, (s, e) in enumerate(t.sentences, 1)],
            )
            self.conn.execute("UPDATE documents SET language = ? WHERE id = ?", (language, doc_id))
            self._drop_summary(name)

    def update_document_metadata(
        self, name: str, *, participant_ids: Mapping[int, str | None], attributes: Mapping[str, Any], doc_type: str
    ) -> None:
        """Set participant ids (by turn index), attributes and type of a stored document, in one transaction."""
        with self.transaction():
            doc_id = self._document_id(name)
            self._drop_summary(name)
            self.conn.executemany(
                "UPDATE turns SET participant_id = ? WHERE document_id = ? AND turn_index = ?",
                [(pid, doc_id, idx) for idx, pid in participant_ids.items()],
            )
            self.conn.execute(
                "UPDATE documents SET attributes = ?, doc_type = ? WHERE id = ?",
                (json.dumps(dict(attributes), ensure_ascii=False, default=str), doc_type, doc_id),
            )

    def _document_id(self, name: str) -> int:
        row = self.conn.execute("SELECT id FROM documents WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise DataError(f"unknown document '{name}'")
        return row[0]

    def save_document(self, doc: Document, *, replace: bool = False) -> None:
        """Store a document with its turns and sentences in one transaction.

        With ``replace`` an existing document of that name is deleted first (its codings go with it).
        """
        with self.transaction():
            self._drop_summary(doc.name)
            existing = self.conn.execute("SELECT id FROM documents WHERE name = ?", (doc.name,)).fetchone()
            if existing is not None:
                if not replace:
                    raise DataError(f"document '{doc.name}' is already in the store")
                self.conn.execute("DELETE FROM documents WHERE id = ?", (existing[0],))
            cur = self.conn.execute(
                "INSERT INTO documents (name, format, encoding, sha256, plain_text, doc_type, language,"
                " attributes, warnings, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    doc.name, doc.format, doc.encoding, doc.sha256, doc.plain_text, doc.doc_type,
                    doc.language, json.dumps(dict(doc.attributes), ensure_ascii=False, default=str),
                    json.dumps(list(doc.warnings), ensure_ascii=False), now_iso(),
                ),
            )
            doc_id = cur.lastrowid
            self.saved_documents += 1
            # Explicit turn ids (we hold the write lock) let turns and sentences go in with executemany.
            first = (self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM turns").fetchone()[0] or 0) + 1
            self.conn.executemany(
                'INSERT INTO turns (id, document_id, turn_index, speaker, participant_id, role, turn_type,'
                ' start, "end", spans, timestamps, line, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                [
                    (
                        first + k, doc_id, turn.turn_index, turn.speaker, turn.participant_id, turn.role,
                        turn.turn_type, turn.start, turn.end,
                        json.dumps([list(s) for s in turn.spans]) if turn.spans else "[]",
                        json.dumps(list(turn.timestamps)) if turn.timestamps else "[]",
                        turn.line, turn.text,
                    )
                    for k, turn in enumerate(doc.turns)
                ],
            )
            self.conn.executemany(
                'INSERT INTO sentences (turn_id, sentence_index, start, "end") VALUES (?, ?, ?, ?)',
                [
                    (first + k, i, s, e)
                    for k, turn in enumerate(doc.turns)
                    for i, (s, e) in enumerate(turn.sentences, 1)
                ],
            )

    def delete_document(self, name: str) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM documents WHERE name = ?", (name,))
            self._drop_summary(name)

    def _drop_summary(self, name: str) -> None:
        self.conn.execute("DELETE FROM meta WHERE key = ?", (SUMMARY_META + name,))

    def document(self, name: str, *, with_turns: bool = True) -> Document:
        row = self.conn.execute("SELECT * FROM documents WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise DataError(f"unknown document '{name}'")
        turns = tuple(self.turns(document=name)) if with_turns else ()
        return _document_from_row(row, turns)

    def documents(self, *, with_turns: bool = False) -> list[Document]:
        rows = self.conn.execute("SELECT * FROM documents ORDER BY name").fetchall()
        if not with_turns:
            return [_document_from_row(r, ()) for r in rows]
        by_doc: dict[str, list[Turn]] = {}
        for turn in self.turns():
            by_doc.setdefault(turn.document, []).append(turn)
        return [_document_from_row(r, tuple(by_doc.get(r["name"], ()))) for r in rows]

    # -- turns ----------------------------------------------------------------------------------
    def turns(
        self, *, scope: str = "all", document: str | None = None, sentences: bool = True,
        documents: Sequence[str] | None = None,
    ) -> list[Turn]:
        """Turns in document-name then turn order; scope 'participant' keeps participant turns only.

        ``document`` (one name) or ``documents`` (several, e.g. a batch of a long pass over the store) limit the
        turns to those documents. ``sentences=False`` leaves each turn's sentences empty (cheaper).
        """
        if scope not in ("all", "participant"):
            raise ValueError(f"unknown scope {scope!r}")
        names = [document] if document is not None else None if documents is None else list(documents)
        where, params = [], []
        if scope == "participant":
            where.append("t.role = 'participant'")
        if names is not None:
            where.append(f"d.name IN ({', '.join('?' * len(names))})")
            params.extend(names)
        sql = (
            'SELECT t.*, d.name AS document FROM turns t JOIN documents d ON d.id = t.document_id'
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY d.name, t.turn_index"
        )
        rows = self.conn.execute(sql, params).fetchall()
        if not sentences:
            return [_turn_from_row(r, ()) for r in rows]
        return self._with_sentences(rows, names)

    def _with_sentences(self, rows: list[sqlite3.Row], names: list[str] | None) -> list[Turn]:
        sentences: dict[int, list[tuple[int, int]]] = {}
        sent_sql = 'SELECT s.turn_id, s.start, s."end" FROM sentences s'
        sent_params: list[Any] = []
        if names is not None:
            sent_sql += (" JOIN turns t ON t.id = s.turn_id JOIN documents d ON d.id = t.document_id"
                         f" WHERE d.name IN ({', '.join('?' * len(names))})")
            sent_params.extend(names)
        for tid, s, e in self.conn.execute(sent_sql + " ORDER BY s.turn_id, s.sentence_index", sent_params):
            sentences.setdefault(tid, []).append((s, e))
        return [_turn_from_row(r, tuple(sentences.get(r["id"], ()))) for r in rows]

    def plain_texts(self, names: Sequence[str]) -> dict[str, str]:
        """The plain text of each named document (a batch: one query)."""
        sql = f"SELECT name, plain_text FROM documents WHERE name IN ({', '.join('?' * len(names))})"
        return dict(self.conn.execute(sql, list(names)).fetchall())

    def count_turns(self, *, scope: str = "all") -> int:
        sql = "SELECT COUNT(*) FROM turns" + (" WHERE role = 'participant'" if scope == "participant" else "")
        return int(self.conn.execute(sql).fetchone()[0])

    def turn(self, document: str, turn_index: int) -> Turn:
        for turn in self.turns(document=document):
            if turn.turn_index == turn_index:
                return turn
        raise DataError(f"unknown turn {document} #{turn_index}")

    def turn_bounds(self, *, scope: str = "all") -> list[tuple[str, int, int, int]]:
        """``(document, turn_index, start, end)`` of every turn in scope, in document then turn order."""
        if scope not in ("all", "participant"):
            raise ValueError(f"unknown scope {scope!r}")
        sql = 'SELECT d.name, t.turn_index, t.start, t."end" FROM turns t JOIN documents d ON d.id = t.document_id'
        if scope == "participant":
            sql += " WHERE t.role = 'participant'"
        return [tuple(r) for r in self.conn.execute(sql + " ORDER BY d.name, t.turn_index")]

    def _turn_ids(self) -> dict[tuple[str, int], int]:
        rows = self.conn.execute(
            "SELECT d.name, t.turn_index, t.id FROM turns t JOIN documents d ON d.id = t.document_id"
        )
        return {(name, idx): tid for name, idx, tid in rows}

    # -- participants ---------------------------------------------------------------------------
    def save_participants(self, participants: Iterable[Participant]) -> None:
        """Replace the participants (no write when they are the ones stored: every ingest gives the sheet)."""
        rows = [
            (
                p.participant_id,
                json.dumps(list(p.aliases), ensure_ascii=False),
                json.dumps(dict(p.attributes), ensure_ascii=False, default=str),
            )
            for p in participants
        ]
        stored = self.conn.execute("SELECT participant_id, aliases, attributes FROM participants ORDER BY rowid")
        if [tuple(r) for r in stored] == rows:
            return
        with self.transaction():
            self.conn.execute("DELETE FROM participants")
            self.conn.executemany(
                "INSERT INTO participants (participant_id, aliases, attributes) VALUES (?, ?, ?)", rows
            )

    def participants(self) -> dict[str, Participant]:
        rows = self.conn.execute("SELECT * FROM participants ORDER BY participant_id")
        return {
            r["participant_id"]: Participant(
                r["participant_id"], tuple(json.loads(r["aliases"])), frozen_mapping(json.loads(r["attributes"]))
            )
            for r in rows
        }

    # -- codebooks ------------------------------------------------------------------------------
    def save_codebook(self, codebook: Codebook) -> int:
        sha = codebook.sha256 or _sha_of_json(codebook)
        row = self.conn.execute("SELECT id FROM codebooks WHERE sha256 = ?", (sha,)).fetchone()
        if row is not None:
            return row[0]
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO codebooks (name, version, sha256, content, saved_at) VALUES (?, ?, ?, ?, ?)",
                (codebook.name, codebook.version, sha, codebook_to_json(codebook), now_iso()),
            )
            assert cur.lastrowid is not None  # an INSERT always sets it
            return cur.lastrowid

    def set_study_codebook(self, codebook: Codebook) -> str:
        """Save ``codebook`` as the study's own (an imported REFI project's): the default of every command
        that needs a codebook and is given none. Returns its sha256."""
        sha = self.codebook_sha(codebook)
        self.set_meta("study_codebook", sha)
        return sha

    def study_codebook(self) -> Codebook | None:
        """The study's own codebook (``set_study_codebook``), or None: then the built-in one applies."""
        sha = self.get_meta("study_codebook")
        return self.codebook_by_sha(sha) if sha else None

    def codebook_sha(self, codebook: Codebook) -> str:
        """Save ``codebook`` (once) and return the sha256 the store knows it by."""
        cb_id = self.save_codebook(codebook)
        return str(self.conn.execute("SELECT sha256 FROM codebooks WHERE id = ?", (cb_id,)).fetchone()[0])

    def codebooks(self) -> list[Codebook]:
        rows = self.conn.execute("SELECT content, sha256 FROM codebooks ORDER BY id")
        return [_with_sha(codebook_from_json(r[0]), r[1]) for r in rows]

    def codebook_by_sha(self, sha: str) -> Codebook | None:
        row = self.conn.execute("SELECT content, sha256 FROM codebooks WHERE sha256 = ?", (sha,)).fetchone()
        return None if row is None else _with_sha(codebook_from_json(row[0]), row[1])

    def coder_codebook(self, coder: str) -> Codebook | None:
        row = self.conn.execute(
            "SELECT c.content, c.sha256 FROM coders k JOIN codebooks c ON c.id = k.codebook_id WHERE k.name = ?",
            (coder,),
        ).fetchone()
        return None if row is None else _with_sha(codebook_from_json(row[0]), row[1])

    # -- codings --------------------------------------------------------------------------------
    def replace_codings(
        self,
        coder: str,
        codings: Iterable[Coding],
        *,
        coded_documents: Iterable[str],
        codebook: Codebook | None = None,
        source: str = "",
        reconciled_from: Reconciliation | None = None,
    ) -> int:
        """Atomically replace everything ``coder`` has: codings and the set of documents coded.

        ``reconciled_from`` records, for a consensus coder, the workbook and the fingerprints of the
        source coders' codings it was made from (see ``stale_reconciliations``).
        """
        if not coder:
            raise DataError("a coder needs a name")
        with self.transaction():
            codebook_id = self.save_codebook(codebook) if codebook is not None else None
            self.conn.execute("DELETE FROM coders WHERE name = ?", (coder,))
            self.conn.execute(
                "INSERT INTO coders (name, codebook_id, source, updated_at, reconciled_from) VALUES (?, ?, ?, ?, ?)",
                (coder, codebook_id, source, now_iso(), reconciled_from.to_json() if reconciled_from else ""),
            )
            doc_ids = {
                name: did for did, name in self.conn.execute("SELECT id, name FROM documents")
            }
            coded = set(coded_documents)
            missing = sorted(coded - doc_ids.keys())
            if missing:
                raise DataError(f"unknown document '{missing[0]}'")
            self.conn.executemany(
                "INSERT INTO coded_documents (coder, document_id) VALUES (?, ?)",
                [(coder, doc_ids[name]) for name in sorted(coded)],
            )
            turn_ids = self._turn_ids()
            rows = []
            for c in codings:
                tid = turn_ids.get((c.document, c.turn_index))
                if tid is None:
                    raise DataError(f"unknown turn {c.document} #{c.turn_index}")
                rows.append((coder, tid, c.code, c.start, c.end, c.evidence, c.confidence))
            self.conn.executemany(
                'INSERT INTO codings (coder, turn_id, code, start, "end", evidence, confidence)'
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            return len(rows)

    def codings(self, coder: str, document: str | None = None) -> list[Coding]:
        sql = (
            'SELECT d.name, t.turn_index, c.code, c.coder, c.start, c."end", c.evidence, c.confidence FROM codings c'
            " JOIN turns t ON t.id = c.turn_id JOIN documents d ON d.id = t.document_id WHERE c.coder = ?"
        )
        params: list[Any] = [coder]
        if document is not None:
            sql += " AND d.name = ?"
            params.append(document)
        sql += " ORDER BY d.name, t.turn_index, c.code, c.start, c.id"
        return [Coding(*row) for row in self.conn.execute(sql, params)]

    def coding_spans(self, coder: str) -> list[tuple[str, int, str, int | None, int | None]]:
        """``(document, turn_index, code, start, end)`` of every coding by ``coder`` (in no particular order)."""
        sql = (
            'SELECT d.name, t.turn_index, c.code, c.start, c."end" FROM codings c JOIN turns t ON t.id = c.turn_id'
            " JOIN documents d ON d.id = t.document_id WHERE c.coder = ?"
        )
        return [tuple(r) for r in self.conn.execute(sql, (coder,))]

    def coders(self) -> list[CoderInfo]:
        rows = self.conn.execute(
            "SELECT k.name, c.name AS cb_name, c.version, c.sha256, k.source, k.updated_at,"
            " (SELECT COUNT(*) FROM coded_documents cd WHERE cd.coder = k.name) AS n_docs,"
            " (SELECT COUNT(*) FROM codings x WHERE x.coder = k.name) AS n_codings"
            " FROM coders k LEFT JOIN codebooks c ON c.id = k.codebook_id ORDER BY k.name"
        )
        return [
            CoderInfo(r["name"], r["cb_name"], r["version"], r["sha256"], r["source"], r["n_docs"],
                      r["n_codings"], r["updated_at"])
            for r in rows
        ]

    def codings_fingerprint(self, coder: str) -> str:
        """sha256 of what ``coder`` coded: the documents marked coded and every coding's cell and span."""
        import hashlib

        digest = hashlib.sha256()
        for name in sorted(self.coded_documents(coder)):
            digest.update(f"D\t{name}\n".encode())
        for c in self.codings(coder):
            digest.update(f"C\t{c.document}\t{c.turn_index}\t{c.code}\t{c.start}\t{c.end}\n".encode())
        return digest.hexdigest()

    def reconciled_from(self, coder: str) -> Reconciliation | None:
        """What a consensus coder was reconciled from (None for any other coder)."""
        row = self.conn.execute("SELECT reconciled_from FROM coders WHERE name = ?", (coder,)).fetchone()
        if row is None or not row[0]:
            return None
        return Reconciliation.from_json(coder, row[0])

    def stale_reconciliations(self, coders: Iterable[str] | None = None) -> list[Reconciliation]:
        """Consensus coders (all, or those among ``coders``) whose source coders' codings changed since.

        Each returned record has ``changed`` set to the source coders whose codings differ now (or are gone).
        """
        names = [c.name for c in self.coders()] if coders is None else list(coders)
        out = []
        for name in names:
            rec = self.reconciled_from(name)
            if rec is None:
                continue
            known = {c.name for c in self.coders()}
            changed = tuple(
                c for c, fp in rec.fingerprints if c not in known or self.codings_fingerprint(c) != fp
            )
            if changed:
                out.append(Reconciliation(rec.coder, rec.workbook, rec.fingerprints, rec.applied_at, changed))
        return out

    def coded_documents(self, coder: str) -> set[str]:
        rows = self.conn.execute(
            "SELECT d.name FROM coded_documents cd JOIN documents d ON d.id = cd.document_id WHERE cd.coder = ?",
            (coder,),
        )
        return {r[0] for r in rows}

    def has_codings(self, document: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM codings c JOIN turns t ON t.id = c.turn_id JOIN documents d ON d.id = t.document_id"
            " WHERE d.name = ? LIMIT 1",
            (document,),
        ).fetchone()
        return row is not None

    # -- reconciliation -------------------------------------------------------------------------
    def add_reconciliation_log(self, rows: Iterable[dict[str, Any]]) -> None:
        with self.transaction():
            for row in rows:
                values = {k: row.get(k) for k in _LOG_KEYS}
                values["decided_at"] = values["decided_at"] or now_iso()
                values["rationale"] = values["rationale"] or ""
                values["decided_by"] = values["decided_by"] or ""
                values["consensus_coder"] = values["consensus_coder"] or "consensus"
                self.conn.execute(
                    f"INSERT INTO reconciliation_log ({', '.join(_LOG_KEYS)})"
                    f" VALUES ({', '.join('?' for _ in _LOG_KEYS)})",
                    [values[k] for k in _LOG_KEYS],
                )

    def reconciliation_log(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(f"SELECT {', '.join(_LOG_KEYS)} FROM reconciliation_log ORDER BY id")
        return [dict(r) for r in rows]


@contextmanager
def open_store(path: Path | str, *, create: bool = True) -> Iterator[Store]:
    """Open (or create) the store at ``path`` for one run and close it afterwards.

    When this call created the store and the run raises, the store file and its journal are removed again, so a
    failed first run never leaves a store that later commands accept, unless another command is using the store
    or has stored documents in it meanwhile (two runs that created one store at once). Ctrl-C keeps it: what was
    stored until then is consistent (one transaction per document), and the next run continues from it.
    """
    path = Path(path)
    created = create and not path.exists()
    saved = 0
    try:
        with Store.open(path, create=create) as store:
            try:
                yield store
            finally:
                saved = store.saved_documents
    except Exception:
        if created and _only_ours(path, saved):
            remove_store_files(path)
        raise


def _only_ours(path: Path, saved: int) -> bool:
    """No other connection holds the store and it has no documents but the ``saved`` ones this run stored."""
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=0)
    except sqlite3.Error:
        return True  # not even a database: nothing to keep
    try:
        conn.execute("BEGIN EXCLUSIVE")  # fails at once while another process reads or writes it
        try:
            return conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] <= saved
        finally:
            conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        return "no such table" in str(exc)  # locked: in use elsewhere; no table: an empty file
    except sqlite3.Error:
        return True
    finally:
        conn.close()


def remove_store_files(path: Path) -> None:
    """Delete a store file with its journal files (missing ones are fine)."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        with suppress(OSError):
            path.with_name(path.name + suffix).unlink(missing_ok=True)


def _sha_of_json(codebook: Codebook) -> str:
    import hashlib

    return hashlib.sha256(codebook_to_json(codebook).encode("utf-8")).hexdigest()


def _with_sha(codebook: Codebook, sha: str) -> Codebook:
    from dataclasses import replace

    return codebook if codebook.sha256 == sha else replace(codebook, sha256=sha)


def _document_from_row(row: sqlite3.Row, turns: tuple[Turn, ...]) -> Document:
    return Document(
        name=row["name"],
        format=row["format"],
        encoding=row["encoding"],
        sha256=row["sha256"],
        plain_text=row["plain_text"],
        turns=turns,
        doc_type=row["doc_type"],
        language=row["language"],
        attributes=frozen_mapping(json.loads(row["attributes"])),
        warnings=tuple(json.loads(row["warnings"])),
    )


def _turn_from_row(row: sqlite3.Row, sentences: tuple[tuple[int, int], ...]) -> Turn:
    return Turn(
        turn_index=row["turn_index"],
        start=row["start"],
        end=row["end"],
        text=row["text"],
        speaker=row["speaker"],
        participant_id=row["participant_id"],
        role=row["role"],
        turn_type=row["turn_type"],
        spans=tuple(tuple(s) for s in json.loads(row["spans"])),
        timestamps=tuple(json.loads(row["timestamps"])),
        sentences=sentences,
        line=row["line"],
        document=row["document"],
    )
