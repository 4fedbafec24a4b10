"""The shared typer app and the CLI grammar every command module uses.

One console pair (``console`` for data on stdout, ``console_err`` for messages on stderr), one progress
bar, one coders option (``--coders A B``, ``--coders A,B``, repeated), and choices for scope, unit and mode
that are listed in ``--help`` and fail with one ``error:`` line and exit 2.

Start-up matters (``--help`` and ``--version`` should feel instant): this module and the command modules
import core modules inside the command functions, never at the top.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Literal, TextIO, TypeVar, Union, get_args, get_origin

import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

from vbhc_code import __version__
from vbhc_code.errors import VbhcError, cli_messages, one_line

if TYPE_CHECKING:
    from vbhc_code.files.csvfile import CsvOptions


def _width(stream: TextIO) -> int | None:
    """Rich falls back to 80 columns when output is piped; wide tables then truncate every cell."""
    if os.environ.get("COLUMNS") or stream.isatty():
        return None
    return 160


class _SafeConsole(Console):
    """A console that never lets a string it renders (a table cell, a printed line) reach the terminal with
    control characters: file names may hold escape sequences. Line breaks stay (cells may have several lines)."""

    def render_str(self, text: str, *args: Any, **kwargs: Any) -> Any:
        return super().render_str("\n".join(one_line(part) for part in text.split("\n")), *args, **kwargs)


console = _SafeConsole(highlight=False, width=_width(sys.stdout))  # data: tables, CSV, JSON
console_err = _SafeConsole(stderr=True, highlight=False, width=_width(sys.stderr))  # messages, warnings, progress


def say(text: str) -> None:
    """A message for the user ("wrote ...", "imported ..."): stderr, so stdout stays data only; one line, its
    control characters escaped (a file name may hold an escape sequence or a newline)."""
    console_err.print(one_line(text), markup=False, highlight=False, soft_wrap=True)


def print_warnings(warnings: Iterable[str]) -> None:
    """Each warning on stderr as ``warning: ...`` (never markup: file names may hold brackets)."""
    for warning in warnings:
        say(f"warning: {warning}")


def is_tty() -> bool:
    return sys.stderr.isatty()


class Advance:
    """What ``progress()`` yields: call it with the work done so far (and the total once known)."""

    def __init__(self, bar: Any, task: Any) -> None:
        self._bar, self._task = bar, task

    def __call__(
        self, done: int, total: int | None = None, description: str | None = None, *, rated: int | None = None
    ) -> None:
        fields: dict[str, Any] = {"completed": done}
        if total is not None:
            fields["total"] = total
        if description is not None:
            fields["description"] = description
        if rated is not None:
            fields["rated"] = rated  # e.g. words done so far, for a rate in ``rate_unit``
        self._bar.update(self._task, **fields)


@contextmanager
def progress(
    description: str, *, unit: str = "items", total: int | None = None, rate_unit: str | None = None
) -> Iterator[Advance]:
    """A rich progress bar on stderr with done/total, rate (``unit``/s), elapsed and remaining time.

    With ``rate_unit`` (e.g. ``words``) the rate is of what ``advance(..., rated=N)`` reports instead: N over
    the elapsed time.

    Shown only on a terminal, and removed when the work ends, so piped output and logs stay clean.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            if rate_unit is not None:
                elapsed = task.elapsed or 0.0
                rated = task.fields.get("rated", 0)
                text = f"{rated / elapsed:,.0f} {rate_unit}/s" if rated and elapsed > 0 else ""
                return Text(text, style="progress.data.speed")
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.1f} {unit}/s" if speed else "", style="progress.data.speed")

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console_err,
        transient=True,
        disable=not console_err.is_terminal,
    )
    with bar:
        yield Advance(bar, bar.add_task(description, total=total))


# -- one grammar: coders, choices, stray arguments -------------------------------------------------------------

Scope = Literal["participant", "all"]
AgreementUnit = Literal["turn", "sentence", "document", "character", "segment"]
EvaluateUnit = Literal["turn", "sentence", "document", "character"]
AutocodeUnit = Literal["turn", "sentence"]
Mode = Literal["nvivo", "maxqda"]
LineEndings = Literal["lf", "crlf"]

CODERS_FLAGS = ("--coders", "--coder")


class CommandLineError(typer.BadParameter):
    """A usage error found while parsing: one ``error: ...`` line on stderr and exit 2, like a core UsageError."""

    def format_message(self) -> str:
        return self.message

    def show(self, file: Any = None) -> None:
        say(f"error: {self.message}")


def split_coders(values: Sequence[str] | None) -> list[str]:
    """Coder names from every form: ``A B`` (already separate), ``A,B`` and repeated options, in order."""
    return [name.strip() for value in values or () for name in value.split(",") if name.strip()]


def _coders_callback(values: list[str] | None) -> list[str] | None:
    return split_coders(values) or None


