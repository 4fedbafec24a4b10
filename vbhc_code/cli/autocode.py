"""CLI command: autocode (and autocode --explain DOC TURN)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from vbhc_code.cli.app import (
    AutocodeUnit,
    Scope,
    StoreOption,
    command,
    console,
    print_warnings,
    progress,
    resolve_store_path,
    say,
)


@command("autocode")
def autocode_cmd(
    codebook: Annotated[
        Path | None,
        typer.Option("--codebook", help="Codebook TOML (default: the built-in vbhc-sim).", show_default=False),
    ] = None,
    coder: Annotated[
        str,
        typer.Option(
            "--coder",
            help="Store the codings as this coder (replaces an earlier autocode "
            "run; a coder with imported codings is refused).",
        ),
    ] = "auto",
    unit: Annotated[
        AutocodeUnit, typer.Option("--unit", help="turn: one coding per turn and code; sentence: per sentence.")
    ] = "turn",
    scope: Annotated[
        Scope,
        typer.Option("--scope", help="participant: participant turns (chat included); all: interviewer turns too."),
    ] = "participant",
    min_confidence: Annotated[
        float, typer.Option("--min-confidence", help="Leave out codings whose confidence (0-1, from their evidence) "
                            "is below this.")
    ] = 0.0,
    explain: Annotated[
        tuple[str, int] | None,
        typer.Option(
            "--explain", metavar="DOC TURN", help="Show why a turn got (or did not get) its codes; changes nothing."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="With --explain: print JSON.")] = False,
    store: StoreOption = None,
) -> None:
    """Code the study with the codebook's terms and patterns and store the result as a coder.

    Every coding keeps its evidence (term or pattern, offsets in the document text).
    """
    from vbhc_code.autocode.run import autocode
    from vbhc_code.autocode.run import explain as explain_turn
    from vbhc_code.codebook.load import load_codebook
    from vbhc_code.store.store import Store

    store_path = resolve_store_path(store)
    with Store.open(store_path, create=False) as st:
        if explain is not None:
            cb = load_codebook(codebook) if codebook is not None else None
            result = explain_turn(st, explain[0], int(explain[1]), coder=coder, codebook=cb)
            if as_json:
                console.print_json(json.dumps(result, ensure_ascii=False))
            else:
                _print_explain(result, coder)
            return
        cb = load_codebook(codebook)
        with progress("autocode", unit="turns", rate_unit="words") as advance:
            words = [0]
            report = autocode(st, codebook=cb, coder=coder, unit=unit, scope=scope, min_confidence=min_confidence,
                              on_progress=lambda done, total: advance(done, total, rated=words[0]),
                              on_words=lambda n: words.__setitem__(0, n))
    print_warnings(report.warnings)
    table = Table(
        title=f"autocode -> coder '{report.coder}' with codebook {report.codebook} "
        f"({report.unit}s, {report.scope} turns)",
        title_justify="left",
    )
    for col in ("code", "label", "turns coded", "codings", "vetoed hits"):
        table.add_column(col, justify="left" if col in ("code", "label") else "right")
    for c in cb.codes:
        row = report.per_code.get(c.id, {})
        table.add_row(
            c.id, Text(c.label), str(row.get("turns", 0)), str(row.get("codings", 0)), str(row.get("vetoed", 0))
        )
    console.print(table)
    rate = report.words / report.seconds if report.seconds else 0.0
    say(f"{report.documents} documents, {report.turns} turns, {report.words} words, {report.codings} codings "
        f"in {report.seconds:.1f} s ({rate:,.0f} words/s) after {report.startup_seconds:.1f} s of start-up "
        f"(spaCy pipeline and codebook matchers, timed apart); stored in {store_path}")


def _print_explain(result: dict, coder: str) -> None:
    console.print(
        f"{result['document']} turn {result['turn_index']} ({result['speaker'] or 'no speaker'}, {result['role']}, "
        f"{result['turn_type']}, language {result['language']}); codebook {result['codebook']}",
        markup=False, soft_wrap=True,
    )
    if result["role"] != "participant":
        console.print("note: an interviewer turn is only coded with --scope all", markup=False, soft_wrap=True)
    text = Text(result["text"])
    console.print(text)
    table = Table(title="Matches", title_justify="left")
    for col in ("code", "term / pattern", "via", "offsets", "matched text", "result"):
        table.add_column(col)
    for h in result["hits"]:
        if h["kind"] in ("context", "interview"):
            status = "domain context" if h["kind"] == "context" else "talk about the interview: vetoes its sentence"
        elif h["vetoed_by"]:
            rule = h["vetoed_by"].startswith(("interview talk ", "no domain context", "off-topic document"))
            status = f"vetoed: {h['vetoed_by']}" if rule else f"vetoed by '{h['vetoed_by']}'"
        else:
            status = "codes the turn"
        table.add_row(h["code"], Text(h["label"]), h["via"], h["offsets"], Text(h["matched"]), Text(status))
    if not result["hits"]:
        console.print("no term or pattern of the codebook matches this turn", markup=False, soft_wrap=True)
    else:
        console.print(table)
    if result["stored"]:
        stored = Table(title=f"Stored codings of '{coder}'", title_justify="left")
        for col in ("code", "offsets", "confidence", "evidence"):
            stored.add_column(col)
        for c in result["stored"]:
            offsets = f"{c['start']}-{c['end']}" if c["start"] is not None else ""
            score = "" if c.get("confidence") is None else f"{c['confidence']:.2f}"
            stored.add_row(c["code"], offsets, score, Text(c["evidence"] or ""))
        console.print(stored)
    else:
        console.print(f"coder '{coder}' has no codings on this turn", markup=False, soft_wrap=True)
