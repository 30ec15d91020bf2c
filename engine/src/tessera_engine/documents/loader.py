"""Reading and parsing spec files, with limits, into ``Document`` values.

JSON goes through the standard library's C decoder; YAML through ``yaml_rs`` (YAML 1.2, as
OpenAPI requires: ``yes`` stays a string, dates stay strings). Every failure becomes a
``LoadError`` or ``LimitError`` naming the file and, where known, the line and column.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml_rs

from ..errors import InputError, LimitError, LoadError
from ..limits import MAX_NESTING
from ..limits import max_file_bytes as max_bytes
from ..model import Location
from .files import FileSource as FileSource  # noqa: PLC0414 (imported from here too)
from .locate import JsonLocator, YamlLocator, second_key_line
from .values import checked

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|(?<![0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
_YAML_POSITION = re.compile(r"at line (\d+), column (\d+)")
_YAML_DEEP_INDENT = re.compile(rf"^ {{{MAX_NESTING},}}\S", re.MULTILINE)
_YAML_DEEP_DASHES = re.compile(rf"(?:-[ \t]+){{{MAX_NESTING // 4},}}")
_YAML_DUPLICATE = re.compile(r"duplicate mapping key: '(.*)'")


class Source(Protocol):
    """Where files come from: the file system (``files.FileSource``), a git tree
    (``--against``) or a published version's files. Each is confined to a root its caller
    chose: ``read``, ``size`` and ``files`` raise ``files.OutsideRoot`` for a path outside it."""

    def read(self, path: str) -> bytes:
        """The bytes of ``path``; raises ``FileNotFoundError`` when it does not exist."""

    def size(self, path: str) -> int | None:
        """The size of ``path`` in bytes, when cheap to know before reading it."""

    def display(self, path: str) -> str:
        """How to name ``path`` to the user."""

    def files(self, path: str, suffixes: tuple[str, ...]) -> list[str] | None:
        """The files under the directory ``path`` (recursively, sorted) whose names end in
        one of ``suffixes``; ``None`` when ``path`` is not a directory."""


@dataclass(eq=False)
class Document:
    """One parsed file. ``path`` identifies it within its source; ``name`` is for messages."""

    path: str
    name: str
    text: str
    data: Any
    syntax: str  # "json" or "yaml"
    _locator: JsonLocator | YamlLocator | None = field(default=None, repr=False)

    def locate(self, pointer: str) -> Location:
        if self._locator is None:
            self._locator = (
                JsonLocator(self.text) if self.syntax == "json" else YamlLocator(self.text)
            )
        line, column = self._locator.locate(pointer)
        return Location(self.name, line, column)

    def locate_many(self, pointers: list[str]) -> dict[str, Location]:
        """Locations of many pointers at once (one pass over a JSON text)."""
        if self._locator is None:
            self._locator = (
                JsonLocator(self.text) if self.syntax == "json" else YamlLocator(self.text)
            )
        if isinstance(self._locator, JsonLocator):
            found = self._locator.locate_many(pointers)
        else:
            found = {pointer: self._locator.locate(pointer) for pointer in pointers}
        return {pointer: Location(self.name, *found[pointer]) for pointer in pointers}


def load_document(source: Source, path: str) -> Document:
    """Read and parse one file, enforcing the size and nesting limits."""
    name, raw = read_source(source, path)
    return parse_document(path, name, raw)


def read_source(source: Source, path: str) -> tuple[str, bytes]:
    """The display name and bytes of one file, enforcing the size limit."""
    name = source.display(path)
    limit = max_bytes()
    size = source.size(path)
    if size is not None and size > limit:
        raise LimitError(
            f"file is {_size(size)}, over the {_size(limit)} limit "
            "(set TESSERA_MAX_FILE_BYTES to raise it)",
            file=name,
        )
    try:
        raw = source.read(path)
    except FileNotFoundError:
        raise LoadError("file not found", file=name) from None
    except IsADirectoryError:
        raise LoadError("is a directory, expected a file", file=name) from None
    except OSError as err:
        raise LoadError(f"cannot read: {err.strerror or err}", file=name) from None
    if len(raw) > limit:
        raise LimitError(
            f"file is {_size(len(raw))}, over the {_size(limit)} limit",
            file=name,
        )
    return name, raw


def read_text(source: Source, path: str) -> tuple[str, str]:
    """The display name and UTF-8 text of one file, enforcing the size limit."""
    name, raw = read_source(source, path)
    return name, decode(raw, name)


def _size(count: int) -> str:
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


def parse_document(path: str, name: str, raw: bytes) -> Document:
    text = decode(raw, name)
    syntax = _syntax(path, text)
    data = _parse_json(text, name) if syntax == "json" else _parse_yaml(text, name)
    return Document(path=path, name=name, text=text, data=data, syntax=syntax)


def decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise LoadError(
            f"not UTF-8 text (invalid byte 0x{raw[err.start]:02x})", file=name, line=line
        ) from None


def _syntax(path: str, text: str) -> str:
    lower = path.lower()
    if lower.endswith(".json"):
        return "json"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    stripped = text.lstrip()
    return "json" if stripped[:1] in ("{", "[") else "yaml"


def _parse_json(text: str, name: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise LoadError(
            f"invalid JSON: {err.msg}", file=name, line=err.lineno, column=err.colno
        ) from None
    except RecursionError:
        raise LimitError(f"nested more than {MAX_NESTING} levels deep", file=name) from None
    except ValueError:  # an integer longer than Python converts (sys.set_int_max_str_digits)
        limit = sys.get_int_max_str_digits()
        digits = re.search(rf"\d{{{limit + 1},}}", text)
        line = text.count("\n", 0, digits.start()) + 1 if digits else None
        raise LoadError(
            f"invalid JSON: a number longer than {limit:,} digits", file=name, line=line
        ) from None
    if _SURROGATE_ESCAPE.search(text):
        _refuse_lone_surrogates(data, text, name)
    # The C decoder's own nesting limit follows the interpreter's recursion limit, which
    # callers may have raised, so the depth is checked explicitly, with the element count.
    return checked(data, name, text, yaml=False)


def _refuse_lone_surrogates(data: Any, text: str, name: str) -> None:
    """JSON's ``\\ud800`` escapes can spell half of a UTF-16 pair alone: Python keeps it, and
    nothing can print or store the string afterwards. Such a document is refused at the line
    of the first lone half (a file with only whole pairs, such as escaped emoji, is checked
    once and kept)."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        lone = _LONE_SURROGATE.search(text)
        line = text.count("\n", 0, lone.start()) + 1 if lone else None
        raise LoadError(
            "invalid JSON: a \\u escape of half a UTF-16 surrogate pair, which is not text",
            file=name,
            line=line,
        ) from None


