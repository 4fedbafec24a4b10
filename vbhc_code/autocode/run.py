"""The explainable autocoder: codebook terms and patterns matched per turn, stored as a coder.

Per document language: a tokenizer-only spaCy pipeline on quote/dash/diacritic-normalised text,
``PhraseMatcher`` on LOWER (every term in its spelling variants, and the other languages' terms as
written, for code switching) and on LEMMA (lookup lemmas from ``spacy-lookups-data``), and the token
``Matcher`` only around tokens a pattern requires. A code's ``negative`` terms veto the matches of
that code they overlap. Every coding carries its evidence: which term or pattern fired, where.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from vbhc_code.autocode.terms import term_variants
from vbhc_code.codebook.load import codebook_mix_warnings, describe
from vbhc_code.errors import DataError, HumanWorkExists, UsageError, opt
from vbhc_code.models import SCOPES, Codebook, Coding, Turn

UNITS = ("turn", "sentence")
_SEP = "\x1f"
MAX_EVIDENCE = 5  # hits listed per coding; the count says how many more


@dataclass(frozen=True)
class Hit:
    """One term or pattern match, offsets in the matched text (turn text, or document when mapped)."""

    code: str
    kind: str  # term | weak (needs domain context) | pattern | context | interview (talk about the interview)
    label: str  # the term as written in the codebook, or e.g. "SIM1.patterns.en[0]"
    via: str  # lower | lemma | pattern
    start: int
    end: int
    vetoed_by: str | None = None  # the negative term that vetoed it
    segments: tuple[tuple[int, int], ...] = ()  # document spans when the match crosses cues

    @property
    def offsets(self) -> str:
        return "+".join(f"{s}-{e}" for s, e in self.segments) if len(self.segments) > 1 else f"{self.start}-{self.end}"

    @property
    def codes(self) -> bool:
        """Whether the hit is a code's trigger (not context or interview talk) and was not vetoed."""
        return self.kind in ("term", "weak", "pattern") and self.vetoed_by is None

    def describe(self) -> str:
        what = (
            f"pattern {self.label}"
            if self.kind == "pattern"
            else f"{_KIND_NAMES.get(self.kind, 'term')} '{self.label}'"
        )
        how = f" ({self.via})" if self.kind != "pattern" else ""
        return f"{what}{how} {self.offsets}"


_KIND_NAMES = {"term": "term", "weak": "weak term", "context": "context", "interview": "interview talk"}
NO_CONTEXT = "no domain context in the turn"


@dataclass
class AutocodeReport:
    coder: str
    codebook: str  # name version (sha)
    unit: str
    scope: str
    documents: int = 0
    turns: int = 0
    words: int = 0
    codings: int = 0
    per_code: dict[str, dict[str, int]] = field(default_factory=dict)  # code -> {codings, turns, vetoed}
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0  # coding: reading turns, matching, storing (start-up excluded)
    startup_seconds: float = 0.0  # building the spaCy pipeline and the codebook's matchers (cold start)


class CodebookMatcher:
    """All of a codebook's terms, negatives and patterns for documents in one language."""

    def __init__(self, codebook: Codebook, lang: str) -> None:
        from vbhc_code.nlp.match import TermMatcher

        self.lang = lang
        self.matcher = TermMatcher(lang)
        self.order: dict[str, int] = {}  # key -> position in the codebook (the first listed term explains a hit)
        for code in codebook.codes:
            for term_lang, terms in code.terms.items():
                self._add_terms(code.id, "pos", term_lang, terms)
            for term_lang, terms in code.weak.items():
                self._add_terms(code.id, "weak", term_lang, terms)
            for term_lang, terms in code.negative.items():
                self._add_terms(code.id, "neg", term_lang, terms)
            for i, pattern in enumerate(code.patterns.get(lang, ())):
                self.matcher.add_pattern(_SEP.join((code.id, "pattern", f"{code.id}.patterns.{lang}[{i}]")), pattern)
        for term_lang, terms in codebook.context.items():
            self._add_terms("", "context", term_lang, terms)
        for term_lang, terms in codebook.interview_talk.items():
            self._add_terms("", "interview", term_lang, terms)

    def _add_terms(self, code: str, polarity: str, term_lang: str, terms: Iterable[str]) -> None:
        for term in terms:
            key = _SEP.join((code, polarity, term))
            self.order.setdefault(key, len(self.order))
            self.matcher.add_lower(key, sorted(term_variants(term, term_lang)))
            if term_lang == self.lang and self._lemma_safe(term):
                self.matcher.add_lemma(key, [term])

    def _lemma_safe(self, term: str) -> bool:
        """Match a term on its lemma unless that widens a single word into another one.

        A one-word term written in an inflected or derived form ("costing", "specialised") is
        meant as written; its lemma ("cost", "specialise") would match far more than the author
        chose. Base forms and multi-word terms are matched on their lemmas.
        """
        lemmas = self.matcher.lemmatise(term)
        if len(lemmas) > 1:
            return True
        from vbhc_code.codebook.load import normalise_term

        return lemmas == [normalise_term(term)]

    def match(self, texts: Iterable[str]) -> Iterable[list[Hit]]:
        """Per text: its hits after vetoes (vetoed hits are kept, marked, for --explain)."""
        for found in self.matcher.pipe(texts):
            yield _resolve(found, self.order)


