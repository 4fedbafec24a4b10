"""Overview facts and the generated Methods paragraphs of ``vbhc-code themes``.

Agreement comes from ``vbhc_code.agreement.report.agreement_report`` (the ``agreement --json``
structure of issue 5) for the two coders whose disagreements were reconciled into the analysed
coding; the reconciliation paragraph comes from the store's reconciliation log.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vbhc_code import __version__
from vbhc_code.errors import VbhcError
from vbhc_code.models import Codebook
from vbhc_code.themes.quotes import QUOTE_RULES, doc_type_label

AGREEMENT_DEFINITIONS = (
    "Agreement statistics are computed over turn x code cells (each in-scope turn of each code, coded or not "
    "by each coder). Percent agreement is the share of cells on which the two coders agree. Cohen's kappa "
    "corrects it for the agreement expected by chance from each coder's own coding rates, "
    "kappa = (p_o - p_e) / (1 - p_e). Krippendorff's alpha (nominal) is 1 minus the ratio of observed to "
    "expected disagreement, with chance estimated from both coders' pooled coding rates. Gwet's AC1 and the "
    "Brennan-Prediger coefficient use chance terms that stay stable when a code is rare (where kappa and alpha "
    "can be low despite high agreement). Positive agreement is 2 x both / (2 x both + first only + second only): "
    "agreement on the presence of a code, ignoring cells neither coder coded."
)
_METRICS = (
    ("percent_agreement", "percent agreement", None),
    ("cohen_kappa", "Cohen's kappa", "cohen_kappa_ci95"),
    ("krippendorff_alpha", "Krippendorff's alpha", "krippendorff_alpha_ci95"),
    ("gwet_ac1", "Gwet's AC1", None),
    ("brennan_prediger", "Brennan-Prediger", None),
    ("positive_agreement", "positive agreement", None),
)
AUTO_CODERS = ("auto",)


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _ci(value: Any) -> str:
    if isinstance(value, dict):
        value = (value.get("low", value.get("lower")), value.get("high", value.get("upper")))
    if isinstance(value, (list, tuple)) and len(value) == 2:
        lo, hi = _num(value[0]), _num(value[1])
        if lo is not None and hi is not None:
            return f" (95% CI {lo:.2f} to {hi:.2f})"
    return ""


def agreement_pair(store: Any, coder: str) -> tuple[str, str] | None:
    """The two coders reconciled into ``coder`` (from the reconciliation log); else, when exactly two
    other human coders exist, those two; else None."""
    names = {c.name for c in store.coders()}
    log = store.reconciliation_log()
    pairs = Counter((r["coder_a"], r["coder_b"]) for r in log if (r.get("consensus_coder") or "consensus") == coder)
    pairs = pairs or Counter((r["coder_a"], r["coder_b"]) for r in log)
    for (a, b), _n in pairs.most_common():
        if a in names and b in names and a != b:
            return a, b
    others = sorted(c.name for c in store.coders()
                    if c.name != coder and c.name not in AUTO_CODERS and not (c.source or "").startswith("auto"))
    return (others[0], others[1]) if len(others) == 2 else None


def agreement_summary(report: Mapping[str, Any]) -> str:
    """One sentence from an ``agreement_report`` dict (pooled statistics, CIs, macro kappa)."""
    coders = report.get("coders") or []
    pooled = report.get("pooled") or {}
    parts = []
    for key, name, ci_key in _METRICS:
        value = _num(pooled.get(key))
        if key not in pooled:
            continue
        if value is None:
            parts.append(f"{name} undefined")
        elif key == "percent_agreement":
            parts.append(f"{name} {value * 100 if value <= 1 else value:.1f}%")
        else:
            parts.append(f"{name} {value:.2f}{_ci(pooled.get(ci_key)) if ci_key else ''}")
    macro = _num((report.get("macro") or {}).get("cohen_kappa"))
    if macro is not None:
        parts.append(f"mean Cohen's kappa over codes {macro:.2f}")
    n = report.get("n_units")
    unit = report.get("unit", "turn")
    scope = report.get("scope", "participant")
    where = "participant turns" if scope == "participant" else "all turns"
    head = f"Agreement between {' and '.join(map(str, coders))} (unit: {unit} x code, {where}"
    head += f"; {n} {unit}s)" if n is not None else ")"
    return head + (": " + ", ".join(parts) if parts else ": no statistics reported") + "."


def compute_agreement(store: Any, coder: str, scope: str) -> tuple[str, Mapping[str, Any] | None]:
    """(summary sentence, report dict or None); never fails the themes run.

    A stale consensus (its source coders' codings changed since it was applied) gets no figures: they would
    describe codings other than the ones reconciled, so the sentence says so instead of mixing two states.
    """
    stale = store.stale_reconciliations([coder])
    if stale:
        rec = stale[0]
        return (f"Agreement: not reported, because the codings of {' and '.join(rec.changed)} changed after they "
                f"were reconciled into '{coder}' ({rec.workbook}); the counts and decisions here describe the "
                "reconciled codings. Re-run the reconciliation to report agreement."), None
    pair = agreement_pair(store, coder)
    if pair is None:
        return ("Agreement: not computed (no two coders were reconciled into this coding; run "
                "`vbhc-code agreement --coders A B`)."), None
    from vbhc_code.agreement.report import agreement_report

    try:
        report = agreement_report(store, coders=list(pair), unit="turn", scope=scope)
    except VbhcError as exc:
        return f"Agreement between {pair[0]} and {pair[1]}: not available ({exc.message}).", None
    except Exception as exc:  # noqa: BLE001 - another module's failure must not lose the themes tables
        return f"Agreement between {pair[0]} and {pair[1]}: not available ({type(exc).__name__}).", None
    return agreement_summary(report), report


def overview(store: Any, *, coder: str, codebook: Codebook, docs: dict, people: list[str], group_at: dict,
             by_key: dict, who, by: str | None, scope: str, turns: int, none: str) -> dict[str, Any]:
    """The Overview sheet's facts (keys are stable; values plain)."""
    groups: dict[str, set[str]] = {}
    for key, turn in by_key.items():
        if who(turn) != none:
            groups.setdefault(group_at[key], set()).add(who(turn))
    coders = store.coders()
    summary, report = compute_agreement(store, coder, scope)
    # no study name recorded (ingest keeps none): the store's file name, as the coder workbooks do
    study = store.get_meta("study_name") or store.get_meta("study") or Path(store.path).stem
    return {
        "study": study,
        "study_store": Path(store.path).name,
        "coder": coder,
        "documents": len(docs),
        "documents_by_type": dict(sorted(Counter(d.doc_type for d in docs.values()).items())),
        "participants": len(people),
        "participants_by_group": {g: len(p) for g, p in sorted(groups.items())} if by else {},
        "turns": turns,
        "scope": scope,
        "by": by or "",
        "coders": [f"{c.name} ({_plural(c.n_documents, 'document')})" for c in coders],
        "codebook": codebook.name,
        "codebook_version": codebook.version,
        "agreement": summary,
        "agreement_coders": list(report.get("coders", [])) if report else [],
        "reconciliation_decisions": len(current_reconciliation(store, coder)),
        "date": _dt.date.today().isoformat(),
        "vbhc_code_version": __version__,
    }


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def methods_paragraphs(store: Any, ov: dict[str, Any], *, coder: str, codebook: Codebook, scope: str,
                       by: str | None, n_quotes: int) -> list[str]:
    """The Methods sheet: documents and participants, unit, coders, agreement, reconciliation, codebook, quotes."""
    types = ", ".join(_plural(n, doc_type_label(t)) for t, n in ov["documents_by_type"].items()) or "no documents"
    groups = ", ".join(f"{n} {g}" for g, n in ov["participants_by_group"].items())
    paras = [
        f"The analysis covers {_plural(ov['documents'], 'transcript')} ({types}) with "
        f"{_plural(ov['participants'], 'participant')}" + (f" ({by}: {groups})" if groups else "") + "."
    ]
    unit = ("participant turns only (chat messages included; interviewer and moderator turns excluded)"
            if scope == "participant" else "all turns, interviewer and moderator turns included")
    paras.append(
        f"The unit of analysis was the speaker turn: {unit}; a code counts once per turn however many passages "
        f"of the turn carry it. Counts are from the coding '{coder}' with codebook '{codebook.name}' version "
        f"{codebook.version} ({_plural(len(codebook.codes), 'code')} in {_plural(len(codebook.themes), 'theme')}). "
        "A document the coder did not code is missing data, not zeros."
    )
    log = current_reconciliation(store, coder)
    pair = ov["agreement_coders"] or (list(agreement_pair(store, coder) or ()))
    if pair:
        paras.append(f"Two coders, {pair[0]} and {pair[1]}, coded the transcripts independently"
                     + (f"; their codings were reconciled into '{coder}'." if log else "."))
    else:
        paras.append("Codings in the study store: " + ", ".join(ov["coders"]) + ".")
    paras.append(ov["agreement"] + (" " + AGREEMENT_DEFINITIONS if ov["agreement_coders"] else ""))
    auto = autocoder_settings(store, [coder, *pair, *{r["coder_a"] for r in log}, *{r["coder_b"] for r in log}])
    if auto:
        paras.append(auto)
    if log:
        decisions = Counter(_decision(r) for r in log)
        deciders = sorted({r["decided_by"] for r in log if r.get("decided_by")})
        with_rationale = sum(1 for r in log if (r.get("rationale") or "").strip())
        a, b = log[0]["coder_a"], log[0]["coder_b"]
        paras.append(
            f"Disagreements between {a} and {b} were resolved cell by cell (turn x code) and every decision was "
            f"recorded in a reconciliation log: {_plural(len(log), 'decision')} ("
            + ", ".join(f"{k}: {v}" for k, v in sorted(decisions.items())) + f"), {with_rationale} with a written "
            "rationale" + (f", decided by {', '.join(deciders)}" if deciders else "") + "."
        )
    else:
        paras.append(f"No reconciliation log for '{coder}' is recorded in the store.")
    unlisted = ov.get("speakers_not_in_sheet") or []
    if unlisted:
        paras.append(f"{_plural(len(unlisted), 'speaker')} not in the participants sheet "
                     f"({', '.join(unlisted)}) {'is' if len(unlisted) == 1 else 'are'} counted and quoted under "
                     "the transcript label.")
    masked = ov.get("quotes_masked", 0)
    paras.append(f"Up to {n_quotes} representative quotes per code. " + QUOTE_RULES + (
        f" In {_plural(masked, 'quote')} possible identifiers (e-mail addresses, phone numbers, titled names and "
        "the like, as flagged by the identifier check) were replaced by a typed placeholder such as [e-mail]."
        if masked else ""))
    return paras


def autocoder_settings(store: Any, used: list[str]) -> str:
    """One sentence per used coder whose codings came from ``vbhc-code autocode``: the settings of that run."""
    infos = {c.name: c for c in store.coders()}
    sentences = []
    for name in dict.fromkeys(used):
        info = infos.get(name)
        if info is None or not (info.source or "").startswith("autocode "):
            continue
        settings = dict(part.split("=", 1) for part in info.source.split()[1:] if "=" in part)
        scope = settings.get("scope", "participant")
        turns = (
            "participant turns only (interviewer and moderator turns were not auto-coded)"
            if scope == "participant"
            else "all turns, interviewer and moderator turns included"
        )
        codebook = (
            f"codebook '{info.codebook_name}' version {info.codebook_version}" if info.codebook_name else "its codebook"
        )
        sentences.append(
            f"The codings of '{name}' were made by the vbhc-code autocoder (terms and patterns of {codebook}, with its "
            f"domain-context rules and vetoes) with unit {settings.get('unit', 'turn')}, {turns}, and minimum "
            f"confidence {settings.get('min_confidence', '0 (not recorded)')}; they are machine suggestions, not a "
            "human coding."
        )
    return " ".join(sentences)


def current_reconciliation(store: Any, coder: str) -> list[dict[str, Any]]:
    """The log rows of the application that produced ``coder`` now.

    The log keeps every application (a --partial run, then the full one); each ``--apply`` replaces the
    consensus coder as a whole and stamps all its rows with one ``decided_at``, so earlier applications
    would count their decisions twice in the Methods text.
    """
    log = [r for r in store.reconciliation_log() if (r.get("consensus_coder") or "consensus") == coder]
    if not log:
        return []
    latest = log[-1]["decided_at"]
    return [r for r in log if r["decided_at"] == latest]


def _decision(row: dict[str, Any]) -> str:
    d = (row.get("decision") or "").strip()
    if d in ("apply", "omit", ""):
        return d or "unspecified"
    return f"as {d}"
