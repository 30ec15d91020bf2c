"""Avro schema resolution (Avro 1.12 specification, "Schema Resolution"): can a reader schema
read what a writer schema wrote?

- a writer union: every branch must be readable; a reader union: some branch reads the writer;
- primitives of one type match; promotions: int -> long, float, double; long -> float,
  double; float -> double; string <-> bytes;
- named types match by unqualified name or when the reader's aliases hold the writer's full
  name; fixed also by size; enums when every writer symbol is a reader symbol or the reader
  has a ``default``;
- records: a reader field matches the writer field of its name or of one of its aliases (the
  types must match); a reader field with no writer field needs a default; writer fields the
  reader lacks are skipped;
- arrays and maps by their items and values;
- two ``decimal`` logical types match only when precision and scale match (the one logical
  type rule of the specification; other logical types are ignored, as the specification and
  Apache Avro's checkers do).

``Resolver.can_read`` memoises pairs; a pair met again while it is being decided (a recursive
schema) is assumed readable, as in Apache Avro's ``ReaderWriterCompatibilityChecker``.

Cost. Which branches of a reader union may read a writer is looked up in a table per union
(same type, a type it promotes to, or a named type of the same kind whose name or aliases
match), so two unions of many branches are resolved in linear time, not branch by branch.
Deciding a pair enters its parts, and named types may refer to one another in chains that
nest far deeper than the file itself: past ``MAX_NESTING`` pairs being decided at once the
comparison is refused (``LimitError``), never left to overflow the stack.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain

from ..errors import LimitError
from ..limits import MAX_NESTING
from .avro_model import Array, Enum, Field, Fixed, Map, Named, Record, Schema, Site, Union
from .avro_work import WorkBudget

PROMOTIONS = {
    "int": ("long", "float", "double"),
    "long": ("float", "double"),
    "float": ("double",),
    "string": ("bytes",),
    "bytes": ("string",),
}
"""Writer type -> the reader types that read it (besides itself)."""


def promotes(writer: str, reader: str) -> bool:
    return writer == reader or reader in PROMOTIONS.get(writer, ())


def names_match(reader: Named, writer: Named) -> bool:
    return reader.name == writer.name or writer.fullname in reader.aliases


def writer_field(writer: Record, reader_field: Field) -> Field | None:
    """The writer's field a reader field reads: by name, then by the reader's aliases."""
    found = writer.field(reader_field.name)
    if found is not None:
        return found
    return next((f for a in reader_field.aliases if (f := writer.field(a)) is not None), None)


def decimals_match(reader: Schema, writer: Schema) -> bool:
    r, w = reader.logical, writer.logical
    if r is None or w is None or r.name != "decimal" or w.name != "decimal":
        return True
    return (r.precision, r.scale) == (w.precision, w.scale)


def too_deep(site: Site) -> LimitError:
    """The error for schemas that nest (through the named types they enter) past the limit."""
    loc = site.location()
    return LimitError(
        f"the schema nests more than {MAX_NESTING:,} levels deep, counting the named types "
        "it refers to",
        file=loc.file,
        line=loc.line,
        column=loc.column,
    )


class Resolver:
    def __init__(self, budget: WorkBudget) -> None:
        self.budget = budget
        self._known: dict[tuple[int, int], bool] = {}
        self._tables: dict[int, tuple[Sequence[Schema], _BranchTable]] = {}
        self._depth = 0

    def can_read(self, reader: Schema, writer: Schema) -> bool:
        key = (id(reader), id(writer))
        known = self._known.get(key)
        if known is not None:
            return known
        self._known[key] = True  # assumed while deciding (recursive schemas)
        self.budget.spend()
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise too_deep(reader.site)
            result = self._decide(reader, writer)
        finally:
            self._depth -= 1
        self._known[key] = result
        return result

    def any_reads(
        self, readers: Sequence[Schema], writer: Schema, skip: Schema | None = None
    ) -> bool:
        """Whether some schema of ``readers`` (the branches of a union), other than ``skip``,
        reads ``writer``."""
        for branch in self._candidates(readers, writer):
            self.budget.spend()
            if branch is not skip and self.can_read(branch, writer):
                return True
        return False

    def _candidates(self, readers: Sequence[Schema], writer: Schema) -> Iterable[Schema]:
        if len(readers) == 1:
            return readers
        cached = self._tables.get(id(readers))
        if cached is None or cached[0] is not readers:
            cached = (readers, _BranchTable(readers))
            self._tables[id(readers)] = cached  # holds ``readers``: its id stays unique
        return cached[1].candidates(writer)

    def _decide(self, reader: Schema, writer: Schema) -> bool:
        if isinstance(writer, Union):
            self.budget.spend(len(writer.branches))
            return all(self.can_read(reader, branch) for branch in writer.branches)
        if isinstance(reader, Union):
            return self.any_reads(reader.branches, writer)
        if reader.kind != writer.kind:
            return promotes(writer.kind, reader.kind)
        if isinstance(reader, Array) and isinstance(writer, Array):
            return self.can_read(reader.items, writer.items)
        if isinstance(reader, Map) and isinstance(writer, Map):
            return self.can_read(reader.values, writer.values)
        if (
            isinstance(reader, Named)
            and isinstance(writer, Named)
            and not names_match(reader, writer)
        ):
            return False
        if isinstance(reader, Fixed) and isinstance(writer, Fixed):
            return reader.size == writer.size and decimals_match(reader, writer)
        if isinstance(reader, Enum) and isinstance(writer, Enum):
            return reader.default is not None or set(writer.symbols) <= set(reader.symbols)
        if isinstance(reader, Record) and isinstance(writer, Record):
            self.budget.spend(len(reader.fields))
            return all(self._field_readable(f, writer) for f in reader.fields)
        return decimals_match(reader, writer)

    def _field_readable(self, reader_field: Field, writer: Record) -> bool:
        found = writer_field(writer, reader_field)
        if found is None:
            return reader_field.has_default
        return self.can_read(reader_field.type, found.type)


class _BranchTable:
    """The branches of one union by what they may read: unnamed ones by type, named ones by
    kind and full name, by kind and unqualified name, and by kind and alias."""

    def __init__(self, branches: Sequence[Schema]) -> None:
        self.by_key: dict[tuple[str, str, str], list[Schema]] = {}
        for branch in branches:
            if isinstance(branch, Named):
                self._add(("full", branch.kind, branch.fullname), branch)
                self._add(("name", branch.kind, branch.name), branch)
                for alias in branch.aliases:
                    self._add(("alias", branch.kind, alias), branch)
            else:
                self._add(("type", branch.kind, ""), branch)

    def _add(self, key: tuple[str, str, str], branch: Schema) -> None:
        self.by_key.setdefault(key, []).append(branch)

    def candidates(self, writer: Schema) -> Iterable[Schema]:
        """The branches that may read ``writer`` (a superset: ``can_read`` decides), the one
        of the same full name first; produced lazily, as the first that reads is enough."""
        get = self.by_key.get
        if isinstance(writer, Named):
            kind = writer.kind
            return chain(
                get(("full", kind, writer.fullname), ()),
                get(("name", kind, writer.name), ()),
                get(("alias", kind, writer.fullname), ()),
            )
        kinds = (writer.kind, *PROMOTIONS.get(writer.kind, ()))
        return chain.from_iterable(get(("type", kind, ""), ()) for kind in kinds)