_KINDS = {"pos": "term", "weak": "weak", "pattern": "pattern", "context": "context", "interview": "interview"}


def _resolve(found: list[tuple[str, str, int, int]], order: dict[str, int]) -> list[Hit]:
    best: dict[tuple[str, int, int], tuple[tuple[bool, int, int], Hit]] = {}
    negatives: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for key, via, start, end in found:
        code, polarity, label = key.split(_SEP, 2)
        if polarity == "neg":
            negatives[code].append((start, end, label))
            continue
        hit = Hit(code, _KINDS[polarity], label, via, start, end)
        k = (code or polarity, start, end)
        # One hit per span and code: a code's own term before a weak one, a LOWER match before a lemma
        # match, and the first term listed in the codebook before a later one.
        rank = (polarity == "weak", 0 if via == "lower" else 1, order.get(key, 0))
        if k not in best or rank < best[k][0]:
            best[k] = (rank, hit)
    hits = []
    for (code, start, end), (_, hit) in sorted(best.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
        for n_start, n_end, label in negatives.get(code, ()):
            if n_start < end and start < n_end:
                hit = replace(hit, vetoed_by=label)
                break
        hits.append(hit)
    return hits


_MATCHERS: dict[tuple[str, str], CodebookMatcher] = {}


def codebook_matcher(codebook: Codebook, lang: str) -> CodebookMatcher:
    """A matcher per (codebook file, language), built once per process (building takes a second)."""
    if not codebook.sha256:
        return CodebookMatcher(codebook, lang)
    key = (codebook.sha256, lang)
    if key not in _MATCHERS:
        if len(_MATCHERS) > 8:
            _MATCHERS.clear()
        _MATCHERS[key] = CodebookMatcher(codebook, lang)
    return _MATCHERS[key]


def _turn_pieces(turn: Turn) -> list[tuple[int, int]]:
    """The turn's spans in the document; the matched text is their raw text joined by single spaces."""
    return [(s, e) for s, e in turn.text_spans if e > s] or [(turn.start, turn.start)]


def _match_text(pieces: list[tuple[int, int]], plain_text: str) -> str:
    # Raw document text, not the cleaned turn text (cue markup, entities), so offsets map back exactly.
    return " ".join(plain_text[s:e] for s, e in pieces)


def _offset_mapper(pieces: list[tuple[int, int]]) -> Callable[[int, int], tuple[tuple[int, int], ...]]:
    """Match-text offsets -> the document segment(s) they cover (several when a match crosses cues)."""
    starts, pos = [], 0
    for s, e in pieces:
        starts.append(pos)
        pos += e - s + 1

    def mapped(start: int, end: int) -> tuple[tuple[int, int], ...]:
        segments = []
        for (s, e), off in zip(pieces, starts):
            lo, hi = max(start, off), min(end, off + e - s)
            if hi > lo:
                segments.append((s + lo - off, s + hi - off))
        return tuple(segments)

    return mapped


def _document_languages(store: Any) -> dict[str, str]:
    return dict(store.document_languages())


# Strength of one distinct trigger (see ``confidence``): a specific phrase or a pattern says more than one
# word, a weak term (one that codes only with domain context) less; a lemma match is a little looser.
STRENGTH = {"phrase": 0.7, "pattern": 0.7, "word": 0.55, "weak": 0.35}
LEMMA_PENALTY = 0.05
CONTEXT_BONUS = 0.05  # per distinct context word or other code's trigger in the turn, at most 3
MAX_CONFIDENCE = 0.99


def trigger_strength(hit: Hit) -> float:
    """How much one trigger alone says that its code applies (0-1)."""
    if hit.kind == "pattern":
        base = STRENGTH["pattern"]
    elif hit.kind == "weak":
        base = STRENGTH["weak"]
    else:
        base = STRENGTH["phrase" if len(hit.label.replace("-", " ").split()) > 1 else "word"]
    return base - (LEMMA_PENALTY if hit.via == "lemma" else 0.0)


def confidence(code_hits: Sequence[Hit], context: int) -> float:
    """A coding's confidence from its evidence: distinct triggers combined as independent pieces of evidence
    (1 - product of (1 - strength)), plus a little for each distinct piece of domain context in the turn.

    >>> confidence([Hit("C", "term", "bundled payment", "lower", 0, 15)], context=2)
    0.8
    """
    strongest: dict[str, float] = {}
    for h in code_hits:
        strongest[h.label] = max(strongest.get(h.label, 0.0), trigger_strength(h))
    miss = 1.0
    for value in strongest.values():
        miss *= 1.0 - value
    score = 1.0 - miss + CONTEXT_BONUS * min(context, 3)
    return round(min(score, MAX_CONFIDENCE), 2)


def _context_count(hits: Sequence[Hit], code: str) -> int:
    """Distinct context words, and other codes' triggers, in the turn (not vetoed)."""
    labels = {h.label for h in hits if h.kind == "context" and h.vetoed_by is None}
    labels |= {h.code for h in hits if h.codes and h.code != code and h.kind != "weak"}
    return len(labels)


def _codings_for_turn(turn: Turn, hits: list[Hit], coder: str, unit: str, min_confidence: float = 0.0) -> list[Coding]:
    by_code: dict[str, list[Hit]] = defaultdict(list)
    for hit in hits:
        if hit.codes:
            by_code[hit.code].append(hit)
    codings = []
    for code, code_hits in by_code.items():
        if unit == "turn":
            # The stored span is the first match that lies in one piece of text (not across cues).
            whole = next((h for h in code_hits if not h.segments), None)
            ordered = [whole, *(h for h in code_hits if h is not whole)] if whole else code_hits
            groups: Sequence[tuple[tuple[int, int] | tuple[None, None], list[Hit]]] = [
                ((whole.start, whole.end) if whole else (None, None), ordered)
            ]
        else:
            groups = _by_sentence(turn, code_hits)
        context = _context_count(hits, code)
        for (start, end), group in groups:
            score = confidence(group, context)
            if score < min_confidence:
                continue
            evidence = "; ".join(h.describe() for h in group[:MAX_EVIDENCE])
            if len(group) > MAX_EVIDENCE:
                evidence += f"; +{len(group) - MAX_EVIDENCE} more"
            codings.append(Coding(turn.document, turn.turn_index, code, coder, start, end, evidence, score))
    return codings


# A document is coded only when it is about the domain at all: at least 3 distinct context words, and
# context words at least 8 times per 1,000 words (interviews on the topic have 30-80; off-topic meetings,
# lectures and documentaries 0-5).
# Documents shorter than 300 words of coded turns are too short to judge and are not gated.
DOCUMENT_CONTEXT = 3
DOCUMENT_CONTEXT_PER_1000 = 8.0
DOCUMENT_MIN_WORDS = 300


def document_context_problem(distinct: int, hits: int, words: int) -> str | None:
    """Why a document is off-topic for the codebook (None when its domain context suffices)."""
    density = 1000 * hits / words if words else 0.0
    if words < DOCUMENT_MIN_WORDS or distinct >= DOCUMENT_CONTEXT and density >= DOCUMENT_CONTEXT_PER_1000:
        return None
    return (f"off-topic document: {distinct} distinct domain context word(s), {density:.1f} per 1,000 words "
            f"(needs {DOCUMENT_CONTEXT} and {DOCUMENT_CONTEXT_PER_1000:g})")


def needs_context(hit: Hit) -> bool:
    """Weak terms, and single-word terms other than acronyms, code only with domain context in the turn.

    A single everyday word ("bundle", "consent", "culture") is evidence only where the talk is about the
    domain; a phrase ("bundled payment") or an acronym ("PROMs") carries its own context.
    """
    if hit.kind == "weak":
        return True
    if hit.kind != "term":
        return False
    words = hit.label.replace("-", " ").split()
    return len(words) == 1 and sum(ch.isupper() for ch in hit.label) < 2


def apply_context_rules(turn: Turn, hits: list[Hit], off_topic: str | None = None) -> list[Hit]:
    """Veto triggers in a sentence about the interview itself, triggers that need context in a turn without
    any, and everything in an ``off_topic`` document (the reason, see ``document_context_problem``).

    Context is a context word, or a trigger that needs none (of any code), outside interview talk.
    Vetoed hits stay in the list, marked, for ``--explain``.
    """
    hits = _veto_interview_talk(turn, hits)
    if off_topic is not None:
        return [replace(h, vetoed_by=off_topic) if h.codes else h for h in hits]
    if any(h.codes and needs_context(h) for h in hits):
        supported = any(
            h.vetoed_by is None and (h.kind == "context" or (h.codes and not needs_context(h))) for h in hits
        )
        if not supported:
            hits = [replace(h, vetoed_by=NO_CONTEXT) if h.codes and needs_context(h) else h for h in hits]
    return hits


def _veto_interview_talk(turn: Turn, hits: list[Hit]) -> list[Hit]:
    talk = [h for h in hits if h.kind == "interview"]
    if not talk:
        return hits
    sentences = list(turn.sentences) or [(turn.start, turn.end)]
    vetoing: dict[tuple[int, int], str] = {}
    for h in talk:
        for s in sentences:
            if s[0] <= h.start < s[1]:
                vetoing.setdefault(s, h.label)
    out = []
    for h in hits:
        if h.kind != "interview" and h.vetoed_by is None:
            label = next((lab for s, lab in vetoing.items() if s[0] <= h.start < s[1]), None)
            if label is not None:
                h = replace(h, vetoed_by=f"interview talk '{label}'")
        out.append(h)
    return out


def _by_sentence(turn: Turn, hits: list[Hit]) -> list[tuple[tuple[int, int], list[Hit]]]:
    sentences = list(turn.sentences) or [(turn.start, turn.end)]
    groups: dict[tuple[int, int], list[Hit]] = {}
    for hit in hits:
        sentence = next((s for s in sentences if s[0] <= hit.start < s[1]), None)
        if sentence is None:  # between sentences (whitespace cannot match): nearest preceding one
            sentence = max((s for s in sentences if s[0] <= hit.start), default=sentences[0])
        groups.setdefault(sentence, []).append(hit)
    return sorted(groups.items())


def match_turns(
    turns: Sequence[Turn], languages: dict[str, str], texts: dict[str, str], codebook: Codebook,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[tuple[str, int], list[Hit]]:
    """Hits per (document, turn_index) in document offsets, vetoed ones included.

    ``texts`` maps each document to its plain text; a hit's ``start:end`` is exactly the matched text.
    """
    by_lang: dict[str, list[Turn]] = defaultdict(list)
    for turn in turns:
        by_lang[languages.get(turn.document, "en")].append(turn)
    out: dict[tuple[str, int], list[Hit]] = {}
    done = 0
    for lang, lang_turns in sorted(by_lang.items()):
        matcher = codebook_matcher(codebook, lang)
        pieces = [_turn_pieces(t) for t in lang_turns]
        match_texts = (_match_text(p, texts[t.document]) for t, p in zip(lang_turns, pieces))
        for turn, turn_pieces, hits in zip(lang_turns, pieces, matcher.match(match_texts)):
            mapped = _offset_mapper(turn_pieces)
            turn_hits = []
            for h in hits:
                segments = mapped(h.start, h.end)
                if segments:
                    turn_hits.append(Hit(h.code, h.kind, h.label, h.via, segments[0][0], segments[-1][1],
                                         h.vetoed_by, segments if len(segments) > 1 else ()))
            out[(turn.document, turn.turn_index)] = turn_hits
            done += 1
            if on_progress is not None and done % 500 == 0:
                on_progress(done, len(turns))
    if codebook.context:
        distinct: dict[str, set[str]] = defaultdict(set)
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # context hits, words
        for turn in turns:
            key = (turn.document, turn.turn_index)
            found = [h.label for h in out[key] if h.kind == "context"]
            distinct[turn.document].update(found)
            counts[turn.document][0] += len(found)
            counts[turn.document][1] += len(turn.text.split())
        gate = {doc: document_context_problem(len(distinct[doc]), *counts[doc]) for doc in counts}
        for turn in turns:
            key = (turn.document, turn.turn_index)
            out[key] = apply_context_rules(turn, out[key], gate[turn.document])
    if on_progress is not None:
        on_progress(len(turns), len(turns))
    return out


def autocode(
    store: Any,
    *,
    codebook: Codebook,
    coder: str = "auto",
    unit: str = "turn",
    scope: str = "participant",
    min_confidence: float = 0.0,
    on_progress: Callable[[int, int], None] | None = None,
    on_words: Callable[[int], None] | None = None,
) -> AutocodeReport:
    """Code every turn in ``scope`` with ``codebook`` and store the result as ``coder`` (atomically).

    Codings whose confidence is below ``min_confidence`` are left out. ``on_progress(turns done, total)``
    follows the matching; ``on_words(words coded so far)`` is called after each batch of documents.
    """
    from vbhc_code.nlp.segment import SUPPORTED_LANGUAGES

    if unit not in UNITS:
        raise UsageError(f"{opt('unit')} must be one of {', '.join(UNITS)}, not '{unit}'")
    if scope not in SCOPES:
        raise UsageError(f"{opt('scope')} must be one of {', '.join(SCOPES)}, not '{scope}'")
    if not coder.strip():
        raise UsageError(f"{opt('coder')} needs a name")
    if not 0.0 <= min_confidence <= 1.0:
        raise UsageError(f"{opt('min_confidence')} must be between 0 and 1, not {min_confidence:g}")
    existing = {c.name: c for c in store.coders()}.get(coder)
    if existing is not None and not (existing.source or "").startswith("autocode "):
        # a human coder's imported work must never be replaced by a machine pass by a slip of --coder
        raise HumanWorkExists(f"{opt('coder', coder)}: coder '{coder}' holds codings "
                              f"from {existing.source or 'elsewhere'}, "
                              f"not from autocode; choose another {opt('coder')}")
    started = time.perf_counter()
    report = AutocodeReport(coder, describe(codebook), unit, scope)
    languages = _document_languages(store)
    if not languages:
        raise DataError(f"{store.path}: the store has no documents (run 'vbhc-code ingest' first)")
    report.warnings += codebook_mix_warnings(store, codebook, coder=coder)
    previous = store.coder_codebook(coder)
    if previous is not None and previous.sha256 != codebook.sha256:
        report.warnings.append(
            f"coder '{coder}' was coded with codebook {describe(previous)}; replaced by {describe(codebook)}"
        )
    for lang in sorted(set(languages.values())):
        if lang not in SUPPORTED_LANGUAGES:
            raise DataError(
                f"documents in language '{lang}' cannot be autocoded (supported: {', '.join(SUPPORTED_LANGUAGES)})"
            )
        if lang not in codebook.languages:
            n = sum(1 for v in languages.values() if v == lang)
            report.warnings.append(
                f"{n} document(s) in '{lang}' but codebook '{codebook.name}' has no '{lang}' terms: "
                "only other languages' terms match there, as written"
            )
    # Building the matchers (spaCy pipeline, every term's variants) is start-up, not coding speed: timed apart,
    # so the words/s of a cold start are not mistaken for the coding rate.
    built = time.perf_counter()
    for lang in sorted(set(languages.values())):
        codebook_matcher(codebook, lang)
    report.startup_seconds = time.perf_counter() - built
    codings: list[Coding] = []
    per_code = {c: {"codings": 0, "turns": 0, "vetoed": 0} for c in codebook.code_ids}
    total, done = store.count_turns(scope=scope), 0
    # Documents a batch at a time: memory stays flat however large the study (the context rules and their
    # gate work per document, so batches of whole documents give the same codings as one pass).
    names = sorted(languages)
    for i in range(0, len(names), DOCUMENT_BATCH):
        batch = names[i:i + DOCUMENT_BATCH]
        turns = store.turns(scope=scope, documents=batch)
        progress = None if on_progress is None else _shifted(on_progress, done, total)
        hits = match_turns(turns, languages, store.plain_texts(batch), codebook, progress)
        for turn in turns:
            turn_hits = hits.get((turn.document, turn.turn_index), [])
            report.words += len(turn.text.split())
            turn_codings = _codings_for_turn(turn, turn_hits, coder, unit, min_confidence)
            _count(per_code, turn_codings, turn_hits)
            codings += turn_codings
        done += len(turns)
        if on_words is not None:
            on_words(report.words)
    store.replace_codings(
        coder,
        codings,
        coded_documents=languages.keys(),
        codebook=codebook,
        source=autocode_source(unit, scope, min_confidence),
    )
    report.documents = len(languages)
    report.turns = done
    report.codings = len(codings)
    report.per_code = per_code
    report.seconds = time.perf_counter() - started - report.startup_seconds
    return report


DOCUMENT_BATCH = 100  # documents read from the store at a time


def _shifted(on_progress: Callable[[int, int], None], done: int, total: int) -> Callable[[int, int], None]:
    """Progress of one batch reported as progress of the whole pass."""
    return lambda n, _: on_progress(done + n, total)


def _count(per_code: dict[str, dict[str, int]], turn_codings: list[Coding], turn_hits: list[Hit]) -> None:
    for code in {c.code for c in turn_codings}:
        per_code[code]["turns"] += 1
    for c in turn_codings:
        per_code[c.code]["codings"] += 1
    for h in turn_hits:
        if h.vetoed_by is not None and h.code in per_code:
            per_code[h.code]["vetoed"] += 1


def autocode_source(unit: str, scope: str, min_confidence: float) -> str:
    """How an autocode run is recorded as the coder's source (the Methods paragraph reports it)."""
    return f"autocode unit={unit} scope={scope} min_confidence={min_confidence:g}"


def explain(
    store: Any, document: str, turn_index: int, *, coder: str = "auto", codebook: Codebook | None = None
) -> dict[str, Any]:
    """What the autocoder sees in one turn: every hit (vetoed ones too) and the stored codings."""
    from vbhc_code.codebook.load import load_codebook

    doc = store.document(document, with_turns=False)
    turn = store.turn(document, turn_index)
    if codebook is None:
        codebook = store.coder_codebook(coder) or load_codebook()
    # The whole document is matched: whether it is on topic at all decides (see document_context_problem).
    scope = "all" if turn.role != "participant" else "participant"
    turns = [t for t in store.turns(scope=scope, document=document)]
    hits = match_turns(turns, {document: doc.language}, {document: doc.plain_text}, codebook)[(document, turn_index)]
    stored = [c for c in store.codings(coder, document=document) if c.turn_index == turn_index]
    text = doc.plain_text
    return {
        "document": document,
        "turn_index": turn_index,
        "speaker": turn.speaker,
        "role": turn.role,
        "turn_type": turn.turn_type,
        "language": doc.language,
        "codebook": describe(codebook),
        "text": turn.text,
        "hits": [
            {
                "code": h.code, "kind": h.kind, "label": h.label, "via": h.via, "start": h.start, "end": h.end,
                "offsets": h.offsets, "matched": " ".join(text[s:e] for s, e in (h.segments or ((h.start, h.end),))),
                "vetoed_by": h.vetoed_by,
            }
            for h in hits
        ],
        "stored": [
            {"code": c.code, "start": c.start, "end": c.end, "evidence": c.evidence, "confidence": c.confidence}
            for c in stored
        ],
    }
