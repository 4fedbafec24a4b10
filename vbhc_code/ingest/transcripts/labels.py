"""Which strings are speaker labels, and which role a label has.

Default labels: the participant ids and aliases from the participants sheet, common interviewer roles
(Interviewer, Moderator, Facilitator, Researcher, Int, I/R/Q/A) and participant-style ids (P01, P1, R3,
Participant 4, Respondent 2). Header fields (Date, Note, Location, Duration, ...) are never labels.
``--speaker-pattern`` replaces the default rules by one regular expression.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from vbhc_code.files.sheets import label_key

# A timestamp as written beside a label: hh:mm:ss, h:mm:ss, mm:ss, optional .mmm / ,mmm.
TS = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
TS_ANY = rf"(?:\[{TS}\]|\({TS}\)|{TS})"
_TS_FULL = re.compile(rf"^{TS}$")

INTERVIEWER_WORDS = frozenset(
    "interviewer moderator facilitator researcher int i q co-moderator comoderator onderzoeker "
    "gespreksleider interviewster".split()
)
PARTICIPANT_WORDS = frozenset("r a interviewee respondent participant deelnemer spreker speaker expert".split())
# Never speaker labels (checked after dropping a trailing number): typical transcript header fields.
HEADER_FIELDS = frozenset(
    """date datum note notes location locatie place plaats duration duur length lengte time tijd title titel
    project transcript transcription transcriber transcriptie interview subject topic onderwerp setting session
    sessie recording opname file bestand version versie language taal participants deelnemers attendees present
    aanwezig study studie source bron keywords comment comments opmerking opmerkingen reference ref start end
    begin einde mode platform medium format type group groep code id chat""".split()
)
# Column headers of a speaker/time/text table.
TABLE_HEADERS = frozenset("speaker spreker name naam who wie time tijd timestamp text tekst utterance".split())

_PARTICIPANT_STYLE = re.compile(
    r"^(?:[a-z]{1,2}\d{1,3}|(?:participant|respondent|interviewee|speaker|spreker|deelnemer|expert|"
    r"interviewer|moderator|facilitator)[ _-]?\d{1,3})$",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"^[A-Z\u00c0-\u00de][\w'\u2019.\-]*$")
_PARTICLES = frozenset("de van der den von la le du ten ter 't van't da di del dos bin el al".split())
_CAPS_LABEL = re.compile(r"^[A-Z\u00c0-\u00de][A-Z\u00c0-\u00de'\u2019.\- ]{0,38}(?: \d{1,2})?$")


def _base(label: str) -> str:
    """Lower-cased label without a trailing number: 'Interviewer 2' -> 'interviewer'."""
    return re.sub(r"[ _-]?\d{1,3}$", "", " ".join(label.split()).lower())


def is_header_field(label: str) -> bool:
    return _base(label) in HEADER_FIELDS


def looks_like_name(label: str) -> bool:
    """A personal name as tools write it before a caption ('Anna de Vries', 'Dr. Jansen'): capitalised words."""
    words = label.split()
    if not 1 <= len(words) <= 5 or len(label) > 60:
        return False
    if not _NAME_WORD.match(words[0]):
        return False
    return all(_NAME_WORD.match(w) or w.lower() in _PARTICLES for w in words[1:])


def is_caps_label(label: str) -> bool:
    """Broadcast-caption style ALL-CAPS label ('NARRATOR', 'MAN 2', 'MR. SMITH')."""
    return bool(_CAPS_LABEL.match(label)) and any(c.isalpha() for c in label)


def is_timestamp(text: str) -> bool:
    return bool(_TS_FULL.match(text.strip().strip("[]()")))


class SpeakerRules:
    """Decides whether a label is a speaker label and the speaker's role.

    ``known_labels``: participant ids and aliases (matched case-insensitively, P1 == P01).
    ``pattern``: a regular expression a label must match in full; replaces the default rules.
    """

    def __init__(self, known_labels: Iterable[str] = (), pattern: str | None = None) -> None:
        self.known_labels = tuple(known_labels)
        self.pattern = pattern
        self._regex = re.compile(pattern) if pattern else None
        self._known = {label_key(k) for k in self.known_labels if k.strip()}
        self._participant_keys = set(self._known)

    def with_labels(self, labels: Iterable[str], *, participant: bool = False) -> SpeakerRules:
        """A copy that also accepts ``labels`` (e.g. bold labels found in a .docx)."""
        new = SpeakerRules(self.known_labels, self.pattern)
        extra = {label_key(x) for x in labels if x.strip()}
        new._known |= extra
        if participant:
            new._participant_keys |= extra
        return new

    def accepts(self, label: str, *, explicit: bool = False) -> bool:
        """True when ``label`` is a speaker label.

        ``explicit``: the markup itself marks a speaker (``<v Name>``, ``**Name:**``, a chat line, a
        speaker table), so any name is accepted except header fields.
        """
        label = label.strip()
        if not label or len(label) > 60 or "\n" in label:
            return False
        if self._regex is not None and not explicit:
            return bool(self._regex.fullmatch(label))
        if is_header_field(label):
            return label_key(label) in self._participant_keys  # only when the participants sheet says so
        if explicit:
            return True
        key = label_key(label)
        if key in self._known:
            return True
        base = _base(label)
        if base in INTERVIEWER_WORDS or base in ("r", "a") and base == label.strip().lower():
            return True
        return bool(_PARTICIPANT_STYLE.match(label))

    def role(self, label: str | None) -> str:
        if not label:
            return "participant"
        if label_key(label) in self._participant_keys:
            return "participant"
        return "interviewer" if _base(label) in INTERVIEWER_WORDS else "participant"
