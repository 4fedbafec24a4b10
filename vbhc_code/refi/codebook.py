"""Reading the codebook of a REFI-QDA file: the code tree as themes and codes.

A code's parent becomes its theme; a code with children is both a code and a theme; a non-codable code
is a theme only. Our own codes and themes are recognised by their uuid5 GUIDs (see ``refi_format``), so
their ids, labels and include/exclude rules come back exactly. ATLAS.ti's flat ``Parent::child`` names
are read as a hierarchy when the parent exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from vbhc_code.models import Code, Codebook, Theme
from vbhc_code.refi.format import code_guid, parse_code_description, split_display_name, theme_guid
from vbhc_code.refi.read import RefiFile, gkey, kid, kids, open_refi, text_of

UNGROUPED = Theme("ungrouped", "ungrouped", "Top-level codes without a parent code in the imported file.")


@dataclass
class _CodeNode:
    key: str
    el: etree._Element
    name: str
    parent: _CodeNode | None
    codable: bool
    children: list[_CodeNode] = field(default_factory=list)
    ours: tuple[str, str] | None = None  # (id, label) when the GUID proves the code is ours
    ours_theme: tuple[str, str] | None = None
    id: str = ""


def read_refi_codebook(path: Path) -> Codebook:
    """The codebook of a .qdc or .qdpx file (hierarchy kept: a code's parent becomes its theme)."""
    from vbhc_code.refi.guids import resolve_duplicate_guids

    with open_refi(Path(path)) as refi:
        resolve_duplicate_guids(refi)
        codebook, _, _ = codebook_from_refi(refi, [])
    return codebook


def codebook_from_refi(refi: RefiFile, warnings: list[str]) -> tuple[Codebook, dict[str, str], set[str]]:
    """(codebook, code GUID key -> code id, GUID keys of codes that are themes only)."""
    root = refi.root
    codes_el = kid(root, "Codes") if refi.kind == "codebook" else kid(kid(root, "CodeBook"), "Codes")
    nodes: list[_CodeNode] = []

    def walk(el: etree._Element, parent: _CodeNode | None) -> None:
        key = gkey(el.get("guid"))
        name = " ".join((el.get("name") or el.get("guid") or "").split())
        node = _CodeNode(key, el, name, parent, el.get("isCodable", "true").strip() in ("true", "1"))
        node.ours = split_display_name(name, key, code_guid)
        node.ours_theme = split_display_name(name, key, theme_guid)
        nodes.append(node)
        if parent is not None:
            parent.children.append(node)
        for child in kids(el, "Code"):
            walk(child, node)

    for el in kids(codes_el, "Code"):
        walk(el, None)
    # '::' in ATLAS.ti code names is its flat notation for a hierarchy ("Coke::diet Coke").
    top_by_name = {n.name: n for n in nodes if n.parent is None}
    for n in nodes:
        if n.parent is None and "::" in n.name and n.name.rsplit("::", 1)[0] in top_by_name:
            n.parent = top_by_name[n.name.rsplit("::", 1)[0]]
            n.parent.children.append(n)
    # Theme ids and code ids are separate namespaces; a code with children takes its id in both.
    used: dict[str, set[str]] = {"theme": set(), "code": set()}
    for n in nodes:
        spaces = ["theme"] if (n.ours_theme or not n.codable) else ["code", "theme"] if n.children else ["code"]

        def taken(c: str, spaces: list[str] = spaces) -> bool:
            return any(c in used[s] for s in spaces)

        candidate = (n.ours or n.ours_theme or (n.name, ""))[0] or n.key
        if taken(candidate) and n.parent is not None and n.parent.id:
            candidate = f"{n.parent.id}/{n.name}"
        base, i = candidate, 2
        while taken(candidate):
            candidate, i = f"{base} ({i})", i + 1
        n.id = candidate
        for s in spaces:
            used[s].add(candidate)

    themes: list[Theme] = []
    codes: list[Code] = []
    code_ids: dict[str, str] = {}
    theme_only: set[str] = set()
    for n in nodes:
        desc = text_of(kid(n.el, "Description"))
        is_theme = bool(n.ours_theme) or not n.codable or bool(n.children)
        if is_theme:
            label = n.ours_theme[1] if n.ours_theme else n.name
            themes.append(Theme(n.id, label, desc.strip() if (n.ours_theme or not n.codable) else ""))
        if n.codable and not n.ours_theme:
            theme = n.parent.id if n.parent is not None else UNGROUPED.id
            # our export names a code "ID title" and keeps its label in the description; another tool's
            # code name is already what a reader should see, so it is both label and title
            title = n.ours[1] if n.ours else n.name
            parts = parse_code_description(desc)
            label = parts["label"] or title
            codes.append(Code(n.id, theme, label, definition=parts["definition"], include=parts["include"],
                              exclude=parts["exclude"], examples=parts["examples"],
                              color=_color(n.el.get("color")), title=title))
            code_ids[n.key] = n.id
        else:
            theme_only.add(n.key)
    if any(c.theme == UNGROUPED.id for c in codes) and UNGROUPED.id not in {t.id for t in themes}:
        themes.append(UNGROUPED)
    name, version = _codebook_identity(refi)
    book = Codebook(name=name, version=version, languages=(), themes=tuple(themes), codes=tuple(codes),
                    description=f"Imported from {refi.path.name}" + (f" ({refi.root.get('origin')})"
                                                                     if refi.root.get("origin") else ""),
                    source=refi.path.name)
    return book, code_ids, theme_only


def _codebook_identity(refi: RefiFile) -> tuple[str, str]:
    from vbhc_code.refi.export import CODEBOOK_NAME_LINE, CODEBOOK_VERSION_LINE

    desc = text_of(kid(refi.root, "Description")) if refi.kind == "project" else ""
    name = version = None
    for line in desc.splitlines():
        if line.startswith(CODEBOOK_NAME_LINE):
            name = line[len(CODEBOOK_NAME_LINE):]
        elif line.startswith(CODEBOOK_VERSION_LINE):
            version = line[len(CODEBOOK_VERSION_LINE):]
    if name:
        return name, version or ""
    return (refi.root.get("name") or refi.path.stem), "refi-import"


def _color(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
        return value.upper()
    if re.fullmatch(r"#[0-9A-Fa-f]{3}", value):
        return "#" + "".join(ch * 2 for ch in value[1:]).upper()
    return None
