"""Parsing and validating ``.avsc`` schemas (Avro 1.12) into the ``avro_model``.

The file is read by the JSON document loader (size and nesting limits, file:line on a syntax
error, positions of every element for findings). Validation is Tessera's own, so the PyPI
``avro`` package stays a development dependency (the oracle of the conformance pairs): every
problem is a ``FormatError`` naming file:line:column of the offending element.

Checked: type names (primitive, or a named type defined earlier, resolved against the
enclosing namespace and then the null namespace), names, namespaces and aliases (``[A-Za-z_]
[A-Za-z0-9_]*`` segments), a record's ``fields`` (unique names, a ``type`` each), enum
``symbols`` (unique names) and ``default``, fixed ``size``, array ``items``, map ``values``,
unions (no nested unions, no two branches of one unnamed type or one name), names defined
once, field defaults (a value of the field's type; for a union, of its first branch) and sort
``order``. A logical type that is not valid for its underlying type is ignored, as the
specification says.

Bounds. A file holds at most ``max_elements()`` schemas, fields and enum symbols (a
``LimitError`` naming the setting beyond), and a field default nests at most
``MAX_DEFAULT_NESTING`` levels (findings carry it). A fixed ``size`` is at most 2,147,483,647
bytes, as in Apache Avro (Java reads it as a 32-bit int and refuses larger ones): the largest
decimal precision a size holds is computed from logarithms, never from ``2**(8*size)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_FLOOR, Context, Decimal
from typing import Any, TypeGuard

from ..documents import Document
from ..errors import FormatError, LimitError
from ..limits import MAX_DEFAULT_NESTING, max_elements, too_many_elements
from .avro_defaults import default_problem
from .avro_model import (
    PRIMITIVES,
    Array,
    Enum,
    Field,
    Fixed,
    LogicalType,
    Map,
    Named,
    Primitive,
    Record,
    Schema,
    Site,
    Union,
)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ORDERS = ("ascending", "descending", "ignore")
_ON_INT = ("date", "time-millis")
_ON_LONG = (
    "time-micros",
    "timestamp-millis",
    "timestamp-micros",
    "timestamp-nanos",
    "local-timestamp-millis",
    "local-timestamp-micros",
    "local-timestamp-nanos",
)
MAX_FIXED_SIZE = 2**31 - 1
"""The largest fixed ``size`` accepted: Apache Avro's Java implementation reads it as an int."""
_PRECISE = Context(prec=80)
_LOG10_2 = Decimal(2).log10(_PRECISE)


class UnknownTypeError(FormatError):
    """A type name that is neither primitive nor defined (yet). ``candidates`` are the full
    names it would resolve to (in the enclosing namespace, then as written)."""

    def __init__(self, message: str, name: str, candidates: tuple[str, ...], **where: Any) -> None:
        super().__init__(message, **where)
        self.name = name
        self.candidates = candidates


