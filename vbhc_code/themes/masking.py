"""Quotes never publish an identifier: spans the identifier check flags are masked before a quote is written.

Every quote (Quotes sheet, Markdown, JSON, Word) is scanned with ``vbhc_code.ingest.identifiers`` (the same
rules as ``vbhc-code check-identifiers``); each finding not on the allow list is replaced by a typed
placeholder such as ``[e-mail]``, ``[phone]`` or ``[name]``. A warning names the document and turn (never the
text), and the Overview/Methods say how many quotes were masked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from vbhc_code.ingest.identifiers import find_identifiers
from vbhc_code.themes.quotes import Quote

__all__ = ["PLACEHOLDERS", "mask_quotes", "mask_text"]

PLACEHOLDERS = {"email": "[e-mail]", "url": "[url]", "phone": "[phone]", "bsn": "[BSN]", "postcode": "[postcode]",
                "name": "[name]"}


def mask_text(text: str, *, allow: Sequence[str] = ()) -> tuple[str, Counter]:
    """``text`` with every flagged span replaced by its placeholder, and the kinds masked."""
    findings = find_identifiers(text, allow=allow)
    kinds: Counter = Counter()
    for f in sorted(findings, key=lambda f: f.start, reverse=True):
        text = text[:f.start] + PLACEHOLDERS.get(f.kind, f"[{f.kind}]") + text[f.end:]
        kinds[f.kind] += 1
    return text, kinds


def mask_quotes(quotes: Iterable[Quote], *, allow: Sequence[str] = (), warnings: list[str]) -> tuple[list[Quote], int]:
    """(quotes with identifiers masked, how many quotes were masked); one warning per masked quote."""
    out: list[Quote] = []
    masked = 0
    allow = list(allow)
    for q in quotes:
        text, kinds = mask_text(q.text, allow=allow)
        if kinds:
            masked += 1
            what = ", ".join(f"{n} {PLACEHOLDERS.get(k, k)}" for k, n in sorted(kinds.items()))
            warnings.append(f"quote of {q.code} from {q.document} #{q.turn_index}: possible identifiers masked "
                            f"({what}); check the transcript with 'vbhc-code check-identifiers'")
            q = replace(q, text=text)  # ``core`` stays the turn's own words: it locates the quote, never printed
        out.append(q)
    return out, masked
