"""Introspection results (``{"data": {"__schema": ...}}`` or ``{"__schema": ...}``) as a
schema model.

graphql-core checks the result (``build_client_schema``, then ``validate_schema``); the model
is read from the JSON itself, so every element keeps its JSON pointer and findings point at
the line and column of the element in the JSON file. Default values arrive as GraphQL
literals and are made canonical by the SDL reader's value grammar.
"""

from __future__ import annotations

import re
from typing import Any

from ..documents.loader import parse_document
from ..errors import FormatError
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
from .graphql_sdl import SdlSyntaxError, literal
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
    try:
        _fill(schema, raw, base)
    except (KeyError, TypeError, ValueError, SdlSyntaxError) as err:
        raise FormatError(
            f"invalid introspection result: {err}", file=name, line=1, column=1
        ) from None
    return schema


_DEPRECATED_IMPLEMENTATION = re.compile(
    r"Interface field \S+ is not deprecated, so implementation field \S+ must not be deprecated\.$"
)


def _check(name: str, data: dict[str, Any]) -> None:
    """graphql-core's verdict on the result: readable, and a valid schema."""
    from graphql import GraphQLError, build_client_schema, validate_schema

    try:
        schema = build_client_schema(data)  # type: ignore[arg-type]
        errors = validate_schema(schema)
    except (GraphQLError, TypeError, ValueError, KeyError) as err:
        raise FormatError(
            f"invalid introspection result: {err}", file=name, line=1, column=1
        ) from None
    # graphql-core 3.3's draft rule against deprecated implementations of fields the
    # interface does not deprecate is not applied (see graphql_interfaces).
    errors = [error for error in errors if not _DEPRECATED_IMPLEMENTATION.match(error.message)]
    if errors:
        raise FormatError(f"invalid schema: {errors[0].message}", file=name, line=1, column=1)


def _fill(schema: Schema, raw: dict[str, Any], base: str) -> None:
    for operation in ("query", "mutation", "subscription"):
        root = raw.get(f"{operation}Type")
        if root:
            schema.roots[operation] = root["name"]
    schema.description = _description(raw)
    for index, entry in enumerate(raw["types"]):
        name = entry["name"]
        if name.startswith("__"):
            continue
        pointer = f"{base}/types/{index}"
        definition = TypeDef(_KINDS[entry["kind"]], name, _description(entry), 0, pointer)
        if entry.get("isOneOf"):
            definition.directives.append(("oneOf", ()))
        if entry.get("specifiedByURL"):
            definition.directives.append(
                ("specifiedBy", (("url", quote(entry["specifiedByURL"])),))
            )
        definition.interfaces = [i["name"] for i in entry.get("interfaces") or ()]
        definition.members = (
            [m["name"] for m in entry.get("possibleTypes") or ()]
            if (definition.kind == UNION)
            else []
        )
        for position, raw_field in enumerate(entry.get("fields") or ()):
            at = f"{pointer}/fields/{position}"
            definition.fields[raw_field["name"]] = Field(
                raw_field["name"],
                _type(raw_field["type"]),
                _inputs(raw_field.get("args") or (), f"{at}/args"),
                _description(raw_field),
                _deprecated(raw_field),
                0,
                at,
            )
        definition.inputs = _inputs(entry.get("inputFields") or (), f"{pointer}/inputFields")
        for position, raw_value in enumerate(entry.get("enumValues") or ()):
            definition.values[raw_value["name"]] = EnumValue(
                raw_value["name"],
                _description(raw_value),
                _deprecated(raw_value),
                0,
                f"{pointer}/enumValues/{position}",
            )
        schema.types[name] = definition
    for index, entry in enumerate(raw.get("directives") or ()):
        if entry["name"] in BUILTIN_DIRECTIVES:
            continue
        pointer = f"{base}/directives/{index}"
        schema.directives[entry["name"]] = DirectiveDef(
            entry["name"],
            _description(entry),
            _inputs(entry.get("args") or (), f"{pointer}/args"),
            tuple(entry.get("locations") or ()),
            bool(entry.get("isRepeatable")),
            0,
            pointer,
        )


def _inputs(entries: Any, pointer: str) -> dict[str, InputValue]:
    found = {}
    for index, entry in enumerate(entries):
        default = entry.get("defaultValue")
        found[entry["name"]] = InputValue(
            entry["name"],
            _type(entry["type"]),
            None if default is None else literal(default),
            _description(entry),
            _deprecated(entry),
            0,
            f"{pointer}/{index}",
        )
    return found


def _type(ref: dict[str, Any]) -> str:
    kind = ref["kind"]
    if kind == "NON_NULL":
        return _type(ref["ofType"]) + "!"
    if kind == "LIST":
        return f"[{_type(ref['ofType'])}]"
    name: str = ref["name"]
    return name


def _description(entry: dict[str, Any]) -> str | None:
    text = entry.get("description")
    return None if text is None else quote(text)


def _deprecated(entry: dict[str, Any]) -> tuple[Usage, ...]:
    if not entry.get("isDeprecated"):
        return ()
    reason = entry.get("deprecationReason")
    return (("deprecated", () if reason is None else (("reason", quote(reason)),)),)
