"""Duplicate GUIDs in a REFI-QDA file, and the one rule that keeps them from misattributing codings.

Codings reach their document, code and coder through GUIDs (the selection's source, ``CodeRef``,
``creatingUser``). Two elements of one kind sharing a GUID make that link ambiguous, so, before anything is
read:

- **identical repeats** (the same element written twice, children included) are read once: the first in
  document order is kept, each repeat gives a located warning;
- **different elements of one referenced kind** (two ``TextSource``, ``Code``, ``User``, ``Variable`` or ``Case``
  elements, or any two sources) sharing a GUID are refused: a located error per GUID names the kind, the GUID
  and the lines, and nothing is imported;
- a GUID shared by elements of **different kinds**, or by selections (ATLAS.ti writes a PDF selection and the
  text selection of its representation with one GUID), is harmless: nothing is looked up by it across kinds,
  and selection GUIDs are never looked up. It is imported; ``refi check`` still reports it.
"""

from __future__ import annotations

from collections import defaultdict

from lxml import etree

from vbhc_code.errors import ValidationError
from vbhc_code.refi.read import RefiFile, gkey, local

_SOURCES = ("TextSource", "PDFSource", "PictureSource", "AudioSource", "VideoSource")
REFERENCED = ("Code", "User", "Variable", "Case", *_SOURCES)  # kinds whose GUID attributes codings


def _kind(name: str) -> str | None:
    if name in _SOURCES:
        return "source"
    return name if name in REFERENCED else None


def resolve_duplicate_guids(refi: RefiFile) -> list[str]:
    """Apply the rule above to ``refi``'s tree (identical repeats are detached); the warnings, or a
    ``ValidationError`` listing every ambiguous GUID."""
    groups: dict[tuple[str, str], list[etree._Element]] = defaultdict(list)
    for el in refi.root.iter():
        if not isinstance(el.tag, str) or not el.get("guid"):
            continue
        kind = _kind(local(el))
        if kind is not None:
            groups[(kind, gkey(el.get("guid")))].append(el)
    warnings: list[str] = []
    problems: list[str] = []
    label = refi.path.name
    # Outermost first: a repeated code detaches its repeated children with it.
    for (_, _), els in sorted(groups.items(), key=lambda kv: min(_depth(e) for e in kv[1])):
        els = [e for e in els if e.getroottree().getroot() is refi.root]
        if len(els) < 2:
            continue
        first, kinds = els[0], " and ".join(sorted({local(e) for e in els}))
        lines = ", ".join(str(e.sourceline) for e in els)
        where = f"{label}: {refi.where} line {els[1].sourceline}"
        if all(_same(first, e) for e in els[1:]):
            for e in els[1:]:
                parent = e.getparent()
                if parent is not None:
                    parent.remove(e)
            warnings.append(f"[{where}] {kinds} GUID {first.get('guid')} is repeated identically (lines {lines}); "
                            "read once (the first)")
        else:
            problems.append(f"[{where}] {len(els)} different {kinds} elements share GUID {first.get('guid')} "
                            f"(lines {lines}); their codings could go to the wrong one")
    if problems:
        raise ValidationError(f"{label}: {len(problems)} ambiguous GUID(s); nothing imported (make each GUID "
                              "unique in the program that wrote the file)", problems)
    return warnings


def _depth(el: etree._Element) -> int:
    return sum(1 for _ in el.iterancestors())


def _same(a: etree._Element, b: etree._Element) -> bool:
    return _canonical(a) == _canonical(b)


def _canonical(el: etree._Element) -> bytes:
    tail, el.tail = el.tail, None
    try:
        return etree.tostring(el, method="c14n")
    finally:
        el.tail = tail
