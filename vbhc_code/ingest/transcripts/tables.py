"""Which columns of a Word table hold the speaker, the text and metadata (number, time).

A table of any column count is a speaker table when its header row names a speaker column
(Speaker/Spreker/Name/Naam/Participant, ...) and a text column (Text/Tekst/Utterance/Transcript, ...), or,
without a header row, when one column holds short names of which one recurs (or, in a table of 2-3 columns,
when the first column holds labels, as typists write ``Interviewer | text``). Number and time columns are
metadata; the header row is no turn; a cell of several paragraphs is one turn.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from vbhc_code.ingest.transcripts.labels import TS, is_header_field, is_timestamp, name_shaped

SPEAKER_HEADERS = frozenset(
    "speaker spreker name naam participant deelnemer who wie respondent person persoon spreker/naam sprecher "
    "interlocutor".split()
)
TEXT_HEADERS = frozenset(
    "text tekst utterance transcript transcriptie transcription content inhoud speech quote uitspraak "
    "statement dialogue dialog words tekst/uitspraak".split()
)
TIME_HEADERS = frozenset(
    "time tijd timestamp tijdstip timecode tijdcode tc start begin end einde eind duration duur in out "
    "start time end time begintijd eindtijd zeit".split()
)
NUMBER_HEADERS = frozenset("# no no. nr nr. number nummer num line regel id turn beurt index line no. # nr".split())

_NUMBER = re.compile(r"^\d{1,6}[.)]?$")
_RANGE = re.compile(rf"^\[?\(?{TS}\]?\)?[ \t]*(?:-->|-|\u2013|to|tot)[ \t]*\[?\(?{TS}\]?\)?$")


@dataclass(frozen=True)
class TableLayout:
    header: bool  # the first row is a header row
    speaker: int  # column index
    text: int
    times: tuple[int, ...] = ()


def _norm(cell: str) -> str:
    return " ".join(cell.strip().strip(":").split()).lower()


def _is_time(value: str) -> bool:
    v = value.strip()
    return is_timestamp(v) or bool(_RANGE.match(v))


def _header_layout(first: list[str]) -> TableLayout | None:
    speaker = text = None
    times: list[int] = []
    for i, cell in enumerate(first):
        c = _norm(cell)
        if not c:
            continue
        if c in SPEAKER_HEADERS and speaker is None:
            speaker = i
        elif c in TEXT_HEADERS and text is None:
            text = i
        elif c in TIME_HEADERS:
            times.append(i)
        elif c not in NUMBER_HEADERS:
            return None  # a header row holds only column names
    if speaker is None or text is None:
        return None
    return TableLayout(True, speaker, text, tuple(times))


def table_layout(rows: list[list[str]]) -> TableLayout | None:
    """The speaker table layout of ``rows`` (cell texts), or None when it is not a speaker table."""
    if not rows:
        return None
    width = max(len(r) for r in rows)
    if width < 2:
        return None
    layout = _header_layout(rows[0])
    if layout is not None:
        return layout
    columns = [[r[i].strip() for r in rows if i < len(r) and r[i].strip()] for i in range(width)]
    meta = {i for i, values in enumerate(columns) if not values or all(_NUMBER.match(v) or _is_time(v) for v in values)}
    times = tuple(i for i, values in enumerate(columns) if values and all(_is_time(v) for v in values))
    rest = [i for i in range(width) if i not in meta]
    if len(rest) < 2:
        return None
    for i in rest:
        values = columns[i]
        if not all("\n" not in v and name_shaped(v) for v in values):
            continue
        counts = Counter(" ".join(v.lower().split()) for v in values)
        recurring = any(n >= 2 for n in counts.values()) and len(counts) < len(values)
        legacy = width <= 3 and i == rest[0] == 0 and len(rest) == 2
        if not (recurring or legacy):
            continue
        if all(is_header_field(v) for v in values):
            continue  # "Date | 2024-01-01": a table of fields
        others = [j for j in rest if j != i]
        text = max(others, key=lambda j: (sum(len(v) for v in columns[j]), -j))
        return TableLayout(False, i, text, times)
    return None
