"""The shared typer app, console objects and option helpers used by every command module."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from vbhc_code import __version__
from vbhc_code.errors import VbhcError

def _width(stream) -> int | None:
    """Rich falls back to 80 columns when output is piped; wide tables then truncate every cell."""
    if os.environ.get("COLUMNS") or stream.isatty():
        return None
    return 160


console = Console(highlight=False, width=_width(sys.stdout))
console_err = Console(stderr=True, highlight=False, width=_width(sys.stderr))

app = typer.Typer(
    name="vbhc-code",
    help="Qualitative interview research: ingest transcripts, code them, measure agreement, "
    "reconcile, and publish theme tables (VBHC in social insurance medicine).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

DEFAULT_STORE = Path("outputs") / "vbhc-code.sqlite"

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Study store (SQLite). Default: $VBHC_CODE_STORE or outputs/vbhc-code.sqlite.",
        show_default=False,
    ),
]


def resolve_store_path(store: Path | None) -> Path:
    """--store, else $VBHC_CODE_STORE, else outputs/vbhc-code.sqlite under the working directory."""
    if store is not None:
        return store
    env = os.environ.get("VBHC_CODE_STORE")
    if env:
        return Path(env)
    return DEFAULT_STORE


F = TypeVar("F", bound=Callable[..., Any])
INTERNAL_ERROR = 70  # EX_SOFTWARE: distinct from 1 (data) and 2 (usage)


def _where(exc: BaseException) -> str:
    """``module.py:line`` of the innermost vbhc-code frame of a traceback (no values, no text)."""
    tb, where = exc.__traceback__, "?"
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if "vbhc_code" in filename:
            where = f"{Path(filename).name}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


def handle_errors(func: F) -> F:
    """Turn a ``VbhcError`` into a one-line (or located multi-line) message and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except VbhcError as exc:
            console_err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            console_err.print("interrupted", markup=False)
            raise typer.Exit(130) from None
        except BrokenPipeError:
            # The reader went away (e.g. `| head`): stop quietly, as a command killed by SIGPIPE would.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(141) from None
        except Exception as exc:
            if type(exc).__module__.startswith(("click", "typer")) or os.environ.get("VBHC_CODE_DEBUG"):
                raise
            # A bug, not a user error: its message and traceback may quote interview text, so neither is shown.
            console_err.print(
                f"internal error: {type(exc).__name__} at {_where(exc)} (a bug in vbhc-code; the details are "
                "withheld because they may contain interview text; set VBHC_CODE_DEBUG=1 to see them)",
                markup=False, highlight=False, soft_wrap=True,
            )  # fmt: skip
            raise typer.Exit(INTERNAL_ERROR) from None

    return wrapper  # type: ignore[return-value]


def command(name: str | None = None, *, group: typer.Typer | None = None, **kwargs: Any) -> Callable[[F], F]:
    """Register a command on ``app`` (or a sub-group) with uniform error handling."""

    def decorator(func: F) -> F:
        target = group if group is not None else app
        target.command(name, **kwargs)(handle_errors(func))
        return func

    return decorator


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"vbhc-code {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """Qualitative interview research toolkit."""


def print_warnings(warnings) -> None:
    """Each warning on stderr as ``warning: ...`` (never markup: file names may hold brackets)."""
    for warning in warnings:
        console_err.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)


def is_tty() -> bool:
    return sys.stderr.isatty()
