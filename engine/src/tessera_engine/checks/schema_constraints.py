"""Bounds and formats: lengths, ranges, counts, multipleOf, uniqueItems, pattern, format,
contentMediaType/contentEncoding. Each keyword is only compared where it applies (string
keywords when both sides allow strings, ...), so a type change is not also reported as a
dozen vanished bounds."""

from __future__ import annotations

from typing import Any

from ..diff.core import At, Pair
from ..diff.nodes import Node
from .schema_composition import layout
from .shape import allows_type, type_set

# keyword -> (kind of value it applies to, True when a larger number is stricter)
_BOUNDS: dict[str, tuple[str, bool]] = {
    "minLength": ("string", True),
    "maxLength": ("string", False),
    "minItems": ("array", True),
    "maxItems": ("array", False),
    "minProperties": ("object", True),
    "maxProperties": ("object", False),
    "maxContains": ("array", False),
}
_REPLACEABLE = {"pattern": "string", "contentMediaType": "string", "contentEncoding": "string"}
# format -> formats it accepts every value of (a small lattice of the common numeric formats)
_FORMAT_WIDER = {"int64": {"int32"}, "double": {"float"}, "number": {"int32", "int64"}}


def check(pair: Pair) -> None:
    if layout(pair) != "keywords":
        return
    if not isinstance(pair.o.value, dict) or not isinstance(pair.n.value, dict):
        return
    o_types, n_types = type_set(pair.o), type_set(pair.n)

    def applies(kind: str) -> bool:
        return allows_type(o_types, kind) and allows_type(n_types, kind)

    for keyword, (kind, larger_is_stricter) in _BOUNDS.items():
        if applies(kind):
            _bound(pair, keyword, larger_is_stricter)
    if applies("array"):
        _min_contains(pair)
        _unique_items(pair)
    if applies("number"):
        _range(pair, lower=True)
        _range(pair, lower=False)
        _multiple_of(pair)
    for keyword, kind in _REPLACEABLE.items():
        if applies(kind):
            _replaceable(pair, keyword)
    if applies("string"):
        pair.subschema("contentSchema", " (content)")
    _format(pair)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _emit_bound(
    pair: Pair, keyword: str, old: Any, new: Any, stricter: bool, at: At, note: str = ""
) -> None:
    rule = "schema.constraint.tightened" if stricter else "schema.constraint.relaxed"
    args = {"keyword": keyword, "old": old, "new": new, "note": note}
    pair.emit(rule, **at, lseg=f"|{keyword}", args=args)


def _bound(pair: Pair, keyword: str, larger_is_stricter: bool) -> None:
    old, new = pair.o.get(keyword), pair.n.get(keyword)
    if old == new:
        return
    at: At = {"old": pair.o.kw(keyword), "new": pair.n.kw(keyword)}
    if old is None and _number(new):
        pair.emit(
            "schema.constraint.added",
            **at,
            lseg=f"|{keyword}",
            args={"keyword": keyword, "new": new},
        )
    elif new is None and _number(old):
        pair.emit(
            "schema.constraint.removed",
            **at,
            lseg=f"|{keyword}",
            args={"keyword": keyword, "old": old},
        )
    elif _number(old) and _number(new):
        _emit_bound(pair, keyword, old, new, (new > old) == larger_is_stricter, at)


def _min_contains(pair: Pair) -> None:
    """minContains defaults to 1 wherever ``contains`` is present."""

    def effective(node: Node) -> Any:
        value = node.get("minContains")
        return value if value is not None or not node.has("contains") else 1

    old, new = effective(pair.o), effective(pair.n)
    if old == new or not pair.o.has("contains") or not pair.n.has("contains"):
        return
    at: At = {"old": pair.o.kw("minContains"), "new": pair.n.kw("minContains")}
    if _number(old) and _number(new):
        _emit_bound(pair, "minContains", old, new, new > old, at)


def _unique_items(pair: Pair) -> None:
    old, new = pair.o.get("uniqueItems") is True, pair.n.get("uniqueItems") is True
    if old != new:
        at: At = {"old": pair.o.kw("uniqueItems"), "new": pair.n.kw("uniqueItems")}
        _emit_bound(pair, "uniqueItems", old, new, new, at)


def _lower_or_upper(node: Node, lower: bool) -> tuple[float, bool, str] | None:
    """The effective (bound, exclusive, keyword) on one side: draft-4 boolean
    ``exclusiveMinimum`` modifies ``minimum``; draft-6+ numeric ones are bounds themselves."""
    plain, exclusive = ("minimum", "exclusiveMinimum") if lower else ("maximum", "exclusiveMaximum")
    candidates: list[tuple[float, bool, str]] = []
    value, flag = node.get(plain), node.get(exclusive)
    if _number(value):
        candidates.append((value, flag is True, plain))
    if _number(flag):
        candidates.append((flag, True, exclusive))
    if not candidates:
        return None

    def strictness(bound: tuple[float, bool, str]) -> tuple[float, bool]:
        return (bound[0], bound[1]) if lower else (-bound[0], bound[1])

    return max(candidates, key=strictness)


