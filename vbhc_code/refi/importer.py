"""``refi import``: a .qdpx project or .qdc codebook from any REFI-QDA tool into the study store.

Sources become documents (turns by the ingest rules), selections become codings per user (coder = user
name) kept as character spans and mapped to every turn they overlap, codes become a codebook (a code's
parent is its theme), cases and variables become participants and attributes. Parts vbhc-code has no use
for (PDF, pictures, audio, video, notes, links, graphs) are counted in the report and skipped. Everything
is read and checked first; the store is then written in one transaction.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from lxml import etree

from vbhc_code.errors import DataError, ValidationError
from vbhc_code.files.archive import MAX_TEXT_BYTES
from vbhc_code.models import DOC_TYPES, Codebook, Coding, Document, Participant, Turn, covered_spans, frozen_mapping
from vbhc_code.refi.codebook import codebook_from_refi
from vbhc_code.refi.format import DOC_TYPE_VARIABLE, FORMAT_VARIABLE, LANGUAGE_VARIABLE, coded_set_guid, make_guid
from vbhc_code.refi.guids import resolve_duplicate_guids
from vbhc_code.refi.read import RefiFile, decode_text, gkey, kid, kids, local, open_refi, resolve_source, text_of
from vbhc_code.store.store import Store

_UNSUPPORTED = {
    "PDFSource": "PDF sources", "PictureSource": "picture sources", "AudioSource": "audio sources",
    "VideoSource": "video sources", "Notes": "notes (memos)", "Links": "links", "Graphs": "graphs",
}


@dataclass
class ImportReport:
    path: Path
    kind: str  # project | codebook
    origin: str = ""
    sources_declared: int = 0  # TextSource elements in the file
    sources: int = 0  # documents imported (new or already identical in the store)
    codes: int = 0
    themes: int = 0
    users: int = 0  # User elements in the file
    coders: list[str] = field(default_factory=list)  # coders written (users with codings or coded sets)
    codings_declared: int = 0  # Coding elements on the text selections in the file
    codings: int = 0  # REFI Coding elements imported
    merged: int = 0  # turn codings identical to one already read for the same user (stored once)
    stored_codings: int = 0  # rows written (a selection over three turns is three rows)
    participants: int = 0
    codebook: str = ""
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _users(refi: RefiFile) -> dict[str, str]:
    """User GUID key -> a unique coder name (the user's name; id or GUID when it has none)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for el in kids(kid(refi.root, "Users"), "User"):
        name = " ".join((el.get("name") or el.get("id") or el.get("guid") or "user").split())
        if name in taken:
            name = f"{name} ({el.get('id') or gkey(el.get('guid'))[:8]})"
        taken.add(name)
        out[gkey(el.get("guid"))] = name
    return out


def _variable_values(el: etree._Element, variables: dict[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for vv in kids(el, "VariableValue"):
        ref = kid(vv, "VariableRef")
        name = variables.get(gkey(ref.get("targetGUID") if ref is not None else None))
        value = next((c for c in kids(vv) if local(c) != "VariableRef"), None)
        if name and value is not None and (value.text or "").strip():
            values[name] = (value.text or "").strip()
    return values


def _participants(refi: RefiFile, variables: dict[str, str]) -> list[Participant]:
    out = []
    for case in kids(kid(refi.root, "Cases"), "Case"):
        pid = " ".join((case.get("name") or "").split())
        if not pid:
            continue
        desc = text_of(kid(case, "Description")).strip()
        aliases = tuple(a.strip() for a in desc[len("aliases:"):].split(";") if a.strip()) \
            if desc.startswith("aliases:") else ()
        out.append(Participant(pid, aliases, frozen_mapping(_variable_values(case, variables))))
    return out


def _normalise_newlines(text: str) -> tuple[str, list[int]]:
    """Text with CRLF as LF, and the sorted positions (in the original) of the CRs removed."""
    removed = [i for i in range(len(text) - 1) if text[i] == "\r" and text[i + 1] == "\n"]
    if not removed:
        return text, []
    return text.replace("\r\n", "\n"), removed


def _unshift(pos: int, removed: list[int]) -> int:
    import bisect

    return pos - bisect.bisect_left(removed, pos)


def _document(name: str, text: str, *, values: dict[str, str], encoding: str, sha: str,
              participants: list[Participant], warnings: list[str]) -> Document:
    from vbhc_code.ingest import folder as ingest
    from vbhc_code.ingest.transcripts import FORMATS
    from vbhc_code.nlp.segment import SUPPORTED_LANGUAGES

    attrs = dict(values)
    fmt = attrs.pop(FORMAT_VARIABLE, "")
    doc_type = attrs.pop(DOC_TYPE_VARIABLE, None)
    language = attrs.pop(LANGUAGE_VARIABLE, "en")
    if doc_type not in DOC_TYPES:
        doc_type = None
    if language not in SUPPORTED_LANGUAGES:
        warnings.append(f"{name}: language '{language}' is not supported; using en")
        language = "en"
    doc = ingest.document_from_text(
        name, text, fmt=fmt if fmt in FORMATS else "txt", encoding=encoding, sha256=sha, language=language,
        participants=participants, attributes=attrs, doc_type=doc_type,
    )
    return replace(doc, format=fmt or "qdpx")


def import_refi(store: Store, path: Path) -> ImportReport:
    """Import a .qdpx or .qdc into ``store``; see the module docstring. Returns what was read and skipped."""
    path = Path(path)
    with open_refi(path) as refi:
        report = ImportReport(path=path, kind=refi.kind, origin=refi.root.get("origin") or "")
        report.warnings.extend(f"{path.name}: {n}" for n in refi.notes)
        report.warnings.extend(resolve_duplicate_guids(refi))  # refuses ambiguous GUIDs (see refi/guids.py)
        codebook, code_ids, theme_only = codebook_from_refi(refi, report.warnings)
        report.codes, report.themes = len(codebook.codes), len(codebook.themes)
        if refi.kind == "codebook":
            if not codebook.codes:
                raise DataError(f"{path.name}: the codebook has no codable codes")
            codebook = replace(codebook, languages=("en",))  # a .qdc says nothing about languages
            store.set_study_codebook(codebook)  # saved; the default of every command given no --codebook
            report.codebook = f"{codebook.name} {codebook.version}".strip()
            return report
        _import_project(store, refi, report, codebook, code_ids, theme_only)
    return report


def _import_project(store: Store, refi: RefiFile, report: ImportReport, codebook: Codebook,
                    code_ids: dict[str, str], theme_only: set[str]) -> None:
    root = refi.root
    label = refi.path.name
    users = _users(refi)
    report.users = len(users)
    variables = {gkey(v.get("guid")): v.get("name") or "" for v in kids(kid(root, "Variables"), "Variable")}
    imported_people = _participants(refi, variables)
    people = dict(store.participants())
    people.update({p.participant_id: p for p in imported_people})
    report.participants = len(imported_people)

    sources_el = kid(root, "Sources")
    for tag, what in _UNSUPPORTED.items():
        n = len(kids(sources_el, tag)) if tag.endswith("Source") else len(kids(kid(root, tag)))
        if n:
            report.skipped.append(f"{what}: {n} (not supported)")

    problems: list[str] = []
    docs: list[Document] = []
    by_source: dict[str, tuple[Document, list[int]]] = {}
    selections: list[tuple[etree._Element, str]] = []  # (selection element, source key)
    taken = set()
    existing = set(store.document_names())
    for src in kids(sources_el, "TextSource"):
        report.sources_declared += 1
        report.codings_declared += sum(len(kids(sel, "Coding")) for sel in kids(src, "PlainTextSelection"))
        where = f"{label}: {refi.where} line {src.sourceline}"
        if kids(src, "Coding"):
            report.skipped.append(f"[{where}] codings of a whole source: {len(kids(src, 'Coding'))} "
                                  "(only selections are imported)")
        raw = _source_text(refi, src, where, report)
        if raw is None:
            continue
        data, text, encoding = raw
        name = " ".join((src.get("name") or Path(src.get("plainTextPath") or "").name or src.get("guid")).split())
        base, i = name, 2
        while name in taken:
            name, i = f"{base} ({i})", i + 1
        taken.add(name)
        plain, removed = _normalise_newlines(text)
        try:
            doc = _document(name, plain, values=_variable_values(src, variables), encoding=encoding,
                            sha=hashlib.sha256(data).hexdigest(), participants=list(people.values()),
                            warnings=report.warnings)
        except DataError as exc:
            report.skipped.append(f"[{where}] {exc}")
            continue
        if name in existing:
            old = store.document(name, with_turns=True)
            if old.plain_text != doc.plain_text:
                problems.append(f"[{where}] document '{name}' is already in the store with a different text")
                continue
            doc = old
            report.warnings.append(f"{name}: already in the store with the same text; kept as it is")
        else:
            docs.append(doc)
        by_source[gkey(src.get("guid"))] = (doc, removed)
        report.sources += 1
        for sel in kids(src, "PlainTextSelection"):
            selections.append((sel, gkey(src.get("guid"))))
    if problems:
        raise ValidationError(f"{label}: {len(problems)} problem(s); nothing imported", problems)

    codings, counted = _codings(refi, selections, by_source, users, code_ids, theme_only, report)
    coded_sets = _coded_sets(refi, users, by_source)
    coders = sorted(set(codings) | set(coded_sets))
    report.coders = coders
    report.codings = counted
    known_coders = {c.name for c in store.coders()}
    for coder in coders:
        if coder in known_coders:
            report.warnings.append(f"coder '{coder}' was already in the store; their codings were replaced")
    languages = tuple(sorted({d.language for d, _ in by_source.values()})) or ("en",)
    codebook = replace(codebook, languages=languages)
    sets = kids(kid(root, "Sets"), "Set")
    ours = {gkey(make_guid("theme-set", t.id)) for t in codebook.themes} | {gkey(coded_set_guid(c)) for c in coded_sets}
    foreign_sets = [s for s in sets if gkey(s.get("guid")) not in ours]
    if foreign_sets:
        report.skipped.append(f"sets: {len(foreign_sets)} (membership lists are not imported)")
    with store.transaction():
        if root.get("name") and not store.get_meta("study_name"):
            store.set_meta("study_name", root.get("name"))
        if imported_people:
            store.save_participants(people.values())
        for doc in docs:
            store.save_document(doc)
        if codebook.codes:
            store.set_study_codebook(codebook)  # saved; the default of every command given no --codebook
        for coder in coders:
            rows = codings.get(coder, [])
            coded = coded_sets.get(coder) or {c.document for c in rows}
            report.stored_codings += store.replace_codings(
                coder, rows, coded_documents=coded, codebook=codebook if codebook.codes else None,
                source=f"refi:{label}",
            )
    report.codebook = f"{codebook.name} {codebook.version}".strip()


def _source_text(refi: RefiFile, src: etree._Element, where: str, report: ImportReport):
    """(bytes, text, encoding) of a TextSource, or None (reported) when it cannot be read."""
    content = kid(src, "PlainTextContent")
    if content is not None:
        text = content.text or ""
        if len(text) > MAX_TEXT_BYTES:
            raise DataError(f"{where}: PlainTextContent of {len(text):,} characters; larger than any source text "
                            f"this tool reads (limit {MAX_TEXT_BYTES >> 20} MiB); refused")
        return text.encode("utf-8"), text, "utf-8"
    value = src.get("plainTextPath")
    if not value:
        report.skipped.append(f"[{where}] text source without plain text")
        return None
    found = resolve_source(refi, value)
    if found.member is None or refi.archive is None:
        report.skipped.append(f"[{where}] source text missing: {found.problem}")
        return None
    if found.problem:
        report.warnings.append(f"[{where}] {found.problem}")
    data = refi.archive.read(found.member, limit=MAX_TEXT_BYTES, what="source text")
    text, encoding, is_utf8 = decode_text(data)
    if not is_utf8:
        report.warnings.append(f"[{found.member}] not UTF-8; decoded as {encoding}")
    if not text.strip():
        report.warnings.append(f"[{where}] source text is empty")
    return data, text, encoding


def _codings(refi, selections, by_source, users, code_ids, theme_only, report):
    """Codings per coder from the selections of imported sources; problems become skips, not crashes."""
    label = refi.path.name
    fallback_user = gkey(refi.root.get("creatingUserGUID"))
    out: dict[str, dict[tuple, Coding]] = defaultdict(dict)
    counted = 0
    issues: dict[str, int] = defaultdict(int)
    turn_index: dict[str, tuple[list, list[int]]] = {}
    multi: dict[tuple[str, int], Turn] = {}  # turns seen, to rejoin per-cue selections (below)
    for sel, src_key in selections:
        doc, removed = by_source[src_key]
        where = f"{label}: {refi.where} line {sel.sourceline}"
        try:
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
        except (TypeError, ValueError):
            issues["selections without valid positions"] += 1
            continue
        start, end = _unshift(start, removed), _unshift(end, removed)
        if not 0 <= start < end <= len(doc.plain_text):
            report.skipped.append(f"[{where}] selection {sel.get('startPosition')}-{sel.get('endPosition')} "
                                  f"is outside its source ({len(doc.plain_text)} characters)")
            continue
        if doc.name not in turn_index:
            turn_index[doc.name] = _turn_index(doc)
        turns = _overlapping(turn_index[doc.name], start, end)
        if not turns:
            issues["selections outside every speaker turn"] += 1
            continue
        for coding_el in kids(sel, "Coding"):
            ref = kid(coding_el, "CodeRef")
            key = gkey(ref.get("targetGUID")) if ref is not None else ""
            code = code_ids.get(key)
            if code is None:
                issues["codings of a non-codable or unknown code" if key in theme_only or key else
                       "codings without a code"] += 1
                continue
            user_key = gkey(coding_el.get("creatingUser") or sel.get("creatingUser")) or fallback_user
            coder = users.get(user_key) or (f"user {user_key[:8]}" if user_key else "refi")
            counted += 1
            for t in turns:
                multi[(doc.name, t.turn_index)] = t
                s, e = max(start, t.start), min(end, t.end)
                span = (None, None) if (s, e) == (t.start, t.end) else (s, e)
                report.merged += (doc.name, t.turn_index, code, *span) in out[coder]
                out[coder][(doc.name, t.turn_index, code, *span)] = Coding(doc.name, t.turn_index, code, coder, *span)
    for what, n in sorted(issues.items()):
        report.skipped.append(f"{n} {what}")
    return {coder: _whole_turns(list(rows.values()), multi) for coder, rows in out.items()}, counted


def _whole_turns(codings: list[Coding], turns: dict) -> list[Coding]:
    """Selections covering exactly every cue text of a merged caption turn (how our export writes a whole-turn
    coding, see ``models.covered_spans``) become one whole-turn coding again."""
    by_cell: dict[tuple, set] = defaultdict(set)
    for c in codings:
        by_cell[(c.document, c.turn_index, c.code)].add((c.start, c.end))
    whole = set()
    for (d, i, code), spans in by_cell.items():
        turn = turns.get((d, i))
        if turn is not None and not turn.is_single_span and spans == set(covered_spans(Coding(d, i, code, ""), turn)):
            whole.add((d, i, code))
    out = [c for c in codings if (c.document, c.turn_index, c.code) not in whole]
    coder = codings[0].coder if codings else ""
    out += [Coding(d, i, code, coder) for d, i, code in sorted(whole)]
    return out


def _turn_index(doc: Document) -> tuple[list, list[int]]:
    """Turns sorted by start and the running maximum of their ends (monotone even if turns interleave)."""
    ordered = sorted(doc.turns, key=lambda t: (t.start, t.turn_index))
    running, top = [], -1
    for t in ordered:
        top = max(top, t.end)
        running.append(top)
    return ordered, running


def _overlapping(index: tuple[list, list[int]], start: int, end: int) -> list:
    """Turns with a text span overlapping [start, end), in turn order."""
    ordered, running = index
    out = []
    for t in ordered[bisect.bisect_right(running, start):]:
        if t.start >= end:
            break
        if any(s < end and start < e for s, e in t.text_spans):
            out.append(t)
    return sorted(out, key=lambda t: t.turn_index)


def _coded_sets(refi: RefiFile, users: dict[str, str], by_source) -> dict[str, set[str]]:
    """Documents each coder coded, from our 'coded by NAME' sets (recognised by their GUID)."""
    out: dict[str, set[str]] = {}
    for s in kids(kid(refi.root, "Sets"), "Set"):
        name = s.get("name") or ""
        if not name.startswith("coded by "):
            continue
        coder = name[len("coded by "):]
        if gkey(s.get("guid")) != gkey(coded_set_guid(coder)) or coder not in users.values():
            continue
        docs = {by_source[k][0].name for m in kids(s, "MemberSource") if (k := gkey(m.get("targetGUID"))) in by_source}
        if docs:
            out[coder] = docs
    return out

