"""CLI command: ``demo`` runs the whole pipeline on the bundled synthetic study, into ``outputs/``.

Each step is the same command a researcher would type, echoed before it runs, so the demo doubles
as a worked example. Human work (``codings/``) is only read, never written.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Annotated

import typer

from vbhc_code.cli.app import StoreOption, app, command, console_err, resolve_store_path
from vbhc_code.errors import DataError, UsageError


def demo_steps(*, study: Path, codings: Path, outputs: Path, store: Path) -> list[list[str]]:
    """The command lines of the demo pipeline, in order (what ``vbhc-code demo`` runs)."""
    s = ["--store", str(store)]
    out = outputs
    steps: list[list[str]] = [
        ["ingest", str(study), "--participants", str(study / "participants.csv"),
         "--documents", str(study / "documents.csv"), *s],
        ["segments", "--out", str(out / "segments.csv"), *s],
        ["check-identifiers", "--json", *s],
        ["codebook", "export", "--out", str(out / "codebook.xlsx")],
        ["codebook", "export", "--out", str(out / "codebook.qdc")],
        ["autocode", *s],
        ["codings", "workbook", "--coder", "anna", "--coder", "ben", "--out", str(out / "workbooks"), "--force", *s],
        ["codings", "import", str(codings / "coder-anna.csv"), "--coder", "anna", "--replace", *s],
        ["codings", "import", str(codings / "coder-ben.csv"), "--coder", "ben", "--replace", *s],
        ["evaluate", "--coder", "auto", "--against", "anna", *s],
        ["agreement", "--coders", "anna", "ben", "--out", str(out / "agreement.xlsx"), *s],
    ]
    decisions = codings / "reconcile-anna-ben.xlsx"
    if decisions.exists():
        steps.append(["reconcile", "--apply", str(decisions), "--log", str(out / "reconciliation-log.csv"), *s])
        coder = "consensus"
    else:
        steps.append(["reconcile", "--coders", "anna", "ben", "--out", str(out / "reconcile-anna-ben.xlsx"), *s])
        coder = "anna"
    steps += [
        ["themes", "--coder", coder, "--out", str(out / "themes.xlsx"), "--md", str(out / "themes.md"),
         "--docx", str(out / "themes.docx"), *s],
        ["refi", "export", "--out", str(out / "study.qdpx"), "--coders", "anna", "ben", *(
            ["consensus"] if coder == "consensus" else []), *s],
    ]
    return steps


def run_demo(*, study: Path, codings: Path, outputs: Path, store: Path) -> None:
    """Run every demo step in this process; stop at the first step that fails."""
    from vbhc_code.cli import run_command

    if not (study / "participants.csv").is_file():
        raise UsageError(f"{study}: not the sample study folder (no participants.csv); run from the repository root")
    outputs.mkdir(parents=True, exist_ok=True)
    steps = demo_steps(study=study, codings=codings, outputs=outputs, store=store)
    started = time.perf_counter()
    for i, argv in enumerate(steps, 1):
        console_err.rule(f"[{i}/{len(steps)}] vbhc-code {shlex.join(argv)}", style="dim")
        t0 = time.perf_counter()
        code = run_command(argv)
        if code != 0:
            raise DataError(f"demo step {i} ('vbhc-code {argv[0]}') failed with exit code {code}")
        console_err.print(step_time(i, len(steps), argv, time.perf_counter() - t0), markup=False, highlight=False)
    total = time.perf_counter() - started
    console_err.print(f"\nDone in {total:.1f} s: results in {outputs}/ (themes.xlsx, themes.docx, "
                      "themes.md, agreement.xlsx, study.qdpx, ...)")


def step_time(i: int, n: int, argv: list[str], seconds: float) -> str:
    """The line after each demo step (the first step includes loading spaCy, once for the whole demo)."""
    name = " ".join(argv[:2]) if argv[0] in ("codebook", "codings", "refi") else argv[0]
    return f"[{i}/{n}] {name}: {seconds:.2f} s"


@command("demo")
def demo_cmd(
    study: Annotated[Path, typer.Option("--study", help="The sample study folder.")] = Path("transcripts"),
    codings: Annotated[Path, typer.Option("--codings", help="Folder of human codings (read only).")] = Path("codings"),
    outputs: Annotated[Path, typer.Option("--outputs", help="Where results go (regenerable).")] = Path("outputs"),
    store: StoreOption = None,
) -> None:
    """Run the whole pipeline on the bundled synthetic sample study, into outputs/:
    ingest, segments, identifier check, codebook export, autocode, coder workbooks, import of the two
    human codings, evaluation of the autocoder, agreement, reconciliation, themes and a REFI-QDA export."""
    run_demo(study=study, codings=codings, outputs=outputs, store=resolve_store_path(store))


__all__ = ["app", "demo_steps", "run_demo"]
