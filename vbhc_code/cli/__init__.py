"""Command-line interface: thin typer wrappers around one core function each.

This is the only place that catches ``VbhcError``: it prints the message (never a traceback,
never interview text) and exits 1 for data problems, 2 for usage problems.
"""

from __future__ import annotations

import sys

from vbhc_code.cli import agreement as _agreement  # noqa: F401,E402
from vbhc_code.cli import autocode as _autocode  # noqa: F401,E402
from vbhc_code.cli import codebook as _codebook  # noqa: F401,E402
from vbhc_code.cli import codings as _codings  # noqa: F401,E402
from vbhc_code.cli import demo as _demo  # noqa: F401,E402

# Importing the command modules registers their commands on ``app``.
from vbhc_code.cli import ingest as _ingest  # noqa: F401,E402
from vbhc_code.cli import reconcile as _reconcile  # noqa: F401,E402
from vbhc_code.cli import refi as _refi  # noqa: F401,E402
from vbhc_code.cli import themes as _themes  # noqa: F401,E402
from vbhc_code.cli.app import app, console_err
from vbhc_code.errors import VbhcError

__all__ = ["app", "main", "run_command"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``vbhc-code`` console script."""
    try:
        app(args=argv, prog_name="vbhc-code", standalone_mode=True)
    except VbhcError as exc:  # pragma: no cover - app() already handles it; kept for safety
        console_err.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(exc.exit_code)


def run_command(argv: list[str]) -> int:
    """Run one vbhc-code command line in this process and return its exit code (used by ``demo``)."""
    import typer

    cli = typer.main.get_command(app)
    try:
        result = cli.main(args=argv, prog_name="vbhc-code", standalone_mode=False)
    except SystemExit as exc:  # a command may still call sys.exit
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors when not standalone
        exit_code = getattr(exc, "exit_code", None)
        if exit_code is None:
            raise
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        return int(exit_code)
    return int(result) if isinstance(result, int) else 0
