"""CLI commands: codebook check | show | export | import | suggest-terms."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from vbhc_code.cli.app import StoreOption, VbhcGroup, app, command, console, resolve_store_path, say
from vbhc_code.errors import ValidationError

group = typer.Typer(
    help="Codebooks: validate, show, export for coders, import from a sheet.", no_args_is_help=True, cls=VbhcGroup
)
app.add_typer(group, name="codebook")

FileArg = Annotated[
    Path | None,
    typer.Argument(help="Codebook file: TOML, REFI .qdc or .qdpx (default: the study's own codebook, one that "
                   "came with an imported REFI project, else the built-in vbhc-sim codebook).", show_default=False),
]


def _codebook(file: Path | None, store: Path | None):
    """FILE, else the store's own codebook (when a store exists and has one), else the built-in codebook."""
    from vbhc_code.codebook.load import load_codebook

    if file is not None:
        return load_codebook(file)
    path = resolve_store_path(store)
    if path.is_file():
        from vbhc_code.store.store import Store

        with Store.open(path, create=False) as st:
            own = st.study_codebook()
        if own is not None:
            return own
    return load_codebook(None)


@command("check", group=group)
def check_cmd(file: Annotated[Path, typer.Argument(help="Codebook file to validate: TOML, .qdc or .qdpx.")]) -> None:
    """Validate a codebook: every problem is listed with its location; exit 1 if any is an error."""
    from vbhc_code.codebook.load import check_codebook, load_codebook

    problems = check_codebook(file)
    errors = [p for p in problems if p.level == "error"]
    if errors:
        n = len(errors)
        raise ValidationError(f"{file}: {n} error{'s' if n != 1 else ''} in the codebook", [str(p) for p in problems])
    for p in problems:
        say(str(p))
    cb = load_codebook(file)
    warned = f", {len(problems)} warning{'s' if len(problems) != 1 else ''}" if problems else ""
    console.print(
        f"{file}: codebook '{cb.name}' {cb.version} is valid: {_n(len(cb.themes), 'theme')}, "
        f"{_n(len(cb.codes), 'code')}, "
        f"languages {', '.join(cb.languages)}{warned}",
        markup=False,
        soft_wrap=True,
    )


