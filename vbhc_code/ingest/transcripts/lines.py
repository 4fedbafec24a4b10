"""Turns from line-based text (.txt, .md and the flattened text of a .docx).

A line that starts with a speaker label and ``:`` starts a turn; the span starts after the label, the
separator and an optional timestamp, and ends at the last non-blank character of the turn's last non-blank
line. Lines before the first label are a header. ``[chat hh:mm:ss] Name: text`` lines are chat turns.
Markdown: ``**Name:** text`` starts a turn, headings and ``---`` end one, ``> **[chat ...] Name:** text``
is a chat turn. A text with no labels at all is split into paragraphs (turns with no speaker).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vbhc_code.models import Turn
from vbhc_code.ingest.transcripts.labels import TABLE_HEADERS, TS, TS_ANY, SpeakerRules, looks_like_name

# [ts] Label [ (ts) ] : [ts]   -- the label itself has no ':' and does not start with markup.
_LABEL_LINE = re.compile(
    rf"[ \t]*(?:(?P<ts0>{TS_ANY})[ \t]+)?(?P<label>[^\s:\[\]()*>#|`][^:\n\t]{{0,59}}?)[ \t]*"
    rf"(?:(?P<ts1>\[{TS}\]|\({TS}\))[ \t]*)?:(?:(?=\s|$)|(?P<tight>(?=[^\W\d_])))[ \t]*(?:(?P<ts2>{TS_ANY})(?=\s|$))?"
)
# Label followed only by a timestamp (Teams/Word exports: "Anna de Vries   0:03", text on the next line).
_LABEL_TS_LINE = re.compile(rf"[ \t]*(?P<label>[^\s:\[\]()*>#|`][^:\n\t]{{0,59}}?)[ \t]+(?P<ts1>{TS_ANY})[ \t]*$")
_CHAT_LINE = re.compile(rf"[ \t]*\[chat[ \t]+(?P<ts0>{TS})\][ \t]+(?P<label>[^:\n]{{1,60}}?)[ \t]*:(?=\s|$)[ \t]*", re.I)
_MD_SPEECH = re.compile(
    rf"[ \t]*\*\*[ \t]*(?:(?P<ts0>{TS_ANY})[ \t]+)?(?P<label>[^*:\n\[]{{1,60}}?)[ \t]*(?:(?P<ts1>\[{TS}\]|\({TS}\))[ \t]*)?"
    rf"(?::[ \t]*\*\*|\*\*[ \t]*(?:(?P<ts3>\[{TS}\]|\({TS}\))[ \t]*)?:)[ \t]*(?:(?P<ts2>{TS_ANY})(?=\s|$))?"
)
_MD_CHAT = re.compile(
    rf"[ \t]*>[ \t]*(?:\*\*)?\[chat[ \t]+(?P<ts0>{TS})\][ \t]+(?P<label>[^*:\n]{{1,60}}?)[ \t]*"
    rf"(?::[ \t]*\*\*|\*\*[ \t]*:|:)(?=\s|$)[ \t]*",
    re.I,
)
_MD_BOUNDARY = re.compile(r"[ \t]{0,3}(?:#{1,6}(?:[ \t]|$)|(?:-[ \t]*){3,}$|(?:\*[ \t]*){3,}$|(?:_[ \t]*){3,}$)")
# A speaker-table row of a .docx, flattened as "speaker<TAB>[time<TAB>]text".
_TABLE_ROW = re.compile(rf"(?P<label>[^\t\n]{{1,60}})\t(?:(?P<ts1>{TS_ANY})?\t)?")


@dataclass
class _Open:
    label: str | None
    role: str
    turn_type: str
    line: int
    timestamps: tuple[str, ...]
    start: int | None = None
    end: int | None = None


def _ts(m: re.Match) -> tuple[str, ...]:
    out = []
    for key in ("ts0", "ts1", "ts3", "ts2"):
        v = m.groupdict().get(key)
        if v:
            out.append(v.strip("[]()"))
    return tuple(out)


def parse_lines(text: str, *, fmt: str, rules: SpeakerRules, name: str = "") -> tuple[list[Turn], list[str]]:
    """Turns (numbered from 1) and warnings for the plain text of a .txt/.md/.docx document."""
    md = fmt == "md"
    docx = fmt == "docx"
    turns: list[Turn] = []
    cur: _Open | None = None
    saw_label = False

    def close() -> None:
        nonlocal cur
        if cur is not None and cur.start is not None and cur.end is not None and cur.end > cur.start:
            turns.append(Turn(
                turn_index=len(turns) + 1, start=cur.start, end=cur.end, text=text[cur.start:cur.end],
                speaker=cur.label, role=cur.role, turn_type=cur.turn_type, timestamps=cur.timestamps, line=cur.line,
            ))  # fmt: skip
        cur = None

    header_end = _header_block_end(text, rules)
    pos = 0
    n = len(text)
    lineno = 0
    while pos <= n:
        nl = text.find("\n", pos)
        if nl == -1:
            nl = n
        lineno += 1
        line_start, line_end = pos, nl
        pos = nl + 1
        line = text[line_start:line_end]
        m = None
        turn_type = "speech"
        head = line[:200]
        if md and head.lstrip().startswith((">", "**", "#", "-", "*", "_")):
            m = _MD_CHAT.match(line)
            if m and rules.accepts(m["label"], explicit=True):
                turn_type = "chat"
            else:
                m = _MD_SPEECH.match(line)
                if not (m and rules.accepts(m["label"], explicit=True)):
                    m = None
                    if _MD_BOUNDARY.match(line):
                        close()
                        if pos > n:
                            break
                        continue
        if m is None and ":" in head:
            if "[" in head[:20]:
                cm = _CHAT_LINE.match(line)
                if cm and rules.accepts(cm["label"], explicit=True):
                    m, turn_type = cm, "chat"
            if m is None:
                lm = _LABEL_LINE.match(line)
                # "P01:Yes" (no space after the colon) is a label only for a recognised speaker of more than
                # one letter: "A:B testing" or "I:/share" are text.
                if lm and rules.accepts(lm["label"]) and (lm["tight"] is None or len(lm["label"].strip()) > 1):
                    m = lm
        if m is None and docx and "\t" in head and _is_table_header(line):
            close()  # the header row of a speaker table (Speaker/Time/Text) is no one's speech
            if pos > n:
                break
            continue
        if m is None and docx and "\t" in head:
            tm = _TABLE_ROW.match(line)
            if tm and rules.accepts(tm["label"].strip()):
                m = tm
        tail = head.rstrip()[-1:]
        if m is None and tail and tail in "0123456789])" and len(line) < 100:
            tm = _LABEL_TS_LINE.match(line)
            # "Name   0:03" alone on a line is how Teams/Otter exports mark a speaker: any personal name counts.
            if tm and (rules.accepts(tm["label"]) or (rules.pattern is None and looks_like_name(tm["label"].strip())
                                                      and rules.accepts(tm["label"], explicit=True))):
                m = tm
        if m is not None and cur is None and line_start < header_end and _looks_like_value(line[m.end():]):
            m = None  # "Interviewer: A. Jansen" among "Date:"/"Duration:" lines is metadata, not speech
        if m is not None:
            saw_label = True
            close()
            label = m["label"].strip()
            label = label.strip("*").strip() if md else label
            cur = _Open(label=label, role=rules.role(label), turn_type=turn_type, line=lineno, timestamps=_ts(m))
            content_start = line_start + m.end()
        else:
            content_start = line_start
        if cur is not None:
            stripped = line[content_start - line_start:].rstrip()
            if stripped:
                if cur.start is None:
                    cur.start = content_start + (len(stripped) - len(stripped.lstrip()))
                cur.end = line_start + (content_start - line_start) + len(stripped)
        if pos > n:
            break
    close()
    warnings: list[str] = []
    if not saw_label:
        turns = _paragraphs(text, per_line=docx, md=md)
        warnings.append(f"{name}: no speaker labels found; each paragraph is a turn with no speaker"
                        " (use --participants or --speaker-pattern)")
    return turns, warnings


def _is_table_header(line: str) -> bool:
    cells = [c.strip().lower() for c in line.split("\t")]
    return len(cells) in (2, 3) and all(c in TABLE_HEADERS or not c for c in cells) and any(cells)


_FIELD_LINE = re.compile(r"[ \t]*(?:\*\*)?(?P<field>[A-Za-z][A-Za-z ]{1,20}?)[ \t]*(?::\*\*|\*\*:|:)")


def _looks_like_value(rest: str) -> bool:
    """A short field value (a name, an id), not a spoken sentence."""
    rest = rest.strip()
    return len(rest) <= 40 and len(rest.split()) <= 5 and not rest.endswith((".", "?", "!", "\u2026", ","))


def _header_block_end(text: str, rules: SpeakerRules) -> int:
    """End of the header: the leading blocks (up to a blank line) before any speech, the last of which has a
    field such as ``Date:`` or ``Duration:``, when more text follows. A title block before it ("Interview 7")
    is part of it. 0 when there is no such header."""
    from vbhc_code.ingest.transcripts.labels import is_header_field

    head = text[:20_000]
    header_end = pos = 0
    for _ in range(6):  # a header is a few blocks at most
        blank = re.search(r"\n[ \t]*\n", head[pos:])
        if blank is None:
            break
        block_end = pos + blank.start()
        has_field = labels = speech = False
        for line in head[pos:block_end].split("\n"):
            m = _FIELD_LINE.match(line)
            if m and is_header_field(m["field"]):
                has_field = True
                continue
            lm = _LABEL_LINE.match(line) or _MD_SPEECH.match(line)
            if lm and rules.accepts(lm["label"].strip("* "), explicit=lm.re is _MD_SPEECH):
                labels = True
                if not _looks_like_value(line[lm.end():]):
                    speech = True  # a spoken turn: the header (if any) ended before this block
                    break
        if speech or (labels and not has_field):
            break  # only title lines may come before the block of fields
        if has_field:
            header_end = block_end
        pos += blank.end()
    if header_end and not text[header_end:].strip():
        return 0
    return header_end


def _paragraphs(text: str, *, per_line: bool, md: bool) -> list[Turn]:
    """Blank-line separated paragraphs (.docx: every non-empty paragraph) as turns with no speaker."""
    turns: list[Turn] = []
    start = end = None
    first_line = 0

    def close() -> None:
        nonlocal start, end
        if start is not None and end is not None and end > start:
            turns.append(Turn(turn_index=len(turns) + 1, start=start, end=end, text=text[start:end], line=first_line))
        start = end = None

    pos, lineno, n = 0, 0, len(text)
    while pos <= n:
        nl = text.find("\n", pos)
        if nl == -1:
            nl = n
        lineno += 1
        line = text[pos:nl]
        stripped = line.rstrip()
        if not stripped.strip() or (md and _MD_BOUNDARY.match(line)):
            close()
        else:
            if start is None:
                start, first_line = pos + len(stripped) - len(stripped.lstrip()), lineno
            end = pos + len(stripped)
            if per_line:
                close()
        pos = nl + 1
    close()
    return turns
