"""A first look at a whole document: which label conventions it uses, before its lines are read as turns.

- **Recurring ``Name:`` labels** (MAXQDA's rule): text at the start of a line followed by ``:``, shaped like a
  label (1-5 words, at most 40 characters, starts with a letter, not a header field) that starts at least two
  lines is a speaker label everywhere in the document. Once only, it stays text.
- **Bracketed ids** (QualCoder): ``[id1] text`` when the same bracketed token starts at least two lines.
  Transcription annotations (``[laughs]``, ``[inaudible]``, ``[crosstalk]``, ...) are never labels.
- **Name lines**: a name with a timestamp alone on a line (``admin-1   0:02``); a name that is no personal
  name (``admin-1``) counts when it starts at least two such lines.
- **Time marks** (f4transkript/easytranscript): ``#00:01:02-3#`` is metadata, never text.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from vbhc_code.files.sheets import label_key
from vbhc_code.ingest.transcripts.labels import (
    TS,
    TS_ANY,
    SpeakerRules,
    is_participant_style,
    is_timestamp,
    label_base,
    looks_like_name,
    name_shaped,
)

# "[00:01:02] Name: text", "Name (00:01:02): text", "Name:" -- the candidate label of a line.
COLON_CANDIDATE = re.compile(
    rf"[ \t]*(?:{TS_ANY}[ \t]+)?(?P<label>[^\W\d_][^:\n\t]{{0,39}}?)[ \t]*(?:(?:\[{TS}\]|\({TS}\))[ \t]*)?:(?=[ \t]|$)"
)
BRACKET_LINE = re.compile(r"[ \t]*\[(?P<label>[^\W\d_][^\[\]\n:]{0,39})\](?:[ \t]+|[ \t]*$)")
# "Name   0:02" / "[00:00:05] Name" alone on a line.
NAME_TS_LINE = re.compile(rf"[ \t]*(?P<label>[^\W\d_][^:\n\t\[\]()]{{0,39}}?)[ \t]+(?P<ts1>{TS_ANY})[ \t]*:?[ \t]*$")
TS_NAME_LINE = re.compile(rf"[ \t]*(?P<ts0>{TS_ANY})[ \t]+(?P<label>[^\W\d_][^:\n\t\[\]()]{{0,39}}?)[ \t]*:?[ \t]*$")
TIME_MARK = re.compile(r"#(?P<ts>\d{1,2}:\d{2}:\d{2}(?:[-.,]\d{1,3})?)#")

# Transcription annotations: never speaker labels, however often they start a line.
ANNOTATIONS = frozenset(
    """laughs laughter laughing laugh inaudible unintelligible unclear crosstalk cross-talk pause pauses silence
    coughs cough sighs sigh music applause noise background noise overlapping overlap interruption interrupts
    long pause short pause break sound sounds silence inaudible speech phone rings phone ringing knock
    lacht lachen pauze stilte onverstaanbaar onduidelijk hoest zucht door elkaar crosstalk unverständlich
    lachen pause räuspern seufzt ... … redacted removed name place employer organisation organization
    anonymised anonymized blank beep beeps foreign language video audio recording""".split()
)
_ANNOTATION_WORD = re.compile(r"^[a-z][a-z' -]*$")


def is_annotation(token: str) -> bool:
    """``laughs``, ``long pause``, ``inaudible 00:01``: a transcriber's note, not a speaker."""
    t = " ".join(token.lower().split())
    if t in ANNOTATIONS or t.split(" ")[0] in ANNOTATIONS:
        return True
    if _ANNOTATION_WORD.match(token.strip()) and (" " in t or t.endswith(("s", "ing", "ed"))):
        return True  # lower-case descriptions: "both laugh", "nods", "coughing", "paused"
    return False


@dataclass
class Scan:
    """What the first look found; label sets hold ``label_key`` values."""

    colon_labels: set[str] = field(default_factory=set)
    bracket_labels: set[str] = field(default_factory=set)
    name_line_labels: set[str] = field(default_factory=set)
    colon_counts: Counter[str] = field(default_factory=Counter)
    singles: list[tuple[int, str]] = field(default_factory=list)  # (line number, label) of once-only candidates
    time_marks: bool = False

    def family(self, rules: SpeakerRules) -> set[str]:
        """Once-only labels of a recurring label's family: ``admin-2`` beside ``admin-1`` (twice),
        ``Speaker 3`` beside ``Speaker 1``."""
        bases = {label_base(k) for k in self.colon_labels if label_base(k) != k}
        return {label_key(lab) for _, lab in self.singles if label_base(lab) in bases}


def scan_text(text: str) -> Scan:
    """One pass over the lines of a document."""
    colon: Counter[str] = Counter()
    bracket: Counter[str] = Counter()
    named: Counter[str] = Counter()
    first_line: dict[str, tuple[int, str]] = {}
    marks = "#" in text and TIME_MARK.search(text) is not None
    for lineno, line in enumerate(text.split("\n"), 1):
        head = line[:120]
        if ":" in head:
            m = COLON_CANDIDATE.match(head)
            if m and name_shaped(m["label"]):
                key = label_key(m["label"])
                colon[key] += 1
                first_line.setdefault(key, (lineno, m["label"].strip()))
        if head.lstrip().startswith("["):
            b = BRACKET_LINE.match(head)
            if (
                b
                and name_shaped(b["label"], fields=True)
                and not is_annotation(b["label"])
                and not is_timestamp(b["label"])
            ):
                bracket[label_key(b["label"])] += 1
        if head and head.rstrip()[-1:] in "0123456789]):":
            n = NAME_TS_LINE.match(head) or TS_NAME_LINE.match(head)
            if n and name_shaped(n["label"]):
                named[label_key(n["label"])] += 1
    recurring = {k for k, n in bracket.items() if n >= 2}
    bases = {label_base(k) for k in recurring if label_base(k) != k}  # [id1] twice: [id2] once is a speaker too
    scan = Scan(
        colon_labels={k for k, n in colon.items() if n >= 2},
        bracket_labels=recurring | {k for k in bracket if label_base(k) in bases},
        name_line_labels={k for k, n in named.items() if n >= 2},
        colon_counts=colon,
        time_marks=marks,
    )
    scan.singles = sorted(v for k, v in first_line.items() if colon[k] == 1)
    return scan


def warn_worthy(label: str) -> bool:
    """A once-only ``Label:`` that a reader would take for a speaker: a personal name or an id."""
    return looks_like_name(label) or is_participant_style(label) or any(c.isdigit() for c in label)
