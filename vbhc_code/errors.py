"""One error hierarchy; only ``vbhc_code.cli`` catches it and turns it into an exit code.

Messages must never contain interview text: name the file, line, turn or cell instead.
"""

from __future__ import annotations

from collections.abc import Iterable


class VbhcError(Exception):
    """Base error: a problem with the user's data (exit 1) or usage (exit 2)."""

    exit_code = 1

    def __init__(self, message: str, *, problems: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        return "\n".join([self.message, *self.problems])


class DataError(VbhcError):
    """Bad input data: a file, sheet, workbook or store we cannot use as it is."""


class ValidationError(DataError):
    """Several located problems (``[where] what``) collected and reported at once."""

    def __init__(self, message: str, problems: Iterable[str]) -> None:
        super().__init__(message, problems=problems)


class UsageError(VbhcError):
    """Wrong options or arguments (exit 2)."""

    exit_code = 2


class HumanWorkExists(DataError):
    """Refusing to overwrite human work (coder workbooks, decisions) without --force."""
