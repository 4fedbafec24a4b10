"""Units of analysis for agreement: who applied which code where, as rating patterns per code.

Every unit builder returns, per code, the frequencies of the 3**m rating patterns of m coders
(absent 0 / present 1 / missing; see ``agreement.binary_pattern_counts``), so the statistics never see
the store and a million characters cost one ``bincount``.

Units (``unit=``):

* ``turn``: each turn in scope x each code; present when the coder applied the code to the turn.
* ``sentence``: each sentence of a turn in scope x each code; a coding with a character span covers the
  sentences it overlaps, a coding without a span covers every sentence of its turn.
* ``document``: each compared document x each code; present when the coder applied the code anywhere in
  the document's turns in scope (MAXQDA's "code existence").
* ``character``: each character of the turns in scope x each code (NVivo's unit); a coding covers its span,
  or its whole turn when it has no span. ``mode="nvivo"`` uses every character of the document, as NVivo does.
* ``segment``: each coded span x code; two coders' segments of one code match when the characters both
  cover are at least ``overlap`` of the characters either covers (one-to-one, best overlap first).
  There is no "neither" cell: only coded segments are units.
"""

from __future__ import annotations

from collections import defaultdict, namedtuple
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vbhc_code.errors import DataError, UsageError, opt
from vbhc_code.models import Coding, Turn, covered_spans
from vbhc_code.store.store import Store

UNITS = ("turn", "sentence", "document", "character", "segment")
SCOPES = ("participant", "all")
MODES = ("nvivo", "maxqda")


# Light rows read straight from SQLite: building Turn/Coding objects dominated the run time on big studies.
_CodingRow = namedtuple("_CodingRow", "document turn_index code start end")
_TurnRow = namedtuple("_TurnRow", "document turn_index start end sentences")


@dataclass
class UnitData:
    unit: str
    scope: str
    coders: list[str]
    codes: list[str]
    documents: list[str]
    n_units: int  # units before crossing with codes (turns, sentences, documents, characters, segments)
    patterns: np.ndarray  # (n_codes, 3**m) pattern frequencies per code
    notes: dict[str, str] = field(default_factory=dict)
    per_document: dict[str, np.ndarray] = field(default_factory=dict)  # character unit: doc -> (n_codes, 3**m)


def check_options(*, coders: list[str], unit: str, scope: str, overlap: float, mode: str | None) -> None:
    """Usage problems (exit 2), before the store is touched."""
    if len(coders) < 2:
        raise UsageError(f"agreement needs at least two coders ({opt('coders', 'A B')})")
    dup = sorted({c for c in coders if coders.count(c) > 1})
    if dup:
        raise UsageError(f"coder '{dup[0]}' is named twice")
    if unit not in UNITS:
        raise UsageError(f"{opt('unit')} must be one of {', '.join(UNITS)}, not {unit!r}")
    if scope not in SCOPES:
        raise UsageError(f"{opt('scope')} must be participant or all, not {scope!r}")
    if not 0 < overlap <= 1:
        raise UsageError(f"{opt('overlap')} must be a share in (0, 1], not {overlap}")
    if mode is not None and mode not in MODES:
        raise UsageError(f"{opt('mode')} must be nvivo or maxqda, not {mode!r}")
    if mode == "nvivo" and unit != "character":
        raise UsageError(f"{opt('mode', 'nvivo')} compares characters: use {opt('unit', 'character')} "
                         f"(or leave {opt('unit')} out)")
    if mode == "maxqda" and unit not in ("segment", "document"):
        raise UsageError(f"{opt('mode', 'maxqda')} compares segments or documents: "
                         f"use {opt('unit', 'segment')} or {opt('unit', 'document')}")
    if (unit == "segment" or mode) and len(coders) != 2:
        raise UsageError(f"{opt('unit', 'segment')} and {opt('mode')} compare exactly two coders, not {len(coders)}")


