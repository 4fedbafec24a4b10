"""Theme tables, representative quotes, matrices and a methods paragraph from one coder's codings.

Objects in, DataFrames out: ``build_themes(store, coder=...)`` returns a ``ThemesResult``; the
writers (``write_themes_xlsx``, ``themes_markdown``, ``themes_json``) live in ``themes_report`` and the
Overview/Methods text in ``themes_methods``.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from vbhc_code.errors import DataError, UsageError, opt
from vbhc_code.models import Codebook, Participant, Turn
from vbhc_code.themes.masking import mask_quotes
from vbhc_code.themes.methods import methods_paragraphs, overview
from vbhc_code.themes.prose import prose
from vbhc_code.themes.quotes import (
    DEFAULT_ATTRIBUTION,
    MAX_WORDS,
    Candidate,
    Quote,
    TurnRef,
    attribution,
    check_attribution,
    doc_offset,
    doc_type_label,
    exact_window,
    group_label,
    read_turn_list,
    select_quotes,
    term_focus,
    term_pattern,
    text_offsets,
    trim,
)
from vbhc_code.themes.report import themes_json, themes_markdown, write_themes_xlsx
from vbhc_code.themes.speakers import NOT_IN_SHEET, normalised_label, unlisted_speakers, unlisted_warnings

NONE = "(none)"
QUOTE_COLUMNS = ["code", "label", "title", "quote", "attribution", "document", "turn_index", "participant_id",
                 "start", "end",
                 "pinned"]


@dataclass
class ThemesResult:
    coder: str
    by: str | None
    framework: str | None
    themes: pd.DataFrame
    quotes: pd.DataFrame
    matrix: pd.DataFrame
    groups: pd.DataFrame
    cooccurrence: pd.DataFrame
    framework_table: pd.DataFrame
    overview: dict[str, Any]
    methods: list[str]
    quote_objects: list[Quote] = field(default_factory=list)
    by_values: list[str] = field(default_factory=list)
    codes: dict[str, Any] = field(default_factory=dict)  # per-code counts in the --json shape
    warnings: list[str] = field(default_factory=list)  # located, without interview text
    kept_ratings: int = 0  # Framework ratings/notes carried over from the previous workbook
    masked_quotes: int | None = None  # quotes with identifiers masked, once a masking step ran (None: none ran)
    quote_limit: int = 3  # --quotes
    attribution_format: str = DEFAULT_ATTRIBUTION


def _pct(n: int, d: int) -> float:
    return round(n / d, 4) if d else 0.0


def _natural(text: str) -> list[Any]:
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", text)]


def resolve_codebook(store: Any, coder: str, codebook: Codebook | None = None) -> Codebook:
    """``--codebook`` when given; else the codebook stored with the coder's codings (the one its codes
    came from); else the built-in codebook."""
    if codebook is not None:
        return codebook
    stored = store.coder_codebook(coder)
    if stored is not None:
        return stored
    from vbhc_code.codebook.load import load_codebook

    return load_codebook(None)  # a broken built-in codebook reports its own located problems


def cooccurrence(codes_at: dict[tuple[str, int], set[str]], ids: list[str]) -> pd.DataFrame:
    """Code x code: the turns coded with both (the diagonal: the turns coded with the code), ``ids`` order."""
    if not ids:
        return pd.DataFrame([], columns=["code"])
    pairs = pd.DataFrame(
        [(k, code) for k, cs in enumerate(codes_at.values()) for code in cs], columns=["turn", "code"]
    )
    # turn x code incidence (0/1); its product with itself counts every pair of codes per turn
    incidence = pd.crosstab(pairs["turn"], pairs["code"]).reindex(columns=ids, fill_value=0).clip(upper=1)
    table = (incidence.T @ incidence).reindex(index=ids, columns=ids, fill_value=0).astype("int64")
    table.index.name, table.columns.name = "code", None
    return table.reset_index()


def code_by_person(
    code_rows: list[tuple[str, str, str, str]], turns_with: dict[str, list[Turn]], who: Any, people: list[str]
) -> pd.DataFrame:
    """Code x person: how many of the code's turns each person (``who``) spoke; codebook order, then labels."""
    pairs = pd.DataFrame(
        [(code, who(t)) for code, *_ in code_rows for t in turns_with.get(code, [])], columns=["code", "who"]
    )
    ids = [r[0] for r in code_rows]
    table = pd.crosstab(pairs["code"], pairs["who"]).reindex(index=ids, columns=people, fill_value=0)
    table = table.astype("int64")
    table.columns.name = None
    table.insert(0, "label", [r[2] for r in code_rows])
    return table.rename_axis("code").reset_index()


