"""Whether a field's ``default`` is a valid value of its type (Avro 1.12, "Complex Types").

The default is written in JSON: ``null`` for null, booleans, integers for int and long (in
range), numbers for float and double, strings for string and for bytes and fixed (one code
point per byte, at most U+00FF), a symbol for an enum, objects for records and maps, arrays
for arrays. A union's default is a value of its *first* branch.
"""

from __future__ import annotations

from typing import Any

from .avro_model import Array, Enum, Fixed, Map, Record, Schema, Union

_INT_RANGE = {"int": 2**31, "long": 2**63}


def default_problem(schema: Schema, value: Any) -> str | None:
    """Why ``value`` is not a valid default for ``schema`` (None when it is)."""
    return _check(schema, value, set())


def _check(schema: Schema, value: Any, active: set[tuple[int, int]]) -> str | None:
    if isinstance(schema, Union):
        if not schema.branches:
            return "an empty union has no values"
        first = schema.branches[0]
        problem = _check(first, value, active)
        if problem:
            return f"{problem} (a union's default is a value of its first branch, {first.kind})"
        return None
    if isinstance(schema, Record):
        return _record(schema, value, active)
    if isinstance(schema, Enum):
        if not isinstance(value, str) or value not in schema.symbols:
            return f"{_show(value)} is not a symbol of enum {schema.fullname}"
        return None
    if isinstance(schema, Fixed):
        problem = _bytes(value)
        if problem is None and len(value) != schema.size:
            problem = f"{_show(value)} is not {schema.size} bytes long (fixed {schema.fullname})"
        return problem
    if isinstance(schema, Array):
        if not isinstance(value, list):
            return f"{_show(value)} is not an array"
        return next((p for p in (_check(schema.items, v, active) for v in value) if p), None)
    if isinstance(schema, Map):
        if not isinstance(value, dict):
            return f"{_show(value)} is not an object (map)"
        found = (_check(schema.values, v, active) for v in value.values())
        return next((p for p in found if p), None)
    return _primitive(schema.kind, value)


def _record(schema: Record, value: Any, active: set[tuple[int, int]]) -> str | None:
    if not isinstance(value, dict):
        return f"{_show(value)} is not an object (record {schema.fullname})"
    key = (id(schema), id(value))
    if key in active:
        return None
    active.add(key)
    try:
        for field in schema.fields:
            if field.name in value:
                problem = _check(field.type, value[field.name], active)
                if problem:
                    return f"field {field.name!r}: {problem}"
            elif not field.has_default:
                return f"no value for field {field.name!r} of record {schema.fullname}"
        return None
    finally:
        active.discard(key)


def _primitive(kind: str, value: Any) -> str | None:
    if kind == "null":
        return None if value is None else f"{_show(value)} is not null"
    if kind == "boolean":
        return None if isinstance(value, bool) else f"{_show(value)} is not a boolean"
    if kind in _INT_RANGE:
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{_show(value)} is not an integer ({kind})"
        limit = _INT_RANGE[kind]
        return None if -limit <= value < limit else f"{value} is out of range for {kind}"
    if kind in ("float", "double"):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return None if number else f"{_show(value)} is not a number ({kind})"
    if kind == "string":
        return None if isinstance(value, str) else f"{_show(value)} is not a string"
    if kind == "bytes":
        return _bytes(value)
    return f"unexpected type {kind}"  # pragma: no cover - every kind is handled above


def _bytes(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"{_show(value)} is not a string of bytes"
    if any(ord(c) > 0xFF for c in value):
        return f"{_show(value)} holds a code point above U+00FF (bytes are written one per char)"
    return None


def _show(value: Any) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."
