"""CLI command: reconcile (write/refresh the workbook, --apply it, --status)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from vbhc_code.cli.app import (
    NoBomOption,
    RawOption,
    Scope,
    StoreOption,
    coders_option,
    command,
    console,
    csv_options,
    print_warnings,
    resolve_store_path,
    say,
)
from vbhc_code.errors import UsageError

if TYPE_CHECKING:
    from vbhc_code.files.csvfile import CsvOptions


def _status_file(file: Path | None, coders: list[str] | None) -> Path:
    if file is not None:
        return file
    if coders:
        return Path("codings") / f"reconcile-{coders[0]}-{coders[1]}.xlsx"
    found = sorted(Path("codings").glob("reconcile-*.xlsx"))
    if len(found) == 1:
        return found[0]
    if not found:
        raise UsageError("no codings/reconcile-*.xlsx here; name the workbook: vbhc-code reconcile --status FILE")
    raise UsageError(f"several reconciliation workbooks ({', '.join(p.name for p in found)}); name one")


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "undefined"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


@command("reconcile")
def reconcile_cmd(
    file: Annotated[
        Path | None, typer.Argument(help="With --status: the reconciliation workbook.", show_default=False)
    ] = None,
    coders: Annotated[list[str] | None, coders_option("The two coders to reconcile: --coders A B.")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Workbook to write (default codings/reconcile-A-B.xlsx).", show_default=False),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite a workbook whose decisions cannot be read; with "
                                        "--apply, a --log file that is not an earlier reconciliation log.")]
    = False,
    apply: Annotated[
        Path | None, typer.Option("--apply", help="Apply the decisions in this workbook.", show_default=False)
    ] = None,
    as_coder: Annotated[str, typer.Option("--as", help="Store the consensus as this coder.")] = "consensus",
    partial: Annotated[
        bool, typer.Option("--partial", help="Apply only documents whose disagreements are all decided.")
    ] = False,
    status: Annotated[
        bool, typer.Option("--status", help="Show progress of a workbook (FILE, or the one in codings/).")
    ] = False,
    log: Annotated[Path, typer.Option("--log", help="Audit log CSV written by --apply.")]
    = Path("outputs") / "reconciliation-log.csv",
    scope: Annotated[Scope, typer.Option("--scope", help="Scope of the agreement printed by --apply.")]
    = "participant",
    as_json: Annotated[bool, typer.Option("--json", help="With --status: print JSON.")] = False,
    no_bom: NoBomOption = False,
    raw: RawOption = False,
    store: StoreOption = None,
) -> None:
    """Reconcile two coders: one row per disagreeing turn x code, decided by the team, applied as a consensus.

    \b
    vbhc-code reconcile --coders A B [--out F.xlsx]   write or refresh (decisions are kept)
    vbhc-code reconcile --apply F.xlsx [--as consensus] [--partial]
    vbhc-code reconcile --status [F.xlsx]
    """
    modes = sum(bool(x) for x in (apply is not None, status, bool(coders) and not status))
    if modes != 1:
        raise UsageError("use one of: --coders A B | --apply FILE | --status [FILE]")
    if file is not None and not status:
        raise UsageError(f"unexpected argument '{file}' (FILE is for --status)")
    if coders and len(coders) != 2:
        raise UsageError(f"reconcile takes two coders (--coders A B), not {len(coders)}")
    store_path = resolve_store_path(store)
    if status:
        _status(store_path, _status_file(file, coders), as_json=as_json)
    elif apply is not None:
        _apply(store_path, apply, as_coder=as_coder, partial=partial, log=log, scope=scope, force=force,
               csv=csv_options(no_bom=no_bom, raw=raw))
    else:
        _write(store_path, coders or [], out=out, force=force)


def _status(store_path: Path, path: Path, *, as_json: bool) -> None:
    from vbhc_code.coding.reconcile.apply import reconcile_status
    from vbhc_code.store.store import Store

    with Store.open(store_path, create=False) as st:
        result = reconcile_status(st, path=path)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        _exit_if_stale(result)
        return
    console.print(
        f"{path}: {result['decided']} of {result['disagreements']} disagreements decided "
        f"({result['percent_decided']:.0f}%), {result['undecided']} undecided, {result['invalid']} invalid",
        markup=False, soft_wrap=True,
    )
    for line in result["invalid_cells"]:
        console.print(f"invalid: {line}", markup=False, soft_wrap=True, highlight=False)
    if result["by_decision"]:
        console.print("decisions: " + ", ".join(f"{k} {v}" for k, v in sorted(result["by_decision"].items())),
                      markup=False, soft_wrap=True)
    if result["stale"]:
        print_warnings([f"{result['stale']} cell(s) changed in the store since the workbook was written; "
                        f"re-run 'vbhc-code reconcile --coders {' '.join(result['coders'])}'"])
    _exit_if_stale(result)


def _exit_if_stale(result: Mapping[str, Any]) -> None:
    """A consensus made from these two coders whose codings changed since: warn and exit 1."""
    print_warnings(result.get("stale_consensus") or [])
    if result.get("stale_consensus"):
        raise typer.Exit(1)


def _apply(store_path: Path, path: Path, *, as_coder: str, partial: bool, log: Path, scope: str,
           force: bool, csv: CsvOptions) -> None:
    from vbhc_code.coding.reconcile.apply import apply_reconciliation
    from vbhc_code.store.store import Store

    with Store.open(store_path, create=False) as st:
        rep = apply_reconciliation(st, path=path, as_coder=as_coder, partial=partial, log_csv=log, scope=scope,
                                   force=force, csv=csv)
    print_warnings(rep.warnings)
    say(f"stored coder '{rep.as_coder}': {rep.codings} codings in {rep.documents} documents "
        f"({rep.agreed} agreed cells carried over, {sum(rep.settled.values())} decided); audit log {rep.log_csv}")
    if rep.skipped_documents:
        say(f"--partial: {len(rep.skipped_documents)} document(s) with {rep.undecided} undecided "
            f"cell(s) left out: {', '.join(rep.skipped_documents)}")
    table = Table(title="Settled by decision", title_justify="left")
    table.add_column("decision")
    table.add_column("cells", justify="right")
    for k, v in sorted(rep.settled.items()):
        table.add_row(k, str(v))
    console.print(table)
    if rep.agreement is not None:
        table = Table(title=f"Agreement with '{rep.as_coder}' (turn x code cells, scope {scope})",
                      title_justify="left")
        keys = ("percent_agreement", "cohen_kappa", "positive_agreement")
        for col in ("coder", *keys):
            table.add_column(col, justify="left" if col == "coder" else "right")
        for coder, pooled in rep.agreement.items():
            table.add_row(coder, *(_fmt(pooled.get(k)) for k in keys))
        console.print(table)


def _write(store_path: Path, coders: list[str], *, out: Path | None, force: bool) -> None:
    from vbhc_code.coding.reconcile.apply import write_reconcile_workbook
    from vbhc_code.store.store import Store

    with Store.open(store_path, create=False) as st:
        rep = write_reconcile_workbook(st, coders=(coders[0], coders[1]), out=out, force=force)
    print_warnings(rep.warnings)
    counts = (f"{rep.disagreements} disagreements ({rep.decided} decided), {rep.agreed} agreed cells, "
              f"{rep.documents} documents coded by both")
    if not rep.written:
        say(f"{rep.path} is up to date ({counts}); nothing written")
        return
    say(f"wrote {rep.path}: {counts}")
    if rep.changes:
        say("changes since the last run: " + ", ".join(f"{k} {v}" for k, v in sorted(rep.changes.items())))
