"""oneOf / anyOf / allOf / not / if-then-else / discriminator.

Alternatives are matched by reference, by equality, then by resemblance (same types, title,
shared property names), so reordering branches is not a change and a modified branch is
compared with its old self. A plain schema against a pure combination is treated as a
combination of one: ``string`` becoming ``oneOf: [string, number]`` adds one alternative.
A ``{type: 'null'}`` alternative is read as nullability, so ``oneOf: [null, Pet]`` and a
nullable ``Pet`` are the same thing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from ..diff.core import At, Pair
from ..diff.nodes import Node
from ..model import Effect
from .shape import (
    COMBINATORS,
    SUMS,
    accepts_anything,
    branch_label,
    combinators,
    is_null_schema,
    is_pure,
    json_key,
    type_set,
)

# How much a value set grows when the combining keyword changes (for the same alternatives).
_LOOSENESS = {"allOf": 0, "oneOf": 1, "anyOf": 2}

RESEMBLANCE_PER_BRANCH = 64
"""Resemblance scores one combination may compute per alternative left to pair: every old
one against every new one up to about 128 of each; beyond, they pair up in order."""
COVER_TRIES_PER_BRANCH = 4
"""Comparisons spent, per alternative, looking for an ``anyOf`` alternative that covers an
added or removed one."""


def layout(pair: Pair) -> str:
    """``keywords`` when the pair is compared keyword by keyword (the other checks run), or
    ``combined`` when this module compares it as alternatives."""
    cached = pair.memo.get("layout")
    if cached is None:
        ov, nv = pair.o.value, pair.n.value
        if not isinstance(ov, dict) or not isinstance(nv, dict):
            cached = "keywords"
        else:
            o_pure, n_pure = is_pure(ov), is_pure(nv)
            if o_pure and n_pure:
                cached = "combined"
            elif o_pure or n_pure:
                plain = nv if o_pure else ov
                cached = "combined" if not combinators(plain) else "keywords"
            else:
                cached = "keywords"
        pair.memo["layout"] = cached
    return str(cached)


def check(pair: Pair) -> None:
    if not isinstance(pair.o.value, dict) or not isinstance(pair.n.value, dict):
        return
    if layout(pair) == "combined":
        _combined(pair)
    else:
        for keyword in COMBINATORS:
            _keyword_lists(pair, keyword)
    pair.subschema("not", " (not)", flip=True)
    _conditional(pair)
    _discriminator(pair)


# -- whole schemas as combinations --------------------------------------------------------------


def _alternatives(pair: Pair, node: Node, side: str) -> tuple[str, list[Node], bool]:
    """(keyword, alternatives without null, whether null is an alternative)."""
    value = node.value
    combos = combinators(value) if is_pure(value) else ()
    if not combos:
        return "", *_without_null(pair, node, side)
    keyword = combos[0]
    branches = node.at(keyword).items()
    nullable = value.get("nullable") is True
    if keyword in SUMS:
        kept = [b for b in branches if not is_null_schema(b.value)]
        nullable = nullable or len(kept) < len(branches)
        branches = kept
    return keyword, branches, nullable


def _combined(pair: Pair) -> None:
    o_kw, o_alts, o_null = _alternatives(pair, pair.o, "old")
    n_kw, n_alts, n_null = _alternatives(pair, pair.n, "new")
    if o_null != n_null:
        rule = "schema.nullable.added" if n_null else "schema.nullable.removed"
        pair.emit(rule, old=pair.o, new=pair.n)
    if len(o_alts) == 1 and len(n_alts) == 1:
        # one alternative on each side (possibly after taking null out): compare them directly
        if o_alts[0] is not pair.o or n_alts[0] is not pair.n:
            pair.child("", o_alts[0], n_alts[0], lseg="")
        return
    keyword = n_kw or o_kw
    if o_kw and n_kw and o_kw != n_kw and len(o_alts) > 1 and len(n_alts) > 1:
        looser = _LOOSENESS[n_kw] - _LOOSENESS[o_kw]
        effect = Effect.WIDEN if looser > 0 else Effect.NARROW
        pair.emit(
            "schema.composition.keyword-changed",
            old=pair.o,
            new=pair.n,
            args={"old": o_kw, "new": n_kw},
            effect=effect,
        )
    _match_and_compare(pair, keyword, o_alts, n_alts, product=keyword == "allOf")


def _without_null(pair: Pair, node: Node, side: str) -> tuple[list[Node], bool]:
    """A plain schema as (alternatives, nullable): ``{type: [string, null]}`` is the
    alternative ``{type: [string]}`` plus null; ``{type: null}`` is null alone."""
    types = type_set(node)
    if types is None or "null" not in types:
        return [node], False
    if types == {"null"}:
        return [], True
    resolver = pair.differ.old if side == "old" else pair.differ.new
    cache = pair.differ.memo_nonnull
    key = id(node.value)
    stripped = cache.get(key)
    if stripped is None:
        value = {k: v for k, v in node.value.items() if k not in ("nullable", "x-nullable")}
        value["type"] = sorted(types - {"null"})
        stripped = Node(
            node.doc, node.ptr, resolver.synthesize(value), origins=node.origins, ref=node.ref
        )
        cache[key] = stripped
    return [stripped], True


def _keyword_lists(pair: Pair, keyword: str) -> None:
    """Both schemas have their own keywords: compare one combining keyword's lists."""
    o_list, n_list = pair.o.kw(keyword), pair.n.kw(keyword)
    if o_list is None or n_list is None:
        present = n_list or o_list
        if present is None or not isinstance(present.value, list):
            return
        rule = "schema.subschema.added" if n_list is not None else "schema.subschema.removed"
        pair.emit(rule, old=o_list, new=n_list, args={"keyword": keyword})
        return
    if not isinstance(o_list.value, list) or not isinstance(n_list.value, list):
        return
    _match_and_compare(pair, keyword, o_list.items(), n_list.items(), product=keyword == "allOf")


