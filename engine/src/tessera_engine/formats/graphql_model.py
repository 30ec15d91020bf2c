"""The GraphQL schema model: only what the comparator needs, with where each element is.

Every element keeps ``file`` (an index into ``Schema.files``) and ``at``: for SDL the index of
its token in that file (offsets and line numbers are computed lazily, only for the elements
findings point at), for introspection JSON a JSON pointer. Type references are kept as
written, in canonical form (``[String!]!``); default values and directive arguments as
canonical GraphQL literals (object fields sorted, strings re-quoted), so equal values compare
equal however they were written. Descriptions stay raw tokens until two differ.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from ..model import Location

OBJECT = "type"
INTERFACE = "interface"
UNION = "union"
ENUM = "enum"
INPUT = "input"
SCALAR = "scalar"

BUILTIN_SCALARS = frozenset({"String", "Int", "Float", "Boolean", "ID"})
BUILTIN_DIRECTIVES = frozenset({"skip", "include", "deprecated", "specifiedBy", "oneOf"})
DEFAULT_DEPRECATION = "No longer supported"
ROOT_NAMES = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}

Usage = tuple[str, tuple[tuple[str, str], ...]]
"""A directive applied to an element: its name and its arguments (name, canonical literal),
sorted by name."""


@dataclass(slots=True)
class InputValue:
    """An argument (of a field or a directive) or an input object field."""

    name: str
    type: str
    default: str | None
    description: str | None
    directives: tuple[Usage, ...]
    file: int
    at: int | str

    @property
    def required(self) -> bool:
        return self.type.endswith("!") and self.default is None


@dataclass(slots=True)
class Field:
    name: str
    type: str
    args: dict[str, InputValue]
    description: str | None
    directives: tuple[Usage, ...]
    file: int
    at: int | str


@dataclass(slots=True)
class EnumValue:
    name: str
    description: str | None
    directives: tuple[Usage, ...]
    file: int
    at: int | str


@dataclass(slots=True)
class TypeDef:
    """A named type. ``fields`` holds object and interface fields; ``inputs`` input object
    fields; ``values`` enum values; ``members`` union members; ``interfaces`` what an object
    or interface implements."""

    kind: str
    name: str
    description: str | None
    file: int
    at: int | str
    directives: list[Usage] = field(default_factory=list)
    interfaces: list[str] = field(default_factory=list)
    fields: dict[str, Field] = field(default_factory=dict)
    inputs: dict[str, InputValue] = field(default_factory=dict)
    values: dict[str, EnumValue] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)


@dataclass(slots=True)
class DirectiveDef:
    name: str
    description: str | None
    args: dict[str, InputValue]
    locations: tuple[str, ...]
    repeatable: bool
    file: int
    at: int | str


@dataclass
class SourceFile:
    """One file of a schema; ``position`` turns an element's ``at`` into (line, column)."""

    name: str
    position: Callable[[int | str], tuple[int, int]]


@dataclass
class Schema:
    name: str  # the file or directory, for the result
    files: list[SourceFile]
    types: dict[str, TypeDef] = field(default_factory=dict)
    directives: dict[str, DirectiveDef] = field(default_factory=dict)
    roots: dict[str, str] = field(default_factory=dict)  # operation -> type name
    directives_used: list[Usage] = field(default_factory=list)  # on the schema itself
    description: str | None = None
    at: tuple[int, int | str] | None = None  # the schema definition, when there is one

    def locate(self, file: int, at: int | str) -> Location:
        source = self.files[file]
        line, column = source.position(at)
        return Location(source.name, line, column)

    def start(self) -> Location:
        """Where a schema-level finding points: the schema definition or the first file."""
        if self.at is not None:
            return self.locate(*self.at)
        return Location(self.files[0].name, 1, 1) if self.files else Location("", 1, 1)


def named(type_ref: str) -> str:
    """The named type inside a type reference: ``[User!]!`` -> ``User``."""
    return type_ref.strip("[]!")


def deprecation(directives: tuple[Usage, ...] | list[Usage]) -> str | None:
    """The deprecation reason, when ``@deprecated`` is applied."""
    for name, args in directives:
        if name == "deprecated":
            reason = dict(args).get("reason", "null")
            return DEFAULT_DEPRECATION if reason == "null" else unquote(reason)
    return None


def unquote(literal: str) -> str:
    """The text of a canonical string literal (strings are JSON-quoted); other literals as is."""
    if literal.startswith('"'):
        text: str = json.loads(literal)
        return text
    return literal


def show_usage(usage: Usage) -> str:
    name, args = usage
    inner = ", ".join(f"{key}: {value}" for key, value in args)
    return f"@{name}({inner})" if args else f"@{name}"
