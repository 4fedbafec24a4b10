"""Turns from WebVTT and SubRip captions.

The plain text is the whole caption file (decoded, newlines normalised); turns index into cue payloads.
Speakers come from ``<v Name>`` voice tags, ``Name:`` labels (default rules, ALL-CAPS caption labels such
as ``NARRATOR:``, or a capitalised name at the start of a cue) and ``>>`` speaker changes. Consecutive cues
of the same speaker merge into one turn with one span per cue; the turn's text is the cue texts joined with
one space, tags removed and HTML entities decoded. Cue ids, timings, settings, STYLE/REGION and NOTE blocks
are not text, except ``[chat hh:mm:ss] Name: text`` lines in NOTE blocks, which are chat turns.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from vbhc_code.files.sheets import label_key
from vbhc_code.ingest.transcripts.labels import SpeakerRules, is_caps_label, is_header_field, looks_like_name
from vbhc_code.ingest.transcripts.lines import _CHAT_LINE
from vbhc_code.models import Turn

_MARK = re.compile(r"<v(?:\.[^\s>]*)?(?:[ \t]+(?P<v>[^>\n]*))?>|</v>|(?P<chev>(?:>>|&gt;&gt;)(?:>|&gt;)*)")
_LABEL = re.compile(
    r"(?P<label>[^\s:<>()\[\]][^:\n<>()\[\]]{0,59}?)[ \t]*(?:\([^)\n]{0,40}\)[ \t]*)?"
    r":(?P<tight>(?=[^\W\d_]))?(?=\s|$|[^\W\d_]|</)[ \t]*"
)
_TIMING = re.compile(r"[ \t]*(?P<a>\d[\d:.,]*)[ \t]*-->[ \t]*(?P<b>\d[\d:.,]*)")
_TAG = re.compile(r"</?[A-Za-z][^>\n]*>|<\d[\d:.]*>")


@dataclass
class _Piece:
    key: object
    label: str | None
    start: int
    end: int
    cue: int
    seq: int
    timing: str
    line: int
    chat: bool = False


def clean_cue_text(raw: str) -> str:
    """Cue text without tags and with HTML entities decoded."""
    if "<" in raw:
        raw = _TAG.sub("", raw)
    if "&" in raw:
        raw = html.unescape(raw)
    return raw


def _seconds(stamp: str) -> float | None:
    """``hh:mm:ss.mmm``, ``mm:ss.mmm`` or SRT's ``hh:mm:ss,mmm`` in seconds (None when it is not a time)."""
    parts = stamp.replace(",", ".").split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None
    if not 1 <= len(values) <= 3:
        return None
    total = 0.0
    for v in values:
        total = total * 60 + v
    return total


def timing_warnings(timings: list[tuple[int, float | None, float | None]], name: str) -> list[str]:
    """Located warnings for cues that end before they start, and cues that start before the one before ends
    (the turns keep the file's order; the timestamps are kept as written)."""
    reversed_, overlapping = [], []
    prev_end: float | None = None
    for line, start, end in timings:
        if start is not None and end is not None and end < start:
            reversed_.append(line)
        elif start is not None and prev_end is not None and start < prev_end:
            overlapping.append(line)
        if end is not None:
            prev_end = end if prev_end is None else max(prev_end, end)
    out = []
    for lines, what in ((reversed_, "cue timing ends before it starts"),
                        (overlapping, "cue starts before the cue before it ends (overlapping timings)")):
        if lines:
            more = f" ({len(lines)} cues: lines {', '.join(map(str, lines[:5]))}{' ...' if len(lines) > 5 else ''})"
            out.append(f"{name} line {lines[0]}: {what}" + (more if len(lines) > 1 else ""))
    return out


def _lines(text: str) -> list[tuple[int, int]]:
    out, pos, n = [], 0, len(text)
    while True:
        nl = text.find("\n", pos)
        if nl == -1:
            out.append((pos, n))
            return out
        out.append((pos, nl))
        pos = nl + 1