def coders_option(help: str, *, flags: Sequence[str] = CODERS_FLAGS) -> Any:
    """The shared coders option; give the parameter the type ``list[str] | None`` and default ``None``."""
    return typer.Option(*flags, help=help + " Names: A B, A,B or the option repeated.", metavar="NAME...",
                        callback=_coders_callback, show_default=False)


def expand_coders(args: list[str], flags: Sequence[str] = ("--coders",)) -> list[str]:
    """``--coders A B --coders C`` as ``--coders A --coders B --coders C``: names that follow a coders
    value become values too, so the coders keep the command line's order (click would collect the repeated
    option first and the extra names after it)."""
    out: list[str] = []
    state = ""  # "value": the next token is a coders value; "run": bare names continue the coders list
    for i, arg in enumerate(args):
        if state == "value":
            out.append(arg)
            state = "run"
        elif arg == "--":
            out.extend(args[i:])
            break
        elif state == "run" and not arg.startswith("-"):
            out += [flags[0], arg]
        else:
            out.append(arg)
            state = "value" if arg in flags else "run" if arg.startswith(tuple(f + "=" for f in flags)) else ""
    return out


def _choice_message(flag: str, choices: Sequence[str], value: str) -> str:
    listed = f"{choices[0]} or {choices[1]}" if len(choices) == 2 else "one of " + ", ".join(choices)
    return f"{flag} must be {listed}, not {value!r}"


class _PlainValue:
    """Converts an option value of a plain type (str, Path, a Literal choice, their lists and Optionals).

    typer hands every value to a pydantic TypeAdapter, and importing pydantic alone takes longer than
    importing typer: a command such as ``codings list`` would start up at twice the time of a bare typer app.
    """

    def __init__(self, convert: Callable[[Any], Any], multi: bool) -> None:
        self.convert, self.multi = convert, multi

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:
            return () if param.multiple or param.nargs == -1 else None
        if self.multi:
            return [self.convert(v) for v in value]
        return self.convert(value)


