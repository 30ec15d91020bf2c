"""Errors raised by the engine.

    TesseraError                 base of everything the engine raises on purpose
    ├── InputError               a problem in what the user gave us (exit code 2)
    │   ├── LoadError            a file cannot be read or parsed (bad JSON/YAML, not UTF-8, ...)
    │   ├── LimitError           a file is too large or too deeply nested, or an alias bomb
    │   ├── RefError             a ``$ref`` does not resolve
    │   └── FormatError          the document is not of the format asked for or detected
    ├── UsageError               bad command-line arguments or options (exit code 2)
    └── InternalError            a bug in Tessera: a defensive check that should never fire

Every ``InputError`` names the file and, where known, the line and column, and renders as one
line (``str(err)``), so a CLI can print it without a traceback.
"""

from __future__ import annotations


class TesseraError(Exception):
    """Base class of the errors the engine raises deliberately."""


class InputError(TesseraError):
    """Something in the user's input is wrong. Carries the file and position when known."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line:
                where += f":{self.line}"
                if self.column:
                    where += f":{self.column}"
            where += ": "
        return where + self.message.replace("\n", " ")


class LoadError(InputError):
    """A file cannot be read or parsed."""


class LimitError(InputError):
    """A file is too large, too deeply nested, or expands too much (alias bomb)."""


class RefError(InputError):
    """A ``$ref`` cannot be resolved."""


class FormatError(InputError):
    """A document is not of the expected format."""


class UsageError(TesseraError):
    """Invalid arguments or options."""


class InternalError(TesseraError):
    """An internal invariant failed: a bug in Tessera, never a problem in the user's input."""
