"""Turns from line-based text (.txt, .md and the flattened text of a .docx).

A line that starts with a speaker label and ``:`` starts a turn; the span starts after the label, the
separator and an optional timestamp, and ends at the last non-blank character of the turn's last non-blank
line. Lines before the first label are a header. ``[chat hh:mm:ss] Name: text`` lines are chat turns.
Markdown: ``**Name:** text`` starts a turn, headings and ``---`` end one, ``> **[chat ...] Name:** text``
is a chat turn. A text with no labels at all is split into paragraphs (turns with no speaker).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from vbhc_code.files.sheets import label_key
from vbhc_code.ingest.transcripts.conventions import BRACKET_LINE, TIME_MARK, TS_NAME_LINE, Scan, scan_text, warn_worthy
from vbhc_code.ingest.transcripts.labels import TABLE_HEADERS, TS, TS_ANY, SpeakerRules, looks_like_name, name_shaped
from vbhc_code.models import Turn

# [ts] Label [ (ts) ] : [ts]   -- the label itself has no ':' and does not start with markup.
_LABEL_LINE = re.compile(
    rf"[ \t]*(?:(?P<ts0>{TS_ANY})[ \t]+)?(?P<label>[^\s:\[\]()*>#|`][^:\n\t]{{0,59}}?)[ \t]*"
    rf"(?:(?P<ts1>\[{TS}\]|\({TS}\))[ \t]*)?:(?:(?=\s|$)|(?P<tight>(?=[^\W\d_])))[ \t]*(?:(?P<ts2>{TS_ANY})(?=\s|$))?"
)
# Label followed only by a timestamp (Teams/Word exports: "Anna de Vries   0:03", text on the next line).
_LABEL_TS_LINE = re.compile(rf"[ \t]*(?P<label>[^\s:\[\]()*>#|`][^:\n\t]{{0,59}}?)[ \t]+(?P<ts1>{TS_ANY})[ \t]*$")
# "[Anna de Vries] 10:15:02" (Zoom's saved transcript): a bracketed name and a time alone on a line.
_BRACKET_NAME_TS = re.compile(rf"[ \t]*\[(?P<label>[^\W\d_][^\[\]\n:]{{0,39}})\][ \t]+(?P<ts1>{TS_ANY})[ \t]*$")
# "0:0:5.100 --> 0:0:8.250" alone on a line (older Teams .docx): the next line names the speaker.
_RANGE_LINE = re.compile(
    r"[ \t]*\d{1,2}(?::\d{1,2}){1,2}(?:[.,]\d{1,3})?[ \t]*-->[ \t]*\d{1,2}(?::\d{1,2}){1,2}(?:[.,]\d{1,3})?[ \t]*$"
)
_CHAT_LINE = re.compile(
    rf"[ \t]*\[chat[ \t]+(?P<ts0>{TS})\][ \t]+(?P<label>[^:\n]{{1,60}}?)[ \t]*:(?=\s|$)[ \t]*", re.I
)
_MD_SPEECH = re.compile(
    rf"[ \t]*\*\*[ \t]*(?:(?P<ts0>{TS_ANY})[ \t]+)?(?P<label>[^*:\n\[]{{1,60}}?)[ \t]*"
    rf"(?:(?P<ts1>\[{TS}\]|\({TS}\))[ \t]*)?"
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
    timestamps: list[str]
    spans: list[list[int]] = field(default_factory=list)
    gap: bool = False  # the next text starts a new span (a time mark or a table cell lies between)


@dataclass
class _Start:
    """A line that starts a turn: who, where the text begins, how it was recognised."""

    label: str
    content: int  # offset where the turn's text may begin
    kind: str
    timestamps: tuple[str, ...] = ()
    turn_type: str = "speech"
    match: re.Match | None = None


def _ts(m: re.Match) -> tuple[str, ...]:
    out = []
    for key in ("ts0", "ts1", "ts3", "ts2"):
        v = m.groupdict().get(key)
        if v:
            out.append(v.strip("[]()"))
    return tuple(out)


class _Reader:
    """Reads the lines of one document into turns (see the module docstring)."""

    def __init__(self, text: str, fmt: str, rules: SpeakerRules, scan: Scan, table_rows: dict | None,
                 base: SpeakerRules | None = None) -> None:
        self.text = text
        self.base = base or rules  # the rules before this document's own labels were added
        self.md = fmt == "md"
        self.docx = fmt == "docx"
        self.rules = rules
        self.scan = scan
        self.table_rows = table_rows
        self.turns: list[Turn] = []
        self.cur: _Open | None = None
        self.kinds: Counter[str] = Counter()
        self.starts: set[int] = set()  # line numbers that started a turn
        self.marks = 0  # f4/easytranscript time marks cut out of the text

    # -- turns --------------------------------------------------------------------------------------
    def close(self) -> None:
        cur, self.cur = self.cur, None
        if cur is None or not cur.spans:
            return
        text = self.text
        spans = tuple((s, e) for s, e in cur.spans)
        body = text[spans[0][0]:spans[0][1]] if len(spans) == 1 else " ".join(text[s:e] for s, e in spans)
        self.turns.append(Turn(
            turn_index=len(self.turns) + 1, start=spans[0][0], end=spans[-1][1], text=body,
            spans=spans if len(spans) > 1 else (), speaker=cur.label, role=cur.role, turn_type=cur.turn_type,
            timestamps=tuple(cur.timestamps), line=cur.line,
        ))

    def open(self, label: str | None, lineno: int, kind: str, timestamps=(), turn_type: str = "speech") -> None:
        self.close()
        self.cur = _Open(label, self.rules.role(label), turn_type, lineno, list(timestamps))
        self.kinds[kind] += 1
        self.starts.add(lineno)

    def add(self, s: int, e: int) -> None:
        """Text ``[s, e)`` of one line (time marks cut out, trimmed) joins the current turn."""
        cur = self.cur
        if cur is None:
            return
        if self.scan.time_marks and "#" in self.text[s:e]:
            pos = s
            for m in TIME_MARK.finditer(self.text, s, e):
                self.marks += 1
                self._piece(pos, m.start())
                cur.timestamps.append(m["ts"])
                cur.gap = True
                pos = m.end()
            self._piece(pos, e)
        else:
            self._piece(s, e)

    def _piece(self, s: int, e: int) -> None:
        seg = self.text[s:e]
        stripped = seg.strip()
        if not stripped:
            return
        cur = self.cur
        assert cur is not None
        a = s + len(seg) - len(seg.lstrip())
        b = a + len(stripped)
        if cur.spans and not cur.gap:
            cur.spans[-1][1] = b
        else:
            cur.spans.append([a, b])
        cur.gap = False

    # -- recognising a turn's first line ------------------------------------------------------------
    def start_of(self, line: str, line_start: int, header_end: int) -> _Start | None:
        rules, head = self.rules, line[:200]
        if self.md and head.lstrip().startswith((">", "**", "#", "-", "*", "_")):
            m = _MD_CHAT.match(line)
            if m and rules.accepts(m["label"], explicit=True):
                return _Start(m["label"].strip().strip("*").strip(), line_start + m.end(), "chat", _ts(m), "chat", m)
            m = _MD_SPEECH.match(line)
            if m and rules.accepts(m["label"], explicit=True):
                return _Start(m["label"].strip().strip("*").strip(), line_start + m.end(), "markdown labels", _ts(m),
                              match=m)
            if _MD_BOUNDARY.match(line):
                return _Start("", -1, "boundary")
        if ":" in head:
            if "[" in head[:20]:
                cm = _CHAT_LINE.match(line)
                if cm and rules.accepts(cm["label"], explicit=True):
                    return _Start(cm["label"].strip(), line_start + cm.end(), "chat", _ts(cm), "chat", cm)
            lm = _LABEL_LINE.match(line)
            if lm:
                kind = self._colon_kind(lm)
                if kind:
                    return _Start(lm["label"].strip(), line_start + lm.end(), kind, _ts(lm), match=lm)
        if self.scan.bracket_labels and head.lstrip().startswith("["):
            bm = BRACKET_LINE.match(line)
            if bm and label_key(bm["label"]) in self.scan.bracket_labels:
                return _Start(bm["label"].strip(), line_start + bm.end(), "bracketed ids")
        if self.table_rows is None and self.docx and "\t" in head:
            if _is_table_header(line):
                return _Start("", -1, "boundary")
            tm = _TABLE_ROW.match(line)
            if tm and rules.accepts(tm["label"].strip()):
                return _Start(tm["label"].strip(), line_start + tm.end(), "table", _ts(tm), match=tm)
        tail = head.rstrip()[-1:]
        if tail and tail in "0123456789" and len(line) < 100 and head.lstrip().startswith("["):
            nm = _BRACKET_NAME_TS.match(line)
            if nm and self._name_ok(nm["label"], ts_first=False):
                return _Start(nm["label"].strip(), line_start + nm.end(), "name lines", _ts(nm), match=nm)
        if tail and tail in "0123456789])" and len(line) < 100:
            nm = _LABEL_TS_LINE.match(line)
            if nm and self._name_ok(nm["label"], ts_first=False):
                return _Start(nm["label"].strip(), line_start + nm.end(), "name lines", _ts(nm), match=nm)
        if tail and len(line) < 100 and head.lstrip()[:1] in "[0123456789(":
            nm = TS_NAME_LINE.match(line)
            if nm and self._name_ok(nm["label"], ts_first=True):
                return _Start(nm["label"].strip(), line_start + nm.end(), "name lines", _ts(nm), match=nm)
        if tail and len(line) <= 62 and rules.in_sheet(line.strip().rstrip(":")) and line.strip().rstrip(":"):
            return _Start(line.strip().rstrip(":").strip(), line_start + len(line), "name lines")
        return None

    def _colon_kind(self, lm: re.Match) -> str | None:
        label = lm["label"]
        tight = lm["tight"] is not None
        timed = "timestamp-first lines" if lm["ts0"] else "timestamped labels" if lm["ts1"] else None
        if self.rules.accepts(label):
            # "P01:Yes" (no space after the colon) is a label only for a recognised speaker of more than
            # one letter: "A:B testing" or "I:/share" are text.
            if tight and len(label.strip()) <= 1:
                return None
            if timed or self.base.accepts(label):
                return timed or "labels"
            return "recurring labels" if label_key(label) in self.scan.colon_labels else "labels"
        if tight or not name_shaped(label):
            return None
        return timed  # "00:03:40 Name: text", "Name (00:00:05):": the time marks the structure

    def _name_ok(self, label: str, *, ts_first: bool) -> bool:
        label = label.strip()
        rules = self.rules
        if rules.accepts(label) or label_key(label) in self.scan.name_line_labels:
            return True
        if not looks_like_name(label) or not rules.accepts(label, explicit=True):
            return False
        # "[00:01:00] Yes." is a timed line of speech: a name alone after a time has no final stop and is
        # a full name unless it recurs.
        return not ts_first or (not label.endswith((".", "?", "!", ",")) and len(label.split()) >= 2)

    # -- the document -------------------------------------------------------------------------------
    def read(self) -> None:
        text, n = self.text, len(self.text)
        header_end = _header_block_end(text, self.rules)
        pos = lineno = 0
        pending: str | None = None  # a time range line was just read
        while pos <= n:
            row = self.table_rows.get(pos) if self.table_rows else None
            if row is not None:
                lineno = self._row(row, lineno)
                pos = row.end + 1
                continue
            nl = text.find("\n", pos)
            if nl == -1:
                nl = n
            lineno += 1
            line_start, line_end = pos, nl
            pos = nl + 1
            line = text[line_start:line_end]
            if "-->" in line[:60] and _RANGE_LINE.match(line):
                pending = line.strip()  # metadata: never text
                if self.cur is not None:
                    self.cur.gap = True
                continue
            if pending is not None and line.strip():
                label, timing, pending = line.strip(), pending, None
                if self._range_name_ok(label):
                    self.open(label, lineno, "name lines", (timing,))
                    continue
                if self.cur is not None:
                    self.cur.timestamps.append(timing)
            st = self.start_of(line, line_start, header_end)
            if st is not None and st.kind == "boundary":
                self.close()
                continue
            if (st is not None and st.match is not None and self.cur is None and line_start < header_end
                    and _looks_like_value(line[st.match.end():])):
                st = None  # "Interviewer: A. Jansen" among "Date:"/"Duration:" lines is metadata, not speech
            if st is not None:
                self.open(st.label, lineno, st.kind, st.timestamps, st.turn_type)
                self.add(st.content, line_end)
            else:
                self.add(line_start, line_end)
        self.close()

    def _range_name_ok(self, label: str) -> bool:
        """The line after a time range names the speaker (a name, not a sentence)."""
        if len(label) > 40 or label.endswith((".", "?", "!", ",", ":")):
            return False
        return self._name_ok(label, ts_first=False) or (
            name_shaped(label) and label_key(label) in self.scan.colon_labels
        )

    def _row(self, row, lineno: int) -> int:
        """A speaker-table row: a turn of its own (an empty speaker cell continues the turn above)."""
        lineno += 1
        if row.kind == "header":
            self.close()
        elif row.kind == "turn" and row.span is not None:
            if row.label is None and self.cur is not None and self.cur.turn_type == "speech":
                self.cur.gap = True
                self.cur.timestamps.extend(row.timestamps)
            else:
                self.open(row.label, lineno, "table", row.timestamps)
            self._piece(*row.span)
            if self.cur is not None:
                self.cur.gap = not row.last
        return lineno + self.text.count("\n", row.start, row.end)


def parse_lines(
    text: str, *, fmt: str, rules: SpeakerRules, name: str = "", scan: Scan | None = None,
    table_rows: dict | None = None,
) -> tuple[list[Turn], list[str], list[str]]:
    """Turns (numbered from 1), warnings and the conventions found, for a .txt/.md/.docx document.

    ``table_rows``: the speaker-table rows of a .docx by start offset (None: tab lines are read as table rows).
    """
    scan = scan if scan is not None else scan_text(text)
    base = rules
    if scan.colon_labels:
        rules = rules.with_labels(scan.colon_labels | scan.family(rules))
    reader = _Reader(text, fmt, rules, scan, table_rows, base)
    reader.read()
    new = {label_key(t.speaker) for t in reader.turns if t.speaker and not rules.accepts(t.speaker)}
    if new & (scan.colon_counts.keys() | scan.name_line_labels):
        # Never glue: a line that starts with the label of another turn of this document starts a turn too.
        reader = _Reader(text, fmt, rules.with_labels(new), scan, table_rows, base)
        reader.read()
    turns = reader.turns
    warnings: list[str] = []
    for lineno, label in scan.singles:
        if lineno not in reader.starts and not reader.rules.accepts(label) and warn_worthy(label):
            warnings.append(f"{name} line {lineno}: '{label}:' looks like a speaker label but occurs once and is "
                            "not a known speaker; read as text (name it in the participants sheet to make it one)")
    layout = [k for k, _ in reader.kinds.most_common()]
    if reader.marks:
        layout.append("time marks")
    if not reader.kinds:
        turns = _paragraphs(text, per_line=fmt == "docx", md=fmt == "md")
        warnings.append(f"{name}: no speaker labels found; each paragraph is a turn with no speaker"
                        " (name the speakers in a participants sheet, or give a speaker pattern)")
        layout = ["paragraphs"]
    return turns, warnings, layout


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
