"""CLI command: ``vbhc-code themes``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from vbhc_code.cli.app import Scope, StoreOption, command, print_warnings, resolve_store_path, say
from vbhc_code.themes.quotes import DEFAULT_ATTRIBUTION, PLACEHOLDERS, QUOTE_RULES


def _load_codebook(path: Path):
    from vbhc_code.codebook.load import load_codebook

    return load_codebook(path)


@command(
    "themes",
    help="Theme table, representative quotes, matrices and a methods paragraph from one coder's codings.\n\n"
    "Quote selection, as the Methods sheet states it: " + QUOTE_RULES,
)
def themes(
    coder: Annotated[str, typer.Option("--coder", help="Coder whose codings are analysed (normally the consensus).")],
    codebook: Annotated[Path | None, typer.Option(
        "--codebook", help="Codebook file (default: the codebook stored with the coder's codings, else the "
        "built-in vbhc-sim codebook).")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="Participant attribute to compare (default: group), or a document attribute.")] = None,
    quotes: Annotated[int, typer.Option("--quotes", min=0, help="Representative quotes per code.")] = 3,
    scope: Annotated[Scope, typer.Option("--scope", help="participant (default) or all turns.")] = "participant",
    out: Annotated[Path, typer.Option("--out", help="Workbook to write.")] = Path("outputs/themes.xlsx"),
    md: Annotated[Path | None, typer.Option("--md", help="Also write Themes, Quotes and Methods as Markdown.")] = None,
    docx: Annotated[Path | None, typer.Option(
        "--docx", help="Also write the manuscript pieces as Word: Table 1 (codes by group), Table 2 (quotes), "
        "Methods and a note on the quotes.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print codes, quotes and co-occurrence as JSON.")] = False,
    store: StoreOption = None,
    attribution: Annotated[
        str, typer.Option("--attribution", help="Quote attribution; placeholders: " + ", ".join(
            "{" + p + "}" for p in PLACEHOLDERS))
    ] = DEFAULT_ATTRIBUTION,
    pin: Annotated[Path | None, typer.Option(
        "--pin", help="CSV/XLSX of quotes to keep (columns document, turn_index[, code, start, end]; a copy of "
        "the Quotes sheet works).")] = None,
    exclude: Annotated[Path | None, typer.Option(
        "--exclude", help="CSV/XLSX of turns never to quote (columns document, turn_index[, code]).")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Overwrite --out/--md/--docx even when they are not earlier themes outputs.")] = False,
    allow: Annotated[Path | None, typer.Option(
        "--allow", help="File of known non-identifiers, one per line (as check-identifiers --allow); every other "
        "flagged span in a quote is masked ([e-mail], [phone], [name], ...).")] = None,
    framework: Annotated[
        str | None, typer.Option("--framework", help="Document attribute for the Framework sheet (health_system).")
    ] = None,
) -> None:
    from vbhc_code.errors import UsageError
    from vbhc_code.store.store import Store
    from vbhc_code.themes.build import (
        build_themes,
        themes_json,
    )
    from vbhc_code.themes.quotes import check_attribution

    check_attribution(attribution)  # usage errors before touching the store
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"--out {out}: the workbook must be a .xlsx file")
    if docx is not None and docx.suffix.lower() != ".docx":
        raise UsageError(f"--docx {docx}: the Word document must be a .docx file")
    for option, path in (("--out", out), ("--md", md), ("--docx", docx)):
        if path is not None and path.is_dir():
            raise UsageError(f"{option} {path}: is a folder; give a file name")
    named = [p.absolute() for p in (out, md, docx) if p is not None]
    if len(set(named)) < len(named):
        raise UsageError("--out, --md and --docx must name different files")
    cb = _load_codebook(codebook) if codebook else None
    from vbhc_code.ingest.identifiers import read_allow_list

    allowed = read_allow_list(allow) if allow is not None else []
    with Store.open(resolve_store_path(store), create=False) as st:
        result = build_themes(st, coder=coder, codebook=cb, by=by, quotes=quotes, scope=scope,
                              attribution=attribution, pins=pin, excludes=exclude, framework=framework,
                              allow=allowed)
    print_warnings(result.warnings)
    _write_all(result, out=out, md=md, docx=docx, force=force)
    if as_json:
        typer.echo(json.dumps(themes_json(result), ensure_ascii=False, indent=2))
    kept = f" (kept {result.kept_ratings} Framework ratings/notes)" if result.kept_ratings else ""
    written = [str(p) for p in (md, docx) if p]
    say(f"wrote {out}{kept}" + (" and " + " and ".join(written) if written else ""))


def _write_all(result: Any, *, out: Path, md: Path | None, docx: Path | None, force: bool) -> None:
    """--out, --md and --docx together: each checked first, written to a temp file, synced, and all renamed
    only when every one is complete (all or nothing; ``files.atomic.atomic_paths``)."""
    from vbhc_code.files.atomic import atomic_paths
    from vbhc_code.files.outputs import THEMES
    from vbhc_code.themes.build import themes_markdown, write_themes_xlsx
    from vbhc_code.themes.paper import write_themes_docx

    targets = [p for p in (out, md, docx) if p is not None]
    with atomic_paths(targets, kinds=[THEMES] * len(targets), force=force) as temps:
        temp = dict(zip(targets, temps, strict=True))
        write_themes_xlsx(result, out, force=force, to=temp[out])
        if md is not None:
            with open(temp[md], "w", encoding="utf-8", newline="\n") as fh:
                fh.write(themes_markdown(result))
        if docx is not None:
            write_themes_docx(result, docx, force=force, to=temp[docx])
