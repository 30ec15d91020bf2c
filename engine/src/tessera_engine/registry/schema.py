"""The JSON Schemas of the registry's file kinds, and their errors as one-line messages.

The schemas are package data (``registry/schemas/<kind>.schema.json``), the single source of
truth: ``registry-template/schemas/`` holds byte-identical copies for editors. Each validator
is compiled once per process.

Two validators per schema: ``fastjsonschema`` compiles the schema to Python code and answers
"valid or not" in about 30 µs for a consumer file, against about 440 µs for ``jsonschema``
(measured on the 10,000-contract bench registry, where validation was 70% of the run); only a
file it rejects goes through ``jsonschema``, which lists every error with its path. The
schemas use only keywords the two implement alike (a test holds them to the same verdicts).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

KINDS = ("settings", "team", "contract", "consumer", "version")
_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


@dataclass(frozen=True)
class SchemaError:
    """One schema violation: where (a path of keys and indexes) and what."""

    path: tuple[str | int, ...]
    message: str
    at_key: bool = False  # point at the key itself (an unknown key), not its value


def schema_text(kind: str) -> str:
    """The JSON Schema of ``kind`` as stored (what ``registry-template/schemas`` copies)."""
    return (resources.files(__package__) / "schemas" / f"{kind}.schema.json").read_text("utf-8")


@cache
def schema(kind: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text(kind))
    return loaded


@cache
def _validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(schema(kind))


@cache
def _gate(kind: str) -> Any:
    return fastjsonschema.compile(schema(kind))


def passes(kind: str, data: Any) -> bool:
    """Whether ``data`` is valid against ``kind``'s schema (the fast validator alone)."""
    try:
        _gate(kind)(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def check(kind: str, data: Any) -> list[SchemaError]:
    """Every violation of ``kind``'s schema in ``data``, in document order."""
    if passes(kind, data):
        return []
    errors = [e for error in _validator(kind).iter_errors(data) for e in _explain(error)]
    return sorted(errors, key=lambda e: [str(t) for t in e.path])


def _explain(error: ValidationError) -> Iterator[SchemaError]:
    path = tuple(error.absolute_path)
    where = _where(path)
    value, keyword, expected = error.instance, error.validator, error.validator_value
    if keyword == "additionalProperties" and isinstance(value, dict):
        allowed = sorted(_subschema(error).get("properties", {}))
        for key in value:
            if key not in allowed:
                hint = f" (expected {_choices(allowed)})" if allowed else ""
                yield SchemaError((*path, key), f"{where}unknown key {key!r}{hint}", True)
        return
    if keyword == "required" and isinstance(value, dict):
        for name in expected if isinstance(expected, list) else ():
            if name not in value:
                yield SchemaError(path, f"{where}missing required key {name!r}", True)
        return
    yield SchemaError(path, where + _message(error, keyword, value, expected))


def _message(error: ValidationError, keyword: Any, value: Any, expected: Any) -> str:
    if keyword == "type":
        wanted = expected if isinstance(expected, list) else [expected]
        names = " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in wanted)
        hint = (
            " (quote it)"
            if "string" in wanted and isinstance(value, int | float) and not isinstance(value, bool)
            else ""
        )
        return f"expected {names}, found {_shown(value)}{hint}"
    if keyword == "enum":
        return f"{_shown(value)} is not one of {_choices([str(v) for v in expected])}"
    if keyword == "pattern":
        described = _subschema(error).get("description")
        return (
            f"{_shown(value)} is not {described}"
            if described
            else (f"{_shown(value)} does not match {expected}")
        )
    if keyword == "uniqueItems":
        return "lists an item twice"
    if keyword in ("minItems", "minLength", "minProperties"):
        return "must not be empty"
    if keyword == "maxProperties":
        return f"expected at most {expected} key(s), found {len(value)}"
    return str(error.message)


def _subschema(error: ValidationError) -> Mapping[str, Any]:
    return error.schema if isinstance(error.schema, Mapping) else {}


def _where(path: tuple[str | int, ...]) -> str:
    if not path:
        return ""
    text = ""
    for token in path:
        text += f"[{token}]" if isinstance(token, int) else (f".{token}" if text else str(token))
    return text + ": "


def _choices(names: list[str]) -> str:
    return ", ".join(names)


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)
