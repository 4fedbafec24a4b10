"""Theme tables, representative quotes, matrices and a methods paragraph from one coder's codings.

Objects in, DataFrames out: ``build_themes(store, coder=...)`` returns a ``ThemesResult``; the
writers (``write_themes_xlsx``, ``themes_markdown``, ``themes_json``) live in ``themes_report``.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from vbhc_code import __version__
from vbhc_code.errors import DataError, UsageError
from vbhc_code.models import Codebook
from vbhc_code.themes_quotes import (
    DEFAULT_ATTRIBUTION,
    DOC_TYPE_LABELS,
    QUOTE_RULES,
    Quote,
    attribution,
    check_attribution,
    read_turn_list,
    select_quotes,
    trim,
)
from vbhc_code.themes_report import (
    agreement_summary,
    themes_json,
    themes_markdown,
    write_themes_xlsx,
)

NONE = "(none)"


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


def _pct(n: int, d: int) -> float:
    return round(n / d, 4) if d else 0.0


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
) -> ThemesResult:
    """Count codes per theme, participant, group and document type and pick quotes for each code."""
    return _Builder(store, coder, codebook, by, quotes, scope, attribution, pins, excludes, framework).run()


class _Builder:
    def __init__(self, store, coder, codebook, by, n_quotes, scope, attr_fmt, pins, excludes, framework):
        if scope not in ("participant", "all"):
            raise UsageError(f"--scope must be participant or all, not {scope!r}")
        if n_quotes < 0:
            raise UsageError("--quotes must be 0 or more")
        check_attribution(attr_fmt)
        self.store, self.coder, self.scope, self.n_quotes, self.attr_fmt = store, coder, scope, n_quotes, attr_fmt
        if coder not in {c.name for c in store.coders()}:
            known = ", ".join(sorted(c.name for c in store.coders())) or "none"
            raise DataError(f"no codings by coder {coder!r} in the store (coders: {known})")
        self.codebook = codebook or store.coder_codebook(coder)
        if self.codebook is None:
            raise DataError(f"coder {coder!r} has no codebook in the store; pass --codebook")
        self.participants = store.participants()
        if by is None and any("group" in p.attributes for p in self.participants.values()):
            by = "group"
        if by is not None and not any(by in p.attributes for p in self.participants.values()):
            known = sorted({k for p in self.participants.values() for k in p.attributes}) or ["none"]
            raise UsageError(f"--by {by}: no participant has that attribute (attributes: {', '.join(known)})")
        self.by = by
        self.pins = read_turn_list(pins, "pin") if pins else []
        self.excludes = read_turn_list(excludes, "exclude") if excludes else []
        self.coded_docs = store.coded_documents(coder)
        self.docs = {d.name: d for d in store.documents() if d.name in self.coded_docs}
        if framework is None and any("health_system" in d.attributes for d in self.docs.values()):
            framework = "health_system"
        if framework is not None and not any(framework in d.attributes for d in self.docs.values()):
            known = sorted({k for d in self.docs.values() for k in d.attributes}) or ["none"]
            raise UsageError(
                f"--framework {framework}: no coded document has that attribute (attributes: {', '.join(known)})"
            )
        self.framework = framework

    def who(self, turn) -> str:
        return turn.participant_id or turn.speaker or NONE

    def group(self, pid: str) -> str:
        p = self.participants.get(pid)
        value = p.attributes.get(self.by) if (p and self.by) else None
        return NONE if value in (None, "") else str(value)

    def run(self) -> ThemesResult:
        turns = [t for t in self.store.turns(scope=self.scope) if t.document in self.docs]
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
        cb_codes = list(self.codebook.codes)
        known = {c.id for c in cb_codes}
        extra = sorted({code for cs in codes_at.values() for code in cs} - known)
        themes = {t.id: t.label for t in self.codebook.themes}
        code_rows = [(c.id, c.theme, c.label, c.definition) for c in cb_codes] + [(x, "", x, "") for x in extra]
        ids = [r[0] for r in code_rows]

        people = sorted({self.who(t) for t in turns})
        group_of = {p: self.group(p) for p in people}
        by_values = sorted(set(group_of.values()), key=lambda v: (v == NONE, v))
        doc_types = sorted({d.doc_type for d in self.docs.values()})
        people_in_group = Counter(group_of.values())

        turns_with: dict[str, list] = defaultdict(list)
        for key, cs in codes_at.items():
            for code in cs:
                turns_with[code].append(by_key[key])

        rows, groups_rows, matrix_rows = [], [], []
        json_codes: dict[str, Any] = {}
        for code, theme, label, definition in code_rows:
            ts = turns_with.get(code, [])
            ps = {self.who(t) for t in ts}
            row = {"theme": themes.get(theme, theme), "code": code, "label": label, "definition": definition,
                   "turns": len(ts), "participants": len(ps), "participants_pct": _pct(len(ps), len(people)),
                   "documents": len({t.document for t in ts})}
            by_group = {}
            for v in by_values:
                gt = [t for t in ts if group_of[self.who(t)] == v]
                gp = {self.who(t) for t in gt}
                row[f"turns [{v}]"] = len(gt)
                row[f"participants [{v}]"] = len(gp)
                by_group[v] = {"turns": len(gt), "participants": len(gp)}
                groups_rows.append({"code": code, "label": label, "group": v, "turns": len(gt),
                                    "participants": len(gp), "participants_pct": _pct(len(gp), people_in_group[v])})
            for dt in doc_types:
                dtt = [t for t in ts if self.docs[t.document].doc_type == dt]
                row[f"turns [{DOC_TYPE_LABELS.get(dt, dt)}]"] = len(dtt)
                row[f"participants [{DOC_TYPE_LABELS.get(dt, dt)}]"] = len({self.who(t) for t in dtt})
            rows.append(row)
            counts = Counter(self.who(t) for t in ts)
            matrix_rows.append({"code": code, "label": label, **{p: counts.get(p, 0) for p in people}})
            json_codes[code] = {"theme": row["theme"], "label": label, "turns": row["turns"],
                                "participants": row["participants"], "documents": row["documents"],
                                "by_group": by_group}

        co = {a: {b: 0 for b in ids} for a in ids}
        for cs in codes_at.values():
            for a in cs:
                for b in cs:
                    co[a][b] += 1
        cooc = pd.DataFrame([{"code": a, **co[a]} for a in ids], columns=["code", *ids])

        quote_objs = self._quotes(code_rows, turns_with, codes_at, evidence, group_of)
        labels = {r[0]: r[2] for r in code_rows}
        quotes_df = pd.DataFrame(
            [{"code": q.code, "label": labels[q.code], "quote": q.text,
              "attribution": q.attribution, "document": q.document, "turn_index": q.turn_index,
              "participant_id": q.participant_id, "start": q.start, "end": q.end, "pinned": q.pinned}
             for q in quote_objs],
            columns=["code", "label", "quote", "attribution", "document", "turn_index", "participant_id", "start",
                     "end", "pinned"],
        )
        framework_df = self._framework(code_rows, turns_with, quote_objs)
        overview = self._overview(turns, people, group_of)
        return ThemesResult(
            coder=self.coder, by=self.by, framework=self.framework,
            themes=pd.DataFrame(rows), quotes=quotes_df,
            matrix=pd.DataFrame(matrix_rows, columns=["code", "label", *people]),
            groups=pd.DataFrame(groups_rows, columns=["code", "label", "group", "turns", "participants",
                                                      "participants_pct"]),
            cooccurrence=cooc, framework_table=framework_df, overview=overview,
            methods=self._methods(overview), quote_objects=quote_objs, by_values=by_values, codes=json_codes,
        )

    def _quotes(self, code_rows, turns_with, codes_at, evidence, group_of) -> list[Quote]:
        excluded_all = {(d, i) for d, i, c in self.excludes if not c}
        excluded = {(d, i, c) for d, i, c in self.excludes if c}
        plain = {name: self.store.document(name, with_turns=False).plain_text for name in self.docs}
        out = []

        def make(code, turn, _others, _ev, focus, pinned=False):
            window = trim(turn, plain[turn.document], focus)
            if window is None:
                return None
            ds, de, core, before, after = window
            text = ("... " if before else "") + core + (" ..." if after else "")
            pid = self.who(turn)
            doc_type = self.docs[turn.document].doc_type
            attr = attribution(self.attr_fmt, turn, self.participants.get(pid), doc_type, self.by)
            return Quote(code, turn.document, turn.turn_index, pid, ds, de, text, core, attr, group_of.get(pid, NONE),
                         pinned)

        for code, *_ in code_rows:
            pinned = {(d, i) for d, i, c in self.pins if c in ("", code)}
            cands = [
                (t, len(codes_at[(t.document, t.turn_index)]) - 1, (t.document, t.turn_index, code) in evidence,
                 evidence.get((t.document, t.turn_index, code)))
                for t in turns_with.get(code, [])
                if (t.document, t.turn_index) not in excluded_all and (t.document, t.turn_index, code) not in excluded
            ]
            def mk(c, t, o, e, f, _p=pinned):
                return make(c, t, o, e, f, (t.document, t.turn_index) in _p)
            out.extend(select_quotes(code, cands, n=self.n_quotes, make=mk, group_of=group_of, pinned=pinned))
        return out

    def _framework(self, code_rows, turns_with, quote_objs) -> pd.DataFrame:
        attr = self.framework
        cols = ["code", "label", attr or "document_type", "documents", "turns", "quotes", "rating", "notes"]
        if attr:
            value_of = {n: str(d.attributes.get(attr, "") or NONE) for n, d in self.docs.items()}
        else:
            value_of = {n: DOC_TYPE_LABELS.get(d.doc_type, d.doc_type) for n, d in self.docs.items()}
        values = sorted(set(value_of.values()))
        qcount = Counter((q.code, value_of[q.document]) for q in quote_objs)
        rows = []
        for code, _theme, label, _d in code_rows:
            for v in values:
                ts = [t for t in turns_with.get(code, []) if value_of[t.document] == v]
                rows.append([code, label, v, len({t.document for t in ts}), len(ts), qcount[(code, v)], "", ""])
        return pd.DataFrame(rows, columns=cols)

    def _overview(self, turns, people, group_of) -> dict[str, Any]:
        coders = self.store.coders()
        return {
            "study": self.store.get_meta("study_name") or "",
            "coder": self.coder,
            "documents": len(self.docs),
            "documents_by_type": dict(sorted(Counter(d.doc_type for d in self.docs.values()).items())),
            "participants": len([p for p in people if p != NONE]),
            "participants_by_group": dict(sorted(Counter(group_of[p] for p in people if p != NONE).items())),
            "turns": len(turns),
            "scope": self.scope,
            "by": self.by or "",
            "coders": [c.name for c in coders],
            "codebook": self.codebook.name,
            "codebook_version": self.codebook.version,
            "agreement": agreement_summary(self.store, self.coder, coders),
            "reconciliation_decisions": len(self.store.reconciliation_log()),
            "date": _dt.date.today().isoformat(),
            "vbhc_code_version": __version__,
        }

    def _methods(self, ov: dict[str, Any]) -> list[str]:
        types = ", ".join(f"{n} {DOC_TYPE_LABELS.get(t, t)}{'s' if n != 1 else ''}"
                          for t, n in ov["documents_by_type"].items()) or "no documents"
        groups = ", ".join(f"{n} in group {g}" for g, n in ov["participants_by_group"].items() if g != NONE)
        unit = ("speaker turn (participant turns only; interviewer turns excluded)" if self.scope == "participant"
                else "speaker turn (all turns, interviewer turns included)")
        paras = [
            (
                f"The analysis covers {ov['documents']} transcript{'s' if ov['documents'] != 1 else ''} ({types}) "
                f"with {ov['participants']} participants" + (f" ({groups})" if groups else "") + "."
            ),
            (
                f"The unit of analysis was the {unit}; a code counts once per turn. Counts are from the codings of "
                f"'{self.coder}' with codebook '{ov['codebook']}' version {ov['codebook_version']}. Coders in the "
                f"project: {', '.join(ov['coders'])}."
            ),
            ov["agreement"],
        ]
        log = self.store.reconciliation_log()
        if log:
            decisions = Counter(r.get("decision") or "" for r in log)
            paras.append(
                f"Disagreements between coders were resolved by discussion and recorded in a reconciliation log "
                f"of {len(log)} decisions (" + ", ".join(f"{k or 'unspecified'}: {v}" for k, v in
                                                          sorted(decisions.items())) + ")."
            )
        else:
            paras.append("No reconciliation log is recorded in the store.")
        paras.append(QUOTE_RULES)
        return paras


__all__ = ["ThemesResult", "build_themes", "themes_json", "themes_markdown", "write_themes_xlsx"]