def parse_captions(text: str, *, fmt: str, rules: SpeakerRules, name: str = "") -> tuple[list[Turn], list[str]]:
    from vbhc_code.errors import DataError

    lines = _lines(text)
    warnings: list[str] = []
    i, n = 0, len(lines)
    if fmt == "vtt":
        first = text[lines[0][0]:lines[0][1]]
        if not first.startswith("WEBVTT") or (len(first) > 6 and first[6] not in " \t"):
            raise DataError(f"{name} line 1: not a WebVTT file (the first line must start with 'WEBVTT')")
        while i < n and text[lines[i][0]:lines[i][1]].strip():
            i += 1  # the header block
    pieces: list[_Piece] = []
    state = {"key": None, "label": None, "seq": 0, "anon": 0, "named": False, "chev": False}
    cue = 0
    stray: list[int] = []
    timings: list[tuple[int, float | None, float | None]] = []  # (line, start, end) of every cue
    while i < n:
        if not text[lines[i][0]:lines[i][1]].strip():
            i += 1
            continue
        j = i
        while j < n and text[lines[j][0]:lines[j][1]].strip():
            j += 1
        block = lines[i:j]
        first = text[block[0][0]:block[0][1]]
        if fmt == "vtt" and first.startswith("NOTE") and (len(first) == 4 or first[4] in " \t"):
            _note(text, block, i, pieces, rules, cue)
        elif fmt == "vtt" and first.strip() in ("STYLE", "REGION") or first.startswith(("STYLE ", "REGION ")):
            pass
        else:
            t = 0 if _TIMING.match(text, block[0][0], block[0][1]) else None
            if t is None and len(block) > 1 and _TIMING.match(text, block[1][0], block[1][1]):
                t = 1
            if t is None:
                stray.append(i + 1)
            else:
                cue += 1
                tm = _TIMING.match(text, block[t][0], block[t][1])
                assert tm is not None  # t is the line that matched _TIMING above
                timing = f"{tm['a']} --> {tm['b']}"
                timings.append((i + t + 1, _seconds(tm["a"]), _seconds(tm["b"])))
                for k, (ls, le) in enumerate(block[t + 1:]):
                    if "-->" in text[ls:le] and _TIMING.match(text, ls, le):
                        j = i + t + 1 + k  # a timing line ends the cue and starts the next (as WebVTT parsers do)
                        break
                    _payload_line(text, ls, le, i + t + 2 + k, k == 0, cue, timing, pieces, state, rules)
        i = j
    if stray:
        where = ", ".join(str(x) for x in stray[:5]) + (" ..." if len(stray) > 5 else "")
        warnings.append(f"{name}: {len(stray)} block(s) that are not cues ignored (line {where})")
    warnings.extend(timing_warnings(timings, name))
    if not pieces:
        raise DataError(f"{name}: no cues with text ({cue} cue(s) found)")
    speech = [p for p in pieces if not p.chat]
    if speech and not state["named"] and not state["chev"]:
        warnings.append(f"{name}: no speakers marked in the captions; each cue is a turn with no speaker")
        for p in pieces:
            if not p.chat:
                p.key = ("cue", p.cue)
    elif state["chev"] and not state["named"]:
        warnings.append(f"{name}: speaker changes are marked with '>>' but not named; turns have no speaker")
    return _merge(text, pieces, rules), warnings


def _note(text: str, block, first_index: int, pieces: list[_Piece], rules: SpeakerRules, cue: int) -> None:
    for k, (ls, le) in enumerate(block):
        if k == 0:
            ls += 4  # "NOTE"
        m = _CHAT_LINE.match(text, ls, le)
        if m and rules.accepts(m["label"], explicit=True):
            s = m.end()
            e = ls + len(text[ls:le].rstrip())
            if e > s:
                pieces.append(_Piece(("chat", len(pieces)), m["label"].strip(), s, e, cue, -1, m["ts0"],
                                     first_index + k + 1, chat=True))


