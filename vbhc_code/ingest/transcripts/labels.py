"""Which strings are speaker labels, and which role a label has.

Default labels: the participant ids and aliases from the participants sheet, common interviewer roles
(Interviewer, Moderator, Facilitator, Researcher, Int, I/R/Q/A) and participant-style ids (P01, P1, R3,
Participant 4, Respondent 2). Header fields (Date, Note, Location, Duration, ...) are never labels.
``--speaker-pattern`` adds one regular expression: a plain-line label that matches it in full is accepted too.
The participants sheet may name interviewers (``speaker_role``); their labels get the interviewer role.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

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


@lru_cache(maxsize=8192)
def _base(label: str) -> str:
    """Lower-cased label without a trailing number: 'Interviewer 2' -> 'interviewer'."""
    return re.sub(r"[ _-]?\d{1,3}$", "", " ".join(label.split()).lower())


def label_base(label: str) -> str:
    """A label without its number, lower-cased: 'admin-2' -> 'admin', 'Speaker 3' -> 'speaker'."""
    return _base(label)


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


_BAD_LABEL_CHARS = re.compile(r"[,;?!\"\u201c\u201d=<>{}|/\\]")


def name_shaped(label: str, *, fields: bool = False) -> bool:
    """Shaped like a speaker label (MAXQDA's rule): 1-5 words, at most 40 characters, starts with a letter,
    no sentence punctuation, and not a header field (unless ``fields``: ``[id1]`` is no field)."""
    label = label.strip()
    if not label or len(label) > 40 or not label[0].isalpha():
        return False
    if not 1 <= len(label.split()) <= 5 or _BAD_LABEL_CHARS.search(label):
        return False
    return fields or not is_header_field(label)


def is_participant_style(label: str) -> bool:
    return bool(_PARTICIPANT_STYLE.match(label.strip()))


class SpeakerRules:
    """Decides whether a label is a speaker label and the speaker's role.

    ``known_labels``: participant ids and aliases (matched case-insensitively, P1 == P01).
    ``interviewer_labels``: labels of the interviewers named in the participants sheet (role interviewer).
    ``pattern``: a regular expression; a plain-line label that matches it in full is accepted as well.
    """

    def __init__(
        self, known_labels: Iterable[str] = (), pattern: str | None = None, interviewer_labels: Iterable[str] = ()
    ) -> None:
        self.known_labels = tuple(known_labels)
        self.interviewer_labels = tuple(interviewer_labels)
        self.pattern = pattern
        self._regex = re.compile(pattern) if pattern else None
        self._interviewer_keys = {label_key(k) for k in self.interviewer_labels if k.strip()}
        self._sheet = {label_key(k) for k in self.known_labels if k.strip()} | self._interviewer_keys
        self._known = set(self._sheet)
        self._participant_keys = self._sheet - self._interviewer_keys
        self._cache: dict[tuple[str, bool], bool] = {}
        self._roles: dict[str, str] = {}

    def with_labels(self, labels: Iterable[str], *, participant: bool = False) -> SpeakerRules:
        """A copy that also accepts ``labels`` (e.g. bold labels found in a .docx)."""
        new = SpeakerRules(self.known_labels, self.pattern, self.interviewer_labels)
        new._known = set(self._known)
        new._participant_keys = set(self._participant_keys)
        extra = {label_key(x) for x in labels if x.strip()}
        new._known |= extra
        if participant:
            new._participant_keys |= extra - self._interviewer_keys
        return new

    def is_known(self, label: str) -> bool:
        """A label of the participants sheet or one found for this document (not a default role word)."""
        return label_key(label) in self._known

    def in_sheet(self, label: str) -> bool:
        return label_key(label) in self._sheet

    def accepts(self, label: str, *, explicit: bool = False) -> bool:
        """True when ``label`` is a speaker label.

        ``explicit``: the markup itself marks a speaker (``<v Name>``, ``**Name:**``, a chat line, a
        speaker table), so any name is accepted except header fields.
        """
        key = (label, explicit)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._accepts(label, explicit)
        return cached

    def _accepts(self, label: str, explicit: bool) -> bool:
        label = label.strip()
        if not label or len(label) > 60 or "\n" in label:
            return False
        if self._regex is not None and not explicit and self._regex.fullmatch(label):
            return True
        if is_header_field(label):
            return label_key(label) in self._participant_keys  # only when the participants sheet says so
        if explicit:
            return True
        key = label_key(label)
        if key in self._known:
            return True
        base = _base(label)
        if base in INTERVIEWER_WORDS or base in ("r", "a", "b") and base == label.strip().lower():
            return True
        return bool(_PARTICIPANT_STYLE.match(label))

    def role(self, label: str | None) -> str:
        if not label:
            return "participant"
        role = self._roles.get(label)
        if role is None:
            role = self._roles[label] = self._role(label)
        return role

    def _role(self, label: str) -> str:
        key = label_key(label)
        if key in self._interviewer_keys:
            return "interviewer"
        if key in self._participant_keys:
            return "participant"
        return "interviewer" if _base(label) in INTERVIEWER_WORDS else "participant"
