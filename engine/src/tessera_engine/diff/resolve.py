"""Schema views: a schema node with its ``$ref``s followed and its ``allOf`` flattened.

Each raw schema value is resolved once per side (memoised by identity), and the resolved value
is itself stable, so the comparison can memoise pairs of resolved schemas: a recursive type is
compared once, and a shared component once per position, never once per use.

Flattening merges ``allOf: [{$ref: Base}, {properties: ...}]`` into one schema, the way OpenAPI
authors mean it, so moving properties into a shared base is not reported as a change. Parts
that cannot be merged (two different patterns, conflicting ``additionalProperties``) leave the
``allOf`` as it is, and the comparison then matches parts structurally.
"""

from __future__ import annotations

from typing import Any

from ..documents.refs import Workspace
from ..errors import LimitError, RefError
from ..limits import max_elements
from .nodes import Node

# Keywords that are annotations: when parts of an allOf disagree on them, the first one wins.
ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "summary",
        "example",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
        "externalDocs",
        "xml",
        "discriminator",
        "$id",
        "id",
        "$schema",
        "$anchor",
        "x-nullable",
        "format",
    }
)
_LOWER_BOUNDS = frozenset({"minimum", "minLength", "minItems", "minProperties", "minContains"})
_UPPER_BOUNDS = frozenset({"maximum", "maxLength", "maxItems", "maxProperties", "maxContains"})
_NUMERIC = ("integer", "number")
MAX_FLATTEN_NESTING = 400
"""Deepest chain of ``allOf``s flattened into each other (through references), as deep as
schema comparisons may nest (``core.MAX_DEPTH``)."""


class Resolver:
    """Resolves schema nodes of one side (old or new) of a diff."""

    def __init__(self, workspace: Workspace, *, flatten: bool = True) -> None:
        self.workspace = workspace
        self.flatten = flatten
        self._cache: dict[int, Node] = {}
        self._keep: list[Any] = []  # synthesised values, kept alive so their ids stay unique
        self._flattening: set[int] = set()
        self._copied = 0  # members copied into flattened schemas so far (see _count_copies)

    def resolve(self, node: Node) -> Node:
        value = node.value
        if not isinstance(value, dict):
            return node
        cached = self._cache.get(id(value))
        if cached is not None:
            return cached
        resolved = self._follow(node)
        if self.flatten and isinstance(resolved.value, dict) and "allOf" in resolved.value:
            resolved = self._flatten(resolved)
        self._cache[id(value)] = resolved
        return resolved

    def follow_ref(self, node: Node) -> Node:
        """Follow ``$ref`` chains only (for spec objects: parameters, responses, ...)."""
        return self._follow(node)

    # -- $ref ---------------------------------------------------------------------------------

    def _follow(self, node: Node) -> Node:
        seen: set[tuple[str, str]] = set()
        ref_key: str | None = None
        current = node
        siblings: list[Node] = []
        while isinstance(current.value, dict) and isinstance(current.value.get("$ref"), str):
            key = (current.doc.path, current.ptr)
            if key in seen:
                loc = node.doc.locate(node.ptr)
                raise RefError(
                    "circular $ref: it refers to itself",
                    file=node.doc.name,
                    line=loc.line,
                    column=loc.column,
                )
            seen.add(key)
            if len(current.value) > 1:
                siblings.append(current)
            doc, ptr, value = self.workspace.resolve(
                current.doc, current.value["$ref"], f"{current.ptr}/$ref"
            )
            ref_key = ptr if doc is self.workspace.root else f"{doc.name}#{ptr}"
            current = Node(doc, ptr, value)
        if ref_key is None:
            return node
        if not siblings or not isinstance(current.value, dict):
            return Node(current.doc, current.ptr, current.value, ref=ref_key)
        return self._overlay(current, siblings, ref_key)

    def _overlay(self, target: Node, siblings: list[Node], ref_key: str) -> Node:
        """A ``$ref`` with sibling keywords: the siblings apply on top of the target (OpenAPI 3.1
        and JSON Schema 2019+ semantics; what authors of 3.0 documents mean, too)."""
        merged = dict(target.value)
        origins: dict[str, Node] = {}
        for sibling in reversed(siblings):  # the outermost sibling wins
            for key in sibling.value:
                if key != "$ref":
                    merged[key] = sibling.value[key]
                    origins[key] = sibling.at(key)
        for key in target.value:
            if key not in origins:
                origins[key] = target.at(key)
        self._keep.append(merged)
        return Node(target.doc, target.ptr, merged, origins=origins, ref=ref_key)

    # -- allOf --------------------------------------------------------------------------------

    def _flatten(self, node: Node) -> Node:
        parts_node = node.kw("allOf")
        if parts_node is None or not isinstance(parts_node.value, list):
            return node
        if id(node.value) in self._flattening:
            return node  # an allOf that includes itself: compare it structurally
        if len(self._flattening) >= MAX_FLATTEN_NESTING:
            raise self._limit(node, f"allOf nested more than {MAX_FLATTEN_NESTING} levels deep")
        self._flattening.add(id(node.value))
        try:
            parts = [self.resolve(part) for part in parts_node.items()]
        except RefError:
            self._flattening.discard(id(node.value))
            raise
        self._flattening.discard(id(node.value))
        own = {k: v for k, v in node.value.items() if k != "allOf"}
        own_node = Node(node.doc, node.ptr, own, origins=node.origins)
        candidates = [own_node]
        for part in parts:
            if part.value is True or part.value == {}:
                continue
            if not isinstance(part.value, dict) or "allOf" in part.value:
                return node
            candidates.append(part)
        merged = _merge(candidates, self)
        if merged is None:
            return node
        value, origins = merged
        self._count_copies(node, len(value) + sum(_count_members(v) for v in value.values()))
        self._keep.append(value)
        return Node(node.doc, node.ptr, value, origins=origins, ref=node.ref)

    def _count_copies(self, node: Node, count: int) -> None:
        """Flattened views copy their parts' members: a base every one of thousands of schemas
        extends is copied into each. The copies of one side are bounded by the element limit,
        far above what real documents need (GitHub's REST description copies about 600)."""
        self._copied += count
        if self._copied > max_elements():
            raise self._limit(
                node,
                f"flattening allOf copies more than {max_elements():,} members "
                "(set TESSERA_MAX_ELEMENTS to raise it)",
            )

    def _limit(self, node: Node, message: str) -> LimitError:
        loc = node.doc.locate(node.ptr)
        return LimitError(message, file=loc.file, line=loc.line, column=loc.column)

    def synthesize(self, value: Any) -> Any:
        self._keep.append(value)
        return value


