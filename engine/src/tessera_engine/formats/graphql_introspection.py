"""Introspection results (``{"data": {"__schema": ...}}`` or ``{"__schema": ...}``) as a
schema model.

graphql-core checks the result (``build_client_schema``, then ``validate_schema``); the model
is read from the JSON itself, so every element keeps its JSON pointer and findings point at
the line and column of the element in the JSON file. Default values arrive as GraphQL
literals and are made canonical by the SDL reader's value grammar.

Bounds. The JSON loader bounds the file's size and nesting; reading counts definitions,
fields, arguments, values and type references against ``max_elements()``, follows ``ofType``
chains with a loop (lists nested past ``MAX_LIST_NESTING`` are refused), and graphql-core's
own recursion on deeply nested input becomes a ``LimitError``. Whatever does not have the
shape of an introspection result is a ``FormatError``, never a crash.
"""

from __future__ import annotations

import re
from typing import Any

from ..documents.loader import parse_document
from ..errors import FormatError, LimitError
from ..limits import MAX_LIST_NESTING, max_elements, too_many_elements
from .graphql_model import (
    BUILTIN_DIRECTIVES,
    ENUM,
    INPUT,
    INTERFACE,
    OBJECT,
    SCALAR,
    UNION,
    DirectiveDef,
    EnumValue,
    Field,
    InputValue,
    Schema,
    SourceFile,
    TypeDef,
    Usage,
)
from .graphql_sdl import LISTS_TOO_DEEP, SdlLimitError, SdlSyntaxError, literal
from .graphql_values import quote

_KINDS = {
    "OBJECT": OBJECT,
    "INTERFACE": INTERFACE,
    "UNION": UNION,
    "ENUM": ENUM,
    "INPUT_OBJECT": INPUT,
    "SCALAR": SCALAR,
}


def read_introspection(name: str, text: str) -> Schema:
    document = parse_document(name, name, text.encode("utf-8"))
    data = document.data
    base = ""
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        data, base = data["data"], "/data"
    if not isinstance(data, dict) or not isinstance(data.get("__schema"), dict):
        raise FormatError(
            'not a GraphQL schema: expected SDL or an introspection result with "__schema"',
            file=name,
            line=1,
            column=1,
        )
    _check(name, data)

    def position(at: int | str) -> tuple[int, int]:
        location = document.locate(str(at))
        return location.line, location.column

    schema = Schema(name, [SourceFile(name, position)])
    raw = data["__schema"]
    base += "/__schema"
    reader = _Reader(schema)
    try:
        reader.fill(raw, base)
    except SdlLimitError as err:
        location = schema.locate(0, reader.at)
        raise LimitError(err.message, file=name, line=location.line) from None
    except (KeyError, TypeError, ValueError, AttributeError, SdlSyntaxError) as err:
        location = schema.locate(0, reader.at)
        raise FormatError(
            f"invalid introspection result: {_reason(err)}", file=name, line=location.line
        ) from None
    return schema


def _reason(err: Exception) -> str:
    if isinstance(err, KeyError):
        return f"missing {err}"
    if isinstance(err, SdlSyntaxError):
        return f"a default value is not a GraphQL value (expected {err.expected})"
    return str(err)


_DEPRECATED_IMPLEMENTATION = re.compile(
    r"Interface field \S+ is not deprecated, so implementation field \S+ must not be deprecated\.$"
)


def _check(name: str, data: dict[str, Any]) -> None:
    """graphql-core's verdict on the result: readable, and a valid schema."""
    from graphql import GraphQLError, build_client_schema, validate_schema

    try:
        schema = build_client_schema(data)  # type: ignore[arg-type]
        errors = validate_schema(schema)
    except (GraphQLError, TypeError, ValueError, KeyError, AttributeError) as err:
        raise FormatError(
            f"invalid introspection result: {err}", file=name, line=1, column=1
        ) from None
    except RecursionError:
        raise LimitError(
            "type references or default values nest too deeply to be checked",
            file=name,
            line=1,
            column=1,
        ) from None
    # graphql-core 3.3's draft rule against deprecated implementations of fields the
    # interface does not deprecate is not applied (see graphql_interfaces).
    errors = [error for error in errors if not _DEPRECATED_IMPLEMENTATION.match(error.message)]
    if errors:
        raise FormatError(f"invalid schema: {errors[0].message}", file=name, line=1, column=1)