def build_themes(
    store: Any,
    *,
    coder: str,
    codebook: Codebook | None = None,
    by: str | None = None,
    quotes: int = 3,
    scope: str = "participant",
    attribution: str = DEFAULT_ATTRIBUTION,
    pins: Path | None = None,
    excludes: Path | None = None,
    framework: str | None = None,
    allow: Iterable[str] = (),
) -> ThemesResult:
    """Count codes per theme, participant, group and document type and pick quotes for each code.

    ``by`` is a participant attribute (default ``group`` when present) or, failing that, a document
    attribute; ``framework`` a document attribute (default ``health_system`` when present). Quotes are masked
    where the identifier check flags a span not on ``allow`` (``themes.masking``).
    """
    builder = _Builder(store, coder, codebook, by, quotes, scope, attribution, pins, excludes, framework)
    builder.allow = tuple(allow)
    return builder.run()


class _Builder:
    def __init__(self, store, coder, codebook, by, n_quotes, scope, attr_fmt, pins, excludes, framework):
        if scope not in ("participant", "all"):
            raise UsageError(f"{opt('scope')} must be participant or all, not {scope!r}")
        if n_quotes < 0:
            raise UsageError(f"{opt('quotes')} must be 0 or more")
        check_attribution(attr_fmt)
        self.store, self.coder, self.scope, self.n_quotes, self.attr_fmt = store, coder, scope, n_quotes, attr_fmt
        if coder not in {c.name for c in store.coders()}:
            known = ", ".join(sorted(c.name for c in store.coders())) or "none"
            raise DataError(f"no codings by coder {coder!r} in the store (coders: {known})")
        self.codebook = resolve_codebook(store, coder, codebook)
        stored = store.coder_codebook(coder)
        self.warnings: list[str] = []
        self.allow: tuple[str, ...] = ()  # known non-identifiers: never masked in quotes
        self.unlisted: dict[str, list[str]] = {}  # speakers the participants sheet does not list -> documents
        if stored is not None and stored.sha256 and self.codebook.sha256 and stored.sha256 != self.codebook.sha256:
            self.warnings.append(
                f"coder '{coder}' coded with codebook '{stored.name}' {stored.version}; the tables use "
                f"'{self.codebook.name}' {self.codebook.version} (labels and definitions may differ)"
            )
        from vbhc_code.coding.stale import stale_message

        self.warnings += [stale_message(r) for r in store.stale_reconciliations([coder])]
        self.participants: dict[str, Participant] = store.participants()
        self.coded_docs = store.coded_documents(coder)
        self.docs = {d.name: d for d in store.documents() if d.name in self.coded_docs}
        if not self.docs:
            self.warnings.append(f"coder '{coder}' coded no documents: every count is zero")
        p_attrs = sorted({k for p in self.participants.values() for k in p.attributes})
        d_attrs = sorted({k for d in self.docs.values() for k in d.attributes})
        self.by_source = None
        if by is None and "group" in p_attrs:
            by = "group"
        if by is not None:
            if by in p_attrs:
                self.by_source = "participant"
            elif by in d_attrs:
                self.by_source = "document"
            else:
                raise UsageError(
                    f"{opt('by', by)}: no participant or coded document has that attribute (participant attributes: "
                    f"{', '.join(p_attrs) or 'none'}; document attributes: {', '.join(d_attrs) or 'none'})"
                )
        self.by = by
        if framework is None and "health_system" in d_attrs:
            framework = "health_system"
        if framework is not None and framework not in d_attrs:
            raise UsageError(
                f"{opt('framework', framework)}: no coded document has that attribute (attributes: "
                f"{', '.join(d_attrs) or 'none'})"
            )
        self.framework = framework
        self.pins: list[TurnRef] = read_turn_list(pins, "pin") if pins else []
        self.excludes: list[TurnRef] = read_turn_list(excludes, "exclude") if excludes else []

    # -- per-turn keys ----------------------------------------------------------------------------
    def who(self, turn: Turn) -> str:
        return turn.participant_id or (normalised_label(turn.speaker) if turn.speaker else NONE)

    def participant(self, turn: Turn) -> str:
        """Who counts as a participant raising a code: never an interviewer, never an unknown speaker."""
        return NONE if turn.role == "interviewer" else self.who(turn)

    def group(self, turn: Turn) -> str:
        if self.by_source == "participant":
            p = self.participants.get(turn.participant_id or "")
            value = p.attributes.get(self.by) if p else None
        elif self.by_source == "document":
            value = self.docs[turn.document].attributes.get(self.by)
        else:
            value = None
        return NONE if value in (None, "") else str(value)

    # -- the tables -------------------------------------------------------------------------------
    def run(self) -> ThemesResult:
        turns = [t for t in self.store.turns(scope=self.scope) if t.document in self.docs]
        self.unlisted = unlisted_speakers(turns, self.participants)
        self.warnings += unlisted_warnings(self.unlisted)
        by_key = {(t.document, t.turn_index): t for t in turns}
        codes_at: dict[tuple[str, int], set[str]] = defaultdict(set)
        evidence: dict[tuple[str, int, str], int | None] = {}
        for c in self.store.codings(self.coder):
            key = (c.document, c.turn_index)
            if key not in by_key:
                continue
            codes_at[key].add(c.code)
            if c.start is not None or c.evidence:
                evidence.setdefault((c.document, c.turn_index, c.code), c.start)
        known = set(self.codebook.code_ids)
        extra = sorted({code for cs in codes_at.values() for code in cs} - known)
        if extra:
            self.warnings.append(
                f"codes not in codebook '{self.codebook.name}' {self.codebook.version}: {', '.join(extra)} "
                "(listed without label or theme)"
            )
        theme_label = {t.id: t.label for t in self.codebook.themes}
        code_rows = [(c.id, theme_label.get(c.theme, c.theme), c.label, c.definition) for c in self.codebook.codes]
        code_rows += [(x, "", x, "") for x in extra]
        title_of = {c.id: c.display_title for c in self.codebook.codes} | {x: x for x in extra}
        ids = [r[0] for r in code_rows]

        group_at = {k: self.group(t) for k, t in by_key.items()}
        people_all = sorted({self.who(t) for t in turns}, key=_natural)
        people = sorted({self.participant(t) for t in turns} - {NONE}, key=_natural)
        dtype_of = {n: doc_type_label(d.doc_type) for n, d in self.docs.items()}
        by_values = sorted(set(group_at.values()), key=lambda v: (v == NONE, _natural(v))) if self.by else []
        type_values = sorted(set(dtype_of.values()))
        people_in: dict[tuple[str, str], set[str]] = defaultdict(set)
        for k, t in by_key.items():
            if self.participant(t) != NONE:
                people_in[("by", group_at[k])].add(self.participant(t))
                people_in[("type", dtype_of[t.document])].add(self.participant(t))
        type_cols = {v: (f"type {v}" if v in by_values else v) for v in type_values}

        turns_with: dict[str, list[Turn]] = defaultdict(list)
        for key in sorted(codes_at):
            for code in codes_at[key]:
                turns_with[code].append(by_key[key])

        def counts(ts: list[Turn], denominator: int) -> tuple[int, int, float, int]:
            ps = {self.participant(t) for t in ts} - {NONE}
            return len(ts), len(ps), _pct(len(ps), denominator), len({t.document for t in ts})

        rows, group_rows, json_codes = [], [], {}
        for code, theme, label, definition in code_rows:
            ts = turns_with.get(code, [])
            n_t, n_p, pct, n_d = counts(ts, len(people))
            row = {"theme": theme, "code": code, "label": label, "title": title_of[code], "definition": definition,
                   "turns": n_t,
                   "participants": n_p, "participants_pct": pct, "documents": n_d}
            grow: dict[str, Any] = {"code": code, "label": label, "title": title_of[code]}
            by_group = {}
            for v in by_values:
                g = counts([t for t in ts if group_at[(t.document, t.turn_index)] == v], len(people_in[("by", v)]))
                row.update({f"turns [{v}]": g[0], f"participants [{v}]": g[1], f"participants_pct [{v}]": g[2],
                            f"documents [{v}]": g[3]})
                grow.update({f"turns [{v}]": g[0], f"participants [{v}]": g[1], f"participants_pct [{v}]": g[2]})
                by_group[v] = {"turns": g[0], "participants": g[1]}
            for v in type_values:
                g = counts([t for t in ts if dtype_of[t.document] == v], len(people_in[("type", v)]))
                col = type_cols[v]
                row.update({f"turns [{col}]": g[0], f"participants [{col}]": g[1],
                            f"participants_pct [{col}]": g[2], f"documents [{col}]": g[3]})
            rows.append(row)
            group_rows.append(grow)
            json_codes[code] = {"theme": theme, "label": label, "title": title_of[code], "turns": n_t,
                                "participants": n_p, "documents": n_d, "by_group": by_group}

        cooc = cooccurrence(codes_at, ids)
        matrix = code_by_person(code_rows, turns_with, self.who, people_all)
        matrix.insert(2, "title", [title_of[c] for c in matrix["code"]])
        group_cols = ["code", "label", "title", *[f"{m} [{v}]" for m in ("turns", "participants", "participants_pct")
                                         for v in by_values]]

        quote_objs = self._quotes(code_rows, turns_with, codes_at, evidence, group_at, by_key)
        quote_objs, masked = mask_quotes(quote_objs, allow=self.allow, warnings=self.warnings)
        labels = {r[0]: r[2] for r in code_rows}
        quotes_df = pd.DataFrame(
            [[q.code, labels[q.code], title_of[q.code], q.text, q.attribution, q.document, q.turn_index,
              q.participant_id, q.start,
              q.end, "yes" if q.pinned else ""] for q in quote_objs],
            columns=QUOTE_COLUMNS,
        )
        ov = overview(self.store, coder=self.coder, codebook=self.codebook, docs=self.docs, people=people,
                      group_at=group_at, by_key=by_key, who=self.participant, by=self.by, scope=self.scope,
                      turns=len(turns), none=NONE)
        ov["quotes_masked"] = masked
        ov["speakers_not_in_sheet"] = list(self.unlisted)
        methods = methods_paragraphs(self.store, ov, coder=self.coder, codebook=self.codebook, scope=self.scope,
                                     by=self.by, n_quotes=self.n_quotes)
        return ThemesResult(
            coder=self.coder, by=self.by, framework=self.framework,
            themes=pd.DataFrame(rows), quotes=quotes_df,
            matrix=matrix,
            groups=pd.DataFrame(group_rows, columns=group_cols),
            cooccurrence=cooc, framework_table=self._framework(code_rows, turns_with, quote_objs),
            overview=ov, methods=methods, quote_objects=quote_objs, by_values=by_values, codes=json_codes,
            warnings=self.warnings, quote_limit=self.n_quotes, attribution_format=self.attr_fmt, masked_quotes=masked,
        )

    # -- quotes -----------------------------------------------------------------------------------
    def _quotes(self, code_rows, turns_with, codes_at, evidence, group_at, by_key) -> list[Quote]:
        if self.n_quotes == 0 and not self.pins:
            return []
        excluded_all = {(r.document, r.turn_index) for r in self.excludes if not r.code}
        excluded = {(r.document, r.turn_index, r.code) for r in self.excludes if r.code}
        plain: dict[str, str] = {}

        def text_of(doc: str) -> str:
            if doc not in plain:
                plain[doc] = self.store.document(doc, with_turns=False).plain_text
            return plain[doc]

        patterns: dict[tuple[str, str], Any] = {}
        codes = {c.id: c for c in self.codebook.codes}

        def terms(code: str, lang: str):
            if (code, lang) not in patterns:
                c = codes.get(code)
                patterns[(code, lang)] = term_pattern(c.terms.get(lang, ()) if c else ())
            return patterns[(code, lang)]

        def make(code: str, cand: Candidate, pin: TurnRef | None = None) -> Quote | None:
            turn = cand.turn
            window = None
            if pin is not None and pin.start is not None and pin.end is not None:
                window = exact_window(turn, text_of(turn.document), pin.start, pin.end)
                if window is None:
                    self.warnings.append(f"[{pin.where}] offsets {pin.start}-{pin.end} are not inside "
                                         f"{turn.document} #{turn.turn_index}; quoted by the selection rules")
            if window is None:
                focus = cand.focus
                if focus is None:  # turn-level coding: the code's codebook terms say where to look
                    focus = term_focus(turn, text_of(turn.document), terms(code, self.docs[turn.document].language))
                window = trim(turn, text_of(turn.document), focus)
            if window is None:
                return None
            prose_window = self._prose(turn, text_of(turn.document), window, pinned=pin is not None)
            if prose_window is None:
                return None
            ds, de, core, text = prose_window
            pid = self.who(turn)
            participant = self.participants.get(turn.participant_id or "")
            label_attr = self.by if self.by_source == "participant" else "group"
            shown = pid if turn.participant_id or pid not in self.unlisted else f"{pid} ({NOT_IN_SHEET})"
            attr = attribution(self.attr_fmt, replace(turn, participant_id=shown), participant,
                               self.docs[turn.document].doc_type, label_attr,
                               group="" if cand.group == NONE else cand.group,
                               label=group_label(participant, label_attr))
            return Quote(code, turn.document, turn.turn_index, pid, ds, de, text, core, attr, cand.group,
                         pin is not None)

        self._check_pins(codes_at, by_key)
        out: list[Quote] = []
        for code, *_ in code_rows:
            cands = {}
            for t in turns_with.get(code, []):
                key = (t.document, t.turn_index)
                if key in excluded_all or (*key, code) in excluded:
                    continue
                cands[key] = Candidate(t, len(codes_at[key]) - 1, (*key, code) in evidence,
                                       evidence.get((*key, code)), group_at[key])
            pinned: list[Quote] = []
            for pin in self.pins:
                key = (pin.document, pin.turn_index)
                if pin.code in ("", code) and key in cands:
                    q = make(code, cands.pop(key), pin)
                    if q is not None:
                        pinned.append(q)
            out.extend(select_quotes(list(cands.values()), n=self.n_quotes, make=functools.partial(make, code),
                                     pinned=pinned))
        return out

    @staticmethod
    def _prose(turn: Turn, plain: str, window, *, pinned: bool) -> tuple[int, int, str, str] | None:
        """(doc_start, doc_end, core, text): the window as prose (``themes.prose``); a pinned window keeps its
        length, as the researcher chose it."""
        ds, de, _core, before, after = window
        offsets = text_offsets(turn, plain, ds, de)
        if offsets is None:
            return None
        p = prose(turn.text, *offsets, cut_before=before, cut_after=after, max_words=None if pinned else MAX_WORDS)
        if not p.pieces:
            return None
        (ts, _), (_, te) = p.pieces[0], p.pieces[-1]
        start, end = doc_offset(turn, plain, ts), doc_offset(turn, plain, te, end=True)
        if start is None or end is None:
            return None
        return start, end, turn.text[ts:te], p.text

    def _check_pins(self, codes_at, by_key) -> None:
        excluded = {(r.document, r.turn_index, r.code) for r in self.excludes}
        for pin in self.pins:
            key = (pin.document, pin.turn_index)
            if key not in by_key:
                self.warnings.append(f"[{pin.where}] {pin.document} #{pin.turn_index} is not an in-scope turn of "
                                     f"a document coded by {self.coder}; pin ignored")
            elif pin.code and pin.code not in codes_at.get(key, ()):
                self.warnings.append(f"[{pin.where}] {pin.document} #{pin.turn_index} is not coded {pin.code} by "
                                     f"{self.coder}; pin ignored")
            elif not codes_at.get(key):
                self.warnings.append(f"[{pin.where}] {pin.document} #{pin.turn_index} carries no code; pin ignored")
            elif (*key, "") in excluded or (*key, pin.code) in excluded and pin.code:
                self.warnings.append(f"[{pin.where}] {pin.document} #{pin.turn_index} is also excluded; "
                                     "the exclusion wins")

    # -- framework --------------------------------------------------------------------------------
    def _framework(self, code_rows, turns_with, quote_objs) -> pd.DataFrame:
        attr = self.framework
        cols = ["code", "label", attr or "document_type", "documents", "turns", "quotes", "rating", "notes"]
        if attr:
            value_of = {n: str(d.attributes.get(attr, "") or NONE) for n, d in self.docs.items()}
        else:
            value_of = {n: doc_type_label(d.doc_type) for n, d in self.docs.items()}
        values = sorted(set(value_of.values()), key=_natural)
        qcount = Counter((q.code, value_of[q.document]) for q in quote_objs)
        rows = []
        for code, _theme, label, _d in code_rows:
            for v in values:
                ts = [t for t in turns_with.get(code, []) if value_of[t.document] == v]
                rows.append([code, label, v, len({t.document for t in ts}), len(ts), qcount[(code, v)], "", ""])
        return pd.DataFrame(rows, columns=cols)


__all__ = ["ThemesResult", "build_themes", "resolve_codebook", "themes_json", "themes_markdown", "write_themes_xlsx"]
