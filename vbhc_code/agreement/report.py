"""Agreement between coders in the store, per code, pooled and as a macro mean; ``evaluate`` scores a coder
against a reference. Both reuse ``vbhc_code.agreement.statistics`` (one implementation of every statistic).

Undefined values are ``None`` with a reason in ``reasons["<where>.<metric>"]`` (``where`` = ``pooled``,
``macro`` or ``per_code.<CODE>``); general caveats (scope, documents left out, mode) use plain keys.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from vbhc_code.agreement.nvivo import NVIVO_SCOPE, PER_DOCUMENT_KEYS, per_document_rows
from vbhc_code.agreement.statistics import (
    BOOT_SEED,
    N_BOOT,
    alpha_bootstrap_ci,
    coefficients_from_patterns,
    cohen_kappa_ci95,
    count_matrix,
    landis_koch,
    pattern_rows,
    positive_agreement,
)
from vbhc_code.agreement.units import UnitData, build_units
from vbhc_code.models import AgreementReport, EvaluationReport
from vbhc_code.store.store import Store

REPORT_KEYS = ("unit", "scope", "mode", "coders", "n_units", "pooled", "macro", "per_code", "reasons")
MACRO_METRICS = ("percent_agreement", "cohen_kappa", "krippendorff_alpha", "gwet_ac1", "brennan_prediger",
                 "positive_agreement", "fleiss_kappa")
EVAL_MACRO = ("precision", "recall", "f1", "cohen_kappa")
_NOBODY = "neither coder applied this code in the compared units: every unit is 'absent' for both, so " \
          "chance-corrected coefficients are 0/0 (undefined; some tools print 1)"
_SEGMENT = "not meaningful at segment level: only coded segments are units, so there is no 'absent by both' " \
           "cell and chance agreement from the margins is an artefact; read percent_agreement and " \
           "positive_agreement, or compare in mode 'maxqda'"
MODE_NOTES = {
    "nvivo": "NVivo mode: units are characters, every character of each document (not only the scope), per code "
             "and per document (per_document). NVivo itself prints kappa 1 and 100% agreement when neither coder "
             "coded a code in a document; here that is undefined (null). NVivo's Cohen's kappa is the same formula; "
             "compare NVivo's per-source figures with per_document. The per-code figures pool the characters of "
             "all documents into one table (NVivo leaves averaging over sources to the user; a size-weighted mean "
             "of per-source kappas is not the pooled kappa).",
    "maxqda": "MAXQDA mode: only codes present for at least one coder count (MAXQDA ignores 'absent for both'): "
              "maxqda_percent_agreement = both / (both + first_only + second_only), and maxqda_kappa uses "
              "Brennan & Prediger's chance 1 / (number of codes in the table), pooled over codes as MAXQDA "
              "reports it. Unlike Cohen's kappa it does not depend on how often each code is used; unlike the "
              "default it depends on the size of the codebook.",
}


def agreement_report(
    store: Store,
    *,
    coders: list[str],
    unit: str = "turn",
    scope: str = "participant",
    overlap: float = 0.9,
    mode: str | None = None,
    n_boot: int = N_BOOT,
    seed: int = BOOT_SEED,
) -> AgreementReport:
    """Agreement of ``coders`` on ``unit`` (see ``agreement_units``); ``to_dict()`` is ``agreement --json``."""
    data = build_units(store, coders=list(coders), unit=unit, scope=scope, overlap=overlap, mode=mode)
    reasons: dict[str, str] = dict(data.notes)
    if mode:
        reasons["mode"] = MODE_NOTES[mode]
    if unit == "segment":
        reasons["segment"] = (
            f"segments of the same code match when the characters both coders cover are at least {overlap:g} of "
            "the characters either covers; both = matched pairs, first_only/second_only = unmatched segments"
        )
    per_code, pooled, macro = statistics_from_patterns(
        data.patterns, data.codes, len(data.coders), reasons, segment=unit == "segment", n_boot=n_boot, seed=seed
    )
    if mode == "nvivo":
        for k, code in enumerate(data.codes):
            per_code[code]["per_document"] = {
                d: _stats(p[k], 2, f"per_code.{code}.per_document.{d}", reasons, n_boot=0, seed=seed, segment=False,
                          short=True)
                for d, p in data.per_document.items()
            }
    if mode == "maxqda":
        _maxqda(pooled, per_code, data)
    return AgreementReport(
        unit=data.unit,
        scope=NVIVO_SCOPE if mode == "nvivo" else data.scope,  # NVivo counts every character of a source
        mode=mode, coders=data.coders, n_units=data.n_units, pooled=pooled, macro=macro, per_code=per_code,
        reasons=reasons,
    )


def statistics_from_patterns(
    patterns: np.ndarray, codes: list[str], n_coders: int, reasons: dict[str, str], *, segment: bool = False,
    n_boot: int = N_BOOT, seed: int = BOOT_SEED,
) -> tuple[dict[str, dict], dict[str, Any], dict[str, Any]]:
    """Per code, pooled (all unit x code cells) and macro statistics from (codes, 3**m) pattern counts."""
    stat: dict[str, Any] = {"n_boot": n_boot, "seed": seed, "segment": segment}
    per_code = {
        code: _stats(patterns[k], n_coders, f"per_code.{code}", reasons, **stat) for k, code in enumerate(codes)
    }
    pooled = _stats(patterns.sum(0), n_coders, "pooled", reasons, **stat)
    macro = _macro(per_code, [m for m in MACRO_METRICS if m in pooled], "macro", reasons)
    if not segment:
        macro["kappa_band"] = landis_koch(macro.get("cohen_kappa", macro.get("fleiss_kappa")))
    return per_code, pooled, macro


def evaluate(
    store: Store, *, coder: str, against: str, unit: str = "turn", scope: str = "participant"
) -> EvaluationReport:
    """Score ``coder`` against the reference ``against``: per code TP/FP/FN/TN, precision, recall, F1 and
    Cohen's kappa on presence/absence, pooled over all unit x code cells (micro) and the macro mean."""
    if unit == "segment":
        from vbhc_code.errors import UsageError

        raise UsageError("evaluate scores turn, sentence, document or character units, not segments")
    data = build_units(store, coders=[against, coder], unit=unit, scope=scope)
    reasons: dict[str, str] = dict(data.notes)
    per_code = {code: _eval_stats(data.patterns[k], f"per_code.{code}", reasons) for k, code in enumerate(data.codes)}
    pooled = _eval_stats(data.patterns.sum(0), "pooled", reasons)
    macro = _macro(per_code, list(EVAL_MACRO), "macro", reasons)
    return EvaluationReport(
        coder=coder, against=against, unit=data.unit, scope=data.scope, n_units=data.n_units, pooled=pooled,
        macro=macro, per_code=per_code,
        confidence_bands=confidence_bands(store, coder=coder, against=against, scope=scope, unit=unit,
                                          reasons=reasons),
        reasons=reasons,
    )


