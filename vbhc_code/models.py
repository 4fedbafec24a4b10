"""The data model: documents -> speaker turns with exact offsets -> codings by coder.

All offsets are 0-based, end-exclusive indices (Unicode code points) into a document's
``plain_text``. For a turn with a single span, ``plain_text[turn.start:turn.end] == turn.text``.
A turn merged from several cues (WebVTT/SRT) keeps one span per cue and its ``text`` is the cue
texts joined with one space.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

DOC_TYPES = ("interview", "focus_group")
ROLES = ("participant", "interviewer")
TURN_TYPES = ("speech", "chat")
SCOPES = ("participant", "all")

Span = tuple[int, int]


def frozen_mapping(data: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only copy of ``data`` (attributes stay immutable inside frozen dataclasses)."""
    return MappingProxyType(dict(data or {}))


@dataclass(frozen=True)
class Turn:
    """One speaker's contiguous speech (or one chat message)."""

    turn_index: int  # 1-based, document order; chat turns numbered in sequence with speech
    start: int
    end: int
    text: str
    speaker: str | None = None  # the label as written in the transcript
    participant_id: str | None = None
    role: str = "participant"  # participant | interviewer
    turn_type: str = "speech"  # speech | chat
    spans: tuple[Span, ...] = ()  # one (start, end) per cue/paragraph piece; () means ((start, end),)
    timestamps: tuple[str, ...] = ()  # as written, e.g. "00:01:02" or "00:01:02.500 --> 00:01:05.000"
    sentences: tuple[Span, ...] = ()  # sentence spans (document offsets), filled by segment.py
    line: int | None = None  # 1-based source line (or paragraph number for .docx) where the turn starts
    document: str = ""  # the owning document's name, set once the document is named

    @property
    def text_spans(self) -> tuple[Span, ...]:
        return self.spans or ((self.start, self.end),)

    @property
    def is_single_span(self) -> bool:
        return len(self.text_spans) == 1


@dataclass(frozen=True)
class ParsedTranscript:
    """What a reader returns: the plain text and its turns, before participants are matched."""

    plain_text: str
    turns: tuple[Turn, ...]
    encoding: str
    warnings: tuple[str, ...] = ()
    format: str = ""  # detected from the content: a .txt holding WebVTT is "vtt"
    layout: tuple[str, ...] = ()  # the label conventions found, most used first ("recurring labels", "table", ...)


@dataclass(frozen=True)
class Document:
    name: str  # path relative to the ingested folder, '/'-separated
    format: str  # txt | md | docx | vtt | srt | qdpx
    encoding: str
    sha256: str
    plain_text: str
    turns: tuple[Turn, ...] = ()
    doc_type: str = "interview"  # interview | focus_group
    language: str = "en"
    attributes: Mapping[str, Any] = field(default_factory=frozen_mapping)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Participant:
    participant_id: str
    aliases: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=frozen_mapping)


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class Code:
    id: str
    theme: str
    label: str
    definition: str = ""
    include: str = ""
    exclude: str = ""
    examples: tuple[str, ...] = ()
    terms: Mapping[str, tuple[str, ...]] = field(default_factory=frozen_mapping)  # lang -> phrases
    patterns: Mapping[str, tuple[Any, ...]] = field(default_factory=frozen_mapping)  # lang -> spaCy token patterns
    negative: Mapping[str, tuple[str, ...]] = field(default_factory=frozen_mapping)  # lang -> veto phrases
    weak: Mapping[str, tuple[str, ...]] = field(default_factory=frozen_mapping)  # lang -> terms needing domain context
    color: str | None = None  # '#RRGGBB'
    title: str = ""  # readable name for tables and quotes ("Integrated practice units")

    @property
    def display_title(self) -> str:
        """The title; for a code without one (an older stored codebook), its label made readable."""
        return self.title or readable_label(self.label or self.id)


def readable_label(label: str) -> str:
    """``outcome_measurement`` -> ``Outcome measurement``: a fallback title from an identifier-like label."""
    text = " ".join(label.replace("_", " ").split())
    return text[:1].upper() + text[1:] if text else label