class _PlainInt:
    """Converts a whole-number option (typer's bounds and messages, without pydantic)."""

    def __init__(self, low: int | None, high: int | None) -> None:
        self.low, self.high = low, high

    # What pydantic's lax int accepts from a string: ASCII digits (with _ between them), a sign, around them
    # whitespace, and a fractional part of zeros ("5.0").
    _FORM = re.compile(r"\s*([+-]?\d+(?:_\d+)*)(?:\.0+)?\s*", re.ASCII)

    def __call__(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise typer.BadParameter("Input should be a valid integer")
        m = self._FORM.fullmatch(value) if isinstance(value, str) else None
        if isinstance(value, str) and m is None:
            raise typer.BadParameter("Input should be a valid integer, unable to parse string as an integer")
        number = int(m.group(1)) if m is not None else int(value)
        if self.low is not None and number < self.low:
            raise typer.BadParameter(f"Input should be greater than or equal to {self.low}")
        if self.high is not None and number > self.high:
            raise typer.BadParameter(f"Input should be less than or equal to {self.high}")
        return number


def _plain_value(annotation: Any, info: Any = None) -> _PlainValue | None:
    multi = get_origin(annotation) in (list, tuple)
    if multi:
        args = get_args(annotation)
        if len(args) != 1:  # tuple[str, int]: typer's own conversion
            return None
        annotation = args[0]
    if get_origin(annotation) in (Union, UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        if len(rest) != 1:
            return None
        annotation = rest[0]
    if annotation is str or get_origin(annotation) is Literal:
        return _PlainValue(str, multi)
    if annotation is Path:
        return _PlainValue(Path, multi)
    if annotation is bool and not multi:
        return _PlainValue(bool, multi)
    if annotation is int and not multi and info is not None and not getattr(info, "clamp", False):
        low, high = getattr(info, "min", None), getattr(info, "max", None)
        if all(bound is None or type(bound) is int for bound in (low, high)):
            return _PlainValue(_PlainInt(low, high), multi)
    return None


def _use_plain_values(command: Any, ctx: Any) -> None:
    """Give the plain-typed parameters of ``command`` a ``_PlainValue`` (when typer converts lazily)."""
    for param in command.get_params(ctx):  # with --help, which typer adds as a parameter of its own
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", False) is not None or descriptor.is_file:
            continue  # another typer version, or already converted once
        plain = _plain_value(descriptor.annotation, getattr(descriptor, "parameter_info", None))
        if plain is not None:
            param._runtime_param = plain


class VbhcGroup(TyperGroup):
    """The root and the sub-command groups: their own options (--version, --help) convert without pydantic."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        _use_plain_values(self, ctx)
        return super().parse_args(ctx, args)


class VbhcCommand(TyperCommand):
    """Every vbhc-code command: the coders grammar, one-line choice errors and one-line stray-argument errors."""

    def _coders_flags(self) -> list[str]:
        return [flag for p in self.params if p.name == "coders" for flag in p.opts]

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        _use_plain_values(self, ctx)
        flags = self._coders_flags()
        if flags:
            args = expand_coders(args, flags)
        self._check_choices(ctx, args)
        allow_extra = ctx.allow_extra_args
        ctx.allow_extra_args = True
        try:
            rest = super().parse_args(ctx, args)
        finally:
            ctx.allow_extra_args = allow_extra
        if ctx.args and not allow_extra and not ctx.resilient_parsing:
            stray = ctx.args[0]
            raise CommandLineError(f"unknown option {stray}" if stray.startswith("-")
                                   else f"unexpected argument {stray!r}")
        return rest

    def _check_choices(self, ctx: Any, args: list[str]) -> None:
        """Scope, unit, mode, ... are Literal choices: a wrong value names the option and its choices."""
        choice_params: list[Any] = [
            p for p in self.params if getattr(getattr(p, "type_descriptor", None), "is_choice", False)
        ]
        if not choice_params or ctx.resilient_parsing:
            return
        opts, _args, _order = self.make_parser(ctx).parse_args(args=list(args))
        for param in choice_params:
            choices = [str(c) for c in param.type_descriptor.choices or ()]
            raw = opts.get(param.name or "")
            for value in raw if isinstance(raw, (list, tuple)) else [raw]:
                if value is not None and str(value) not in choices:
                    raise CommandLineError(_choice_message(param.opts[0], choices, str(value)))


app = typer.Typer(
    name="vbhc-code",
    help="Qualitative interview research: ingest transcripts, code them, measure agreement, "
    "reconcile, and publish theme tables (VBHC in social insurance medicine).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=VbhcGroup,
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


# -- one CSV option set: every command that writes CSV takes --no-bom and --raw ---------------------------------

NoBomOption = Annotated[
    bool,
    typer.Option("--no-bom", help="CSV: leave out the UTF-8 byte order mark (for pipelines; Excel needs it to "
                 "show accented letters).", show_default=False),
]
RawOption = Annotated[
    bool,
    typer.Option("--raw", help="CSV: write cells verbatim; by default a text cell starting with = + - @, a tab "
                 "or CR gets a leading ' so a spreadsheet never runs it as a formula.", show_default=False),
]


def csv_options(*, no_bom: bool, raw: bool) -> CsvOptions:
    """The ``vbhc_code.files.csvfile.CsvOptions`` for a command's ``--no-bom`` and ``--raw``."""
    from vbhc_code.files.csvfile import CsvOptions

    return CsvOptions(bom=not no_bom, raw=raw)


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


def sqlite_error() -> type[Exception]:
    """sqlite3.Error when the store module is loaded (a command that never opened a store has none to map)."""
    module = sys.modules.get("sqlite3")
    return module.Error if module is not None else _NoError


class _NoError(Exception):
    pass


def system_fault(exc: BaseException) -> VbhcError:
    """An OS or store error no lower layer located: the one mapping (``errors.os_error``/``store_error``) with
    the best place we know. Every file vbhc-code writes is located by ``files.atomic`` and every file it reads
    by its reader, so a write error without a file name is standard output (``> /dev/full``)."""
    import errno

    from vbhc_code.errors import os_error, store_error

    if not isinstance(exc, OSError):
        return store_error("the study store", exc, "cannot use the study store")
    if getattr(exc, "filename", None) is not None:
        return os_error(Path(exc.filename).name, exc, "cannot read or write")
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EIO, errno.EDQUOT, errno.EPIPE):
        with contextlib.suppress(OSError):  # nothing more goes to it, not even Python's flush at exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return os_error("standard output", exc, "cannot write")
    return os_error("a file", exc, "cannot read or write")


def handle_errors(func: F) -> F:
    """Turn a ``VbhcError`` into a one-line (or located multi-line) message and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with cli_messages():
                result = func(*args, **kwargs)
            sys.stdout.flush()  # data still buffered fails here (e.g. > /dev/full), not at exit
            return result
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
        except (OSError, sqlite_error()) as exc:
            if os.environ.get("VBHC_CODE_DEBUG"):
                raise
            fault = system_fault(exc)
            console_err.print(f"error: {fault}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(fault.exit_code) from None
        except Exception as exc:
            if type(exc).__module__.startswith(("click", "typer")) or os.environ.get("VBHC_CODE_DEBUG"):
                raise
            # A bug, not a user error: its message and traceback may quote interview text, so neither is shown.
            console_err.print(
                f"internal error: {type(exc).__name__} at {_where(exc)} (a bug in vbhc-code; the details are "
                "withheld because they may contain interview text; set VBHC_CODE_DEBUG=1 to see them)",
                markup=False, highlight=False, soft_wrap=True,
            )
            raise typer.Exit(INTERNAL_ERROR) from None

    return wrapper  # type: ignore[return-value]


def command(name: str | None = None, *, group: typer.Typer | None = None, **kwargs: Any) -> Callable[[F], F]:
    """Register a command on ``app`` (or a sub-group) with uniform error handling."""

    def decorator(func: F) -> F:
        target = group if group is not None else app
        kwargs.setdefault("cls", VbhcCommand)
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
