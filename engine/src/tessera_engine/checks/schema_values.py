"""Allowed values: ``enum`` (and ``x-extensible-enum``), ``const`` and ``default``."""

from __future__ import annotations

from typing import Any

from ..diff.core import At, Pair
from ..model import Effect
from .schema_composition import layout
from .shape import json_key


def check(pair: Pair) -> None:
    if layout(pair) != "keywords":
        return
    if not isinstance(pair.o.value, dict) or not isinstance(pair.n.value, dict):
        return
    _enum(pair)
    _const(pair)
    _default(pair)


def _values(pair: Pair, side: str) -> tuple[list[Any] | None, bool, str]:
    """(values, extensible, keyword) for one side; None when the values are not restricted."""
    node = pair.o if side == "old" else pair.n
    enum = node.get("enum")
    if isinstance(enum, list):
        return enum, False, "enum"
    extensible = node.get("x-extensible-enum")
    if isinstance(extensible, list):
        return extensible, True, "x-extensible-enum"
    return None, False, "enum"


def _enum(pair: Pair) -> None:
    old, _, o_kw = _values(pair, "old")
    new, extensible, n_kw = _values(pair, "new")
    if old is None and new is None:
        return
    o_node, n_node = pair.o.kw(o_kw), pair.n.kw(n_kw)
    if old is None:
        pair.emit("schema.enum.added", new=n_node, args={"values": new})
        return
    if new is None:
        pair.emit("schema.enum.removed", old=o_node, args={"values": old})
        return
    old_keys = {json_key(v): v for v in old}
    new_keys = {json_key(v): v for v in new}
    for key, value in old_keys.items():
        if key not in new_keys:
            pair.emit(
                "schema.enum.value-removed",
                old=o_node,
                new=n_node,
                lseg=f"|enum:{key}",
                args={"value": value},
            )
    for key, value in new_keys.items():
        if key not in old_keys:
            pair.emit(
                "schema.enum.value-added",
                old=o_node,
                new=n_node,
                lseg=f"|enum:{key}",
                args={"value": value},
                effect=Effect.EXTENSION if extensible else None,
            )


def _const(pair: Pair) -> None:
    o_has, n_has = pair.o.has("const"), pair.n.has("const")
    if not o_has and not n_has:
        return
    old, new = pair.o.get("const"), pair.n.get("const")
    if o_has and n_has:
        if json_key(old) != json_key(new):
            pair.emit(
                "schema.const.changed",
                old=pair.o.kw("const"),
                new=pair.n.kw("const"),
                args={"old": old, "new": new},
            )
    elif n_has:
        pair.emit("schema.const.added", new=pair.n.kw("const"), args={"value": new})
    else:
        pair.emit("schema.const.removed", old=pair.o.kw("const"), args={"value": old})


def _default(pair: Pair) -> None:
    o_has, n_has = pair.o.has("default"), pair.n.has("default")
    if not o_has and not n_has:
        return
    old, new = pair.o.get("default"), pair.n.get("default")
    at: At = {"old": pair.o.kw("default"), "new": pair.n.kw("default")}
    # In an API the server fills the default in for clients that omit the value; in a plain
    # JSON Schema a default is an annotation.
    effect = None if pair.options.api else Effect.ANNOTATION
    if o_has and n_has:
        if json_key(old) != json_key(new):
            pair.emit("schema.default.changed", **at, args={"old": old, "new": new}, effect=effect)
    elif n_has:
        pair.emit("schema.default.added", **at, args={"new": new}, effect=effect)
    else:
        pair.emit("schema.default.removed", **at, args={"old": old}, effect=effect)
