"""CLI group ``refi``: export, import and check REFI-QDA projects (.qdpx) and codebooks (.qdc)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vbhc_code.cli.app import (
    LineEndings,
    StoreOption,
    VbhcGroup,
    app,
    coders_option,
    command,
    console,
    print_warnings,
    resolve_store_path,
    say,
)

refi_app = typer.Typer(
    help="REFI-QDA exchange with NVivo, ATLAS.ti, MAXQDA and others: .qdpx projects and .qdc codebooks.",
    no_args_is_help=True,
    rich_markup_mode=None,
    cls=VbhcGroup,
)
app.add_typer(refi_app, name="refi")


def _data(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


@command(
    "export",
    group=refi_app,
    help="Write the study as a REFI-QDA project (.qdpx): sources, users (one per coder), codebook, codings as "
    "selections, participants as cases. Validated against Project.xsd before it is written. "
    "Usage: --out F.qdpx [--coders A B consensus] [--line-endings lf|crlf].",
)
def export_cmd(
    out: Annotated[Path, typer.Option("--out", help="The .qdpx file to write (replaced atomically).")],
    coders: Annotated[
        list[str] | None, coders_option("Coders to export: --coders A B consensus (default: all).")
    ] = None,
    line_endings: Annotated[
        LineEndings, typer.Option("--line-endings", help="lf (exact plain text) or crlf (offsets shifted to match).")
    ] = "lf",
    force: Annotated[bool, typer.Option("--force", help="Replace --out even when vbhc-code did not write it.")] = False,
    store: StoreOption = None,
) -> None:
    from vbhc_code.errors import UsageError
    from vbhc_code.refi.export import export_qdpx
    from vbhc_code.store.store import Store

    names = coders or None
    if out.suffix.lower() != ".qdpx":
        raise UsageError(f"--out {out.name}: a REFI-QDA project is written as .qdpx")
    with Store.open(resolve_store_path(store), create=False) as st:
        report = export_qdpx(st, out=out, coders=names, line_endings=line_endings, force=force)
        from vbhc_code.coding.stale import stale_warnings

        stale = stale_warnings(st, names)
    print_warnings([*report.warnings, *stale])
    say(f"wrote {out}: {report.sources} sources, {report.codes} codes, {report.users} users, "
         f"{report.selections} selections with {report.codings} codings, {report.cases} cases")


@command(
    "import",
    group=refi_app,
    help="Read a REFI-QDA project (.qdpx) or codebook (.qdc) into the store: sources as documents (turns by the "
    "ingest rules), selections as codings per user, codes as a codebook, cases as participants. Unsupported parts "
    "(PDF, pictures, audio, video, notes, links, graphs) are reported and skipped.",
)
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A .qdpx project or .qdc codebook.")],
    store: StoreOption = None,
) -> None:
    from vbhc_code.refi.importer import import_refi
    from vbhc_code.store.store import open_store

    with open_store(resolve_store_path(store)) as st:  # a failed import into a new store removes it again
        report = import_refi(st, file)
    print_warnings(report.warnings)
    for s in report.skipped:
        say(f"skipped: {s}")
    if report.kind == "codebook":
        say(f"imported codebook '{report.codebook}' from {file.name}: {report.codes} codes in {report.themes} themes")
        return
    coders = ", ".join(report.coders) or "none"
    say(f"imported {file.name} ({report.origin or 'unknown origin'}): {report.sources} of "
         f"{report.sources_declared} text sources, {report.codes} codes, {report.users} users, "
         f"{report.codings} of {report.codings_declared} codings ({report.stored_codings} turn codings) "
         f"by coders {coders}, {report.participants} participants")
    if report.merged:
        say(f"{report.merged} turn coding(s) repeated by the same user were identical and stored once")


@command(
    "check",
    group=refi_app,
    help="Check a .qdpx or .qdc: XSD errors with line numbers, plus the rules the XSD cannot express "
    "(internal:// sources under sources/, UTF-8 text, #RRGGBB colours, no empty Sets, selections inside their "
    "source, references to existing GUIDs). Exit 1 when invalid.",
)
def check_cmd(file: Annotated[Path, typer.Argument(help="A .qdpx project or .qdc codebook.")]) -> None:
    from vbhc_code.refi.check import check_refi

    problems = check_refi(file)
    if not problems:
        _data(f"{file.name}: valid REFI-QDA")
        return
    for p in problems:
        _data(p)
    say(f"{file.name}: {len(problems)} problem(s)")
    raise typer.Exit(1)