def _payload_line(text, ls, le, lineno, first_line, cue, timing, pieces, state, rules) -> None:
    segments: list[tuple[str | None, str | None, int, int]] = []  # (marker, voice, start, end)
    pos, marker, voice = ls, None, None
    line = text[ls:le]
    if "<" in line or ">" in line or "&gt;" in line:
        for m in _MARK.finditer(text, ls, le):
            if (
                m["chev"] is not None
                and m.start() > ls
                and (text[m.start() - 1].isalnum() or text[m.start() - 1] in "<>;")
            ):
                continue
            segments.append((marker, voice, pos, m.start()))
            marker = "v" if m.group(0).startswith("<v") else "close" if m.group(0) == "</v>" else "chev"
            voice = (m["v"] or "").strip() if marker == "v" else None
            pos = m.end()
    segments.append((marker, voice, pos, le))
    for marker, voice, s, e in segments:
        if marker == "v":
            state["seq"] += 1
            if voice:
                state["key"], state["label"], state["named"] = label_key(voice), voice, True
            else:
                state["anon"] += 1
                state["key"], state["label"] = ("anon", state["anon"]), None
        elif marker == "chev":
            state["seq"] += 1
            state["anon"] += 1
            state["chev"] = True
            state["key"], state["label"] = ("anon", state["anon"]), None
        while s < e and text[s].isspace():
            s += 1
        if marker != "v" and ":" in text[s:e]:
            at = s
            while at < e and text[at] == "<" and (tag := _TAG.match(text, at, e)):
                at = tag.end()  # "<font color=...>MAN: Yes</font>": the label follows formatting tags
                while at < e and text[at].isspace():
                    at += 1
            lab = _LABEL.match(text, at, e)
            if lab:
                label = lab["label"].strip()
                ok = rules.accepts(label) or (
                    not is_header_field(label)
                    and rules.pattern is None
                    and (is_caps_label(label) or ((first_line or marker == "chev") and looks_like_name(label)))
                )
                if ok and lab["tight"] is not None and not is_caps_label(label):
                    ok = False  # "MAN:Jacques" is a caption typo; "Note:text" in speech is not a label
                if ok:
                    state["seq"] += 1
                    state["key"], state["label"], state["named"] = label_key(label), label, True
                    s = lab.end()
                    while text.startswith("</", s) and (tag := _TAG.match(text, s, e)):
                        s = tag.end()  # "<i>Interviewer:</i> Hello": the closing tag is not text
                        while s < e and text[s].isspace():
                            s += 1
        content = text[s:e].rstrip()
        if not content or (("<" in content or "&" in content) and not clean_cue_text(content).strip()):
            continue  # nothing left once tags are removed ("<i></i>", a lone "<00:00:01.000>")
        end = s + len(content)
        last = pieces[-1] if pieces else None
        if last is not None and not last.chat and last.cue == cue and last.seq == state["seq"]:
            last.end = end
        else:
            pieces.append(_Piece(state["key"], state["label"], s, end, cue, state["seq"], timing, lineno))


def _merge(text: str, pieces: list[_Piece], rules: SpeakerRules) -> list[Turn]:
    groups: list[list[_Piece]] = []
    for p in pieces:
        if groups and not p.chat and not groups[-1][0].chat and groups[-1][-1].key == p.key:
            groups[-1].append(p)
        else:
            groups.append([p])
    turns: list[Turn] = []
    for g in groups:
        label = next((p.label for p in g if p.label), None)
        raw = [text[p.start:p.end] for p in g]
        timings: list[str] = []
        for p in g:
            if not timings or timings[-1] != p.timing:
                timings.append(p.timing)
        turns.append(Turn(
            turn_index=len(turns) + 1, start=g[0].start, end=g[-1].end,
            text=" ".join(clean_cue_text(r) for r in raw),
            spans=tuple((p.start, p.end) for p in g) if len(g) > 1 else (),
            speaker=label, role=rules.role(label), turn_type="chat" if g[0].chat else "speech",
            timestamps=tuple(timings), line=g[0].line,
        ))
    return turns
