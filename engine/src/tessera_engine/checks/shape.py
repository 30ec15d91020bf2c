"""Questions every schema check asks: what types a schema allows, whether it is a pure
combination (``oneOf``/``anyOf``/``allOf`` and nothing else), whether it accepts anything."""

from __future__ import annotations

from typing import Any

from ..diff.nodes import Node
from ..diff.resolve import ANNOTATIONS

COMBINATORS = ("oneOf", "anyOf", "allOf")
SUMS = ("oneOf", "anyOf")

# Keywords that neither constrain values nor combine schemas.
NON_ASSERTIONS = ANNOTATIONS | {
    "$defs",
    "definitions",
    "$schema",
    "$id",
    "id",
    "$anchor",
    "$dynamicAnchor",
    "$vocabulary",
    "$comment",
    "nullable",
    "x-nullable",
    "discriminator",
    "x-extensible-enum",
}


def accepts_anything(value: Any) -> bool:
    """``true``, ``{}`` or a schema with only annotations."""
    if value is True:
        return True
    if not isinstance(value, dict):
        return False
    return (
        all(key in NON_ASSERTIONS or key.startswith("x-") for key in value)
        and value.get("nullable") is not False
    )


def accepts_nothing(value: Any) -> bool:
    return value is False or (isinstance(value, dict) and value.get("not") in ({}, True))


def combinators(value: Any) -> tuple[str, ...]:
    if not isinstance(value, dict):
        return ()
    return tuple(key for key in COMBINATORS if isinstance(value.get(key), list))


def is_pure(value: Any) -> bool:
    """A schema whose only assertions are one combinator (``{oneOf: [...], discriminator}``)."""
    combos = combinators(value)
    if len(combos) != 1:
        return False
    return all(key in NON_ASSERTIONS or key.startswith("x-") or key == combos[0] for key in value)


def is_null_schema(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    kind = value.get("type")
    return (kind in ("null", ["null"])) and not any(
        key not in NON_ASSERTIONS and key != "type" for key in value
    )


def type_set(node: Node) -> frozenset[str] | None:
    """The JSON types a schema allows, ``null`` included; None when ``type`` is not given."""
    value = node.value
    if value is False:
        return frozenset()
    if not isinstance(value, dict) or "type" not in value:
        if isinstance(value, dict) and value.get("nullable") is True and "enum" not in value:
            return None
        return None
    raw = value["type"]
    types = {t for t in (raw if isinstance(raw, list) else [raw]) if isinstance(t, str)}
    if value.get("nullable") is True or value.get("x-nullable") is True:
        types.add("null")
    return frozenset(types)


def allows_type(types: frozenset[str] | None, kind: str) -> bool:
    if types is None:
        return True
    if kind == "number":
        return "number" in types or "integer" in types
    if kind == "integer":
        return "integer" in types or "number" in types
    return kind in types


def branch_label(node: Node, keyword: str, index: int) -> str:
    """How to name one alternative of a oneOf/anyOf in a path: its definition's name when it
    is a reference (``Cat``), else its position (``oneOf #2``)."""
    value = node.value
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref:
            return ref.rstrip("/").rsplit("/", 1)[-1]
        title = value.get("title")
        if isinstance(title, str) and title:
            return title
    return f"{keyword} #{index + 1}"


def json_key(value: Any) -> str:
    """A hashable, order-independent key for a JSON value (enum members, defaults). Numbers
    compare by value, as JSON Schema says: ``1`` and ``1.0`` are the same."""
    import json

    return json.dumps(_numbers_by_value(value), sort_keys=True, ensure_ascii=False, default=str)


def _numbers_by_value(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _numbers_by_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_by_value(v) for v in value]
    return value