class SchemaParser:
    """Builds the model of one file. ``known`` holds the named types other files of a
    directory defined so far; this file's own go to ``defined`` (kept apart, so a file that
    cannot be parsed yet leaves ``known`` as it was)."""

    def __init__(self, document: Document, known: Mapping[str, Named]) -> None:
        self.document = document
        self.known = known
        self.defined: dict[str, Named] = {}
        self.elements = 0
        self.max_elements = max_elements()

    def parse_root(self) -> Schema:
        return self.parse(self.document.data, Site(self.document, ""), "")

    def error(self, message: str, site: Site) -> FormatError:
        loc = site.location()
        return FormatError(message, file=loc.file, line=loc.line, column=loc.column)

    def count(self, site: Site, elements: int = 1) -> None:
        """Count schemas, fields and symbols; refuse the file beyond the element limit."""
        self.elements += elements
        if self.elements > self.max_elements:
            loc = site.location()
            raise too_many_elements(loc.file, what="schemas, fields and symbols", line=loc.line)

    def lookup(self, fullname: str) -> Named | None:
        return self.defined.get(fullname) or self.known.get(fullname)

    def parse(self, data: Any, site: Site, namespace: str) -> Schema:
        self.count(site)
        if isinstance(data, str):
            return self._reference(data, site, namespace)
        if isinstance(data, list):
            return self._union(data, site, namespace)
        if isinstance(data, dict):
            return self._object(data, site, namespace)
        raise self.error(
            f"not an Avro schema: {_json(data)} (expected a type name, an object or a union)",
            site,
        )

    # -- references and unions ----------------------------------------------------------------

    def _reference(self, name: str, site: Site, namespace: str) -> Schema:
        if name in PRIMITIVES:
            return Primitive(kind=name, site=site)
        if name in ("record", "error", "enum", "fixed", "array", "map"):
            raise self.error(f'{name!r} needs the object form {{"type": "{name}", ...}}', site)
        found = None
        candidates: tuple[str, ...] = (name,)
        if "." not in name and namespace:
            candidates = (f"{namespace}.{name}", name)
            found = self.lookup(candidates[0])
        found = found or self.lookup(name)
        if found is None:
            loc = site.location()
            raise UnknownTypeError(
                f"unknown type {name!r} (not a primitive type nor a named type defined before)",
                name,
                candidates,
                file=loc.file,
                line=loc.line,
                column=loc.column,
            )
        return found

    def _union(self, data: list[Any], site: Site, namespace: str) -> Union:
        branches: list[Schema] = []
        sites: list[Site] = []
        seen: set[str] = set()
        for index, item in enumerate(data):
            branch_site = site.at(index)
            if isinstance(item, list):
                raise self.error("a union cannot directly contain another union", branch_site)
            branch = self.parse(item, branch_site, namespace)
            if isinstance(branch, Union):  # {"type": [...]} inside a union
                raise self.error("a union cannot directly contain another union", branch_site)
            key = branch.fullname if isinstance(branch, Named) else branch.kind
            if key in seen:
                what = "named type" if isinstance(branch, Named) else "type"
                raise self.error(f"the union holds the {what} {key!r} twice", branch_site)
            seen.add(key)
            branches.append(branch)
            sites.append(branch_site)
        return Union(kind="union", site=site, branches=branches, sites=sites)

    # -- objects ------------------------------------------------------------------------------

    def _object(self, data: dict[str, Any], site: Site, namespace: str) -> Schema:
        if "type" not in data:
            raise self.error('a schema object needs a "type"', site)
        kind = data["type"]
        if isinstance(kind, list | dict):
            return self.parse(kind, site.at("type"), namespace)
        if not isinstance(kind, str):
            raise self.error(f'"type" must be a string, not {_json(kind)}', site.at("type"))
        if kind in PRIMITIVES:
            return Primitive(kind=kind, site=site, logical=_logical(data, kind, None))
        if kind in ("record", "error"):
            return self._record(data, site, namespace)
        if kind == "enum":
            return self._enum(data, site, namespace)
        if kind == "fixed":
            return self._fixed(data, site, namespace)
        if kind == "array":
            items_site = self._require(data, "items", site)
            items = self.parse(data["items"], items_site, namespace)
            return Array(kind="array", site=site, items=items, items_site=items_site)
        if kind == "map":
            values_site = self._require(data, "values", site)
            values = self.parse(data["values"], values_site, namespace)
            return Map(kind="map", site=site, values=values, values_site=values_site)
        return self._reference(kind, site.at("type"), namespace)

    def _require(self, data: dict[str, Any], key: str, site: Site) -> Site:
        if key not in data:
            raise self.error(f'a {data["type"]} needs "{key}"', site)
        return site.at(key)

    def _named(self, data: dict[str, Any], site: Site, namespace: str) -> tuple[str, str]:
        """The name and namespace of a named type being defined (validated, not yet taken)."""
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise self.error(f'a {data["type"]} needs a "name" string', site)
        if "." in name:
            space, _, name = name.rpartition(".")
        else:
            space = data.get("namespace", namespace)
            if space is None:
                space = ""
            if not isinstance(space, str):
                raise self.error('"namespace" must be a string', site.at("namespace"))
        self._check_fullname(space, name, site.at("name"))
        if name in PRIMITIVES:
            raise self.error(f"a primitive type name cannot be redefined: {name!r}", site)
        fullname = f"{space}.{name}" if space else name
        if self.lookup(fullname) is not None:
            raise self.error(f"the named type {fullname!r} is defined twice", site.at("name"))
        return name, space

    def _check_fullname(self, space: str, name: str, site: Site) -> None:
        if not _NAME.match(name):
            raise self.error(f"invalid name {name!r} (letters, digits and _)", site)
        if space and not all(_NAME.match(part) for part in space.split(".")):
            raise self.error(f"invalid namespace {space!r}", site)

    def _aliases(self, data: dict[str, Any], site: Site, space: str | None) -> tuple[str, ...]:
        """Aliases, as full names (relative ones resolved against ``space``; fields have no
        namespace and pass None)."""
        raw = data.get("aliases", [])
        if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
            raise self.error('"aliases" must be a list of names', site.at("aliases"))
        found: list[str] = []
        for index, alias in enumerate(raw):
            if space is None:
                if not _NAME.match(alias):
                    raise self.error(f"invalid alias {alias!r}", site.at("aliases", index))
                found.append(alias)
                continue
            prefix, _, short = alias.rpartition(".")
            self._check_fullname(prefix, short, site.at("aliases", index))
            found.append(alias if "." in alias else (f"{space}.{alias}" if space else alias))
        return tuple(found)

    def _doc(self, data: dict[str, Any], site: Site) -> str | None:
        doc = data.get("doc")
        if doc is not None and not isinstance(doc, str):
            raise self.error('"doc" must be a string', site.at("doc"))
        return doc

    def _record(self, data: dict[str, Any], site: Site, namespace: str) -> Record:
        name, space = self._named(data, site, namespace)
        fields_site = self._require(data, "fields", site)
        raw_fields = data["fields"]
        if not isinstance(raw_fields, list):
            raise self.error('"fields" must be a list of field objects', fields_site)
        record = Record(
            kind="record",
            site=site,
            name=name,
            namespace=space,
            aliases=self._aliases(data, site, space),
            doc=self._doc(data, site),
        )
        self.defined[record.fullname] = record  # before the fields: they may refer to it
        seen: set[str] = set()
        for index, raw in enumerate(raw_fields):
            field = self._field(raw, fields_site.at(index), space)
            if field.name in seen:
                raise self.error(f"duplicate field name {field.name!r}", field.site.at("name"))
            seen.add(field.name)
            record.fields.append(field)
        return record

    def _field(self, raw: Any, site: Site, space: str) -> Field:
        self.count(site)
        if not isinstance(raw, dict):
            raise self.error(f"a field must be an object, not {_json(raw)}", site)
        name = raw.get("name")
        if not isinstance(name, str):
            raise self.error('a field needs a "name" string', site)
        if not _NAME.match(name):
            raise self.error(f"invalid field name {name!r}", site.at("name"))
        if "type" not in raw:
            raise self.error(f'field {name!r} needs a "type"', site)
        order = raw.get("order", "ascending")
        if order not in _ORDERS:
            raise self.error(f"invalid sort order {_json(order)} of field {name!r}", site)
        type_site = site.at("type")
        field = Field(
            name=name,
            type=self.parse(raw["type"], type_site, space),
            site=site,
            type_site=type_site,
            has_default="default" in raw,
            default=raw.get("default"),
            aliases=self._aliases(raw, site, None),
            doc=self._doc(raw, site),
        )
        if field.has_default:
            if _deeper_than(field.default, MAX_DEFAULT_NESTING):
                loc = site.at("default").location()
                raise LimitError(
                    f"the default of field {name!r} nests more than {MAX_DEFAULT_NESTING} levels",
                    file=loc.file,
                    line=loc.line,
                    column=loc.column,
                )
            problem = default_problem(field.type, field.default)
            if problem:
                raise self.error(
                    f"invalid default of field {name!r}: {problem}", site.at("default")
                )
        return field

    def _enum(self, data: dict[str, Any], site: Site, namespace: str) -> Enum:
        name, space = self._named(data, site, namespace)
        symbols_site = self._require(data, "symbols", site)
        symbols = data["symbols"]
        if not isinstance(symbols, list):
            raise self.error('"symbols" must be a list of names', symbols_site)
        self.count(symbols_site, len(symbols))
        seen: set[str] = set()
        for index, symbol in enumerate(symbols):
            if not isinstance(symbol, str) or not _NAME.match(symbol):
                raise self.error(f"invalid enum symbol {_json(symbol)}", symbols_site.at(index))
            if symbol in seen:
                raise self.error(f"duplicate enum symbol {symbol!r}", symbols_site.at(index))
            seen.add(symbol)
        default = data.get("default")
        if default is not None and (not isinstance(default, str) or default not in seen):
            raise self.error(
                f"the enum default {_json(default)} is not one of its symbols", site.at("default")
            )
        enum = Enum(
            kind="enum",
            site=site,
            name=name,
            namespace=space,
            aliases=self._aliases(data, site, space),
            doc=self._doc(data, site),
            symbols=tuple(symbols),
            default=default,
        )
        self.defined[enum.fullname] = enum
        return enum

    def _fixed(self, data: dict[str, Any], site: Site, namespace: str) -> Fixed:
        name, space = self._named(data, site, namespace)
        size_site = self._require(data, "size", site)
        size = data["size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise self.error(f'"size" must be a non-negative integer, not {_json(size)}', size_site)
        if size > MAX_FIXED_SIZE:
            raise self.error(
                f'"size" {_json(size)} is over {MAX_FIXED_SIZE:,} bytes, the largest fixed '
                "Avro implementations read (Apache Avro reads the size as a 32-bit int)",
                size_site,
            )
        fixed = Fixed(
            kind="fixed",
            site=site,
            name=name,
            namespace=space,
            aliases=self._aliases(data, site, space),
            doc=self._doc(data, site),
            size=size,
            logical=_logical(data, "fixed", size),
        )
        self.defined[fixed.fullname] = fixed
        return fixed


def _logical(data: dict[str, Any], kind: str, size: int | None) -> LogicalType | None:
    """The logical type of a schema object, when it is valid for the underlying type."""
    name = data.get("logicalType")
    if not isinstance(name, str):
        return None
    valid = (
        (name in _ON_INT and kind == "int")
        or (name in _ON_LONG and kind == "long")
        or (name == "uuid" and (kind == "string" or (kind == "fixed" and size == 16)))
        or (name == "duration" and kind == "fixed" and size == 12)
        or (name == "big-decimal" and kind == "bytes")
    )
    if valid:
        return LogicalType(name)
    if name == "decimal" and kind in ("bytes", "fixed"):
        return _decimal(data, size)
    return None


def _decimal(data: dict[str, Any], size: int | None) -> LogicalType | None:
    precision, scale = data.get("precision"), data.get("scale", 0)
    if not (_natural(precision) and _natural(scale)) or not 0 < precision >= scale:
        return None
    if size is not None and precision > max_decimal_precision(size):
        return None
    return LogicalType("decimal", precision, scale)


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` levels in ``value``."""
    stack = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict | list):
            if depth >= limit:
                return True
            children = current.values() if isinstance(current, dict) else current
            stack.extend((child, depth + 1) for child in children)
    return False


def _natural(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def max_decimal_precision(size: int) -> int:
    """The most decimal digits a fixed of ``size`` bytes holds: floor(log10(2**(8*size-1)-1)),
    which is floor((8*size-1) * log10(2)) (a power of two is never a power of ten), computed
    with 80 significant digits: exact for every size up to ``MAX_FIXED_SIZE``."""
    if size <= 0:
        return 0
    digits = _PRECISE.multiply(Decimal(8 * size - 1), _LOG10_2)
    return int(digits.to_integral_value(rounding=ROUND_FLOOR))


def _json(value: Any) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."