@dataclass(frozen=True)
class Codebook:
    name: str
    version: str
    languages: tuple[str, ...]
    themes: tuple[Theme, ...]
    codes: tuple[Code, ...]
    description: str = ""
    source: str = ""
    sha256: str = ""  # of the file's bytes (or of a canonical serialisation when not from a file)
    context: Mapping[str, tuple[str, ...]] = field(default_factory=frozen_mapping)  # lang -> domain context words
    interview_talk: Mapping[str, tuple[str, ...]] = field(default_factory=frozen_mapping)  # lang -> sentence vetoes
    extends: str = ""  # the codebook a study codebook extends (e.g. "vbhc-sim")

    def code(self, code_id: str) -> Code:
        for code in self.codes:
            if code.id == code_id:
                return code
        raise KeyError(code_id)

    @property
    def code_ids(self) -> tuple[str, ...]:
        return tuple(code.id for code in self.codes)


@dataclass(frozen=True)
class Coding:
    """One code applied by one coder to one turn (optionally to a character span within it)."""

    document: str
    turn_index: int
    code: str
    coder: str
    start: int | None = None  # character span (document offsets) when known: autocode evidence, REFI selection
    end: int | None = None
    evidence: str | None = None  # e.g. "term 'bundled payment'" or "pattern 2"; never required
    confidence: float | None = None  # autocode's 0-1 score from its evidence; None for human codings


def covered_spans(coding: Coding, turn: Turn) -> tuple[Span, ...]:
    """The characters a coding covers (document offsets): its span when it has one, else its turn's text spans.

    A whole-turn coding of a caption turn merged from several cues covers the cue texts only, never the cue
    ids and timings between them. This one notion is shared by the character unit and ``--mode nvivo`` of
    ``agreement`` and by the REFI export (one selection per span), so a REFI consumer counts what we count.
    """
    if coding.start is not None and coding.end is not None and coding.end > coding.start:
        return ((coding.start, coding.end),)
    spans = tuple((s, e) for s, e in turn.text_spans if e > s)
    return spans or ((turn.start, turn.end),)


class Result(Mapping[str, Any]):
    """Base of the typed results (a dataclass each): attributes for Python, and read-only mapping access in
    the order of the ``--json`` keys, so ``report["pooled"]`` and ``json.dumps(report.to_dict())`` agree."""

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import fields

        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def _keys(self) -> tuple[str, ...]:
        from dataclasses import fields

        return tuple(f.name for f in fields(self))  # type: ignore[arg-type]


@dataclass(frozen=True, eq=False)
class AgreementReport(Result):
    """``agreement``: coefficients per code, pooled over every unit x code cell, and their macro mean.

    Each statistics dict holds the coefficients (``cohen_kappa``, ``krippendorff_alpha``, ...), the counts
    and intervals; ``reasons`` says, by key, why a figure is null.
    """

    unit: str
    scope: str
    mode: str | None
    coders: list[str]
    n_units: int
    pooled: dict[str, Any]
    macro: dict[str, Any]
    per_code: dict[str, dict[str, Any]]
    reasons: dict[str, str]


@dataclass(frozen=True, eq=False)
class EvaluationReport(Result):
    """``evaluate``: ``coder`` scored against the reference ``against`` (precision, recall, F1, kappa)."""

    coder: str
    against: str
    unit: str
    scope: str
    n_units: int
    pooled: dict[str, Any]
    macro: dict[str, Any]
    per_code: dict[str, dict[str, Any]]
    confidence_bands: list[dict[str, Any]] | None
    reasons: dict[str, str]


@dataclass(frozen=True, eq=False)
class ReconcileStatus(Result):
    """``reconcile --status``: progress of a reconciliation workbook (``stale``: cells changed since)."""

    file: str
    coders: list[str]
    disagreements: int
    decided: int
    undecided: int
    invalid: int
    invalid_cells: list[str]
    percent_decided: float
    by_decision: dict[str, int]
    by_code: dict[str, dict[str, int]]
    earlier_decisions: int
    stale: int | None
    stale_consensus: list[str]


@dataclass(frozen=True, eq=False)
class IdentifierFinding(Result):
    """One span the identifier check flags: ``kind`` is url, e-mail, phone, bsn, postcode or name.

    ``text`` is the flagged span itself: it never goes into a message or log, only to the researcher's own
    ``check-identifiers`` output.
    """

    document: str
    turn_index: int | None
    start: int
    end: int
    kind: str
    text: str