def _range(pair: Pair, *, lower: bool) -> None:
    old, new = _lower_or_upper(pair.o, lower), _lower_or_upper(pair.n, lower)
    if old is not None and new is not None and old[:2] == new[:2]:
        return
    at: At = {"old": pair.o.kw(old[2]) if old else None, "new": pair.n.kw(new[2]) if new else None}
    if old is None:
        if new is not None:
            pair.emit(
                "schema.constraint.added",
                **at,
                lseg=f"|{new[2]}",
                args={"keyword": new[2], "new": new[0]},
            )
        return
    keyword = (new or old)[2]
    if new is None:
        pair.emit(
            "schema.constraint.removed",
            **at,
            lseg=f"|{keyword}",
            args={"keyword": keyword, "old": old[0]},
        )
    else:
        if lower:
            stricter = new[0] > old[0] or (new[0] == old[0] and new[1] and not old[1])
        else:
            stricter = new[0] < old[0] or (new[0] == old[0] and new[1] and not old[1])
        note = ""
        if old[1] != new[1]:
            note = " (now exclusive)" if new[1] else " (now inclusive)"
        _emit_bound(pair, keyword, old[0], new[0], stricter, at, note)


def _multiple_of(pair: Pair) -> None:
    old, new = pair.o.get("multipleOf"), pair.n.get("multipleOf")
    if old == new:
        return
    at: At = {"old": pair.o.kw("multipleOf"), "new": pair.n.kw("multipleOf")}
    args = {"keyword": "multipleOf", "old": old, "new": new}
    if old is None:
        pair.emit("schema.constraint.added", **at, lseg="|multipleOf", args=args)
    elif new is None:
        pair.emit("schema.constraint.removed", **at, lseg="|multipleOf", args=args)
    elif _number(old) and _number(new) and old and new:
        if _divides(new, old):
            _emit_bound(pair, "multipleOf", old, new, False, at)
        elif _divides(old, new):
            _emit_bound(pair, "multipleOf", old, new, True, at)
        else:
            pair.emit("schema.constraint.changed", **at, lseg="|multipleOf", args=args)


def _divides(small: float, large: float) -> bool:
    ratio = large / small
    return abs(ratio - round(ratio)) < 1e-9


_MATCH_ANYTHING = frozenset({"", ".*", "^.*$", "^.*", ".*$", "(.*)", "^(.*)$", "[\\s\\S]*"})


def _text(node: Node, keyword: str) -> str | None:
    """A keyword whose value must be a string; anything else constrains nothing."""
    value = node.get(keyword)
    return value if isinstance(value, str) else None


def _replaceable(pair: Pair, keyword: str) -> None:
    old, new = _text(pair.o, keyword), _text(pair.n, keyword)
    if keyword == "pattern":
        old = None if old in _MATCH_ANYTHING else old
        new = None if new in _MATCH_ANYTHING else new
    if old == new:
        return
    at: At = {"old": pair.o.kw(keyword), "new": pair.n.kw(keyword)}
    args = {"keyword": keyword, "old": old, "new": new}
    # An API's patterns are often documentation more than a promise readers check: relaxing
    # or replacing one is dangerous rather than breaking. JSON Schema subjects stay strict.
    undecided = keyword == "pattern" and pair.options.api
    if old is None:
        pair.emit("schema.constraint.added", **at, lseg=f"|{keyword}", args=args)
    elif new is None:
        pair.emit(
            "schema.constraint.removed", **at, lseg=f"|{keyword}", args=args, dangerous=undecided
        )
    else:
        pair.emit(
            "schema.constraint.changed", **at, lseg=f"|{keyword}", args=args, dangerous=undecided
        )


def _format(pair: Pair) -> None:
    old, new = _text(pair.o, "format"), _text(pair.n, "format")
    if old == new:
        return
    at: At = {"old": pair.o.kw("format"), "new": pair.n.kw("format")}
    args = {"keyword": "format", "old": old, "new": new}
    if old is None:
        pair.emit("schema.constraint.added", **at, lseg="|format", args=args)
    elif new is None:
        pair.emit("schema.constraint.removed", **at, lseg="|format", args=args)
    elif old in _FORMAT_WIDER.get(new, ()):
        pair.emit("schema.constraint.relaxed", **at, lseg="|format", args=args)
    elif new in _FORMAT_WIDER.get(old, ()):
        pair.emit("schema.constraint.tightened", **at, lseg="|format", args=args)
    else:
        pair.emit("schema.constraint.changed", **at, lseg="|format", args=args)
