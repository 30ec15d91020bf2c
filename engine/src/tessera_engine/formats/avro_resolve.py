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
"""

from __future__ import annotations

from .avro_model import Array, Enum, Field, Fixed, Map, Named, Record, Schema, Union

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


class Resolver:
    def __init__(self) -> None:
        self._known: dict[tuple[int, int], bool] = {}

    def can_read(self, reader: Schema, writer: Schema) -> bool:
        key = (id(reader), id(writer))
        known = self._known.get(key)
        if known is not None:
            return known
        self._known[key] = True  # assumed while deciding (recursive schemas)
        result = self._decide(reader, writer)
        self._known[key] = result
        return result

    def _decide(self, reader: Schema, writer: Schema) -> bool:
        if isinstance(writer, Union):
            return all(self.can_read(reader, branch) for branch in writer.branches)
        if isinstance(reader, Union):
            return any(self.can_read(branch, writer) for branch in reader.branches)
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
            return all(self._field_readable(f, writer) for f in reader.fields)
        return decimals_match(reader, writer)

    def _field_readable(self, reader_field: Field, writer: Record) -> bool:
        found = writer_field(writer, reader_field)
        if found is None:
            return reader_field.has_default
        return self.can_read(reader_field.type, found.type)