_WIDER = {Effect.WIDEN, Effect.REPLACE, Effect.IDENTITY}
_NARROWER = {Effect.NARROW, Effect.REPLACE, Effect.IDENTITY}


class _Tries:
    """A countdown of comparisons one ``anyOf`` may spend looking for covering alternatives:
    a few per alternative, so the work grows with the number of alternatives, not with its
    square."""

    def __init__(self, old: list[Node], new: list[Node]) -> None:
        self.left = COVER_TRIES_PER_BRANCH * (len(old) + len(new)) + 64

    def spend(self) -> bool:
        self.left -= 1
        return self.left >= 0


def _within(
    pair: Pair, inner: Node, outers: list[Node], tries: _Tries, *, inner_is_new: bool
) -> str | None:
    """The label of an alternative in ``outers`` that accepts every value ``inner`` accepts.
    Used for ``anyOf`` only: in a ``oneOf`` overlapping alternatives reject shared values.
    Each try compares two schemas; once ``tries`` are spent, no alternative covers it."""
    for index, outer in enumerate(outers):
        if not tries.spend():
            return None
        if inner_is_new:
            effects, blocking = pair.differ.probe(outer, inner, pair.position), _WIDER
        else:
            effects, blocking = pair.differ.probe(inner, outer, pair.position), _NARROWER
        if not effects & blocking:
            return branch_label(outer, "anyOf", index)
    return None


