"""Representative quote selection and attribution for ``vbhc-code themes``.

The rules are ``QUOTE_RULES`` (printed in the Methods sheet and ``--help``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vbhc_code.errors import DataError, UsageError, ValidationError, opt
from vbhc_code.models import Participant, Turn

MIN_WORDS, MAX_WORDS = 15, 60
QUOTE_RULES = (
    "Quotes were selected deterministically from turns coded with the code. Turns where the code is the "
    "main point came first (fewest other codes, then turns with coding evidence, then document order). A "
    f"turn of {MIN_WORDS}-{MAX_WORDS} words is quoted whole; a longer one is trimmed to the shortest run of whole "
    f"sentences reaching {MIN_WORDS} words, starting at the coded evidence when there is some, else at the first "
    "sentence with one of the code's codebook terms, else at the first sentence. A quote is at most "
    f"{MAX_WORDS} words: a longer sentence is cut at a clause boundary (a comma, semicolon, colon or dash, else "
    "before a conjunction), never inside a word. Caption line breaks read as spaces and sound or speaker "
    "descriptions in brackets or parentheses are left out. "
    "'...' marks text left out before, inside or after the quote and the words are "
    "never otherwise changed. Quotes were spread over participants and groups: no participant is quoted twice "
    "for a code until every candidate participant has been quoted, and participants from groups not yet quoted "
    f"come first. A turn under {MIN_WORDS} words is quoted whole, and only when no longer turn with the code is left. "
    "Quotes pinned by the researcher come first, in the pin file's order; excluded turns are never used."
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
    core: str  # without ... marks; a substring of the turn text (and plain_text[start:end] within one span)
    attribution: str
    group: str
    pinned: bool = False


def check_attribution(fmt: str) -> None:
    """Raise UsageError for an unknown placeholder or a malformed ``--attribution`` format."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(fmt) if f is not None]
    except ValueError as exc:
        raise UsageError(f"{opt('attribution')}: malformed format ({exc})") from None
    for name in fields:
        if name not in PLACEHOLDERS:
            raise UsageError(
                f"{opt('attribution')}: unknown placeholder {{{name}}}; use "
                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            )
    try:  # a bad format spec such as {turn_index:x} only fails when formatting
        fmt.format(**{**dict.fromkeys(PLACEHOLDERS, "x"), "turn_index": 1})
    except (ValueError, TypeError, IndexError) as exc:
        raise UsageError(f"{opt('attribution')}: malformed format ({exc})") from None


def group_label(participant: Participant | None, by: str | None) -> str:
    """How a participant's group is written in an attribution.

    The participants sheet's ``<by>_label`` column wins (``group_label`` for the default ``--by group``);
    else a ``group`` value reads ``expert in <group>`` (SIM -> ``expert in SIM``); else the raw value.
    """
    if participant is None:
        return ""
    attrs = participant.attributes
    attr = by or "group"
    if attrs.get(f"{attr}_label"):
        return str(attrs[f"{attr}_label"])
    value = attrs.get(attr)
    if value in (None, ""):
        return ""
    return f"expert in {value}" if attr == "group" else str(value)


def doc_type_label(doc_type: str) -> str:
    return DOC_TYPE_LABELS.get(doc_type, doc_type.replace("_", " "))


def attribution(fmt: str, turn: Turn, participant: Participant | None, doc_type: str, by: str | None,
                group: str = "", label: str | None = None) -> str:
    """Format an attribution, dropping empty parts (``P8, , interview`` -> ``P8, interview``).

    ``group``/``label`` override the participant's ``--by`` value and label (a document attribute).
    """
    values = {
        "participant_id": turn.participant_id or turn.speaker or "",
        "group": group or str((participant.attributes.get(by or "group", "") if participant else "") or ""),
        "group_label": label if label is not None else group_label(participant, by),
        "document": turn.document,
        "document_type": doc_type_label(doc_type),
        "turn_index": turn.turn_index,
        "speaker": turn.speaker or "",
    }
    try:
        text = fmt.format(**values)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{opt('attribution')}: malformed format ({exc})") from None
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


def text_offsets(turn: Turn, plain: str, doc_start: int, doc_end: int) -> tuple[int, int] | None:
    """Turn-text offsets of a window given by the document offsets of its first and last character."""
    spans = _span_map(turn, plain)
    a = next((tpos + doc_start - s for s, e, tpos in spans if s <= doc_start < e), None)
    b = next((tpos + doc_end - s for s, e, tpos in spans if s < doc_end <= e), None)
    return None if a is None or b is None or a >= b else (a, b)


