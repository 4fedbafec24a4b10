"""Command-line interface: thin typer wrappers around one core function each.

This is the only place that catches ``VbhcError``: it prints the message (never a traceback,
never interview text) and exits 1 for data problems, 2 for usage problems.

Start-up: ``main`` imports only the module of the command it runs (``vbhc-code ingest`` never imports the
agreement, themes or REFI modules); ``app`` (``from vbhc_code.cli import app``), ``--help``, ``--version`` and
an unknown command name load every command.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from vbhc_code.cli import app as _app_module
from vbhc_code.errors import VbhcError

__all__ = ["app", "main", "run_command"]

# Importing the submodule bound ``app`` to it; ``app`` is the typer app with every command (``__getattr__``).
del app  # type: ignore[name-defined]  # noqa: F821

# The command module of each top-level command name (tests/cli/test_lazy_commands.py checks it is complete).
COMMAND_MODULES = {
    "ingest": "ingest", "segments": "ingest", "check-identifiers": "ingest", "autocode": "autocode",
    "codebook": "codebook", "codings": "codings", "agreement": "agreement", "evaluate": "agreement",
    "reconcile": "reconcile", "themes": "themes", "refi": "refi", "demo": "demo",
}  # fmt: skip


def _load(modules: set[str]) -> Any:
    """The typer app with the commands of ``modules`` (names under ``vbhc_code.cli``) registered."""
    for module in sorted(modules):
        importlib.import_module(f"vbhc_code.cli.{module}")
    return _app_module.app


def _full_app() -> Any:
    return _load(set(COMMAND_MODULES.values()))


def __getattr__(name: str) -> Any:
    if name == "app":
        return _full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _app_for(argv: list[str]) -> Any:
    """Only the module of the command named first; every command for anything else (help, typos)."""
    module = COMMAND_MODULES.get(argv[0]) if argv else None
    return _load({module}) if module else _full_app()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``vbhc-code`` console script."""
    args = sys.argv[1:] if argv is None else argv
    try:
        _app_for(args)(args=args, prog_name="vbhc-code", standalone_mode=True)
    except VbhcError as exc:  # pragma: no cover - app() already handles it; kept for safety
        _app_module.console_err.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(exc.exit_code)


def run_command(argv: list[str]) -> int:
    """Run one vbhc-code command line in this process and return its exit code (used by ``demo``)."""
    import typer

    cli = typer.main.get_command(_full_app())
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
