"""The Avro schema model: what ``avro_parse`` builds and ``avro_compare`` walks.

A schema is a ``Primitive``, a named type (``Record``, ``Enum``, ``Fixed``), an ``Array``, a
``Map`` or a ``Union``. A named type is one object however many places refer to it by name, so
a recursive record is a cycle. Every node knows where it is written (``Site``: a parsed file
and a JSON pointer); a reference by name has its own site (``Field.type_site``,
``Union.sites``, ``Array.items_site``), which is where a change of that reference is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..documents import Document
from ..model import Location

PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")
NAMED_KINDS = ("record", "enum", "fixed")


@dataclass(frozen=True, eq=False)
class Site:
    """Where an element is written: a file and a JSON pointer into it."""

    document: Document
    pointer: str

    def location(self) -> Location:
        return self.document.locate(self.pointer)

    def at(self, *tokens: str | int) -> Site:
        pointer = self.pointer
        for token in tokens:
            pointer += "/" + str(token).replace("~", "~0").replace("/", "~1")
        return Site(self.document, pointer)


@dataclass(frozen=True)
class LogicalType:
    """A logical type annotating the underlying type (only valid ones are kept: the
    specification says an invalid logical type is ignored and the underlying type used)."""

    name: str
    precision: int | None = None
    scale: int | None = None

    def __str__(self) -> str:
        if self.name == "decimal":
            return f"decimal({self.precision},{self.scale})"
        return self.name


@dataclass(eq=False, kw_only=True)
class Schema:
    """Any Avro schema. ``kind`` is the primitive name or record/enum/fixed/array/map/union."""

    kind: str
    site: Site
    logical: LogicalType | None = None

    def describe(self) -> str:
        """A short human name: ``long``, ``timestamp-millis long``, ``array<int>``, ``a.B``."""
        return f"{self.logical} {self.kind}" if self.logical else self.kind


@dataclass(eq=False, kw_only=True)
class Primitive(Schema):
    pass


@dataclass(eq=False, kw_only=True)
class Named(Schema):
    name: str  # unqualified
    namespace: str  # "" for the null namespace
    aliases: tuple[str, ...] = ()  # full names (relative ones resolved against the namespace)
    doc: str | None = None

    @property
    def fullname(self) -> str:
        return f"{self.namespace}.{self.name}" if self.namespace else self.name

    def describe(self) -> str:
        return self.fullname


@dataclass(eq=False, kw_only=True)
class Field:
    name: str
    type: Schema
    site: Site  # the field object
    type_site: Site  # its "type" value (a reference by name is shown there)
    has_default: bool = False
    default: Any = None
    aliases: tuple[str, ...] = ()
    doc: str | None = None


@dataclass(eq=False, kw_only=True)
class Record(Named):
    fields: list[Field] = field(default_factory=list)
    _by_name: dict[str, Field] = field(default_factory=dict, init=False, repr=False)

    def field(self, name: str) -> Field | None:
        """The field of that name (looked up in a table built once the fields are read, so
        resolving a record of many fields stays linear)."""
        if len(self._by_name) != len(self.fields):
            self._by_name = {f.name: f for f in self.fields}
        return self._by_name.get(name)


@dataclass(eq=False, kw_only=True)
class Enum(Named):
    symbols: tuple[str, ...] = ()
    default: str | None = None


@dataclass(eq=False, kw_only=True)
class Fixed(Named):
    size: int = 0

    def describe(self) -> str:
        return f"{self.fullname} (fixed {self.size})"


@dataclass(eq=False, kw_only=True)
class Array(Schema):
    items: Schema
    items_site: Site

    def describe(self) -> str:
        return f"array<{self.items.describe()}>"


@dataclass(eq=False, kw_only=True)
class Map(Schema):
    values: Schema
    values_site: Site

    def describe(self) -> str:
        return f"map<{self.values.describe()}>"


@dataclass(eq=False, kw_only=True)
class Union(Schema):
    branches: list[Schema]
    sites: list[Site]  # where each branch is written

    def describe(self) -> str:
        return "[" + ", ".join(b.describe() for b in self.branches) + "]"


def branch_key(schema: Schema) -> str:
    """What identifies a branch within a union: its full name, or its type."""
    return schema.fullname if isinstance(schema, Named) else schema.kind


@dataclass(eq=False)
class TopLevel:
    """One schema of a version: the file's root schema. ``key`` pairs it across versions
    (the file's path relative to the directory; empty for a single file)."""

    key: str
    schema: Schema


@dataclass(eq=False)
class AvroVersion:
    """One loaded version: a single ``.avsc`` file or every ``.avsc`` file of a directory.
    ``elements`` counts the schemas, fields and symbols written in its files."""

    display: str
    schemas: list[TopLevel]
    is_directory: bool = False
    elements: int = 0
