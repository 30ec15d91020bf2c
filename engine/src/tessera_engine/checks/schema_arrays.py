"""Arrays: items, tuples (prefixItems, or draft-4..2019 ``items`` arrays with
additionalItems), contains and unevaluatedItems. Array content models are always judged
strictly: an item position is never ignored by a reader the way an unknown property is."""

from __future__ import annotations

from typing import Any

from ..diff.core import Pair
from ..diff.nodes import Node
from ..model import Effect
from .schema_composition import layout
from .schema_objects import content_model
from .shape import accepts_anything, accepts_nothing, allows_type, type_set


def check(pair: Pair) -> None:
    if layout(pair) != "keywords":
        return
    if not isinstance(pair.o.value, dict) or not isinstance(pair.n.value, dict):
        return
    if not (allows_type(type_set(pair.o), "array") and allows_type(type_set(pair.n), "array")):
        return
    o_prefix, o_rest, o_rest_kw = _tuple(pair.o)
    n_prefix, n_rest, n_rest_kw = _tuple(pair.n)
    if o_prefix or n_prefix:
        _tuples(pair, o_prefix, n_prefix, o_rest, n_rest)
        if o_rest_kw == n_rest_kw:
            content_model(pair, o_rest_kw, lenient_allowed=False, seg="[…]")
        else:
            _rest_across(pair, o_rest, n_rest, n_rest_kw)
    else:
        _items(pair)
        # additionalItems only applies to tuples, but a schema that sets it means it
        content_model(pair, "additionalItems", lenient_allowed=False, seg="[…]")
    pair.subschema("contains", " (contains)")
    if "unevaluatedItems" not in (o_rest_kw, n_rest_kw):
        content_model(pair, "unevaluatedItems", lenient_allowed=False, seg="[…]")


def _tuple(node: Node) -> tuple[list[Node], Any, str]:
    """(positional item schemas, schema for the rest, keyword holding the rest)."""
    if isinstance(node.get("prefixItems"), list):
        prefix, keyword = node.at("prefixItems").items(), "items"
    elif isinstance(node.get("items"), list):
        prefix, keyword = node.at("items").items(), "additionalItems"
    else:
        rest = node.kw("items")  # no tuple: ``items`` governs every position
        return [], (True if rest is None else rest), "items"
    if not node.has(keyword) and node.has("unevaluatedItems"):
        keyword = "unevaluatedItems"  # with no rule for the rest, unevaluatedItems is it
    rest = node.kw(keyword)
    return prefix, (True if rest is None else rest), keyword


def _value(rest: Any) -> Any:
    return rest.value if isinstance(rest, Node) else rest


def _tuples(pair: Pair, old: list[Node], new: list[Node], o_rest: Any, n_rest: Any) -> None:
    for index in range(max(len(old), len(new))):
        seg = f"[{index}]"
        if index < len(old) and index < len(new):
            pair.child(seg, old[index], new[index])
        elif index < len(new):
            item = new[index]
            ruling = _value(o_rest)
            if (
                isinstance(o_rest, Node)
                and not accepts_anything(ruling)
                and not accepts_nothing(ruling)
            ):
                narrowed = pair.narrows(pair.child(seg, o_rest, item))
                effect = Effect.NARROW if narrowed else Effect.WIDEN
            elif accepts_nothing(ruling):
                effect = Effect.WIDEN
            elif accepts_anything(pair.differ.new.resolve(item).value):
                effect = Effect.ANNOTATION
            else:
                effect = Effect.NARROW
            pair.emit(
                "schema.tuple-item.added", new=item, seg=seg, args={"index": index}, effect=effect
            )
        else:
            item = old[index]
            ruling = _value(n_rest)
            if (
                isinstance(n_rest, Node)
                and not accepts_anything(ruling)
                and not accepts_nothing(ruling)
            ):
                narrowed = pair.narrows(pair.child(seg, item, n_rest))
                effect = Effect.NARROW if narrowed else Effect.WIDEN
            elif accepts_nothing(ruling):
                resolved = pair.differ.old.resolve(item).value
                effect = Effect.ANNOTATION if accepts_nothing(resolved) else Effect.NARROW
            else:
                effect = Effect.WIDEN
            pair.emit(
                "schema.tuple-item.removed", old=item, seg=seg, args={"index": index}, effect=effect
            )


def _rest_across(pair: Pair, o_rest: Any, n_rest: Any, keyword: str) -> None:
    """The keyword holding 'the rest' changed between drafts (additionalItems -> items)."""
    old, new = _value(o_rest), _value(n_rest)
    if isinstance(o_rest, Node) and isinstance(n_rest, Node):
        pair.child("[…]", o_rest, n_rest)
    elif accepts_anything(old) != accepts_anything(new) or accepts_nothing(old) != accepts_nothing(
        new
    ):
        opening = accepts_anything(new) or accepts_nothing(old)
        rule = "schema.content-model.opened" if opening else "schema.content-model.closed"
        pair.emit(
            rule,
            old=o_rest if isinstance(o_rest, Node) else None,
            new=n_rest if isinstance(n_rest, Node) else None,
            args={"keyword": keyword, "detail": "changed"},
            effect=Effect.WIDEN if opening else Effect.NARROW,
        )


def _items(pair: Pair) -> None:
    o_items, n_items = pair.o.kw("items"), pair.n.kw("items")
    if o_items is not None and n_items is not None:
        pair.child("[]", o_items, n_items)
        return
    present = n_items or o_items
    if present is None or accepts_anything(present.value):
        return
    rule = "schema.subschema.added" if n_items is not None else "schema.subschema.removed"
    pair.emit(rule, old=o_items, new=n_items, seg="[]", args={"keyword": "items"})
