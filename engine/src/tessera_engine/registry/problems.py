"""One problem found in a registry, named by file, line and column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InputError, LoadError


@dataclass(frozen=True, order=True)
class Problem:
    """``file:line:column: message``; problems sort by file, then position."""

    file: str
    line: int
    column: int
    message: str

    @classmethod
    def from_error(cls, err: InputError, fallback: str) -> Problem:
        return cls(err.file or fallback, err.line or 1, err.column or 1, err.message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }

    def error(self) -> InputError:
        return LoadError(self.message, file=self.file, line=self.line, column=self.column)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True)
class Pointed:
    """A problem at a path inside a file (keys and list indexes) whose line and column are
    looked up only when it is reported."""

    file: str  # the file's display name
    path: tuple[str | int, ...]
    message: str
    at_key: bool = False