def build_units(
    store: Store, *, coders: list[str], unit: str = "turn", scope: str = "participant", overlap: float = 0.9,
    mode: str | None = None,
) -> UnitData:
    check_options(coders=coders, unit=unit, scope=scope, overlap=overlap, mode=mode)
    known = {c.name for c in store.coders()}
    unknown = [c for c in coders if c not in known]
    if unknown:
        listing = ", ".join(sorted(known)) or "none yet; import codings first"
        raise DataError(f"unknown coder '{unknown[0]}' (coders in the store: {listing})")
    coded = {c: store.coded_documents(c) for c in coders}
    all_docs = set().union(*coded.values())
    docs = sorted(d for d in all_docs if sum(d in coded[c] for c in coders) >= 2)
    if not docs:
        raise DataError(f"coders {', '.join(coders)} have no coded document in common: nothing to compare")
    notes: dict[str, str] = {}
    left_out = sorted(all_docs - set(docs))
    if left_out:
        notes["documents"] = (
            f"{len(left_out)} document(s) coded by only one coder left out (missing data, not 'no code'): "
            + ", ".join(left_out)
        )
    if len(coders) > 2 and any(d not in coded[c] for d in docs for c in coders):
        notes["missing"] = "some documents were coded by only some coders: their ratings are missing data"
    codings = {c: _load_codings(store, c, set(docs)) for c in coders}
    codes = _codes(store, coders, codings, notes)
    turns: list[Any]  # light rows for turn/document units, full turns (with sentences) otherwise
    if unit in ("turn", "document"):
        turns = _load_turns(store, scope, set(docs))
    else:
        turns = [t for t in store.turns(scope="all" if mode == "nvivo" else scope) if t.document in set(docs)]
    if scope == "all" and mode != "nvivo":
        notes["scope"] = (
            "interviewer and moderator turns are included: nobody codes them, so they add agreed 'absent' "
            "units and inflate percent agreement (and can inflate kappa)"
        )
    missing = np.array([[d not in coded[c] for c in coders] for d in docs], dtype=bool)
    doc_row = {d: i for i, d in enumerate(docs)}
    args = (docs, turns, coders, codes, codings, missing, doc_row)
    if unit in ("turn", "sentence", "document"):
        n_units, patterns = _discrete(unit, *args)
        per_document: dict[str, np.ndarray] = {}
    elif unit == "character":
        n_units, patterns, per_document = _characters(store, *args, whole_document=mode == "nvivo")
        if mode == "nvivo":
            notes["scope"] = "NVivo mode: every character of each document counts (all speakers, labels, spaces)"
    else:
        n_units, patterns = _segments(*args, overlap=overlap)
        per_document = {}
    return UnitData(unit, scope, list(coders), codes, docs, n_units, patterns, notes, per_document)


def _load_codings(store: Store, coder: str, docs: set[str]) -> list[_CodingRow]:
    return [_CodingRow(*r) for r in store.coding_spans(coder) if r[0] in docs]


def _load_turns(store: Store, scope: str, docs: set[str]) -> list[_TurnRow]:
    return [_TurnRow(*r, ()) for r in store.turn_bounds(scope=scope) if r[0] in docs]


def _codes(store: Store, coders: list[str], codings: dict[str, list[_CodingRow]], notes: dict[str, str]) -> list[str]:
    """Codebook codes (first coder's order first) then any other code used, sorted."""
    codes: list[str] = []
    books = {}
    for c in coders:
        cb = store.coder_codebook(c)
        if cb is not None:
            books[c] = cb
            codes.extend(x for x in cb.code_ids if x not in codes)
    if len({(b.name, b.version, b.sha256) for b in books.values()}) > 1:
        notes["codebook"] = "the coders used different codebooks: " + "; ".join(
            f"{c}: {b.name} {b.version} (sha256 {b.sha256[:12]})" for c, b in books.items()
        )
    used = sorted({x.code for lst in codings.values() for x in lst} - set(codes))
    return codes + used


def _turn_spans(turn: Turn) -> list[tuple[int, int]]:
    return [(s, e) for s, e in turn.text_spans if e > s]


def _coding_spans(coding: Coding, turn: Turn) -> list[tuple[int, int]]:
    return list(covered_spans(coding, turn))  # the notion shared with the REFI export


def pattern_counts_per_code(values: np.ndarray) -> np.ndarray:
    """(units, codes, m) int8 with -1 missing -> (codes, 3**m) pattern counts."""
    n, k, m = values.shape
    state = np.where(values < 0, 2, values).astype(np.int64)
    code = (state * (3 ** np.arange(m, dtype=np.int64))).sum(2)  # (n, k)
    offset = code + (np.arange(k, dtype=np.int64) * 3**m)[None, :]
    return np.bincount(offset.ravel(), minlength=k * 3**m).reshape(k, 3**m)


def _discrete(unit, docs, turns, coders, codes, codings, missing, doc_row) -> tuple[int, np.ndarray]:
    code_idx = {c: i for i, c in enumerate(codes)}
    turn_by_key = {(t.document, t.turn_index): t for t in turns}
    unit_doc: list[int] = []
    units_of_turn: dict[tuple[str, int], list[tuple[int, int, int]]] = defaultdict(list)
    if unit == "document":
        unit_doc = list(range(len(docs)))
    else:
        for t in turns:
            pieces = (list(t.sentences) or [(t.start, t.end)]) if unit == "sentence" else [(t.start, t.end)]
            for s, e in pieces:
                units_of_turn[(t.document, t.turn_index)].append((len(unit_doc), s, e))
                unit_doc.append(doc_row[t.document])
    values = np.zeros((len(unit_doc), len(codes), len(coders)), dtype=np.int8)
    for j, coder in enumerate(coders):
        for c in codings[coder]:
            t = turn_by_key.get((c.document, c.turn_index))
            if t is None:
                continue  # a turn out of scope
            k = code_idx[c.code]
            if unit == "document":
                values[doc_row[c.document], k, j] = 1
                continue
            # turn rows (unit turn) carry no text spans: a span only matters for sentences
            has_span = unit == "sentence" and c.start is not None and c.end is not None
            spans = _coding_spans(c, t) if has_span else None
            for u, s, e in units_of_turn[(c.document, c.turn_index)]:
                if unit == "turn" or spans is None or any(a < e and b > s for a, b in spans):
                    values[u, k, j] = 1
    if missing.any() and len(unit_doc):
        miss_u = missing[np.array(unit_doc)]  # (units, m)
        values[np.broadcast_to(miss_u[:, None, :], values.shape)] = -1
    return len(unit_doc), pattern_counts_per_code(values)


