"""Property tests: the offsets contract holds for any text, and clean transcripts round-trip exactly."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vbhc_code.ingest.transcripts import SpeakerRules, parse_plain_text, read_bytes
from vbhc_code.ingest.transcripts.captions import _TIMING, clean_cue_text

RULES = SpeakerRules(known_labels=["P01", "P02", "Anna de Vries"])
LABELS = ["Interviewer", "P01", "P02", "Anna de Vries", "Moderator"]
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Anything at all, including labels, chat lines, markup, CR, tabs and odd Unicode.
any_line = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=40),
    st.sampled_from(["Interviewer: hi", "P01: [00:01:02] x", "", "  ", "**P02:** b", "> **[chat 00:01:02] P01:** c",
                     "[chat 00:00:01] Anna de Vries: d", "# h", "---", "Date: x", "P02:", "\tP01\t00:01\ty",
                     "P01:tight", "**P02** (00:01:02): e", "Speaker\tTime\tText"]),
)
# Words that cannot form a label or markup: turn texts we can expect back exactly.
word = st.text(alphabet="abcdefghij\u00e9\u00fc\u2019'\",.!?=-", min_size=1, max_size=8)
clean_text = st.lists(word, min_size=1, max_size=8).map(" ".join)


def check(parsed) -> None:
    text = parsed.plain_text
    last_end = -1
    for i, t in enumerate(parsed.turns, 1):
        assert t.turn_index == i and t.text.strip()  # no empty turns
        assert 0 <= t.start < t.end <= len(text) and t.start >= last_end
        last_end = t.end
        for s, e in t.text_spans:
            assert text[s:e] == text[s:e].strip() and e > s
        raw = text[t.start : t.end]
        if t.is_single_span and "<" not in raw and "&" not in raw:  # captions clean tags/entities from text
            assert raw == t.text


@SETTINGS
@given(st.lists(any_line, max_size=25), st.sampled_from(["txt", "md", "docx"]))
def test_line_formats_keep_the_offsets_contract(lines, fmt):
    text = "\n".join(lines)
    if not text.strip():
        return
    parsed = parse_plain_text(text, fmt=fmt, rules=RULES)
    check(parsed)
    for t in parsed.turns:
        assert text[t.start : t.end] == t.text


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(LABELS), clean_text, st.booleans()), min_size=1, max_size=12),
       st.sampled_from(["txt", "md"]))
def test_clean_transcripts_round_trip(turns, fmt):
    lines = []
    for label, body, chat in turns:
        if chat:
            lines.append(
                f"> **[chat 00:01:02] {label}:** {body}" if fmt == "md" else f"[chat 00:01:02] {label}: {body}"
            )
        else:
            lines.append(f"**{label}:** {body}" if fmt == "md" else f"{label}: {body}")
        lines.append("")
    parsed = parse_plain_text("\n".join(lines), fmt=fmt, rules=RULES)
    assert [(t.speaker, t.text, t.turn_type) for t in parsed.turns] == [
        (label, body.strip(), "chat" if chat else "speech") for label, body, chat in turns
    ]
    check(parsed)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(LABELS), clean_text), min_size=1, max_size=15),
       st.sampled_from(["vtt", "srt"]), st.booleans())
def test_captions_merge_same_speaker_cues(cues, fmt, crlf):
    blocks = ["WEBVTT", ""] if fmt == "vtt" else []
    for i, (label, body) in enumerate(cues, 1):
        a = f"00:00:{i:02d}{'.' if fmt == 'vtt' else ','}000"
        payload = f"<v {label}>{body}</v>" if fmt == "vtt" else f"{label.upper()}: {body}"
        blocks += [str(i), f"{a} --> {a}", payload, ""]
    data = "\n".join(blocks).encode("utf-8")
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    parsed = read_bytes(data, fmt=fmt, rules=RULES, name=f"x.{fmt}")
    expected: list[tuple[str, list[str]]] = []
    for label, body in cues:
        if expected and expected[-1][0].lower() == label.lower():
            expected[-1][1].append(body.strip())
        else:
            expected.append((label, [body.strip()]))
    assert [(t.speaker.lower(), t.text) for t in parsed.turns] == [(lab.lower(), " ".join(b)) for lab, b in expected]
    for t in parsed.turns:
        assert len(t.text_spans) == len(expected[t.turn_index - 1][1])
        assert " ".join(clean_cue_text(parsed.plain_text[s:e]) for s, e in t.text_spans) == t.text
    check(parsed)


caption_line = st.one_of(
    any_line,
    st.sampled_from(["00:00:01.000 --> 00:00:02.000", "00:01,000 --> 00:02,000 align:start", "NOTE", "STYLE",
                     "<v Anna de Vries>hi</v>", ">> next", "&gt;&gt; X", "NARRATOR:", "WOMAN ( sighs ): oh",
                     "<v>anon", "1", "[chat 00:00:03] P01: c", "<i>it</i> &amp; <b>bold"]),
)


@SETTINGS
@given(st.lists(caption_line, max_size=30), st.sampled_from(["vtt", "srt"]))
def test_captions_never_crash_and_spans_are_valid(lines, fmt):
    from vbhc_code.errors import DataError

    text = "\n".join((["WEBVTT", ""] if fmt == "vtt" else []) + lines)
    try:
        parsed = parse_plain_text(text, fmt=fmt, rules=RULES)
    except DataError:
        return  # e.g. no cues with text
    check(parsed)
    for t in parsed.turns:
        assert t.text == " ".join(clean_cue_text(text[s:e]) for s, e in t.text_spans)
        assert not any(_TIMING.match(line) for line in t.text.split("\n"))  # timing lines are never text


# -- every label convention round-trips: render known turns, read them back ------------------------------
NAMES = ["Anna de Vries", "Max Bigman", "Karin Bos", "Jan van der Berg"]


def _ts(i: int) -> str:
    return f"00:{i // 60 % 60:02d}:{i % 60:02d}"


RENDER = {
    "recurring": lambda i, who, body: f"{who}: {body}",
    "otter": lambda i, who, body: f"{who}  {i // 60}:{i % 60:02d}\n{body}\n",
    "rev": lambda i, who, body: f"{who} ({_ts(i)}):\n{body}\n",
    "trint": lambda i, who, body: f"[{_ts(i)}] {who}\n{body}\n",
    "timestamp-first": lambda i, who, body: f"{_ts(i)} {who}: {body}",
    "f4": lambda i, who, body: f"{who}: {body} #{_ts(i)}-{i % 10}#",
    "bracketed": lambda i, who, body: f"[{who}] {body}\n",
}
SPEAKERS = {"f4": ["I", "B", "R"], "bracketed": ["id1", "id2", "id3"]}


@SETTINGS
@given(st.sampled_from(sorted(RENDER)), st.lists(st.tuples(st.integers(0, 3), clean_text), min_size=1, max_size=10))
def test_every_convention_round_trips(convention, turns):
    pool = SPEAKERS.get(convention, NAMES)
    turns = turns * 2  # every label recurs, as in a real transcript
    lines = [RENDER[convention](i, pool[k % len(pool)], body) for i, (k, body) in enumerate(turns)]
    text = "Interview transcript\n\n" + "\n".join(lines) + "\n"
    parsed = parse_plain_text(text, fmt="txt", rules=SpeakerRules())
    assert [(t.speaker, t.text) for t in parsed.turns] == [(pool[k % len(pool)], body) for k, body in turns]
    assert parsed.warnings == ()
    check(parsed)
    for t in parsed.turns:
        assert text[t.start : t.end] == t.text and "#" not in t.text


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 3), clean_text, st.booleans()), min_size=2, max_size=8),
       st.sampled_from([("#", "Speaker", "Time", "Text"), ("Spreker", "Tekst"), ("Name", "Tijd", "Utterance"), None]))
def test_word_tables_round_trip(turns, header):
    import io

    import docx

    turns = turns * 2
    d = docx.Document()
    d.add_paragraph("Interview")
    cols = header or ("Time", "Speaker", "Text")
    rows = [] if header is None else [header]
    for i, (k, body, _) in enumerate(turns):
        cells = {"#": str(i + 1), "Speaker": NAMES[k], "Spreker": NAMES[k], "Name": NAMES[k], "Time": _ts(i),
                 "Tijd": _ts(i), "Text": body, "Tekst": body, "Utterance": body}
        rows.append(tuple(cells[c] for c in cols))
    table = d.add_table(rows=len(rows), cols=len(cols))
    for row, values in zip(table.rows, rows):
        for cell, value in zip(row.cells, values):
            cell.text = value
    text_col = next(i for i, c in enumerate(cols) if c in ("Text", "Tekst", "Utterance"))
    for n, (_, body, two) in enumerate(turns):
        if two:  # a second paragraph in the same cell stays in the same turn
            table.rows[n + (header is not None)].cells[text_col].add_paragraph(body)
    buf = io.BytesIO()
    d.save(buf)
    parsed = read_bytes(buf.getvalue(), fmt="docx", rules=SpeakerRules(), name="t.docx")
    assert [(t.speaker, t.text) for t in parsed.turns] == [
        (NAMES[k], f"{body}\n{body}" if two else body) for k, body, two in turns
    ]
    check(parsed)