def doc_offset(turn: Turn, plain: str, text_pos: int, *, end: bool = False) -> int | None:
    """The document offset of a turn-text offset (``end``: of the character before it, plus one)."""
    for s, e, tpos in _span_map(turn, plain):
        if tpos <= text_pos < tpos + (e - s) or end and tpos < text_pos <= tpos + (e - s):
            return s + text_pos - tpos
    return None


_END = re.compile(r"[.!?…][\"'”’)\]]*$")


def _sentences(turn: Turn, plain: str) -> list[tuple[int, int, int, int]]:
    """The turn's sentences as (doc_start, doc_end, text_start, text_end), whitespace-trimmed.

    Only text that appears verbatim in ``turn.text`` is used. A sentence cut by a cue or paragraph
    boundary (the piece before it lacks end punctuation) is joined with its continuation, so a quote
    never starts or ends mid-sentence at a WebVTT/SRT cue break.
    """
    out: list[tuple[int, int, int, int]] = []
    for s, e, tpos in _span_map(turn, plain):
        # a sentence running over cues is cut at each span and joined again below
        sents = [(max(a, s), min(b, e)) for a, b in turn.sentences if a < e and b > s] or [(s, e)]
        first = True
        for a, b in sents:
            while a < b and plain[a].isspace():
                a += 1
            while b > a and plain[b - 1].isspace():
                b -= 1
            if a >= b:
                continue
            item = (a, b, tpos + a - s, tpos + b - s)
            if first and out and not _END.search(turn.text[out[-1][2]:out[-1][3]]):
                prev = out.pop()
                item = (prev[0], b, prev[2], item[3])
            out.append(item)
            first = False
    return out


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def trim(turn: Turn, plain: str, focus: int | None = None) -> tuple[int, int, str, bool, bool] | None:
    """The quote window of a turn: (doc_start, doc_end, core_text, cut_before, cut_after).

    A turn of 15-60 words is quoted whole; otherwise the shortest run of whole sentences reaching 15
    words, starting at the sentence holding ``focus`` (an evidence offset) when there is one, else at the
    first sentence. ``core_text`` is a substring of ``turn.text``; ``doc_start``/``doc_end`` are the
    document offsets of its first and last character (for a single-span turn ``plain[doc_start:doc_end]``
    is ``core_text``; across cues the document also holds the cue timings in between).
    """
    sents = _sentences(turn, plain)
    if not sents:
        return None
    words = [word_count(turn.text[ts:te]) for _, _, ts, te in sents]
    if MIN_WORDS <= sum(words) <= MAX_WORDS:
        return _window(turn, sents, 0, len(sents) - 1)
    options = []  # (first sentence, last sentence, words)
    for i in range(len(sents)):
        total, j = 0, i
        while j < len(sents) and total < MIN_WORDS:
            total += words[j]
            j += 1
        if total > MAX_WORDS and j - i > 1:
            continue
        options.append((i, j - 1, total))
    if not options:
        return None
    full = [o for o in options if o[2] >= MIN_WORDS] or options
    chosen = full[0]
    if focus is not None:
        holding = [o for o in full if sents[o[0]][0] <= focus < sents[o[1]][1]]
        if holding:  # the latest start holding the focus puts the evidence first
            chosen = max(holding, key=lambda o: (o[0], -o[1]))
    return _window(turn, sents, chosen[0], chosen[1])


def _window(turn: Turn, sents: list[tuple[int, int, int, int]], i: int, j: int) -> tuple[int, int, str, bool, bool]:
    ds, de, ts, te = sents[i][0], sents[j][1], sents[i][2], sents[j][3]
    core = turn.text[ts:te]
    return ds, de, core, bool(turn.text[:ts].strip()), bool(turn.text[te:].strip())


def term_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    """A case-insensitive pattern for a code's codebook terms (common inflections allowed)."""
    parts = sorted({" ".join(t.split()) for t in terms if t and t.strip()}, key=len, reverse=True)
    if not parts:
        return None
    alts = "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in parts)
    return re.compile(rf"(?<!\w)(?:{alts})(?:s|es|ed|d|ing|en|n|e)?(?!\w)", re.IGNORECASE)


def term_focus(turn: Turn, plain: str, pattern: re.Pattern[str] | None) -> int | None:
    """Document offset of the first codebook term of the code in the turn's verbatim text, if any."""
    if pattern is None:
        return None
    for s, e, _ in _span_map(turn, plain):
        m = pattern.search(plain, s, e)
        if m:
            return m.start()
    return None


