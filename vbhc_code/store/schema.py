"""The store's schema (one SQL script per version) and the JSON form of stored codebooks."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from typing import Any

from vbhc_code.models import Code, Codebook, Theme, frozen_mapping

SCHEMA_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL,
    encoding TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    plain_text TEXT NOT NULL,
    doc_type TEXT NOT NULL CHECK (doc_type IN ('interview', 'focus_group')),
    language TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    warnings TEXT NOT NULL DEFAULT '[]',
    ingested_at TEXT NOT NULL
);
CREATE TABLE turns (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    turn_index INTEGER NOT NULL CHECK (turn_index >= 1),
    speaker TEXT,
    participant_id TEXT,
    role TEXT NOT NULL CHECK (role IN ('participant', 'interviewer')),
    turn_type TEXT NOT NULL CHECK (turn_type IN ('speech', 'chat')),
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    spans TEXT NOT NULL DEFAULT '[]',
    timestamps TEXT NOT NULL DEFAULT '[]',
    line INTEGER,
    text TEXT NOT NULL,
    UNIQUE (document_id, turn_index)
);
CREATE TABLE sentences (
    turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
    sentence_index INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    PRIMARY KEY (turn_id, sentence_index)
);
CREATE TABLE participants (
    participant_id TEXT PRIMARY KEY,
    aliases TEXT NOT NULL DEFAULT '[]',
    attributes TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE codebooks (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    content TEXT NOT NULL,
    saved_at TEXT NOT NULL
);
CREATE TABLE coders (
    name TEXT PRIMARY KEY,
    codebook_id INTEGER REFERENCES codebooks(id),
    source TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
CREATE TABLE coded_documents (
    coder TEXT NOT NULL REFERENCES coders(name) ON DELETE CASCADE,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    PRIMARY KEY (coder, document_id)
);
CREATE TABLE codings (
    id INTEGER PRIMARY KEY,
    coder TEXT NOT NULL REFERENCES coders(name) ON DELETE CASCADE,
    turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    start INTEGER,
    "end" INTEGER,
    evidence TEXT
);
CREATE INDEX codings_by_coder ON codings (coder, turn_id);
CREATE TABLE reconciliation_log (
    id INTEGER PRIMARY KEY,
    document TEXT NOT NULL,
    turn_index INTEGER NOT NULL,
    code TEXT NOT NULL,
    coder_a TEXT NOT NULL,
    coder_b TEXT NOT NULL,
    value_a INTEGER,
    value_b INTEGER,
    decision TEXT NOT NULL,
    rationale TEXT NOT NULL DEFAULT '',
    decided_by TEXT NOT NULL DEFAULT '',
    decided_at TEXT NOT NULL,
    consensus_coder TEXT NOT NULL DEFAULT 'consensus'
);
"""

# v2: the autocoder's confidence (0-1) of each of its codings; NULL for human codings.
SCHEMA_V2 = """
ALTER TABLE codings ADD COLUMN confidence REAL;
"""

# v3: a coder made by a reconciliation remembers what it was reconciled from (JSON: the workbook
# and a fingerprint of each source coder's codings), so a later re-import makes it visibly stale.
SCHEMA_V3 = """
ALTER TABLE coders ADD COLUMN reconciled_from TEXT NOT NULL DEFAULT '';
"""

# MIGRATIONS[n] upgrades a store at user_version n to n + 1.
MIGRATIONS: list[str] = [SCHEMA_V1, SCHEMA_V2, SCHEMA_V3]
SCHEMA_VERSION = len(MIGRATIONS)


def codebook_to_json(codebook: Codebook) -> str:
    """A canonical JSON form of a codebook (the store keeps codebooks from any source this way)."""
    return json.dumps(_plain(codebook), ensure_ascii=False, sort_keys=True)


def _plain(value: Any) -> Any:
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def codebook_from_json(text: str) -> Codebook:
    data = json.loads(text)
    themes = tuple(Theme(**t) for t in data.pop("themes"))
    codes = []
    for c in data.pop("codes"):
        c["examples"] = tuple(c.get("examples", ()))
        for key in ("terms", "negative", "weak"):
            c[key] = frozen_mapping({lang: tuple(v) for lang, v in c.get(key, {}).items()})
        c["patterns"] = frozen_mapping({lang: tuple(v) for lang, v in c.get("patterns", {}).items()})
        codes.append(Code(**c))
    data["languages"] = tuple(data.get("languages", ()))
    for key in ("context", "interview_talk"):
        data[key] = frozen_mapping({lang: tuple(v) for lang, v in data.get(key, {}).items()})
    return Codebook(themes=themes, codes=tuple(codes), **data)