def _match_and_compare(
    pair: Pair, keyword: str, old: list[Node], new: list[Node], *, product: bool
) -> None:
    pairs, removed, added = match(pair, old, new)
    tries = _Tries(old, new)
    for o_node, n_node, n_index in pairs:
        label = branch_label(n_node, keyword, n_index)
        pair.child(f" ({label})", o_node, n_node, lseg=f"|{keyword}:{label}")
    for index, node in removed:
        label = branch_label(node, keyword, index)
        rule = "schema.composition.part-removed" if product else "schema.composition.branch-removed"
        effect, note = None, ""
        if keyword == "anyOf":
            cover = _within(pair, node, new, tries, inner_is_new=False)
            if cover is not None:
                effect, note = Effect.ANNOTATION, f" (its values are accepted by {cover})"
        pair.emit(
            rule,
            old=node,
            seg=f" ({label})",
            lseg=f"|{keyword}:{label}",
            args={"keyword": keyword, "branch": label, "note": note},
            effect=effect,
        )
    for index, node in added:
        label = branch_label(node, keyword, index)
        rule = "schema.composition.part-added" if product else "schema.composition.branch-added"
        effect, note = None, ""
        if product and accepts_anything(pair.differ.new.resolve(node).value):
            effect = Effect.ANNOTATION
        elif keyword == "anyOf":
            cover = _within(pair, node, old, tries, inner_is_new=True)
            if cover is not None:
                effect, note = Effect.ANNOTATION, f" (its values were accepted by {cover})"
        pair.emit(
            rule,
            new=node,
            seg=f" ({label})",
            lseg=f"|{keyword}:{label}",
            args={"keyword": keyword, "branch": label, "note": note},
            effect=effect,
        )