def exact_window(turn: Turn, plain: str, start: int, end: int) -> tuple[int, int, str, bool, bool] | None:
    """A pinned quote's own window (document offsets of its first and last character), when both ends
    lie in verbatim spans of the turn."""
    spans = _span_map(turn, plain)
    a = next((tpos + start - s for s, e, tpos in spans if s <= start < e), None)
    b = next((tpos + end - s for s, e, tpos in spans if s < end <= e), None)
    if a is None or b is None or a >= b:
        return None
    core = turn.text[a:b]
    lead, trail = len(core) - len(core.lstrip()), len(core) - len(core.rstrip())
    core = core.strip()
    if not core:
        return None
    a, b = a + lead, b - trail
    return start + lead, end - trail, core, bool(turn.text[:a].strip()), bool(turn.text[b:].strip())


@dataclass(frozen=True)
class TurnRef:
    """A row of a --pin/--exclude file."""

    document: str
    turn_index: int
    code: str = ""  # empty: every code the turn carries
    start: int | None = None  # a pinned quote's exact document offsets (from the Quotes sheet)
    end: int | None = None
    where: str = ""


def read_turn_list(path: Path, what: str) -> list[TurnRef]:
    """A --pin/--exclude file: CSV or XLSX (its Quotes sheet if it has one) with columns document,
    turn_index and optionally code, start, end (any order, other columns ignored: a copy of the
    themes workbook's Quotes sheet works). Every bad row is reported at once, located."""
    from vbhc_code.files.sheets import read_rows

    path = Path(path)
    header, rows = read_rows(path, sheet="Quotes")
    missing = [c for c in ("document", "turn_index") if c not in header]
    if missing:
        raise DataError(
            f"{path.name}: --{what} file needs columns document, turn_index[, code, start, end]"
            f" (missing: {', '.join(missing)})"
        )
    out, problems = [], []
    for row in rows:
        v = row.values
        nums: dict[str, int | None] = {}
        for key in ("turn_index", "start", "end"):
            raw = v.get(key, "")
            if raw == "" and key != "turn_index":
                nums[key] = None
                continue
            try:
                nums[key] = int(raw)
            except ValueError:
                problems.append(f"[{row.where}] {key} must be a whole number")
                nums = {}
                break
        if not nums:
            continue
        if not v.get("document"):
            problems.append(f"[{row.where}] empty document")
            continue
        turn_index, start, end = nums["turn_index"], nums["start"], nums["end"]
        assert turn_index is not None  # only start and end may be left empty
        if (start is None) != (end is None) or (start is not None and end is not None and start >= end):
            problems.append(f"[{row.where}] start and end must both be given, start < end")
            continue
        out.append(TurnRef(v["document"], turn_index, v.get("code", ""), start, end, row.where))
    if problems:
        raise ValidationError(f"{path.name}: {len(problems)} problem(s) in the --{what} file", problems)
    return out


@dataclass(frozen=True)
class Candidate:
    turn: Turn
    other_codes: int  # codes besides this one on the turn
    evidence: bool  # a coded span or an evidence note for this code
    focus: int | None  # document offset of the evidence, when known
    group: str  # the turn's --by value

    @property
    def who(self) -> str:
        return self.turn.participant_id or self.turn.speaker or ""

    @property
    def key(self) -> tuple[str, int]:
        return (self.turn.document, self.turn.turn_index)


def rank(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Main point first: fewest other codes, then evidence present, then document order."""
    return sorted(candidates, key=lambda c: (c.other_codes, not c.evidence, c.turn.document, c.turn.turn_index))


def too_short(candidate: Candidate) -> bool:
    """A turn under MIN_WORDS words cannot give a 15-60 word quote: it is a last resort."""
    return word_count(candidate.turn.text) < MIN_WORDS


def select_quotes(
    candidates: Sequence[Candidate],
    *,
    n: int,
    make: Callable[[Candidate], Quote | None],
    pinned: Sequence[Quote] = (),
) -> list[Quote]:
    """``pinned`` quotes, then up to ``n`` in all from ``candidates`` (already without pinned/excluded turns).

    Spread: a participant is quoted again only when every candidate participant has been quoted; within
    that, a participant from a group not yet quoted comes first. Turns under 15 words are used only when
    no longer candidate is left.
    """
    quotes = list(pinned)
    pool = rank(candidates)
    short = {c.key for c in pool if too_short(c)}
    used_p = {q.participant_id for q in quotes}
    used_g = {q.group for q in quotes}
    while len(quotes) < n and pool:
        active = [c for c in pool if c.key not in short] or pool  # short turns once no longer one is left
        fresh = [c for c in active if c.who not in used_p]
        if not fresh:  # every candidate participant has been quoted: start a new round
            used_p, used_g = set(), set()
            fresh = active
        pick = next((c for c in fresh if c.group not in used_g), None)
        if pick is None:  # every group has been quoted in this round: a new round of groups
            used_g = set()
            pick = fresh[0]
        pool.remove(pick)
        used_p.add(pick.who)
        used_g.add(pick.group)
        q = make(pick)
        if q is not None:
            quotes.append(q)
    return quotes