CONFIDENCE_BANDS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.85), (0.85, 1.0))


def confidence_bands(
    store: Store, *, coder: str, against: str, scope: str, unit: str, reasons: dict[str, str]
) -> list[dict[str, Any]] | None:
    """Precision and recall of ``coder``'s turn codings by confidence band (the autocoder's scores), and of
    all codings at or above each band's lower edge (what ``autocode --min-confidence`` would keep)."""
    if unit != "turn":
        reasons["confidence_bands"] = "confidence bands are reported for turn units only"
        return None
    common = store.coded_documents(coder) & store.coded_documents(against)
    turns = {(t.document, t.turn_index) for t in store.turns(scope=scope) if t.document in common}
    reference = {
        (c.document, c.turn_index, c.code) for c in store.codings(against) if (c.document, c.turn_index) in turns
    }
    scores: dict[tuple[str, int, str], float] = {}
    for c in store.codings(coder):
        if (c.document, c.turn_index) in turns and c.confidence is not None:
            key = (c.document, c.turn_index, c.code)
            scores[key] = max(scores.get(key, 0.0), c.confidence)
    if not scores:
        reasons["confidence_bands"] = f"coder '{coder}' has no codings with a confidence (only autocode gives one)"
        return None
    out = []
    for low, high in CONFIDENCE_BANDS:
        inside = [k in reference for k, v in scores.items() if low <= v < high or (high == 1.0 and v == 1.0)]
        above = [k in reference for k, v in scores.items() if v >= low]
        out.append({
            "band": [low, high], "codings": len(inside), "tp": sum(inside),
            "precision": sum(inside) / len(inside) if inside else None,
            "recall": sum(inside) / len(reference) if reference else None,
            "codings_at_or_above": len(above),
            "precision_at_or_above": sum(above) / len(above) if above else None,
            "recall_at_or_above": sum(above) / len(reference) if reference else None,
        })
    return out


