"""The report line of an unchanged document, from what the store keeps of it (re-ingest reads no turn).

When ingest stores a document (or brings its metadata up to date) it keeps a summary in the store's meta table:
its sha256, format, encoding, type, attributes, warnings, counts, and each distinct (speaker, role, participant
id). The store drops the summary whenever it changes the document, so a summary that is there belongs to the
document as stored. Re-ingest of an unchanged file then reports from the summary alone, unless the
participants or documents sheet would change something: then the stored turns are read and updated as before.
"""

from __future__ import annotations

import json
from typing import Any

from vbhc_code.files.sheets import SpeakerMatcher
from vbhc_code.store.store import SUMMARY_META, Store

# meta key (+ document name) of "sha256 words" (stores written before summaries; still read and written)
WORDS_META = "words:"


def count_words(text: str) -> int:
    return len(text.split())


def sheet_attributes(meta: dict[str, str]) -> dict[str, str]:
    """A document's attributes from its documents-sheet row (type and language are not attributes)."""
    return {k: v for k, v in meta.items() if k not in ("type", "language") and v != ""}


def keep_summary(store: Store, name: str, rep: Any, *, sha: str, attributes: dict[str, Any],
                 speakers: set[tuple[str | None, str, str | None]]) -> None:
    """Record ``rep`` (a ``DocumentReport`` just filled) as the summary of the stored document ``name``."""
    value = {
        "sha": sha, "format": rep.format, "encoding": rep.encoding, "doc_type": rep.doc_type,
        "attributes": [[k, v] for k, v in attributes.items()], "warnings": list(rep.warnings),
        "speakers": sorted(speakers, key=lambda s: (s[0] or "", s[1], s[2] or "")),
        "turns": rep.turns, "chat_turns": rep.chat_turns, "words": rep.words,
    }
    store.set_meta(SUMMARY_META + name, json.dumps(value, ensure_ascii=False, default=str))


def report_from_summary(
    raw: str | None, *, sha: str, meta: dict[str, str], matcher: SpeakerMatcher, rep: Any,
    matched: dict[str | None, str | None],
) -> list[str] | None:
    """Fill ``rep`` from a kept summary and return the document's unmatched participant labels; None when there
    is no summary for this content, or the sheets would change the stored document (then read the store)."""
    if raw is None:
        return None
    kept = json.loads(raw)
    if kept.get("sha") != sha:
        return None
    if meta and [list(x) for x in sheet_attributes(meta).items()] != kept["attributes"]:
        return None
    if (meta.get("type") or kept["doc_type"]) != kept["doc_type"]:
        return None
    unmatched = set()
    for speaker, role, pid in kept["speakers"]:
        expected = None
        if role == "participant":
            if speaker not in matched:
                matched[speaker] = matcher.match(speaker)
            expected = matched[speaker]
            if speaker and not expected:
                unmatched.add(speaker)
        if expected != pid:
            return None
    rep.format, rep.encoding, rep.doc_type = kept["format"], kept["encoding"], kept["doc_type"]
    rep.speakers = len({speaker for speaker, _, _ in kept["speakers"] if speaker})
    rep.turns, rep.chat_turns, rep.words = kept["turns"], kept["chat_turns"], kept["words"]
    rep.warnings = list(kept["warnings"])
    return sorted(unmatched)


def refresh_metadata(
    store: Store, name: str, meta: dict[str, str], matcher: SpeakerMatcher, rep: Any, *,
    kept_words: str | None = None, kept: tuple[Any, list[Any]] | None = None,
) -> list[str]:
    """An unchanged file keeps its turns, but a new participants/documents sheet still applies.

    Fills ``rep`` from the stored document without loading sentences, writes only when something changed, and
    keeps the summary for the next run. Returns the document's unmatched participant labels.
    """
    doc, rows = kept if kept is not None and kept[0] is not None else (store.document_header(name), None)
    if rows is None:
        rows = store.turn_outline(name)  # (turn_index, speaker, role, participant_id, turn_type)
    updates: dict[int, str | None] = {}
    matched: dict[str | None, str | None] = {}
    speakers: set[tuple[str | None, str, str | None]] = set()
    for index, speaker, role, old_pid, _ in rows:
        pid = None
        if role == "participant":
            if speaker not in matched:
                matched[speaker] = matcher.match(speaker)
            pid = matched[speaker]
        if pid != old_pid:
            updates[index] = pid
        speakers.add((speaker, role, pid))
    attributes = sheet_attributes(meta) if meta else dict(doc.attributes)
    doc_type = meta.get("type") or doc.doc_type
    # Compared with order: the stored attributes keep the documents sheet's column order.
    if updates or list(attributes.items()) != list(doc.attributes.items()) or doc_type != doc.doc_type:
        store.update_document_metadata(name, participant_ids=updates, attributes=attributes, doc_type=doc_type)
    rep.format, rep.encoding, rep.doc_type = doc.format, doc.encoding, doc_type
    rep.speakers = len({speaker for _, speaker, _, _, _ in rows if speaker})
    rep.turns = len(rows)
    rep.chat_turns = sum(1 for *_, turn_type in rows if turn_type == "chat")
    if kept_words is None:
        kept_words = store.get_meta(WORDS_META + name) or ""
    sha, _, words = kept_words.partition(" ")
    # Kept with the sha256 it was counted for; stores written before it was kept count from the turn texts.
    if sha == doc.sha256 and words.isdigit():
        rep.words = int(words)
    else:
        rep.words = sum(count_words(t.text) for t in store.turns(document=name, sentences=False))
    rep.warnings = list(doc.warnings)
    keep_summary(store, name, rep, sha=doc.sha256, attributes=attributes, speakers=speakers)
    return sorted({speaker for _, speaker, role, _, _ in rows if speaker and role == "participant"
                   and not matched.get(speaker)})