class _Reader:
    """Fills a ``Schema`` from the ``__schema`` object, counting elements; ``at`` is the
    pointer of the entry being read (where an error is reported)."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.at = ""
        self.elements = 0
        self.max_elements = max_elements()

    def count(self, elements: int = 1) -> None:
        self.elements += elements
        if self.elements > self.max_elements:
            what = "definitions, fields, arguments, values and type references"
            raise SdlLimitError(0, too_many_elements(None, what=what).message)

    def fill(self, raw: dict[str, Any], base: str) -> None:
        schema = self.schema
        for operation in ("query", "mutation", "subscription"):
            root = raw.get(f"{operation}Type")
            if root:
                schema.roots[operation] = _name(root)
        schema.description = _description(raw)
        for index, entry in enumerate(raw["types"]):
            self.at = pointer = f"{base}/types/{index}"
            self.count()
            name = _name(entry)
            if name.startswith("__"):
                continue
            schema.types[name] = self.type_def(entry, name, pointer)
        for index, entry in enumerate(raw.get("directives") or ()):
            self.at = pointer = f"{base}/directives/{index}"
            self.count()
            name = _name(entry)
            if name in BUILTIN_DIRECTIVES:
                continue
            schema.directives[name] = DirectiveDef(
                name,
                _description(entry),
                self.inputs(entry.get("args") or (), f"{pointer}/args"),
                tuple(_strings(entry.get("locations") or ())),
                bool(entry.get("isRepeatable")),
                0,
                pointer,
            )

    def type_def(self, entry: dict[str, Any], name: str, pointer: str) -> TypeDef:
        definition = TypeDef(_KINDS[entry["kind"]], name, _description(entry), 0, pointer)
        if entry.get("isOneOf"):
            definition.directives.append(("oneOf", ()))
        if entry.get("specifiedByURL"):
            definition.directives.append(
                ("specifiedBy", (("url", quote(_string(entry["specifiedByURL"], "a URL"))),))
            )
        interfaces = entry.get("interfaces") or ()
        self.count(len(interfaces))
        definition.interfaces = [_name(i) for i in interfaces]
        if definition.kind == UNION:
            members = entry.get("possibleTypes") or ()
            self.count(len(members))
            definition.members = [_name(m) for m in members]
        for position, raw_field in enumerate(entry.get("fields") or ()):
            self.at = at = f"{pointer}/fields/{position}"
            self.count()
            definition.fields[_name(raw_field)] = Field(
                _name(raw_field),
                self.type_ref(raw_field["type"]),
                self.inputs(raw_field.get("args") or (), f"{at}/args"),
                _description(raw_field),
                _deprecated(raw_field),
                0,
                at,
            )
        definition.inputs = self.inputs(entry.get("inputFields") or (), f"{pointer}/inputFields")
        for position, raw_value in enumerate(entry.get("enumValues") or ()):
            self.at = at = f"{pointer}/enumValues/{position}"
            self.count()
            definition.values[_name(raw_value)] = EnumValue(
                _name(raw_value), _description(raw_value), _deprecated(raw_value), 0, at
            )
        return definition

    def inputs(self, entries: Any, pointer: str) -> dict[str, InputValue]:
        found = {}
        for index, entry in enumerate(entries):
            self.at = at = f"{pointer}/{index}"
            self.count()
            default = entry.get("defaultValue")
            if default is not None:
                default = literal(_string(default, "a default value"))
            found[_name(entry)] = InputValue(
                _name(entry),
                self.type_ref(entry["type"]),
                default,
                _description(entry),
                _deprecated(entry),
                0,
                at,
            )
        return found

    def type_ref(self, ref: dict[str, Any]) -> str:
        """A ``__Type`` reference in canonical form, following ``ofType`` with a loop."""
        suffix: list[str] = []
        lists = 0
        while ref["kind"] in ("NON_NULL", "LIST"):
            if ref["kind"] == "LIST":
                lists += 1
                if lists > MAX_LIST_NESTING:
                    raise SdlLimitError(0, LISTS_TOO_DEEP)
                suffix.append("]")
            else:
                suffix.append("!")
            ref = ref["ofType"]
        self.count(lists + 1)
        return "[" * lists + _name(ref) + "".join(reversed(suffix))


def _name(entry: dict[str, Any]) -> str:
    return _string(entry["name"], "a name")


def _string(value: Any, what: str) -> str:
    """``value``, when it is a string of Unicode text (JSON's ``\\ud800`` escapes may give a
    lone surrogate, which no output could print)."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, not {type(value).__name__}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{what} holds a lone surrogate (an unpaired \\u escape)") from None
    return value


def _strings(values: Any) -> list[str]:
    found = list(values)
    if not all(isinstance(value, str) for value in found):
        raise TypeError("directive locations must be strings")
    return found


def _description(entry: dict[str, Any]) -> str | None:
    text = entry.get("description")
    return None if text is None else quote(_string(text, "a description"))


def _deprecated(entry: dict[str, Any]) -> tuple[Usage, ...]:
    if not entry.get("isDeprecated"):
        return ()
    reason = entry.get("deprecationReason")
    if reason is None:
        return (("deprecated", ()),)
    return (("deprecated", (("reason", quote(_string(reason, "a deprecation reason"))),)),)
