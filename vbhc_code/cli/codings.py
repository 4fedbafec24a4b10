"""CLI commands: codings workbook | import | export | list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from vbhc_code.cli.app import (
    NoBomOption,
    RawOption,
    Scope,
    StoreOption,
    VbhcGroup,
    app,
    coders_option,
    command,
    console,
    csv_options,
    print_warnings,
    resolve_store_path,
    say,
)

codings_app = typer.Typer(
    help="Coder workbooks, importing and exporting human codings.",
    no_args_is_help=True,
    rich_markup_mode=None,
    cls=VbhcGroup,
)
app.add_typer(codings_app, name="codings")


@command("workbook", group=codings_app)
def workbook_cmd(
    coders: Annotated[
        list[str] | None,
        coders_option("Coder names: --coder A --coder B or --coders A B.", flags=("--coder", "--coders")),
    ] = None,
    codebook: Annotated[
        Path | None, typer.Option("--codebook", help="Codebook TOML (default: built-in vbhc-sim).")
    ] = None,
    scope: Annotated[
        Scope, typer.Option("--scope", help="participant (default) or all (interviewer turns too).")
    ] = "participant",
    out: Annotated[Path, typer.Option("--out", help="Folder for the workbooks (coder-NAME.xlsx).")] = Path("codings"),
    prefill: Annotated[
        str | None, typer.Option("--prefill", help="Pre-fill with this coder's codings (e.g. auto).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing workbooks (they are human work).")] = False,
    store: StoreOption = None,
) -> None:
    """Write one blind coding workbook per coder: Turns, Documents, Codebook, Instructions."""
    from vbhc_code.coding.imports import load_codebook_file, write_workbooks
    from vbhc_code.errors import UsageError
    from vbhc_code.store.store import Store

    if not coders:
        raise UsageError("name the coders: --coder A --coder B (or --coders A B)")
    with Store.open(resolve_store_path(store), create=False) as st:
        cb = load_codebook_file(codebook, st)
        issued = write_workbooks(st, coders=coders, codebook=cb, scope=scope, out_dir=out, prefill=prefill, force=force)
    print_warnings(wb.warning for wb in issued if wb.warning)
    for wb in issued:
        extra = f", pre-filled from '{wb.prefill}'" if wb.prefill else ""
        say(f"wrote {wb.path}: {wb.turns} turns in {wb.documents} documents, {wb.codes} codes{extra}")


@command("import", group=codings_app)
def import_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(help="Coder workbooks (.xlsx) or long files (.csv/.xlsx: document, turn_index, code)."),
    ],
    coder: Annotated[
        str | None,
        typer.Option(
            "--coder", help="Import as this coder (default: from the workbook, the coder column or coder-NAME.csv)."
        ),
    ] = None,
    codebook: Annotated[
        Path | None,
        typer.Option("--codebook", help="Codebook the codes belong to (default: the workbook's, else built-in)."),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a coder who already has different codings (human work).")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Validate the files (every problem listed with its location) and store each coder's codings.

    Exit 1 and nothing stored when any problem is found, or when a coder already has different codings
    (the summary says what would change; --replace goes ahead). Identical codings are a no-op.
    """
    from vbhc_code.coding.imports import import_codings
    from vbhc_code.store.store import Store

    with Store.open(resolve_store_path(store), create=False) as st:
        report = import_codings(st, files, coder=coder, codebook=codebook, replace=replace)
        from vbhc_code.coding.stale import stale_warnings

        stale = stale_warnings(st, [item.coder for item in report.coders])
    print_warnings(report.warnings)
    for item in report.coders:
        say(import_line(item))
    print_warnings(stale)  # a --replace made a consensus of this coder stale: say so now


def import_line(item: Any) -> str:
    """One line per imported coder: new, unchanged (a no-op) or replaced (with what changed)."""
    sources = ", ".join(item.sources)
    merged = f"; {item.duplicates} duplicate row(s) merged" if item.duplicates else ""
    counts = (f"{len(item.codings)} codings in {len(item.coded_documents)} coded documents "
              f"(codebook {item.codebook.name} {item.codebook.version}{merged})")
    change = item.change
    if change is not None and change.status == "unchanged":
        return (f"coder '{item.coder}' unchanged: {sources} holds the codings already stored ({counts}); "
                "nothing imported")
    if change is not None and change.status == "replaced":
        return f"replaced coder '{item.coder}': {change.summary}; now {counts}"
    return f"imported coder '{item.coder}' from {sources}: {counts}"


@command("export", group=codings_app)
def export_cmd(
    coder: Annotated[str, typer.Option("--coder", help="The coder to export.")],
    out: Annotated[Path | None, typer.Option("--out", help="F.csv or F.xlsx (default: CSV to stdout).")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing file in codings/ (human work).")
    ] = False,
    no_bom: NoBomOption = False,
    raw: RawOption = False,
    store: StoreOption = None,
) -> None:
    """Export one coder's codings: document, turn_index, code, coder, start, end, evidence."""
    from vbhc_code.coding.imports import export_codings
    from vbhc_code.store.store import Store

    with Store.open(resolve_store_path(store), create=False) as st:
        n = export_codings(st, coder=coder, out=out, force=force, csv=csv_options(no_bom=no_bom, raw=raw))
    if out is not None:
        say(f"wrote {out}: {n} codings")


@command("list", group=codings_app)
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    store: StoreOption = None,
) -> None:
    """Coders in the store: codebook, documents coded, codings."""
    from vbhc_code.coding.listing import list_codings
    from vbhc_code.store.store import Store

    with Store.open(resolve_store_path(store), create=False) as st:
        rows = list_codings(st)
        n_docs = len(st.document_names())
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        say("no codings in the store yet (vbhc-code codings import or vbhc-code autocode)")
        return
    table = Table(title=f"Coders ({n_docs} documents in the store)", title_justify="left")
    for col in ("coder", "codebook", "documents coded", "codings", "source", "updated"):
        table.add_column(col, justify="right" if col in ("documents coded", "codings") else "left",
                         no_wrap=col in ("coder", "updated"))
    for r in rows:
        table.add_row(r["coder"], r["codebook"] + (f" ({r['codebook_sha256'][:8]})" if r["codebook_sha256"] else ""),
                      str(r["documents_coded"]), str(r["codings"]), r["source"], r["updated_at"][:10])
    console.print(table)
    versions = {r["codebook_sha256"] for r in rows if r["codebook_sha256"]}
    if len(versions) > 1:
        print_warnings([f"the coders used {len(versions)} different codebooks; compare their codings with care"])