def match(
    pair: Pair, old: list[Node], new: list[Node]
) -> tuple[list[tuple[Node, Node, int]], list[tuple[int, Node]], list[tuple[int, Node]]]:
    """Pair up alternatives. Returns (old, new, new index) pairs, removed and added ones.

    References and equal values are looked up by key (linear). Resemblance scores every
    remaining old alternative against every remaining new one, best first, while that is at
    most ``RESEMBLANCE_PER_BRANCH`` scores per alternative; past that, what is left pairs up
    in order, where the two resemble each other at all."""
    left = dict(enumerate(old))
    right = dict(enumerate(new))
    pairs: list[tuple[Node, Node, int]] = []

    def take(i: int, j: int) -> None:
        pairs.append((left.pop(i), right.pop(j), j))

    # 1. the same reference, 2. the same value (references included)
    by_ref = _index(right, _ref_of)
    for i in list(left):
        ref = _ref_of(left[i])
        j = _first_free(by_ref.get(ref, deque()), right) if ref is not None else None
        if j is not None:
            take(i, j)
    by_value = _index(right, _value_of)
    for i in list(left):
        # equal values in one list reference the same definitions: the first free one decides
        j = _first_free(by_value.get(_value_of(left[i]), deque()), right)
        if j is not None and pair.differ.same(left[i], right[j]):
            take(i, j)
    # 3. resemblance, best first
    if len(left) * len(right) > RESEMBLANCE_PER_BRANCH * (len(left) + len(right)):
        for i, j in zip(list(left), list(right), strict=False):
            if _resemblance(pair, left[i], right[j]) > 0:
                take(i, j)
        return pairs, sorted(left.items()), sorted(right.items())
    scored = sorted(
        ((_resemblance(pair, left[i], right[j]), i, j) for i in left for j in right),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    for score, i, j in scored:
        if score <= 0:
            break
        if i in left and j in right:
            take(i, j)
    return pairs, sorted(left.items()), sorted(right.items())


def _ref_of(node: Node) -> str | None:
    ref = node.value.get("$ref") if isinstance(node.value, dict) else None
    return ref if isinstance(ref, str) else None


def _value_of(node: Node) -> str:
    return json_key(node.value)


def _index(nodes: dict[int, Node], key: Callable[[Node], Any]) -> dict[Any, deque[int]]:
    """Positions of ``nodes`` by ``key`` (None keys left out), in order."""
    found: dict[Any, deque[int]] = {}
    for position, node in nodes.items():
        value = key(node)
        if value is not None:
            found.setdefault(value, deque()).append(position)
    return found


def _first_free(positions: deque[int], free: dict[int, Node]) -> int | None:
    """The first of ``positions`` still in ``free``, dropping the taken ones on the way."""
    while positions and positions[0] not in free:
        positions.popleft()
    return positions[0] if positions else None


def _resemblance(pair: Pair, old: Node, new: Node) -> float:
    o = pair.differ.old.resolve(old)
    n = pair.differ.new.resolve(new)
    if not isinstance(o.value, dict) or not isinstance(n.value, dict):
        return 1.0 if o.value == n.value else 0.0
    score = 0.0
    o_types, n_types = type_set(o), type_set(n)
    if o_types is not None and n_types is not None:
        if o_types == n_types:
            score += 3
        elif o_types & n_types - {"null"}:
            score += 1
        else:
            return 0.0
    title = o.value.get("title")
    if title is not None and title == n.value.get("title"):
        score += 2
    o_props, n_props = o.value.get("properties"), n.value.get("properties")
    if isinstance(o_props, dict) and isinstance(n_props, dict) and (o_props or n_props):
        shared = len(o_props.keys() & n_props.keys())
        score += 4 * shared / max(len(o_props.keys() | n_props.keys()), 1)
    if o.value.get("enum") is not None and o.value.get("enum") == n.value.get("enum"):
        score += 1
    if o_types is None and n_types is None and score == 0:
        score = 0.5  # two untyped schemas: comparable, better than reporting remove + add
    return score


# -- not, if/then/else, discriminator ----------------------------------------------------------


def _conditional(pair: Pair) -> None:
    o_if, n_if = pair.o.kw("if"), pair.n.kw("if")
    if o_if is None and n_if is None:
        return
    if o_if is None or n_if is None or not pair.differ.same(o_if, n_if):
        detail = "added" if o_if is None else "removed" if n_if is None else "changed"
        pair.emit(
            "schema.conditional.changed",
            old=o_if,
            new=n_if,
            args={"keyword": "if", "detail": detail},
        )
        if o_if is None or n_if is None:
            return
    for keyword in ("then", "else"):
        o_branch, n_branch = pair.o.kw(keyword), pair.n.kw(keyword)
        if o_branch is not None and n_branch is not None:
            pair.child(f" ({keyword})", o_branch, n_branch, lseg=f"|{keyword}")
        elif o_branch is not None or n_branch is not None:
            rule = "schema.subschema.added" if n_branch is not None else "schema.subschema.removed"
            pair.emit(rule, old=o_branch, new=n_branch, args={"keyword": keyword})


def _discriminator(pair: Pair) -> None:
    old, new = pair.o.get("discriminator"), pair.n.get("discriminator")
    if old == new:
        return
    if not isinstance(old, dict) or not isinstance(new, dict):
        detail = "added" if old is None else "removed" if new is None else "changed"
        pair.emit(
            "schema.discriminator.changed",
            old=pair.o.kw("discriminator"),
            new=pair.n.kw("discriminator"),
            args={"detail": detail},
        )
        return
    at: At = {"old": pair.o.kw("discriminator"), "new": pair.n.kw("discriminator")}
    if old.get("propertyName") != new.get("propertyName"):
        pair.emit(
            "schema.discriminator.changed",
            **at,
            lseg="|discriminator.propertyName",
            args={
                "detail": f"property changed from '{old.get('propertyName')}' "
                f"to '{new.get('propertyName')}'"
            },
        )
    o_map, n_map = old.get("mapping") or {}, new.get("mapping") or {}
    if isinstance(o_map, dict) and isinstance(n_map, dict):
        for value in sorted(o_map.keys() | n_map.keys()):
            if o_map.get(value) == n_map.get(value):
                continue
            if value not in n_map:
                detail = f"mapping for '{value}' removed"
            elif value not in o_map:
                detail = f"mapping for '{value}' added"
            else:
                detail = f"mapping for '{value}' changed from {o_map[value]} to {n_map[value]}"
            pair.emit(
                "schema.discriminator.changed",
                **at,
                lseg=f"|discriminator:{value}",
                args={"detail": detail},
            )