@command("show", group=group)
def show_cmd(
    file: FileArg = None,
    code: Annotated[str | None, typer.Option("--code", help="Show one code in full.")] = None,
    store: StoreOption = None,
) -> None:
    """Show a codebook as a table (or one code in full with --code)."""
    from vbhc_code.errors import UsageError

    cb = _codebook(file, store)
    if code is not None:
        try:
            c = cb.code(code)
        except KeyError:
            raise UsageError(f"no code '{code}' in codebook '{cb.name}' (codes: {', '.join(cb.code_ids)})") from None
        table = Table(title=Text(f"{c.id} {c.label} ({cb.name} {cb.version})"), show_header=False, title_justify="left")
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        for key in ("theme", "definition", "include", "exclude"):
            table.add_row(key, Text(getattr(c, key)))
        table.add_row("examples", Text("\n".join(f"- {e}" for e in c.examples)))
        for f in ("terms", "negative"):
            for lang, items in getattr(c, f).items():
                table.add_row(f"{f} ({lang})", Text(", ".join(items)))
        for lang, patterns in c.patterns.items():
            table.add_row(f"patterns ({lang})", str(len(patterns)))
        console.print(table)
        return
    table = Table(title=Text(f"Codebook {cb.name} {cb.version} (sha256 {cb.sha256[:12]})"), title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("theme", no_wrap=True)
    table.add_column("label")
    table.add_column("definition", overflow="fold", ratio=3)
    for lang in cb.languages:
        table.add_column(f"terms {lang}", justify="right")
    table.add_column("patterns", justify="right")
    for c in cb.codes:
        table.add_row(
            Text(c.id), Text(c.theme), Text(c.label), Text(c.definition),
            *(str(len(c.terms.get(lang, ()))) for lang in cb.languages),
            str(sum(len(p) for p in c.patterns.values())),
        )
    console.print(table)


@command("export", group=group)
def export_cmd(
    file: FileArg = None,
    out: Annotated[
        Path, typer.Option("--out", help="Output: .xlsx (for coders), .md, .qdc (REFI-QDA) or .toml.")
    ] = ...,  # type: ignore[assignment]
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing file that is not an earlier export of this kind "
                                           "(a .toml, a README, a coder's file).")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Export a codebook (definitions, include/exclude, examples, terms) as .xlsx, .md, .qdc or .toml."""
    from vbhc_code.codebook.io import export_codebook
    from vbhc_code.codebook.load import builtin_codebook_path

    cb = _codebook(file, store)
    export_codebook(cb, out, force=force, source=file or builtin_codebook_path())
    say(f"wrote {out} (codebook '{cb.name}' {cb.version}, {_n(len(cb.codes), 'code')})")


@command("import", group=group)
def import_cmd(
    sheet: Annotated[Path, typer.Argument(help="Codebook sheet: .xlsx (as exported) or .csv of codes.")],
    out: Annotated[Path, typer.Option("--out", help="The TOML codebook to write.")] = ...,  # type: ignore[assignment]
    name: Annotated[
        str | None, typer.Option("--name", help="Codebook name (default: from the sheet or file name).")
    ] = None,
    version: Annotated[
        str | None, typer.Option("--version", help="Codebook version (default: from the sheet or 1.0).")
    ] = None,
    language: Annotated[
        list[str] | None, typer.Option("--language", help="Declared language (repeat); default from the term columns.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing TOML file.")] = False,
) -> None:
    """Convert a codebook kept in a sheet into a validated TOML codebook."""
    from vbhc_code.codebook.io import import_codebook

    cb = import_codebook(sheet, out=out, name=name, version=version, languages=language or None, force=force)
    say(f"wrote {out}: codebook '{cb.name}' {cb.version}, {_n(len(cb.themes), 'theme')}, "
        f"{_n(len(cb.codes), 'code')}")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@command("suggest-terms", group=group)
def suggest_terms_cmd(
    from_coder: Annotated[
        str, typer.Option("--from", help="The human coder whose codings show the study's language.")
    ] = ...,  # type: ignore[assignment]
    codebook: Annotated[
        Path | None,
        typer.Option(
            "--codebook", help="Codebook TOML (default: the coder's codebook, else vbhc-sim).", show_default=False
        ),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Candidates per code.", min=1)] = 10,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write a study codebook (extends vbhc-sim) with the candidates as terms.", show_default=False
        ),
    ] = None,
    accept: Annotated[
        int,
        typer.Option(
            "--accept",
            help="With --out: accept the best N per code with precision >= --min-precision; "
            "the rest are written commented out.",
            min=0,
        ),
    ] = 0,
    min_precision: Annotated[float, typer.Option("--min-precision", help="With --accept: the least precision.")] = 0.7,
    name: Annotated[str, typer.Option("--name", help="With --out: the study codebook's name.")] = "study",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --out file.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the candidates as JSON.")] = False,
    store: StoreOption = None,
) -> None:
    """Candidate terms per code from a human coding: n-grams over-represented in the code's turns.

    Each shows its precision and recall as a rule on that coding and example turns (DOC#turn).
    """
    import json

    from vbhc_code.codebook.load import load_codebook
    from vbhc_code.codebook.suggest import study_codebook_toml, suggest_terms
    from vbhc_code.files.atomic import write_text_atomic
    from vbhc_code.files.outputs import CODEBOOK_TOML, check_replaceable
    from vbhc_code.store.store import Store

    if out is not None:
        check_replaceable(out, CODEBOOK_TOML, force=force)  # before the work, not only at the write
    with Store.open(resolve_store_path(store), create=False) as st:
        cb = load_codebook(codebook) if codebook is not None else (st.coder_codebook(from_coder) or load_codebook())
        found = suggest_terms(st, coder=from_coder, codebook=cb, top=top)
    if as_json:
        console.print_json(json.dumps({code: [c.as_dict() for c in items] for code, items in found.items()}))
    else:
        table = Table(title=Text(f"Candidate terms from coder '{from_coder}' (codebook {cb.name} {cb.version})"),
                      title_justify="left")
        for col in ("code", "lang", "candidate", "z", "precision", "recall", "turns", "examples"):
            table.add_column(col, justify="right" if col in ("z", "precision", "recall", "turns") else "left")
        for items in found.values():
            for c in items:
                table.add_row(c.code, c.lang, Text(c.term), f"{c.z:.1f}", f"{c.precision:.2f}", f"{c.recall:.2f}",
                              f"{c.coded}/{c.turns}", Text(", ".join(c.examples)))
        console.print(table)
    if out is not None:
        text = study_codebook_toml(found, coder=from_coder, name=name, accept=accept, min_precision=min_precision)
        write_text_atomic(out, text, kind=CODEBOOK_TOML, force=force)
        say(f"wrote {out} (study codebook extending vbhc-sim; check it with 'vbhc-code codebook check {out}')")
