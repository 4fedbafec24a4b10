"""One error hierarchy; only ``vbhc_code.cli`` catches it and turns it into an exit code.

Messages must never contain interview text: name the file, line, turn or cell instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

# C0 and C1 controls (newline and tab included: a message is one line), DEL, and the bidirectional overrides
# that can make a file name display as something else.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def one_line(text: str) -> str:
    r"""``text`` safe for a terminal and for one message line: control characters (escape sequences,
    newlines, tabs) and bidi overrides shown as ``\x1b``-style escapes.

    >>> one_line("INT\x1b[31m01\n.txt")
    'INT\\x1b[31m01\\x0a.txt'
    """
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


def describe(value: Any) -> str:
    """What a cell holds, for a message, never what it says: its kind and length.

    >>> describe("maybe"), describe(3.5), describe(None)
    ('a text of 5 characters', 'a number', 'an empty cell')
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return "an empty cell"
    if isinstance(value, bool):
        return "a true/false value"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (datetime, date, time, timedelta)):
        return "a date or time"
    text = str(value).strip()
    return f"a text of {len(text)} character{'s' if len(text) != 1 else ''}"


_OPTION_STYLE: ContextVar[str] = ContextVar("vbhc_option_style", default="python")


def opt(name: str, value: object = None, *, flag: str | None = None) -> str:
    """How a message names an option of a core function.

    The core never hard-codes a command-line flag: inside a command (see ``cli_messages``) this gives
    ``--name VALUE`` (``--force`` for ``True``; ``flag`` when the flag is not named like the keyword), from
    Python the keyword argument, ``name=VALUE``.

    >>> opt("coder", "NAME"), opt("force", True), opt("speaker_pattern")
    ('coder=NAME', 'force=True', 'speaker_pattern')
    >>> with cli_messages():
    ...     opt("coder", "NAME"), opt("force", True), opt("speaker_pattern"), opt("as_coder", "x", flag="as")
    ('--coder NAME', '--force', '--speaker-pattern', '--as x')
    """
    if _OPTION_STYLE.get() == "cli":
        shown = "--" + (flag or name).replace("_", "-")
        return shown if value is None or value is True else f"{shown} {value}"
    return name if value is None else f"{name}={value}"


def message_style() -> str:
    """How messages name options here: "cli" or "python" (handed to worker processes with the work)."""
    return _OPTION_STYLE.get()


def set_message_style(style: str) -> None:
    """Name options as ``style`` ("cli" or "python") for the rest of this context (a worker process)."""
    _OPTION_STYLE.set(style)


@contextmanager
def cli_messages() -> Iterator[None]:
    """Name options as command-line flags in messages raised inside this block."""
    token = _OPTION_STYLE.set("cli")
    try:
        yield
    finally:
        _OPTION_STYLE.reset(token)


@dataclass(frozen=True)
class Problem:
    """One located problem, ``[where] what``; warnings do not stop a run.

    >>> str(Problem("INT03.txt line 41", "unknown speaker label"))
    '[INT03.txt line 41] unknown speaker label'
    >>> Problem.parse("[codes[2].theme] unknown theme 'acces'")
    Problem(where='codes[2].theme', what="unknown theme 'acces'", level='error')
    """

    where: str
    what: str
    level: str = "error"  # error | warning

    def __str__(self) -> str:
        line = f"[{self.where}] {self.what}" if self.where else self.what
        return line if self.level == "error" else f"warning: {line}"

    @classmethod
    def parse(cls, line: str) -> Problem:
        """A problem from its printed form (validators that collect ``[where] what`` lines)."""
        level = "error"
        if line.startswith("warning: "):
            level, line = "warning", line[len("warning: "):]
        if line.startswith("[") and "] " in line:
            where, what = line[1:].split("] ", 1)
            return cls(where, what, level)
        return cls("", line, level)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


MAX_PROBLEMS = 20  # located problems printed under one error; the rest are counted ("... and 999,980 more")


class Problems:
    """Located problems collected while reading: the first ``keep`` are kept, the rest only counted (a file of a
    million bad rows holds a million problems; only ``MAX_PROBLEMS`` of them are ever printed).

    ``len()`` is the count of all; iterating gives the kept ones.
    """

    def __init__(self, keep: int = 1000) -> None:
        self.kept: list[str] = []
        self.dropped = 0
        self._keep = keep

    def append(self, problem: str) -> None:
        if len(self.kept) < self._keep:
            self.kept.append(problem)
        else:
            self.dropped += 1

    def extend(self, problems: Iterable[str]) -> None:
        for problem in problems:
            self.append(problem)
        if isinstance(problems, Problems):
            self.dropped += problems.dropped

    def __len__(self) -> int:
        return len(self.kept) + self.dropped

    def __iter__(self) -> Iterator[str]:
        return iter(self.kept)