def _mask(length: int, spans) -> np.ndarray:
    mask = np.zeros(length, dtype=bool)
    for s, e in spans:
        mask[max(s, 0):max(min(e, length), 0)] = True
    return mask


def _characters(store, docs, turns, coders, codes, codings, missing, doc_row, *, whole_document: bool):
    code_idx = {c: i for i, c in enumerate(codes)}
    m, k = len(coders), len(codes)
    by_doc: dict[str, list[Turn]] = defaultdict(list)
    for t in turns:
        by_doc[t.document].append(t)
    all_turns = {(t.document, t.turn_index): t for t in store.turns()}
    codings_by_doc: dict[tuple[str, str], list[Coding]] = defaultdict(list)
    for coder in coders:
        for c in codings[coder]:
            codings_by_doc[(coder, c.document)].append(c)
    total = np.zeros((k, 3**m), dtype=np.int64)
    per_document: dict[str, np.ndarray] = {}
    n_units = 0
    weights = 3 ** np.arange(m, dtype=np.int64)
    for d in docs:
        length = len(store.document(d, with_turns=False).plain_text)
        scope = np.ones(length, dtype=bool) if whole_document else _mask(
            length, [s for t in by_doc[d] for s in _turn_spans(t)])
        n_in = int(scope.sum())
        n_units += n_in
        state = np.zeros((k, n_in), dtype=np.int64)
        for j, coder in enumerate(coders):
            if missing[doc_row[d], j]:
                state += 2 * weights[j]
                continue
            masks = np.zeros((k, length), dtype=bool)
            for c in codings_by_doc[(coder, d)]:
                t = all_turns.get((c.document, c.turn_index))
                if t is not None:
                    for s, e in _coding_spans(c, t):
                        masks[code_idx[c.code], max(s, 0):max(min(e, length), 0)] = True
            state += masks[:, scope].astype(np.int64) * weights[j]
        offset = state + (np.arange(k, dtype=np.int64) * 3**m)[:, None]
        counts = np.bincount(offset.ravel(), minlength=k * 3**m).reshape(k, 3**m)
        per_document[d] = counts
        total += counts
    return n_units, total, per_document


def _segments(docs, turns, coders, codes, codings, missing, doc_row, *, overlap: float) -> tuple[int, np.ndarray]:
    """Two coders: greedy one-to-one matching of same-code segments by overlap share (|A & B| / |A | B|)."""
    code_idx = {c: i for i, c in enumerate(codes)}
    in_scope = {(t.document, t.turn_index): t for t in turns}
    segs: dict[tuple[int, str, str], set[tuple[int, int]]] = defaultdict(set)
    for j, coder in enumerate(coders):
        for c in codings[coder]:
            t = in_scope.get((c.document, c.turn_index))
            if t is None:
                continue
            spans = _coding_spans(c, t)
            segs[(j, c.document, c.code)].add((min(s for s, _ in spans), max(e for _, e in spans)))
    patterns = np.zeros((len(codes), 9), dtype=np.int64)
    for d in docs:
        for code in codes:
            a = sorted(segs.get((0, d, code), ()))
            b = sorted(segs.get((1, d, code), ()))
            if not a and not b:
                continue
            pairs = []
            for i, (s1, e1) in enumerate(a):
                for j, (s2, e2) in enumerate(b):
                    inter = min(e1, e2) - max(s1, s2)
                    if inter > 0:
                        share = inter / (max(e1, e2) - min(s1, s2))
                        if share >= overlap - 1e-12:
                            pairs.append((-share, i, j))
            used_a, used_b = set(), set()
            for _share, i, j in sorted(pairs):
                if i not in used_a and j not in used_b:
                    used_a.add(i)
                    used_b.add(j)
            k = code_idx[code]
            patterns[k, 4] += len(used_a)  # both (1, 1)
            patterns[k, 1] += len(a) - len(used_a)  # first coder only (1, 0)
            patterns[k, 3] += len(b) - len(used_b)  # second coder only (0, 1)
    return int(patterns.sum()), patterns
