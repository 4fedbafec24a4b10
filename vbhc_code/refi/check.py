"""``refi check``: a REFI-QDA file against its XSD and the standard's rules the XSD cannot express.

Every problem is one line ``[where] what``; ``where`` names the XML line or archive entry, never text.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from pathlib import Path

from lxml import etree

from vbhc_code.errors import DataError
from vbhc_code.files.archive import MAX_TEXT_BYTES, parse_xml
from vbhc_code.refi.read import RefiFile, decode_text, descendants, gkey, kid, kids, local, open_refi, resolve_source

_SOURCE_TAGS = ("TextSource", "PictureSource", "PDFSource", "AudioSource", "VideoSource")
_TEXT_HOLDERS = ("TextSource", "Note", "Representation", "TextDescription", "Transcript")
_USER_ATTRS = ("creatingUser", "modifyingUser", "creatingUserGUID", "modifyingUserGUID")
_REF_TARGETS = {
    "CodeRef": "code", "MemberCode": "code", "SourceRef": "source", "MemberSource": "source",
    "VariableRef": "variable", "NoteRef": "note", "MemberNote": "note", "SelectionRef": "selection",
}
_HEX3 = re.compile(r"^#[0-9A-Fa-f]{3}$")


@functools.cache
def _schema(kind: str) -> etree.XMLSchema:
    from vbhc_code.refi.schemas import schema_text

    return etree.XMLSchema(etree.fromstring(schema_text(kind).encode("utf-8")))


def _validate(tree: etree._ElementTree, kind: str, where: str) -> list[str]:
    schema = _schema(kind)
    if schema.validate(tree):
        return []
    return [f"[{where} line {e.line}] {e.message}" for e in schema.error_log]


def schema_errors(data: bytes, kind: str, *, where: str) -> list[str]:
    """XSD errors of XML bytes (kind 'project' or 'codebook'), each with its line number."""
    return _validate(parse_xml(data, where=where), kind, where)


def check_refi(path: Path) -> list[str]:
    """All problems of a .qdpx or .qdc: XSD errors with line numbers plus the standard's other rules."""
    path = Path(path)
    try:
        refi = open_refi(path)
    except DataError as exc:
        return [f"[{path.name}] {exc}"]
    with refi:
        problems = [f"[{path.name}] {note}" for note in refi.notes]
        problems += _validate(refi.tree, refi.kind, refi.where)
        try:
            problems += _rules(refi)
        except DataError as exc:  # a damaged source entry: reported like any refusal, the check stops there
            problems.append(f"[{path.name}] {exc}")
    return problems


def _at(refi: RefiFile, el: etree._Element) -> str:
    return f"{refi.where} line {el.sourceline}"


def _rules(refi: RefiFile) -> list[str]:
    problems: list[str] = []
    root = refi.root
    guids: dict[str, list[etree._Element]] = defaultdict(list)
    kinds: dict[str, set[str]] = defaultdict(set)
    codable: dict[str, bool] = {}
    for el in root.iter():
        if not isinstance(el.tag, str) or el.get("guid") is None:
            continue
        name = local(el)
        if refi.kind == "codebook" and name == "MemberCode":
            continue  # in a .qdc, MemberCode@guid is a reference, not a declaration
        key = gkey(el.get("guid"))
        guids[key].append(el)
        if name == "Code":
            kinds["code"].add(key)
            codable[key] = el.get("isCodable", "").strip() in ("true", "1")
        elif name == "User":
            kinds["user"].add(key)
        elif name in _SOURCE_TAGS:
            kinds["source"].add(key)
        elif name == "Variable":
            kinds["variable"].add(key)
        elif name == "Note":
            kinds["note"].add(key)
        elif name.endswith("Selection"):
            kinds["selection"].add(key)
    for els in guids.values():
        if len(els) > 1:
            lines = ", ".join(str(e.sourceline) for e in els)
            problems.append(f"[{_at(refi, els[1])}] GUID {els[0].get('guid')} is used by {len(els)} elements "
                            f"(lines {lines}); GUIDs must be unique")

    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        name = local(el)
        color = el.get("color")
        if color is not None and _HEX3.match(color.strip()):  # other malformed colours fail the XSD already
            problems.append(f"[{_at(refi, el)}] colour '{color}' is the short form; the standard writes #RRGGBB")
        for attr in _USER_ATTRS:
            value = el.get(attr)
            if value and gkey(value) not in kinds["user"]:
                problems.append(f"[{_at(refi, el)}] {attr} {value} is not the GUID of a User")
        if name in _REF_TARGETS:
            attr = "guid" if refi.kind == "codebook" and name == "MemberCode" else "targetGUID"
            value = el.get(attr)
            target = _REF_TARGETS[name]
            if value and gkey(value) not in kinds[target]:
                problems.append(f"[{_at(refi, el)}] {name} {attr} {value} does not point at an existing {target}")
            elif value and name == "CodeRef" and local(el.getparent()) == "Coding" and not codable.get(gkey(value)):
                problems.append(f"[{_at(refi, el)}] a coding uses code {value}, which is not codable (isCodable=false)")
        if name == "Set" and not kids(el, "MemberCode", "MemberSource", "MemberNote"):
            problems.append(f"[{_at(refi, el)}] Set '{el.get('name', '')}' is empty; the standard wants members")
        if name in _TEXT_HOLDERS:
            has_content = kid(el, "PlainTextContent") is not None
            has_path = el.get("plainTextPath") is not None
            if has_content and has_path:
                problems.append(f"[{_at(refi, el)}] {name} has both PlainTextContent and plainTextPath (one only)")
            elif name in ("TextSource", "Note") and not has_content and not has_path:
                problems.append(f"[{_at(refi, el)}] {name} has neither PlainTextContent nor plainTextPath")
    if refi.kind == "project":
        problems += _source_rules(refi)
    return problems