# -- helpers -------------------------------------------------------------------------------------
def _num(value: float, where: str, reasons: dict[str, str], reason: str | None) -> float | None:
    if value is None or not math.isfinite(value):
        if reason:
            reasons[where] = reason
        return None
    return float(value)


def _counts(patterns: np.ndarray) -> tuple[int, int, int, int]:
    """both, first_only, second_only, neither of two coders' pattern counts (index = v0 + 3 * v1)."""
    p = patterns
    return int(p[4]), int(p[1]), int(p[3]), int(p[0])


def _stats(
    patterns: np.ndarray, m: int, where: str, reasons: dict[str, str], *, n_boot: int, seed: int, segment: bool,
    short: bool = False,
) -> dict[str, Any]:
    c = coefficients_from_patterns(patterns, m)
    why = dict(c["reasons"])
    out: dict[str, Any] = {}
    nobody = False
    if m == 2:
        both, first, second, neither = _counts(patterns)
        nobody = both + first + second == 0 and neither > 0
        out.update(both=both, first_only=first, second_only=second, neither=neither)
    out["n_units"] = c["n_units"]
    if nobody:
        why = {k: _NOBODY for k in why}
    elif c["n_units"] == 0 and segment:
        why = {k: "neither coder coded a segment with this code" for k in why}
    if segment:
        why.update({k: _SEGMENT for k in ("cohen_kappa", "cohen_kappa_se", "krippendorff_alpha_nominal", "gwet_ac1",
                                          "brennan_prediger")})
        for k in ("cohen_kappa", "cohen_kappa_se", "krippendorff_alpha_nominal", "gwet_ac1", "brennan_prediger"):
            c[k] = math.nan

    def put(key: str, value: float, src: str | None = None) -> None:
        out[key] = _num(value, f"{where}.{key}", reasons, why.get(src or key))

    put("percent_agreement", c["percent_agreement"])
    if m == 2:
        put("cohen_kappa", c["cohen_kappa"])
        if not short:
            put("cohen_kappa_se", c["cohen_kappa_se"])
            lo, hi = cohen_kappa_ci95(c["cohen_kappa"], c["cohen_kappa_se"])
            out["cohen_kappa_ci95"] = None if math.isnan(lo) else [lo, hi]
            if out["cohen_kappa_ci95"] is None:
                reasons[f"{where}.cohen_kappa_ci95"] = f"no interval: {_why_null(out, why, 'cohen_kappa')}"
    put("krippendorff_alpha", c["krippendorff_alpha_nominal"], "krippendorff_alpha_nominal")
    if not short:
        ci = (math.nan, math.nan)
        if out["krippendorff_alpha"] is not None and n_boot > 0:
            rows = pattern_rows(m)
            keep = patterns > 0
            ci = alpha_bootstrap_ci(count_matrix(rows[keep], 2), patterns[keep], n_boot=n_boot, seed=seed)
        out["krippendorff_alpha_ci95"] = None if math.isnan(ci[0]) else [ci[0], ci[1]]
        if out["krippendorff_alpha_ci95"] is None:
            reasons[f"{where}.krippendorff_alpha_ci95"] = (
                f"no interval: {_why_null(out, why, 'krippendorff_alpha_nominal', 'krippendorff_alpha')}"
                if out["krippendorff_alpha"] is None
                else "alpha is undefined in most bootstrap resamples" if n_boot > 0
                else "no bootstrap requested (n_boot = 0)"
            )
        put("gwet_ac1", c["gwet_ac1"])
        put("brennan_prediger", c["brennan_prediger"])
    if m == 2:
        both, first, second, _ = _counts(patterns)
        out["positive_agreement"] = _num(positive_agreement(both, first, second), f"{where}.positive_agreement",
                                         reasons, "neither coder applied this code")
    else:
        put("fleiss_kappa", c["fleiss_kappa"])
    kappa = out.get("cohen_kappa", out.get("fleiss_kappa"))
    if not short and not segment:
        out["kappa_band"] = landis_koch(kappa)
    return out


def _why_null(out: dict[str, Any], why: dict[str, str], key: str, out_key: str | None = None) -> str:
    """Why an interval is missing: its coefficient is undefined (that reason) or its SE is."""
    if out.get(out_key or key) is None:
        return why.get(key, "the coefficient is undefined")
    return why.get("cohen_kappa_se", "the standard error is undefined")


