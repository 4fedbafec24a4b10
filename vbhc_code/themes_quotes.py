"""Representative quote selection for ``vbhc-code themes``.

Rules (also printed in the Methods sheet and ``--help``): deterministic; quotes come from turns
coded with the code; turns where the code is the main point come first (fewer other codes, then
evidence present, then document order); a quote is a run of whole sentences of 15-80 words, with
``...`` marking text cut before or after, the words never otherwise changed; quotes are spread over
participants and ``--by`` groups (no participant twice for a code until all candidates are used).
"""

from __future__ import annotations

import csv
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vbhc_code.errors import DataError, UsageError
from vbhc_code.models import Participant, Turn

MIN_WORDS, MAX_WORDS = 15, 80
QUOTE_RULES = (
    "Quotes were selected deterministically from turns coded with the code. Turns where the code is the "
    "main point came first (fewest other codes, then turns with coding evidence, then document order). Each "
    f"quote is a run of whole sentences of {MIN_WORDS}-{MAX_WORDS} words (a single longer sentence is kept "
    "whole); '...' marks text cut before or after it and the words are never otherwise changed. Quotes were "
    "spread over participants and groups: no participant is quoted twice for a code until every candidate "
    "participant has been quoted. Quotes pinned by the researcher come first; excluded turns are never used."
)
DEFAULT_ATTRIBUTION = "{participant_id}, {group_label}, {document_type}"
PLACEHOLDERS = ("participant_id", "group", "group_label", "document", "document_type", "turn_index", "speaker")
DOC_TYPE_LABELS = {"focus_group": "focus group", "interview": "interview"}
_WORD = re.compile(r"\w+(?:['’-]\w+)*")


@dataclass(frozen=True)
class Quote:
    code: str
    document: str
    turn_index: int
    participant_id: str
    start: int  # document offsets of the quoted words (without the ... marks)
    end: int
    text: str  # with ... marks
    core: str  # without ... marks; a substring of the turn text and plain_text[start:end]
    attribution: str
    group: str
    pinned: bool = False


def check_attribution(fmt: str) -> None:
    """Raise UsageError for an unknown placeholder in an ``--attribution`` format."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(fmt) if f is not None]
    except ValueError as exc:
        raise UsageError(f"--attribution: malformed format ({exc})") from None
    for name in fields:
        if name not in PLACEHOLDERS:
            raise UsageError(
                f"--attribution: unknown placeholder {{{name}}}; use " + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            )


def group_label(participant: Participant | None, by: str | None) -> str:
    """The participant's ``group_label`` attribute, else e.g. ``expert in SIM`` from its group."""
    if participant is None:
        return ""
    attrs = participant.attributes
    if attrs.get("group_label"):
        return str(attrs["group_label"])
    value = attrs.get(by or "group") or attrs.get("group")
    return f"expert in {value}" if value not in (None, "") else ""


def attribution(fmt: str, turn: Turn, participant: Participant | None, doc_type: str, by: str | None) -> str:
    """Format an attribution, dropping empty parts (``P8, , interview`` -> ``P8, interview``)."""
    values = {
        "participant_id": turn.participant_id or turn.speaker or "",
        "group": str((participant.attributes.get(by or "group", "") if participant else "") or ""),
        "group_label": group_label(participant, by),
        "document": turn.document,
        "document_type": DOC_TYPE_LABELS.get(doc_type, doc_type.replace("_", " ")),
        "turn_index": turn.turn_index,
        "speaker": turn.speaker or "",
    }
    text = fmt.format(**values)
    text = re.sub(r"(?:,\s*){2,}", ", ", text)
    return text.strip().strip(",").strip()


def _span_map(turn: Turn, plain: str) -> list[tuple[int, int, int]]:
    """(doc_start, doc_end, text_start) for each span whose text appears verbatim in ``turn.text``."""
    spans = turn.spans or ((turn.start, turn.end),)
    out, cursor = [], 0
    for s, e in spans:
        piece = plain[s:e]
        pos = turn.text.find(piece, cursor)
        if piece and pos >= 0:
            out.append((s, e, pos))
            cursor = pos + len(piece)
    return out


