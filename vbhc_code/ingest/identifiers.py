"""Residual identifiers in "anonymised" transcripts: e-mail, URLs, phone numbers, Dutch postcodes,
BSN-like numbers (11-test) and titled personal names.

Precision first: a report full of false alarms gets ignored, so each pattern demands the shape of a real
identifier (a Dutch number has 10 digits starting with 0, a BSN passes the 11-test, a name follows a title
and is capitalised) and known non-identifiers can be allowed.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from vbhc_code.models import IdentifierFinding, Turn

KINDS = ("email", "url", "phone", "bsn", "postcode", "name")


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    text: str


_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)
_URL = re.compile(r"(?<![\w@])(?:https?://|www\.)[^\s<>\"'()\[\]]+", re.IGNORECASE)
_SEP = r"[ \t.\-/]?"
# Dutch national numbers: 10 digits starting with 0 (06-12345678, 020 123 4567, 0512-123456, (020) 1234567).
_NL_PHONE = re.compile(
    rf"(?<![\w+/.,-])(?:\(0\d{{1,3}}\)[ \t]?|0)(?:{_SEP}\d){{9}}(?![\w/])"
    rf"|(?<![\w+/.,-])\(0\d{{2,3}}\)[ \t]?\d(?:{_SEP}\d){{5,6}}(?![\w/])"
)
# International: +31 6 12345678, +31 (0)20 123 4567, 0031 20 1234567, +44 20 7946 0958.
_INTL_PHONE = re.compile(r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}[ \t.-]?(?:\(0\)[ \t.-]?)?\d(?:[ \t.-]?\d){6,11}(?![\w])")
_POSTCODE = re.compile(r"([1-9]\d{3})( ?)([A-Z]{2})(?![\w-])")
_BSN = re.compile(r"(?<![\w.,€$-])(\d{3}[ .]?\d{2,3}[ .]?\d{3,4}|\d{4}\.\d{2}\.\d{3})(?![\w]|[.,]\d)")
_NOT_POSTCODE_LETTERS = frozenset(
    "SA SD SS IT EU NL UK US HR AI OK TV PC CT GP ME MS VS BV NV II IV VI XI ID IQ OR AD BC CE EN ER HP ICT KB MB GB "
    "PM AM UV VR AR DE EM".split()
)
_TITLES = (
    r"(?:Dr|dr|Drs|drs|Prof|prof|Mr|mr|Mrs|Ms|Mevr|mevr|Mevrouw|mevrouw|Meneer|meneer|Mw|mw|Dhr|dhr|Ir|ir|Ing|ing|"
    r"Miss|Sir|Dokter|dokter|Professor|professor|Madam|Juffrouw|juffrouw)"
)
_PARTICLE = r"(?:van|de|der|den|ter|ten|te|het|'t|von|du|le|la|da|di|op|in|'s)"
_NAME_TOKEN = (
    r"(?:[A-Z\u00c0-\u00de][a-z\u00df-\u00ff'\u2019-]+(?:-[A-Z\u00c0-\u00de][a-z\u00df-\u00ff']+)?|(?:[A-Z]\.){1,4})"
)
_TITLED = re.compile(
    rf"{_TITLES}\.?(?:[ \t]+{_TITLES}\.?)*[ \t]+(?:{_PARTICLE}[ \t]+)*{_NAME_TOKEN}"
    rf"(?:[ \t]+(?:{_PARTICLE}[ \t]+)*{_NAME_TOKEN}){{0,3}}"
)
# Runs of 7+ digits with separators: the only places a phone number or BSN can be.
_DIGIT_RUN = re.compile(r"\d(?:[ \t.()/-]{0,2}\d){6,}")
_CURRENCY_BEFORE = re.compile(r"(?:€|\$|£|eur|euro|EUR)\s*$", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(r"(?:,-|,\d\d)?\s*(?:€|(?:euros?|eur|dollars?|pond|pounds?|usd|gbp)\b)", re.IGNORECASE)


def _digit_windows(text: str) -> list[tuple[int, int]]:
    """Merged windows around digit runs (a few characters either side for '+', '00', '(' and look-arounds)."""
    windows: list[tuple[int, int]] = []
    for m in _DIGIT_RUN.finditer(text):
        w0, w1 = max(0, m.start() - 5), min(len(text), m.end() + 3)
        if windows and w0 <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], w1))
        else:
            windows.append((w0, w1))
    return windows


def _groups(number: str) -> int:
    """Digit groups of a written number: phone numbers come in at most 5 (06 12 34 56 78), while a list of
    scores ('0 1 2 3 4 5 6 7 8 9') or decimals ('0.25 0.50 0.75 1') has more."""
    return len(re.findall(r"\d+", number))


def bsn_11_test(digits: str) -> bool:
    """The Dutch 'elfproef' for a 9-digit BSN: sum(d_i * w_i) with weights 9..2, -1 is divisible by 11."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1)))
    return total % 11 == 0 and total != 0