def _macro(per_code: dict[str, dict], metrics: list[str], where: str, reasons: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"n_codes": len(per_code)}
    for metric in metrics:
        vals = {code: s.get(metric) for code, s in per_code.items()}
        defined = [v for v in vals.values() if v is not None]
        missing = [code for code, v in vals.items() if v is None]
        if not defined:
            out[metric] = None
            reasons[f"{where}.{metric}"] = "undefined for every code"
            continue
        out[metric] = float(np.mean(defined))
        if missing:
            reasons[f"{where}.{metric}"] = (
                f"mean over {len(defined)} of {len(vals)} codes; undefined for {', '.join(missing)}"
            )
    return out


def _maxqda(pooled: dict[str, Any], per_code: dict[str, dict], data: UnitData) -> None:
    """MAXQDA's figures: agreement among codes present for someone; kappa with chance 1 / number of codes."""
    used = 0
    for k, code in enumerate(data.codes):
        both, first, second, _ = _counts(data.patterns[k])
        n = both + first + second
        used += n > 0
        per_code[code]["maxqda_percent_agreement"] = both / n if n else None
    both, first, second, _ = _counts(data.patterns.sum(0))
    n = both + first + second
    po = both / n if n else math.nan
    pooled["maxqda_percent_agreement"] = None if math.isnan(po) else po
    pc = 1 / used if used else math.nan
    pooled["maxqda_kappa"] = None if not (n and used > 1) else (po - pc) / (1 - pc)
    pooled["maxqda_n_codes"] = used


def _eval_stats(patterns: np.ndarray, where: str, reasons: dict[str, str]) -> dict[str, Any]:
    tp, fn, fp, tn = _counts(patterns)  # coder 0 is the reference
    c = coefficients_from_patterns(patterns, 2)
    nobody = tp + fn + fp == 0
    out: dict[str, Any] = {"tp": tp, "fp": fp, "fn": fn, "tn": tn}
    out["precision"] = _num(tp / (tp + fp) if tp + fp else math.nan, f"{where}.precision", reasons,
                            "the coder never applied this code (no predicted positives)")
    out["recall"] = _num(tp / (tp + fn) if tp + fn else math.nan, f"{where}.recall", reasons,
                         "the reference never applied this code (no actual positives)")
    out["f1"] = _num(positive_agreement(tp, fn, fp), f"{where}.f1", reasons, "neither coder applied this code")
    out["cohen_kappa"] = _num(c["cohen_kappa"], f"{where}.cohen_kappa", reasons,
                              _NOBODY if nobody else c["reasons"].get("cohen_kappa"))
    return out


# -- presentation (table rows, codes to discuss, workbook) ---------------------------------------
DISCUSS_AT_MOST = 0.60  # Landis & Koch "moderate" or lower (the same edge as ``landis_koch``)


def codes_to_discuss(report: Mapping[str, Any]) -> list[str]:
    """Codes whose kappa (Cohen, or Fleiss with 3+ coders) is 0.60 or lower (Landis & Koch "moderate" or
    lower), or undefined while the coders disagree; at segment level, positive agreement 0.60 or lower.
    Lowest first."""
    out = []
    for code, s in report["per_code"].items():
        value = s.get("cohen_kappa", s.get("fleiss_kappa"))
        if report["unit"] == "segment":
            value = s.get("positive_agreement")
        disagree = s.get("first_only", 0) + s.get("second_only", 0) > 0 or "fleiss_kappa" in s
        if value is None:
            if disagree and s.get("percent_agreement") not in (None, 1.0):
                out.append((-math.inf, code, "undefined"))
        elif value <= DISCUSS_AT_MOST + 1e-12:
            out.append((value, code, f"{value:.2f}"))
    return [f"{code} ({label})" for _v, code, label in sorted(out)]


