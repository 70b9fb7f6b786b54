"""Errors the CLI turns into a clean message and an exit code instead of a traceback."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of DESIGN.md section 8; CI pipelines branch on these numbers."""

    PASSED = 0
    FAILED = 1
    USAGE = 2
    SERVER = 3
    TIMED_OUT = 4


class CliError(Exception):
    """A problem the user can fix, printed as `reqflo: <message>` with its exit code."""

    def __init__(self, message: str, *, exit_code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message