def _strip_trailing_punct(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in ".,;:!?)]}'\"":
        end -= 1
    return end


def find_identifiers(text: str, *, allow: Iterable[str] = ()) -> list[Finding]:
    """Possible identifiers in ``text``, offsets relative to ``text``, sorted, non-overlapping."""
    candidates: list[Finding] = []
    if "@" in text:
        candidates += [Finding("email", m.start(), m.end(), m.group()) for m in _EMAIL.finditer(text)]
    if "://" in text or "www." in text or "WWW." in text or "Www." in text:
        for m in _URL.finditer(text):
            end = _strip_trailing_punct(text, m.start(), m.end())
            candidates.append(Finding("url", m.start(), end, text[m.start():end]))
    for w0, w1 in _digit_windows(text):
        for m in _INTL_PHONE.finditer(text, w0, w1):
            if _groups(m.group()) <= 6:
                candidates.append(Finding("phone", m.start(), m.end(), m.group()))
        for m in _NL_PHONE.finditer(text, w0, w1):
            digits = re.sub(r"\D", "", m.group())
            if len(digits) == 10 and digits[1] != "0" and _groups(m.group()) <= 5:
                candidates.append(Finding("phone", m.start(), m.end(), m.group()))
        for m in _BSN.finditer(text, w0, w1):
            digits = re.sub(r"\D", "", m.group())
            if (bsn_11_test(digits) and not _CURRENCY_BEFORE.search(text[max(0, m.start() - 5):m.start()])
                    and not _CURRENCY_AFTER.match(text, m.end(), m.end() + 12)):
                candidates.append(Finding("bsn", m.start(), m.end(), m.group()))
    for m in _POSTCODE.finditer(text):
        if m.start() and (text[m.start() - 1].isalnum() or text[m.start() - 1] in "_-"):
            continue
        number, space, letters = m.groups()
        if letters in _NOT_POSTCODE_LETTERS:
            continue
        if space and 1900 <= int(number) <= 2099:
            after = text[m.end():m.end() + 30]
            if not re.match(r"[ \t]*,?[ \t]*[A-Z][a-z]", after):
                continue  # "in 2024 GP practices": a year, not a postcode without a place name
        candidates.append(Finding("postcode", m.start(), m.end(), m.group()))
    for m in _TITLED.finditer(text):
        if m.start() and (text[m.start() - 1].isalnum() or text[m.start() - 1] in "_."):
            continue  # the leading look-behind, checked here: a regex starting with one cannot skip ahead fast
        name_end = _trim_name(text, m)
        if name_end is not None:
            candidates.append(Finding("name", m.start(), name_end, text[m.start():name_end]))
    allowed = [a.strip().lower() for a in allow if a.strip()]
    order = {k: i for i, k in enumerate(KINDS)}
    candidates.sort(key=lambda f: (order[f.kind], f.start))
    taken: list[Finding] = []  # kept sorted by start; never overlapping, so only one neighbour can clash
    for f in candidates:
        i = bisect_left(taken, f.end, key=lambda t: t.start)
        if i and taken[i - 1].end > f.start:
            continue
        if allowed and _is_allowed(f.text, allowed):
            continue
        taken.insert(i, f)
    return taken


_TITLE_WORD = re.compile(rf"{_TITLES}\.?$")
# Capitalised words that start sentences, not names ("I asked the dr. The next day ...").
_NOT_NAMES = frozenset(
    """The A An And But So Or If Then When What Who Why How This That These Those There Here It I We You He She They
    In On At Of For With From To By As Also Yes No Not Well Now Maybe Because After Before De Het Een En Maar Dus Ik
    Wij We Hij Zij Ze Dat Die Dit Er Ja Nee Toen Als Want Of Ook Nou""".split()
)


def _trim_name(text: str, m: re.Match) -> int | None:
    """End of the titled name without trailing sentence words; None when no name is left after the title."""
    tokens = list(re.finditer(r"\S+", m.group()))
    name_tokens = [t for t in tokens if not _TITLE_WORD.match(t.group())]
    while name_tokens and (name_tokens[-1].group() in _NOT_NAMES or name_tokens[-1].group()[0].islower()):
        name_tokens.pop()
    if all(t.group() in _NOT_NAMES or t.group()[0].islower() for t in name_tokens):
        return None
    return m.start() + name_tokens[-1].end()


def _is_allowed(text: str, allowed: list[str]) -> bool:
    low = text.lower()
    for a in allowed:
        if low == a or re.search(rf"(?<!\w){re.escape(a)}(?!\w)", low):
            return True
    return False


def scan_turns(
    turns: Iterable[Turn], *, allow: Iterable[str] = (), plain_text: str | None = None
) -> list[IdentifierFinding]:
    """Findings for turns (``IdentifierFinding``: document, turn_index, start, end, kind, text), offsets into
    the document's plain text (each cue span of a merged turn is scanned on its own)."""
    allow = list(allow)
    out: list[IdentifierFinding] = []
    for turn in turns:
        for s, e in turn.text_spans:
            if plain_text is not None:
                piece, base = plain_text[s:e], s
            elif turn.is_single_span:
                piece, base = turn.text, turn.start
            else:
                continue
            for f in find_identifiers(piece, allow=allow):
                out.append(IdentifierFinding(document=turn.document, turn_index=turn.turn_index,
                                             start=base + f.start, end=base + f.end, kind=f.kind, text=f.text))
    return out


def scan_document(
    name: str, plain_text: str, turns: list[Turn], *, fmt: str = "txt", allow: Iterable[str] = ()
) -> list[IdentifierFinding]:
    """Findings in a whole document, each assigned to the turn whose span holds it.

    For .txt/.md/.docx, findings outside every turn (headers) are kept with ``turn_index`` None; caption
    files keep findings in turns only (cue ids, timings and comments are not speech). The text is scanned
    once, which is much faster than scanning turn by turn.
    """
    spans = sorted((s, e, t.turn_index) for t in turns for s, e in t.text_spans)
    starts = [s for s, _, _ in spans]
    keep_outside = fmt in ("txt", "md", "docx")
    out: list[IdentifierFinding] = []
    for f in find_identifiers(plain_text, allow=allow):
        i = bisect_right(starts, f.start) - 1
        turn_index = spans[i][2] if i >= 0 and f.start < spans[i][1] else None
        if turn_index is None and not keep_outside:
            continue
        out.append(IdentifierFinding(document=name, turn_index=turn_index, start=f.start, end=f.end, kind=f.kind,
                                     text=f.text))
    return out


def read_allow_list(path) -> list[str]:
    """Known non-identifiers, one per line (``#`` comments and blank lines skipped; a BOM is dropped)."""
    from pathlib import Path

    from vbhc_code.errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path.name}: cannot read the allow list ({type(exc).__name__})") from None
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