def _count_members(value: Any) -> int:
    """Members of a merged keyword that flattening built anew (a merged ``properties``)."""
    return len(value) if isinstance(value, dict) else 0


def _merge(nodes: list[Node], resolver: Resolver) -> tuple[dict[str, Any], dict[str, Node]] | None:
    out: dict[str, Any] = {}
    origins: dict[str, Node] = {}
    own_nullable = "nullable" in nodes[0].value
    for node in nodes:
        for key, value in node.value.items():
            if key not in out:
                out[key] = value
                origins[key] = node.at(key)
                continue
            current = out[key]
            if current == value or key in ANNOTATIONS:
                continue
            combined = _combine(key, current, value, origins[key], node, resolver, own_nullable)
            if combined is _CONFLICT:
                return None
            out[key], origin = combined
            if origin is not None:
                origins[key] = origin
    return out, origins


_CONFLICT = object()


def _combine(
    key: str, a: Any, b: Any, a_node: Node, b_node: Node, resolver: Resolver, own_nullable: bool
) -> Any:
    if key == "type":
        types_a, types_b = _type_names(a), _type_names(b)
        if types_a is None or types_b is None:
            return _CONFLICT  # not type names: left for the checks to compare as written
        both = types_a & types_b
        if ("integer" in types_a and "number" in types_b) or (
            "number" in types_a and "integer" in types_b
        ):
            both.add("integer")
        return sorted(both), None
    if key == "required" and isinstance(a, list) and isinstance(b, list):
        return list({_value_key(name): name for name in a + b}.values()), None
    if key == "enum" and isinstance(a, list) and isinstance(b, list):
        in_b = {_value_key(v) for v in b}
        return [v for v in a if _value_key(v) in in_b], None
    if key == "nullable":
        return (a if own_nullable else bool(a and b)), None
    if key in _LOWER_BOUNDS and _numbers(a, b):
        return max(a, b), (a_node if a >= b else b_node.kw(key))
    if key in _UPPER_BOUNDS and _numbers(a, b):
        return min(a, b), (a_node if a <= b else b_node.kw(key))
    if key == "properties" and isinstance(a, dict) and isinstance(b, dict):
        return _merge_properties(a_node, b_node.at(key), resolver)
    if key == "uniqueItems":
        return bool(a or b), None
    return _CONFLICT


def _value_key(value: Any) -> str:
    """A hashable key for a JSON value (numbers by value, as JSON Schema compares them), so
    lists of values are intersected and merged in linear time."""
    from ..checks.shape import json_key  # the checks import this module

    return json_key(value)


def _type_names(value: Any) -> set[str] | None:
    """The names in a ``type`` keyword (one or a list), None when any is not a string."""
    names = value if isinstance(value, list) else [value]
    return set(names) if all(isinstance(name, str) for name in names) else None


def _numbers(a: Any, b: Any) -> bool:
    return (
        isinstance(a, int | float)
        and not isinstance(a, bool)
        and isinstance(b, int | float)
        and not isinstance(b, bool)
    )


def _merge_properties(a_node: Node, b_node: Node, resolver: Resolver) -> tuple[Any, Node]:
    merged: dict[str, Any] = {}
    origins: dict[str, Node] = {}
    for source in (a_node, b_node):
        for name, child in source.members().items():
            if name not in merged:
                merged[name] = child.value
                origins[name] = child
            elif merged[name] != child.value:
                both = resolver.synthesize({"allOf": [merged[name], child.value]})
                merged[name] = both
                origins[name] = Node(child.doc, child.ptr, both)
    resolver.synthesize(merged)
    return merged, Node(a_node.doc, a_node.ptr, merged, origins=origins)