def _parse_yaml(text: str, name: str) -> Any:
    # yaml_rs limits flow nesting itself, but block nesting deep enough overflows its stack:
    # refuse such files before parsing.
    deep = None
    if "\n" + " " * MAX_NESTING in text:
        deep = _YAML_DEEP_INDENT.search(text)
    if deep is None and "- - - -" in text:
        deep = _YAML_DEEP_DASHES.search(text)
    if deep:
        line = text.count("\n", 0, deep.start()) + 1
        raise LimitError(f"nested more than {MAX_NESTING} levels deep", file=name, line=line)
    try:
        data = yaml_rs.loads(text, parse_datetime=False)
    except yaml_rs.YAMLDecodeError as err:
        raise _yaml_error(str(err), text, name) from None
    except (ValueError, TypeError, OverflowError) as err:
        raise LoadError(f"invalid YAML: {err}", file=name) from None
    return checked(data, name, text, yaml=True)


def _yaml_error(message: str, text: str, name: str) -> InputError:
    lines = [line for line in message.splitlines() if line.strip()]
    reason = lines[-1].strip() if lines else "invalid YAML"
    if "alias" in message and "limit" in message:
        return LimitError(f"YAML aliases expand too much ({reason})", file=name)
    position = _YAML_POSITION.search(message)
    if position:
        return LoadError(
            f"invalid YAML: {reason}",
            file=name,
            line=int(position.group(1)),
            column=int(position.group(2)),
        )
    duplicate = _YAML_DUPLICATE.search(message)
    if duplicate:
        key = duplicate.group(1)
        return LoadError(f"duplicate key '{key}'", file=name, line=second_key_line(text, key))
    return LoadError(f"invalid YAML: {reason}", file=name)