def trim(turn: Turn, plain: str, focus: int | None = None) -> tuple[int, int, str, bool, bool] | None:
    """The quote window of a turn: (doc_start, doc_end, core_text, cut_before, cut_after).

    Whole sentences inside one span (so the quoted words are the same in the turn text and the
    document); the window holding ``focus`` (an evidence offset) is preferred.
    """
    runs: list[list[tuple[int, int, int, int]]] = []  # per span: sentences as (ds, de, ts, te)
    for s, e, tpos in _span_map(turn, plain):
        sents = [(a, b) for a, b in turn.sentences if a >= s and b <= e and plain[a:b].strip()] or [(s, e)]
        run = []
        for a, b in sents:
            # strip surrounding whitespace so the quote starts and ends on words
            while a < b and plain[a].isspace():
                a += 1
            while b > a and plain[b - 1].isspace():
                b -= 1
            if a < b:
                run.append((a, b, tpos + a - s, tpos + b - s))
        if run:
            runs.append(run)
    if not runs:
        return None
    options = []
    for r, run in enumerate(runs):
        words = [len(_WORD.findall(plain[a:b])) for a, b, _, _ in run]
        for i in range(len(run)):
            total, j = 0, i
            while j < len(run) and total < MIN_WORDS:
                total += words[j]
                j += 1
            if total > MAX_WORDS and j - i > 1:
                continue
            options.append((r, i, j - 1, total))
    if not options:
        return None
    full = [o for o in options if o[3] >= MIN_WORDS] or options
    chosen = full[0]
    if focus is not None:
        for o in full:
            run = runs[o[0]]
            if run[o[1]][0] <= focus < run[o[2]][1]:
                chosen = o
                break
    r, i, j, _ = chosen
    run = runs[r]
    ds, de, ts, te = run[i][0], run[j][1], run[i][2], run[j][3]
    core = turn.text[ts:te]
    return ds, de, core, bool(turn.text[:ts].strip()), bool(turn.text[te:].strip())


def read_turn_list(path: Path, what: str) -> list[tuple[str, int, str]]:
    """A --pin/--exclude CSV: columns document, turn_index[, code]; located errors."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise DataError(f"{path}: cannot read {what} file ({exc.strerror or exc})") from None
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    if header[:2] != ["document", "turn_index"]:
        raise DataError(f"{path.name} line 1: expected columns document, turn_index[, code]")
    out = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        try:
            index = int(row[1])
        except (IndexError, ValueError):
            raise DataError(f"{path.name} line {n}: turn_index must be a whole number") from None
        code = row[2].strip() if len(row) > 2 else ""
        out.append((row[0].strip(), index, code))
    return out


def select_quotes(
    code: str,
    candidates: Sequence[tuple[Turn, int, bool, int | None]],
    *,
    n: int,
    make: callable,
    group_of: Mapping[str, str],
    pinned: set[tuple[str, int]],
) -> list[Quote]:
    """Pick ``n`` quotes for ``code`` from (turn, other_codes, has_evidence, focus) candidates."""
    ranked = sorted(
        candidates,
        key=lambda c: ((c[0].document, c[0].turn_index) not in pinned, c[1], not c[2], c[0].document,
                       c[0].turn_index),
    )
    quotes = [q for c in ranked if (c[0].document, c[0].turn_index) in pinned if (q := make(code, *c))]
    pool = [c for c in ranked if (c[0].document, c[0].turn_index) not in pinned]
    used_p = {q.participant_id for q in quotes}
    used_g = {q.group for q in quotes}
    while len(quotes) < n and pool:
        def who(c):
            return c[0].participant_id or c[0].speaker or ""
        fresh = [c for c in pool if who(c) not in used_p]
        if not fresh:
            used_p, used_g = set(), set()
            fresh = pool
        pick = next((c for c in fresh if group_of.get(who(c), "") not in used_g), None)
        if pick is None:  # every group has been quoted: start a new round of groups
            used_g = set()
            pick = fresh[0]
        pool.remove(pick)
        q = make(code, *pick)
        used_p.add(who(pick))
        used_g.add(group_of.get(who(pick), ""))
        if q is not None:
            quotes.append(q)
    return quotes
