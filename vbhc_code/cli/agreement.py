"""CLI commands: ``vbhc-code agreement`` and ``vbhc-code evaluate``."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from vbhc_code.cli.app import (
    AgreementUnit,
    EvaluateUnit,
    Mode,
    Scope,
    StoreOption,
    coders_option,
    command,
    console,
    print_warnings,
    resolve_store_path,
    say,
)

UNIT_HELP = (
    "Unit of analysis. turn (default): each turn in scope x each code, present when the coder applied the code "
    "to the turn. sentence: each sentence of a turn in scope x each code; a coding with a character span covers "
    "the sentences it overlaps, one without a span covers every sentence of its turn. document: each document x "
    "each code, present when the code is applied anywhere in the document's turns in scope. character: each "
    "character of the turns in scope x each code, coded or not (NVivo's unit); a coding covers its span, or its "
    "whole turn when it has no span. segment: each coded span (MAXQDA's unit); two coders' segments of one code "
    "match when the characters both cover are at least --overlap of the characters either covers; there is no "
    "'absent for both' cell, so only percent and positive agreement are reported."
)
MODE_HELP = (
    "Reproduce a desktop tool: nvivo = Cohen's kappa on every character of each document (the whole source, "
    "all speakers), per code and per document; maxqda = code presence per document (--unit document) or segment "
    "overlap (--unit segment, the default here), ignoring codes absent for both, with kappa using Brennan & "
    "Prediger's chance 1 / number of codes. Where they differ from the default: nvivo also counts interviewer "
    "turns, speaker labels and line breaks as characters both coders left uncoded (higher agreement), and NVivo "
    "itself shows kappa 1 where vbhc-code shows null (nobody coded the code in that document); maxqda drops the "
    "'absent for both' cell, so its kappa depends on the size of the codebook, not on how often codes are used."
)
SCOPE_HELP = (
    "participant (default): turns by participants, chat included. all: interviewer and moderator turns too "
    "(nobody codes them, so they inflate agreement)."
)


_SHORT = {
    "neither": "none", "percent_agreement": "%agr", "cohen_kappa": "kappa", "kappa_band": "L&K",
    "fleiss_kappa": "Fleiss", "krippendorff_alpha": "alpha", "gwet_ac1": "AC1", "brennan_prediger": "BP",
    "positive_agreement": "pos.agr", "maxqda_percent_agreement": "MAXQDA%",
}


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return f"{value[0]:.2f} to {value[1]:.2f}"
    if kind == "int":
        return str(int(value))
    if kind == "percent":
        return f"{100 * value:.0f}%"
    return f"{value:.2f}" if math.isfinite(value) else "-"


@command(
    "agreement",
    help="Agreement between two (or more) coders per code, pooled over all unit x code cells, and the macro mean "
    "over codes: counts, percent agreement, Cohen's kappa with SE and 95% CI, Krippendorff's alpha (nominal) "
    "with a bootstrap 95% CI, Gwet's AC1, Brennan-Prediger, positive agreement; Fleiss' kappa with 3+ coders. "
    "Only documents coded by both coders count. Usage: --coders A B [--coders C].",
)
def agreement_cmd(
    coders: Annotated[list[str] | None, coders_option("Coders to compare: --coders A B (repeat for a third).")]
    = None,
    unit: Annotated[AgreementUnit | None, typer.Option("--unit", help=UNIT_HELP, show_default=False)] = None,
    overlap: Annotated[float, typer.Option("--overlap", help="Segment unit: share of overlap for a match.")] = 0.9,
    mode: Annotated[Mode | None, typer.Option("--mode", help=MODE_HELP)] = None,
    scope: Annotated[Scope, typer.Option("--scope", help=SCOPE_HELP)] = "participant",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON (undefined values are null).")]
    = False,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the report as a workbook (.xlsx).")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace --out even when it is not an earlier agreement report (e.g. a coder's workbook).")]
    = False,
    store: StoreOption = None,
) -> None:
    from vbhc_code.agreement.report import agreement_report, code_titles, write_agreement_xlsx
    from vbhc_code.agreement.units import check_options
    from vbhc_code.errors import UsageError
    from vbhc_code.files.outputs import AGREEMENT, check_replaceable
    from vbhc_code.store.store import Store

    names = coders or []
    chosen = unit or {"nvivo": "character", "maxqda": "segment"}.get(mode or "", "turn")
    if out is not None and out.suffix.lower() != ".xlsx":
        raise UsageError(f"--out {out.name}: the report is written as .xlsx")
    check_options(coders=names, unit=chosen, scope=scope, overlap=overlap, mode=mode)
    if out is not None:
        check_replaceable(out, AGREEMENT, force=force)  # before the work
    with Store.open(resolve_store_path(store), create=False) as st:
        report = agreement_report(st, coders=names, unit=chosen, scope=scope, overlap=overlap, mode=mode)
        titles = code_titles(st, names)
        from vbhc_code.coding.stale import stale_warnings

        print_warnings(stale_warnings(st, names))
    if out is not None:
        write_agreement_xlsx(report, out, force=force, titles=titles)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_report(report)
    if out is not None:
        say(f"wrote {out}")


def _print_report(report: Mapping[str, Any]) -> None:
    from vbhc_code.agreement.report import codes_to_discuss, report_columns, report_rows

    rows = report_rows(report)
    # The terminal shows short headers and leaves out intervals and all-empty columns (--json/--out have them).
    keep = [i for i, (key, _h, _k) in enumerate(report_columns(report))
            if not key.endswith("_ci95") and any(r[i + 1] is not None for r in rows)]
    cols = [report_columns(report)[i] for i in keep]
    table = Table(
        title=f"Agreement of {', '.join(report['coders'])}: unit {report['unit']}, scope {report['scope']}, "
        f"{report['n_units']} units",
        title_justify="left",
    )
    table.add_column("code", no_wrap=True)
    for key, header, kind in cols:
        table.add_column(_SHORT.get(key, header), justify="left" if kind == "text" else "right")
    for i, row in enumerate(rows):
        if i == len(report["per_code"]):
            table.add_section()
        table.add_row(row[0], *(_fmt(row[j + 1], kind) for j, (_k, _h, kind) in zip(keep, cols)))
    console.print(table)
    discuss = codes_to_discuss(report)
    pooled = report["pooled"]
    if "maxqda_kappa" in pooled:
        console.print(f"MAXQDA kappa (Brennan & Prediger, chance 1/{pooled['maxqda_n_codes']} codes): "
                      f"{_fmt(pooled['maxqda_kappa'], 'float')}", markup=False)
    # Landis & Koch bands are defined for kappa; the segment unit has no kappa, so no band is named there
    what = ("positive agreement 0.60 or lower" if report["unit"] == "segment"
            else "kappa 0.60 or lower, Landis & Koch 'moderate' or lower")
    console.print(f"Codes to discuss ({what}): "
                  + (", ".join(discuss) if discuss else "none"), markup=False)
    for key, why in report["reasons"].items():
        if "." not in key:
            console.print(f"note: {why}", markup=False)
    undefined = [k for k in report["reasons"] if "." in k and not k.startswith("macro.")]
    if undefined:
        console.print(f"{len(undefined)} undefined value(s) shown as '-'; --json lists the reason for each.",
                      markup=False)


@command("evaluate", short_help="Score one coder (e.g. the autocoder) against a reference coder.",
         help="Score one coder (e.g. the autocoder) against a reference coder: per code TP/FP/FN, "
         "precision, recall, F1 and Cohen's kappa on presence/absence, pooled (micro) and macro over codes.")
def evaluate_cmd(
    coder: Annotated[str, typer.Option("--coder", help="The coder to score.")] = "auto",
    against: Annotated[str | None, typer.Option("--against", help="The reference coder.", show_default=False)]
    = None,
    unit: Annotated[EvaluateUnit, typer.Option("--unit", help="turn, sentence, document or character (see "
                                               "'agreement --help').")] = "turn",
    scope: Annotated[Scope, typer.Option("--scope", help=SCOPE_HELP)] = "participant",
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
    store: StoreOption = None,
) -> None:
    from vbhc_code.agreement.report import evaluate
    from vbhc_code.agreement.units import check_options
    from vbhc_code.errors import UsageError
    from vbhc_code.store.store import Store

    if not against:
        raise UsageError("evaluate needs a reference coder: --against NAME")
    check_options(coders=[against, coder], unit=unit, scope=scope, overlap=0.9, mode=None)
    with Store.open(resolve_store_path(store), create=False) as st:
        result = evaluate(st, coder=coder, against=against, unit=unit, scope=scope)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{coder} against {against}: unit {unit}, scope {scope}", title_justify="left")
    keys = [("tp", "int"), ("fp", "int"), ("fn", "int"), ("precision", "float"), ("recall", "float"),
            ("f1", "float"), ("cohen_kappa", "float")]
    table.add_column("code")
    for key, _kind in keys:
        table.add_column(key.upper() if len(key) == 2 else key.replace("_", " "), justify="right")
    items = list(result["per_code"].items())
    for i, (label, s) in enumerate([*items, ("pooled", result["pooled"]), ("macro mean", result["macro"])]):
        if i == len(items):
            table.add_section()
        table.add_row(label, *(_fmt(s.get(k), kind) for k, kind in keys))
    console.print(table)
    if result.get("confidence_bands"):
        bands = Table(title=f"{coder} by confidence (turn codings)", title_justify="left")
        for col in ("confidence", "codings", "TP", "precision", "recall", "codings >= low", "precision >= low",
                    "recall >= low"):
            bands.add_column(col, justify="right")
        for b in result["confidence_bands"]:
            bands.add_row(f"{b['band'][0]:.2f}-{b['band'][1]:.2f}", str(b["codings"]), str(b["tp"]),
                          _fmt(b["precision"], "float"), _fmt(b["recall"], "float"), str(b["codings_at_or_above"]),
                          _fmt(b["precision_at_or_above"], "float"), _fmt(b["recall_at_or_above"], "float"))
        console.print(bands)
    for key, why in result["reasons"].items():
        if "." not in key and key != "confidence_bands":
            console.print(f"note: {why}", markup=False)