def report_columns(report: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(key, header, kind) of the per-code table, for the console and the workbook."""
    first, second = (report["coders"] + ["", ""])[:2]
    if len(report["coders"]) == 2:
        cols = [("both", "both", "int"), ("first_only", f"{first} only", "int"),
                ("second_only", f"{second} only", "int"), ("neither", "neither", "int"),
                ("percent_agreement", "% agreement", "percent"), ("cohen_kappa", "Cohen's kappa", "float"),
                ("cohen_kappa_ci95", "kappa 95% CI", "text"), ("kappa_band", "Landis & Koch", "text")]
    else:
        cols = [("n_units", "units", "int"), ("percent_agreement", "% agreement", "percent"),
                ("fleiss_kappa", "Fleiss' kappa", "float"), ("kappa_band", "Landis & Koch", "text")]
    cols += [
        ("krippendorff_alpha", "Krippendorff's alpha", "float"),
        ("krippendorff_alpha_ci95", "alpha 95% CI", "text"),
        ("gwet_ac1", "Gwet's AC1", "float"),
        ("brennan_prediger", "Brennan-Prediger", "float"),
    ]
    if len(report["coders"]) == 2:
        cols.append(("positive_agreement", "positive agreement", "percent"))
    if "maxqda_percent_agreement" in report["pooled"]:
        cols.append(("maxqda_percent_agreement", "MAXQDA % agreement", "percent"))
    return cols


def report_rows(report: Mapping[str, Any]) -> list[list[Any]]:
    """[label, value per column...] for each code, then pooled and macro; CIs as 'lo to hi' text."""
    cols = report_columns(report)
    rows = []
    for label, s in [*report["per_code"].items(), ("pooled", report["pooled"]), ("macro mean", report["macro"])]:
        row: list[Any] = [label]
        for key, _h, _k in cols:
            value = s.get(key)
            if isinstance(value, list):
                value = f"{value[0]:.2f} to {value[1]:.2f}"
            row.append(value)
        rows.append(row)
    return rows


def code_titles(store: Any, coders: list[str]) -> dict[str, str]:
    """Code id -> readable title from the coders' codebooks (the first coder's wins)."""
    titles: dict[str, str] = {}
    for coder in coders:
        codebook = store.coder_codebook(coder)
        for code in codebook.codes if codebook is not None else ():
            if code.title:
                titles.setdefault(code.id, code.title)
    return titles


def write_agreement_xlsx(report: Mapping[str, Any], path, *, force: bool = False,
                         titles: dict[str, str] | None = None) -> None:
    """The report as a formatted workbook: Agreement (table + kappa/alpha chart) and Notes.

    With ``titles`` (``code_titles``) each code's readable title stands in a column beside its id.
    An existing file that is not an earlier agreement report is refused unless ``force``."""
    from vbhc_code.files.outputs import AGREEMENT
    from vbhc_code.files.xlsx_write import Chart, Column, Sheet, TextSheet, write_workbook

    cols = report_columns(report)
    lead = [Column("code", width=14)] + ([Column("title", width=24, wrap=True)] if titles else [])
    columns = lead + [Column(h, kind=k) for _key, h, k in cols]
    keys = [key for key, _h, _k in cols]
    chart_cols = [i + len(lead) for i, key in enumerate(keys)
                  if key in ("cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "positive_agreement")]
    rows = report_rows(report)
    if titles:
        rows = [[r[0], titles.get(r[0], ""), *r[1:]] for r in rows]
    sheet = Sheet("Agreement", columns, rows[: len(report["per_code"])],
                  charts=[Chart("Agreement per code", categories=len(lead) - 1, values=chart_cols)])
    summary = Sheet("Summary", columns, rows[len(report["per_code"]):])
    discuss = codes_to_discuss(report)
    notes = [
        f"Coders: {', '.join(report['coders'])}. Unit: {report['unit']}. Scope: {report['scope']}. "
        f"Units compared: {report['n_units']}.",
        "Codes to discuss (kappa 0.60 or lower, Landis & Koch 'moderate' or lower): "
        + (", ".join(discuss) if discuss else "none"),
        *(
            [
                f"MAXQDA kappa (Brennan & Prediger, chance 1/{report['pooled']['maxqda_n_codes']} codes): "
                f"{report['pooled']['maxqda_kappa']}"
            ]
            if "maxqda_kappa" in report["pooled"]
            else []
        ),
        "Empty cells are undefined values; the reasons follow.",
        *[f"{k}: {v}" for k, v in report["reasons"].items()],
    ]
    sheets = [sheet, summary]
    per_document = per_document_rows(report)
    if per_document:  # --mode nvivo: the figures NVivo shows per source
        kinds = {"percent_agreement": "percent", "cohen_kappa": "float"}
        sheets.append(Sheet("Per document", [Column("code", width=14), Column("document", width=18)] + [
            Column(k, kind=kinds.get(k, "int")) for k in PER_DOCUMENT_KEYS], per_document))
    write_workbook(path, [*sheets, TextSheet("Notes", notes, title="Agreement")], kind=AGREEMENT, force=force)