class VbhcError(Exception):
    """Base error: a problem with the user's data (exit 1) or usage (exit 2).

    ``problems`` lists located problems; printed are the first ``MAX_PROBLEMS`` and a count of the rest, so a
    million invalid rows give a short message, not 65 MB.
    """

    exit_code = 1

    def __init__(self, message: str, *, problems: Iterable[str | Problem] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = [str(p) for p in problems]
        self.uncounted = problems.dropped if isinstance(problems, Problems) else 0  # problems not kept

    def __str__(self) -> str:
        """The message and each problem on a line of its own, control characters escaped (``one_line``)."""
        if not self.problems:
            return one_line(self.message)
        shown = self.problems[:MAX_PROBLEMS]
        more = len(self.problems) - len(shown) + self.uncounted
        lines = [self.message, *shown, *([f"... and {more:,} more"] if more else [])]
        return "\n".join(one_line(line) for line in lines)

    @property
    def records(self) -> list[Problem]:
        """The kept problems as ``Problem`` records."""
        return [Problem.parse(p) for p in self.problems]

    def to_dict(self) -> dict[str, Any]:
        """The error as data (JSON output and the Python API); messages hold no interview text."""
        return {"error": type(self).__name__, "message": one_line(self.message), "exit_code": self.exit_code,
                "problems": [p.to_dict() for p in self.records], "more_problems": self.uncounted}


class DataError(VbhcError):
    """Bad input data: a file, sheet, workbook or store we cannot use as it is."""


class ValidationError(DataError):
    """Several located problems (``[where] what``) collected and reported at once."""

    def __init__(self, message: str, problems: Iterable[str | Problem]) -> None:
        super().__init__(message, problems=problems)


class UsageError(VbhcError):
    """Wrong options or arguments (exit 2)."""

    exit_code = 2


class HumanWorkExists(DataError):
    """Refusing to overwrite human work (coder workbooks, decisions) without --force."""


class SystemFault(VbhcError):
    """The system failed us, not the data: disk full, I/O error, file too large (exit 74, EX_IOERR)."""

    exit_code = 74


class Busy(VbhcError):
    """Another process holds the study store longer than the busy timeout: try again (exit 75, EX_TEMPFAIL)."""

    exit_code = 75


_SYSTEM_ERRNOS = {"ENOSPC": "no space left on the device", "EDQUOT": "disk quota exceeded",
                  "EIO": "input/output error", "EFBIG": "file too large for this system or its limits",
                  "ENOMEM": "out of memory", "EMFILE": "too many open files", "ENFILE": "too many open files"}
_DATA_ERRNOS = {"EACCES": "permission denied", "EPERM": "operation not permitted", "EROFS": "read-only file system",
                "ENOENT": "no such file or folder", "ENOTDIR": "a part of the path is not a folder",
                "EISDIR": "is a folder", "ELOOP": "too many levels of symbolic links (a symlink loop)",
                "ENAMETOOLONG": "name too long", "EEXIST": "already exists", "ETXTBSY": "file busy"}


def os_error(where: object, exc: BaseException, doing: str = "cannot write") -> VbhcError:
    """The one mapping of OS errors to located errors: ``<where>: <doing> (<reason>)``.

    Disk full, quota, I/O errors and file-size limits are the system's (``SystemFault``, exit 74); permission,
    read-only file systems, missing folders and symlink loops are the user's to fix (``DataError``, exit 1).
    The reason is the errno's meaning, never the OS message (which can quote a path or text).
    """
    import errno as _errno

    code = getattr(exc, "errno", None)
    name = _errno.errorcode.get(code, "") if isinstance(code, int) else ""
    if name in _SYSTEM_ERRNOS:
        return SystemFault(f"{where}: {doing} ({_SYSTEM_ERRNOS[name]})")
    reason = _DATA_ERRNOS.get(name) or (name or type(exc).__name__)
    return DataError(f"{where}: {doing} ({reason})")


def store_error(where: object, exc: BaseException, doing: str = "cannot write to the study store") -> VbhcError:
    """The one mapping of SQLite errors to located errors (see ``os_error``): a full disk or I/O error is exit
    74, a store still locked after the busy timeout exit 75, a read-only or damaged store exit 1."""
    text = str(exc).lower()
    kinds = [
        ("database or disk is full", SystemFault, "no space left on the device"),
        ("disk i/o error", SystemFault, "input/output error"),
        ("database is locked", Busy, "another vbhc-code command is using the store; try again when it ends"),
        ("database table is locked", Busy, "another vbhc-code command is using the store; try again when it ends"),
        ("readonly database", DataError, "the store file or its folder is read-only"),
        ("unable to open database", DataError, "cannot open the store file or create its journal: check the folder"),
        ("file is not a database", DataError, "file is not a database"),
        ("malformed", DataError, "the store file is damaged"),
    ]
    for needle, cls, reason in kinds:
        if needle in text:
            return cls(f"{where}: {doing} ({reason})")
    if isinstance(exc, OSError):
        return os_error(where, exc, doing)
    return DataError(f"{where}: {doing} ({type(exc).__name__})")
