"""Messages of long commands: warnings repeated for many documents folded into one line, summary lines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

FOLD_AT = 4  # the same message for this many documents or more becomes one line
SHOW = 3  # places named in a folded line


def _document_of(where: str, names: set[str]) -> str | None:
    """The document a warning's location names (``INT03.txt`` or ``INT03.txt line 41``), if any."""
    if where in names:
        return where
    head = where.rsplit(" line ", 1)[0]
    return head if head in names else None


def fold_warnings(warnings: Iterable[str], names: Iterable[str]) -> list[str]:
    """The same message for many documents as one line with the count and the first few places.

    ``INT01.txt: no speaker labels found`` for 143 documents becomes ``no speaker labels found (143 documents:
    INT01.txt, INT02.txt, INT03.txt and 140 more)``, in the place of the first. Messages not located at a
    document, and messages of fewer than ``FOLD_AT`` documents, stay as they are.
    """
    known = set(names)
    items: list[tuple[str, str | None]] = []  # (message or whole warning, place or None)
    places: dict[str, list[str]] = {}
    for warning in warnings:
        where, sep, message = warning.partition(": ")
        if sep and _document_of(where, known) is not None:
            items.append((message, where))
            places.setdefault(message, []).append(where)
        else:
            items.append((warning, None))
    out: list[str] = []
    folded: set[str] = set()
    for text, place in items:
        if place is None:
            out.append(text)
        elif len(places[text]) < FOLD_AT:
            out.append(f"{place}: {text}")
        elif text not in folded:
            folded.add(text)
            out.append(f"{text} ({_places(places[text])})")
    return out


def _places(places: list[str]) -> str:
    docs = len({p.rsplit(" line ", 1)[0] for p in places})
    what = f"{docs} documents" if docs == len(places) else f"{len(places)} places in {docs} documents"
    more = f" and {len(places) - SHOW} more" if len(places) > SHOW else ""
    return f"{what}: {', '.join(places[:SHOW])}{more}"


def identifier_warnings(findings: Mapping[str, Mapping[str, int]]) -> list[str]:
    """Per document, or folded into one line when many documents have possible identifiers."""
    hint = "run 'vbhc-code check-identifiers'"
    if len(findings) < FOLD_AT:
        return [f"{name}: possible identifiers ({_kinds(kinds)}); {hint}" for name, kinds in findings.items()]
    totals: dict[str, int] = {}
    for kinds in findings.values():
        for kind, n in kinds.items():
            totals[kind] = totals.get(kind, 0) + n
    return [f"possible identifiers ({_kinds(totals)}) in {_places(list(findings))}; {hint}"]


def _kinds(kinds: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))


def rate(words: int, seconds: float) -> str:
    return f"{words / seconds:,.0f} words/s" if seconds > 0 else "- words/s"
