"""CLI command: reconcile (write/refresh the workbook, --apply it, --status)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from vbhc_code.cli.app import StoreOption, command, console, console_err, print_warnings, resolve_store_path
from vbhc_code.errors import UsageError
from vbhc_code.store.store import Store


def _status_file(file: Path | None, coders: tuple[str, str] | None) -> Path:
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


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "undefined"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


@command("reconcile")
def reconcile_cmd(
    file: Annotated[Path | None, typer.Argument(help="With --status: the reconciliation workbook.", show_default=False)] = None,
    coders: Annotated[tuple[str, str] | None, typer.Option("--coders", help="The two coders to reconcile: --coders A B.", show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Workbook to write (default codings/reconcile-A-B.xlsx).", show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite a workbook whose decisions cannot be read.")] = False,
    apply: Annotated[Path | None, typer.Option("--apply", help="Apply the decisions in this workbook.", show_default=False)] = None,
    as_coder: Annotated[str, typer.Option("--as", help="Store the consensus as this coder.")] = "consensus",
    partial: Annotated[bool, typer.Option("--partial", help="Apply only documents whose disagreements are all decided.")] = False,
    status: Annotated[bool, typer.Option("--status", help="Show progress of a workbook (FILE, or the one in codings/).")] = False,
    log: Annotated[Path, typer.Option("--log", help="Audit log CSV written by --apply.")] = Path("outputs") / "reconciliation-log.csv",
    scope: Annotated[str, typer.Option("--scope", help="Scope of the agreement printed by --apply: participant or all.")] = "participant",
    as_json: Annotated[bool, typer.Option("--json", help="With --status: print JSON.")] = False,
    store: StoreOption = None,
) -> None:
    """Reconcile two coders: one row per disagreeing turn x code, decided by the team, applied as a consensus.

    \b
    vbhc-code reconcile --coders A B [--out F.xlsx]   write or refresh (decisions are kept)
    vbhc-code reconcile --apply F.xlsx [--as consensus] [--partial]
    vbhc-code reconcile --status [F.xlsx]
    """
    modes = sum(bool(x) for x in (apply is not None, status, coders is not None and not status))
    if modes != 1:
        raise UsageError("use one of: --coders A B | --apply FILE | --status [FILE]")
    if file is not None and not status:
        raise UsageError(f"unexpected argument '{file}' (FILE is for --status)")
    if scope not in ("participant", "all"):
        raise UsageError(f"--scope must be participant or all, not '{scope}'")
    store_path = resolve_store_path(store)
    if status:
        from vbhc_code.coding.reconcile.apply import reconcile_status

        path = _status_file(file, coders)
        with Store.open(store_path, create=False) as st:
            result = reconcile_status(st, path=path)
        if as_json:
            typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
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
                          markup=False, soft_wrap=True)  # fmt: skip
        if result["stale"]:
            console_err.print(f"warning: {result['stale']} cell(s) changed in the store since the workbook was "
                              f"written; re-run 'vbhc-code reconcile --coders {' '.join(result['coders'])}'",
                              markup=False, soft_wrap=True)  # fmt: skip
        return
    if apply is not None:
        from vbhc_code.coding.reconcile.apply import apply_reconciliation

        with Store.open(store_path, create=False) as st:
            rep = apply_reconciliation(st, path=apply, as_coder=as_coder, partial=partial, log_csv=log, scope=scope)
        print_warnings(rep.warnings)
        console.print(
            f"stored coder '{rep.as_coder}': {rep.codings} codings in {rep.documents} documents "
            f"({rep.agreed} agreed cells carried over, {sum(rep.settled.values())} decided); audit log {rep.log_csv}",
            markup=False, soft_wrap=True,
        )
        if rep.skipped_documents:
            console.print(f"--partial: {len(rep.skipped_documents)} document(s) with {rep.undecided} undecided "
                          f"cell(s) left out: {', '.join(rep.skipped_documents)}", markup=False, soft_wrap=True)  # fmt: skip
        table = Table(title="Settled by decision", title_justify="left")
        table.add_column("decision")
        table.add_column("cells", justify="right")
        for k, v in sorted(rep.settled.items()):
            table.add_row(k, str(v))
        console.print(table)
        if rep.agreement is not None:
            table = Table(title=f"Agreement with '{rep.as_coder}' (turn x code cells, scope {scope})",
                          title_justify="left")  # fmt: skip
            for col in ("coder", "percent_agreement", "cohen_kappa", "positive_agreement"):
                table.add_column(col, justify="left" if col == "coder" else "right")
            for coder, pooled in rep.agreement.items():
                table.add_row(coder, *(_fmt(pooled.get(k)) for k in ("percent_agreement", "cohen_kappa",
                                                                      "positive_agreement")))  # fmt: skip
            console.print(table)
        return
    from vbhc_code.coding.reconcile.apply import write_reconcile_workbook

    with Store.open(store_path, create=False) as st:
        rep = write_reconcile_workbook(st, coders=coders, out=out, force=force)
    print_warnings(rep.warnings)
    console.print(
        f"wrote {rep.path}: {rep.disagreements} disagreements ({rep.decided} decided), {rep.agreed} agreed cells, "
        f"{rep.documents} documents coded by both",
        markup=False, soft_wrap=True,
    )
    if rep.changes:
        console.print("changes since the last run: " + ", ".join(f"{k} {v}" for k, v in sorted(rep.changes.items())),
                      markup=False, soft_wrap=True)  # fmt: skip
