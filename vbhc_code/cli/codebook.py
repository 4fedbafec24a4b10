"""CLI commands: codebook check | show | export | import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from vbhc_code.cli.app import app, command, console, console_err
from vbhc_code.errors import ValidationError

group = typer.Typer(help="Codebooks: validate, show, export for coders, import from a sheet.", no_args_is_help=True)
app.add_typer(group, name="codebook")

FileArg = Annotated[
    Path | None, typer.Argument(help="Codebook TOML file (default: the built-in vbhc-sim codebook).", show_default=False)
]


@command("check", group=group)
def check_cmd(file: Annotated[Path, typer.Argument(help="Codebook TOML file to validate.")]) -> None:
    """Validate a codebook: every problem is listed with its location; exit 1 if any is an error."""
    from vbhc_code.codebook.load import check_codebook, load_codebook

    problems = check_codebook(file)
    errors = [p for p in problems if p.level == "error"]
    if errors:
        n = len(errors)
        raise ValidationError(f"{file}: {n} error{'s' if n != 1 else ''} in the codebook", [str(p) for p in problems])
    for p in problems:
        console_err.print(str(p), markup=False, soft_wrap=True)
    cb = load_codebook(file)
    warned = f", {len(problems)} warning{'s' if len(problems) != 1 else ''}" if problems else ""
    console.print(
        f"{file}: codebook '{cb.name}' {cb.version} is valid: {_n(len(cb.themes), 'theme')}, {_n(len(cb.codes), 'code')}, "
        f"languages {', '.join(cb.languages)}{warned}",
        markup=False, soft_wrap=True,
    )


@command("show", group=group)
def show_cmd(
    file: FileArg = None,
    code: Annotated[str | None, typer.Option("--code", help="Show one code in full.")] = None,
) -> None:
    """Show a codebook as a table (or one code in full with --code)."""
    from vbhc_code.codebook.load import load_codebook
    from vbhc_code.errors import UsageError

    cb = load_codebook(file)
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
        )  # fmt: skip
    console.print(table)


@command("export", group=group)
def export_cmd(
    file: FileArg = None,
    out: Annotated[Path, typer.Option("--out", help="Output: .xlsx (for coders), .md, .qdc (REFI-QDA) or .toml.")] = ...,  # type: ignore[assignment]
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing .toml (other formats are replaced).")] = False,
) -> None:
    """Export a codebook (definitions, include/exclude, examples, terms) as .xlsx, .md, .qdc or .toml."""
    from vbhc_code.codebook.load import builtin_codebook_path, load_codebook
    from vbhc_code.codebook.io import export_codebook

    cb = load_codebook(file)
    export_codebook(cb, out, force=force or out.suffix.lower() != ".toml", source=file or builtin_codebook_path())
    console.print(f"wrote {out} (codebook '{cb.name}' {cb.version}, {_n(len(cb.codes), 'code')})", markup=False, soft_wrap=True)


@command("import", group=group)
def import_cmd(
    sheet: Annotated[Path, typer.Argument(help="Codebook sheet: .xlsx (as exported) or .csv of codes.")],
    out: Annotated[Path, typer.Option("--out", help="The TOML codebook to write.")] = ...,  # type: ignore[assignment]
    name: Annotated[str | None, typer.Option("--name", help="Codebook name (default: from the sheet or file name).")] = None,
    version: Annotated[str | None, typer.Option("--version", help="Codebook version (default: from the sheet or 1.0).")] = None,
    language: Annotated[
        list[str] | None, typer.Option("--language", help="Declared language (repeat); default from the term columns.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing TOML file.")] = False,
) -> None:
    """Convert a codebook kept in a sheet into a validated TOML codebook."""
    from vbhc_code.codebook.io import import_codebook

    cb = import_codebook(sheet, out=out, name=name, version=version, languages=language or None, force=force)
    console.print(f"wrote {out}: codebook '{cb.name}' {cb.version}, {_n(len(cb.themes), 'theme')}, {_n(len(cb.codes), 'code')}", markup=False, soft_wrap=True)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
