"""Reading and parsing spec files, with limits, into ``Document`` values.

JSON goes through the standard library's C decoder; YAML through ``yaml_rs`` (YAML 1.2, as
OpenAPI requires: ``yes`` stays a string, dates stay strings). Every failure becomes a
``LoadError`` or ``LimitError`` naming the file and, where known, the line and column.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml_rs

from ..errors import InputError, LimitError, LoadError
from ..model import Location
from .locate import JsonLocator, YamlLocator, read_key

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
"""Largest file accepted, in bytes (``TESSERA_MAX_FILE_BYTES`` overrides). The largest real
specs we know of are about 10 MB; anything far above that is a mistake or an attack."""

MAX_NESTING = 1000
"""Deepest nesting of arrays/objects accepted in a file."""

_YAML_POSITION = re.compile(r"at line (\d+), column (\d+)")
_YAML_DEEP_INDENT = re.compile(rf"^ {{{MAX_NESTING},}}\S", re.MULTILINE)
_YAML_DEEP_DASHES = re.compile(rf"(?:-[ \t]+){{{MAX_NESTING // 4},}}")
_YAML_DUPLICATE = re.compile(r"duplicate mapping key: '(.*)'")


def max_bytes() -> int:
    raw = os.environ.get("TESSERA_MAX_FILE_BYTES", "")
    return int(raw) if raw.isdigit() else DEFAULT_MAX_BYTES


class Source(Protocol):
    """Where files come from: the file system, or a git tree (``--against``)."""

    def read(self, path: str) -> bytes:
        """The bytes of ``path``; raises ``FileNotFoundError`` when it does not exist."""

    def size(self, path: str) -> int | None:
        """The size of ``path`` in bytes, when cheap to know before reading it."""

    def display(self, path: str) -> str:
        """How to name ``path`` to the user."""

    def files(self, path: str, suffixes: tuple[str, ...]) -> list[str] | None:
        """The files under the directory ``path`` (recursively, sorted) whose names end in
        one of ``suffixes``; ``None`` when ``path`` is not a directory."""


class FileSource:
    """Files on disk. Paths are shown relative to the working directory when inside it."""

    def files(self, path: str, suffixes: tuple[str, ...]) -> list[str] | None:
        root = Path(path)
        if not root.is_dir():
            return None
        found = (str(p) for p in root.rglob("*") if p.name.endswith(suffixes) and p.is_file())
        return sorted(found)

    def read(self, path: str) -> bytes:
        return Path(path).read_bytes()

    def size(self, path: str) -> int | None:
        try:
            return Path(path).stat().st_size
        except OSError:
            return None

    def display(self, path: str) -> str:
        try:
            rel = os.path.relpath(path)
        except ValueError:
            return path
        return path if rel.startswith("..") else rel


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
    if _deeper_than(data, MAX_NESTING):
        raise LimitError(f"nested more than {MAX_NESTING} levels deep", file=name)
    return data


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` levels. The C decoder's own limit
    follows the interpreter's recursion limit, which callers may have raised, so the depth is
    checked explicitly (iteratively: about 35 ms for a 4 MB spec)."""
    if type(data) is not dict and type(data) is not list:
        return False
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if type(value) is dict else value
        for child in children:
            if type(child) is dict or type(child) is list:
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


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
        return yaml_rs.loads(text, parse_datetime=False)
    except yaml_rs.YAMLDecodeError as err:
        raise _yaml_error(str(err), text, name) from None
    except (ValueError, TypeError, OverflowError) as err:
        raise LoadError(f"invalid YAML: {err}", file=name) from None


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
        return LoadError(f"duplicate key '{key}'", file=name, line=_second_key_line(text, key))
    return LoadError(f"invalid YAML: {reason}", file=name)


def _second_key_line(text: str, key: str) -> int | None:
    """The line where ``key`` appears a second time in the same block mapping: keys are
    tracked per indentation, and a line indented less (or a new sequence item) closes the
    deeper mappings."""
    seen: dict[int, set[str]] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith(("#", "---")):
            continue
        column = len(line) - len(stripped)
        while stripped.startswith("- "):  # "- key: value" opens a mapping after the dash
            for depth in [d for d in seen if d >= column]:
                del seen[depth]
            column += 2 + len(stripped[2:]) - len(stripped[2:].lstrip(" "))
            stripped = stripped[2:].lstrip(" ")
        for depth in [d for d in seen if d > column]:
            del seen[depth]
        found = read_key(line, column)
        if found is None:
            continue
        keys = seen.setdefault(column, set())
        if found[0] == key and key in keys:
            return number
        keys.add(found[0])
    return None
