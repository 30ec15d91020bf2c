"""Types and nullability (``type``, OpenAPI 3.0 ``nullable``, Swagger ``x-nullable``, 3.1
type arrays with ``null``), and the boolean schemas ``true`` and ``false``."""

from __future__ import annotations

from ..diff.core import At, Pair
from .schema_composition import layout
from .shape import type_set

_ORDER = ("null", "boolean", "integer", "number", "string", "array", "object")


def check(pair: Pair) -> None:
    ov, nv = pair.o.value, pair.n.value
    if ov is False or nv is False:
        if ov is not nv:
            rule = "schema.type.narrowed" if nv is False else "schema.type.widened"
            pair.emit(
                rule,
                old=pair.o,
                new=pair.n,
                args={
                    "old": "nothing" if ov is False else "any value",
                    "new": "nothing" if nv is False else "any value",
                },
            )
        return
    if layout(pair) != "keywords":
        return
    o_types = type_set(pair.o) if isinstance(ov, dict) else None
    n_types = type_set(pair.n) if isinstance(nv, dict) else None
    if o_types == n_types:
        return
    o_base = None if o_types is None else o_types - {"null"}
    n_base = None if n_types is None else n_types - {"null"}
    if o_base != n_base:
        _base_change(pair, o_base, n_base)
    if o_types is not None and n_types is not None and ("null" in o_types) != ("null" in n_types):
        rule = "schema.nullable.added" if "null" in n_types else "schema.nullable.removed"
        pair.emit(rule, old=pair.o, new=pair.n)


def _base_change(pair: Pair, old: frozenset[str] | None, new: frozenset[str] | None) -> None:
    args = {"old": describe(old), "new": describe(new)}
    at: At = {"old": pair.o.kw("type") or pair.o, "new": pair.n.kw("type") or pair.n}
    if old is None:
        pair.emit("schema.type.narrowed", **at, args=args)
    elif new is None or covers(new, old):
        pair.emit("schema.type.widened", **at, args=args)
    elif covers(old, new):
        pair.emit("schema.type.narrowed", **at, args=args)
    else:
        pair.emit("schema.type.changed", **at, args=args)


def covers(wide: frozenset[str], narrow: frozenset[str]) -> bool:
    """Every value of the ``narrow`` types is a value of the ``wide`` ones."""
    expanded = set(wide) | ({"integer"} if "number" in wide else set())
    return set(narrow) <= expanded


def describe(types: frozenset[str] | None) -> str:
    if types is None:
        return "any"
    if not types:
        return "nothing"
    ordered = sorted(types, key=lambda t: (_ORDER.index(t) if t in _ORDER else 99, t))
    return " or ".join(ordered)