def _source_rules(refi: RefiFile) -> list[str]:
    problems: list[str] = []
    for el in refi.root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in ("plainTextPath", "richTextPath", "path"):
            value = el.get(attr)
            if value is None:
                continue
            found = resolve_source(refi, value)
            if found.problem and not found.external:
                problems.append(f"[{_at(refi, el)}] {attr} {found.problem}")
    for el in descendants(refi.root, "PlainTextSelection"):
        holder = el.getparent()
        length = _text_length(refi, holder)
        try:
            start, end = int(el.get("startPosition", "")), int(el.get("endPosition", ""))
        except ValueError:
            continue  # the schema check reports it
        if start < 0 or end < start:
            problems.append(f"[{_at(refi, el)}] selection {start}-{end} is not a valid range")
        elif length is not None and end > length:
            problems.append(f"[{_at(refi, el)}] selection {start}-{end} ends past the end of its source "
                            f"({length} characters)")
        elif start == end:
            problems.append(f"[{_at(refi, el)}] selection {start}-{end} is empty")
    for el in descendants(refi.root, "TextSource"):
        text = _source_text(refi, el.get("plainTextPath")) if el.get("plainTextPath") else None
        if el.get("richTextPath") and text is not None:
            if not text.strip():
                problems.append(f"[{_at(refi, el)}] plain text of source '{el.get('name', '')}' is empty although it "
                                "has a rich text file; the standard wants the document's text in plainTextPath")
    return problems + encoding_problems(refi)


def _text_length(refi: RefiFile, holder: etree._Element | None) -> int | None:
    """Characters (code points) in a text holder's plain text, None when it cannot be read."""
    if holder is None:
        return None
    content = kid(holder, "PlainTextContent")
    if content is not None:
        return len(content.text or "")
    value = holder.get("plainTextPath")
    if value is None or refi.archive is None:
        return None
    return _source_length(refi, value)


def _source_length(refi: RefiFile, value: str) -> int | None:
    text = _source_text(refi, value)
    return None if text is None else len(text)


def _source_text(refi: RefiFile, value: str) -> str | None:
    """The decoded text a plainTextPath points at (read once per file), None when it is not there."""
    cache = refi.__dict__.setdefault("_texts", {})
    if value not in cache:
        found = resolve_source(refi, value) if refi.archive is not None else None
        cache[value] = None
        if found is not None and found.member is not None and refi.archive is not None:
            cache[value] = decode_text(refi.archive.read(found.member, limit=MAX_TEXT_BYTES, what="source text"))[0]
    return cache[value]


def encoding_problems(refi: RefiFile) -> list[str]:
    """Text sources that are not UTF-8 (the standard requires UTF-8 plain text)."""
    problems = []
    seen: set[str] = set()
    for el in refi.root.iter():
        if not isinstance(el.tag, str) or el.get("plainTextPath") is None:
            continue
        found = resolve_source(refi, el.get("plainTextPath"))
        if found.member is None or found.member in seen or refi.archive is None:
            continue
        seen.add(found.member)
        _, encoding, is_utf8 = decode_text(refi.archive.read(found.member, limit=MAX_TEXT_BYTES, what="source text"))
        if not is_utf8:
            problems.append(f"[{found.member}] not UTF-8 (read as {encoding})")
    return problems
