"""Structure-aware mutators for libFuzzer (atheris' ``custom_mutator``).

Raw byte flips mostly break a document's syntax, so the engine stops at the parser. These
mutators parse the input, change its structure and write it back, so the changes reach the
comparators; three times in ten (and whenever the input does not parse) they leave the bytes to
libFuzzer's own mutations, which keep the parsers themselves covered.

- ``tree``: JSON or YAML values. Replace a node by an awkward scalar or by a subtree taken
  from either version, delete or rename a key, add a key the format cares about, wrap a node
  many levels deep, point a ``$ref`` at an ancestor (a cycle), repeat a list item hundreds of
  times.
- ``tokens``: text formats (GraphQL SDL, .proto). Replace, drop or insert tokens taken from
  either version, duplicate, drop or swap lines, repeat a span hundreds of times (deep
  nesting: ``[[[[Int]]]]``).
- ``pair``: a pair target's input (old and new, ``harness.PAIR_SEPARATOR``): mutate one side,
  mostly the new one, or start the new version again from the old one.

Every mutator is deterministic given libFuzzer's ``seed`` (so ``-seed`` reproduces a run) and
returns at most ``max_size`` bytes.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Callable
from typing import Any

import yaml_rs
from harness import byte_mutate, join_pair, split_pair

Mutator = Callable[[bytes, int, int], bytes]
SideMutator = Callable[[bytes, bytes, int, random.Random], bytes | None]
"""(the side to change, the other side, max size, rng) -> new bytes, or None to fall back
to libFuzzer's byte mutations."""

SCALARS: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    1,
    -1,
    2,
    255,
    2**31,
    2**63,
    2**64 + 1,
    10**30,
    -(10**20),
    0.5,
    -0.0,
    1e308,
    float("nan"),
    float("inf"),
    "",
    "a",
    "0",
    "null",
    "1.0.0",
    "2099-01-01",
    "#",
    "#/",
    "\x00",
    "\ud800",
    "é\u202e",
    "a" * 300,
    "../../../etc/passwd",
    "string",
    "integer",
    "object",
    "array",
)
COMMON_KEYS = (
    "type",
    "$ref",
    "properties",
    "items",
    "required",
    "enum",
    "default",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "additionalProperties",
    "nullable",
    "format",
    "name",
    "description",
    "deprecated",
    "$id",
    "$anchor",
    "$defs",
    "definitions",
    "const",
    "x-extension",
    "",
)
YAML_ONLY_KEYS: tuple[Any, ...] = (None, 1, True, 1.5)
"""Keys only YAML can write (a media type or property named ``null:`` or ``1:``)."""
MAX_COPIED_NODES = 20_000
"""Most nodes one repeat adds (past that, the input outgrows libFuzzer's size limit)."""
YAML_DEPTH = 500
"""Deeper values are written as JSON (flow style): yaml_rs' writer recurses on the C stack."""
STRUCTURED = 0.7
"""The share of mutations that change the structure (the rest flip bytes)."""
REPEATS = (2, 3, 17, 200, 1100, 3000)


def pair(side: SideMutator, *, old_share: float = 0.25) -> Mutator:
    """A pair mutator that changes one side with ``side`` (the new one mostly)."""

    def mutate(data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        old, new = split_pair(data)
        if rng.random() < 0.05:
            new = old
        change_old = rng.random() < old_share
        target, other = (old, new) if change_old else (new, old)
        budget = max_size - len(other) - 32
        changed = None
        if budget > 0 and rng.random() < STRUCTURED:
            changed = side(target, other, budget, rng)
        if changed is None:
            changed = byte_mutate(target, max(budget, len(target)))
        result = join_pair(changed, new) if change_old else join_pair(old, changed)
        return result if len(result) <= max_size else byte_mutate(data, max_size)

    return mutate


def single(side: SideMutator) -> Mutator:
    """A mutator for a one-document target."""

    def mutate(data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        changed = side(data, data, max_size, rng) if rng.random() < STRUCTURED else None
        return changed if changed is not None else byte_mutate(data, max_size)

    return mutate


# -- JSON and YAML trees ----------------------------------------------------------------------


def tree(
    keys: tuple[str, ...] = (), values: tuple[Any, ...] = (), *, yaml_keys: bool = True
) -> SideMutator:
    """A side mutator over JSON/YAML values; ``keys`` and ``values`` are the format's own
    keywords and telling values (a media type, a ``$ref`` to a file beside it).
    A side written as JSON stays JSON; YAML is written back as YAML (with non-string keys
    when ``yaml_keys``)."""
    pool = (*COMMON_KEYS, *keys)
    scalars = (*SCALARS, *values)

    def mutate(data: bytes, other: bytes, max_size: int, rng: random.Random) -> bytes | None:
        value, syntax = _parse(data)
        if syntax is None:
            return None
        donor, _ = _parse(other)
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 50_000))  # wrapped thousands of levels deep
        try:
            for _ in range(rng.choice((1, 1, 2, 3, 4))):
                value = _mutate_tree(
                    value, donor, pool, scalars, yaml_keys and syntax == "yaml", rng
                )
            out = _dump(value, syntax, rng)
        except (ValueError, TypeError, RecursionError, yaml_rs.YAMLEncodeError):
            return None
        finally:
            sys.setrecursionlimit(limit)
        return out if len(out) <= max_size else None

    return mutate


def _parse(data: bytes) -> tuple[Any, str | None]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, None
    head = text.lstrip()[:1]
    try:
        if head in ("{", "["):
            return json.loads(text), "json"
        return yaml_rs.loads(text, parse_datetime=False), "yaml"
    except Exception:
        return None, None


def _dump(value: Any, syntax: str, rng: random.Random) -> bytes:
    if syntax == "json":
        ascii_only = rng.random() < 0.5
        compact = json.dumps(value, ensure_ascii=ascii_only)
        containers = compact.count("[") + compact.count("{")
        if len(compact) > 20_000 or containers > 500 or rng.random() < 0.3:
            return compact.encode()
        # indented output goes through the pure-Python encoder, quadratic in the depth: only
        # for small documents
        return json.dumps(value, indent=rng.choice((1, 2)), ensure_ascii=ascii_only).encode()
    if _deeper_than(value, YAML_DEPTH):  # yaml_rs' writer overflows the stack: flow (JSON) style
        return json.dumps(value).encode()
    return str(yaml_rs.dumps(value, compact=rng.random() < 0.5)).encode("utf-8", "surrogatepass")


def _deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return False


Node = tuple[int, Any, Any]
"""(the index of the parent node, -1 for the root; the key in the parent; the value)."""


def _nodes(value: Any, limit: int = 4000) -> list[Node]:
    """The nodes of ``value``, breadth first, at most ``limit`` (paths are rebuilt only for
    the node chosen: a path per node would cost the square of the depth)."""
    found: list[Node] = [(-1, None, value)]
    index = 0
    while index < len(found) and len(found) < limit:
        node = found[index][2]
        if isinstance(node, dict):
            found.extend((index, key, child) for key, child in node.items())
        elif isinstance(node, list):
            found.extend((index, i, child) for i, child in enumerate(node))
        index += 1
    return found[:limit]


def _path(nodes: list[Node], index: int) -> tuple[Any, ...]:
    parts = []
    while index > 0:
        index, key, _ = nodes[index]
        parts.append(key)
    return tuple(reversed(parts))


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    _get(value, path[:-1])[path[-1]] = new
    return value


def _pointer(path: tuple[Any, ...]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _mutate_tree(
    value: Any,
    donor: Any,
    keys: tuple[Any, ...],
    scalars: tuple[Any, ...],
    yaml_keys: bool,
    rng: random.Random,
) -> Any:
    nodes = _nodes(value)
    donors = _nodes(donor) if donor is not None else nodes
    chosen = rng.randrange(len(nodes))
    path, node = _path(nodes, chosen), nodes[chosen][2]
    donor_node = rng.choice(donors)[2]
    strings = [key for _, key, _ in donors if isinstance(key, str)]
    key_pool = (*keys, *(YAML_ONLY_KEYS if yaml_keys else ()), *strings[:200])
    operation = rng.randrange(12)
    if operation == 0:
        return _set(value, path, rng.choice(scalars))
    if operation == 1:
        return _set(value, path, json.loads(json.dumps(donor_node)))
    if operation == 2 and path:
        parent = _get(value, path[:-1])
        if isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
        return value
    if operation == 3 and isinstance(node, dict):
        new_key = rng.choice(key_pool) if key_pool else "x"
        node[new_key] = rng.choice((rng.choice(scalars), json.loads(json.dumps(donor_node))))
        return value
    if operation == 4 and isinstance(node, dict) and node:
        old_key = rng.choice(list(node))
        new_key = rng.choice(key_pool) if key_pool else "x"
        node[new_key] = node.pop(old_key)
        return value
    if operation == 5:
        depth = rng.choice(REPEATS)
        wrapper = rng.choice(("list", "items", "allOf", "properties"))
        wrapped = node
        for _ in range(depth):
            if wrapper == "list":
                wrapped = [wrapped]
            elif wrapper == "properties":
                wrapped = {"type": "object", "properties": {"p": wrapped}}
            elif wrapper == "allOf":
                wrapped = {"allOf": [wrapped]}
            else:
                wrapped = {"type": "array", "items": wrapped}
        return _set(value, path, wrapped)
    if operation == 6 and path:
        ancestor = path[: rng.randrange(len(path))]
        return _set(value, path, {"$ref": "#" + _pointer(ancestor)})
    if operation == 7 and isinstance(node, list) and node:
        item = rng.choice(node)
        node.extend(json.loads(json.dumps(item)) for _ in range(_repeats(item, rng)))
        return value
    if operation == 8 and isinstance(node, dict):
        text = json.dumps(donor_node)  # copied, never shared: a later change stays in one place
        for i in range(_repeats(donor_node, rng)):
            node[f"k{i}"] = json.loads(text)
        return value
    if operation == 9 and isinstance(node, (int, float)) and not isinstance(node, bool):
        return _set(value, path, rng.choice((node + 1, node - 1, -node, node * 2**40)))
    if operation == 10 and isinstance(node, str):
        return _set(value, path, _mutate_string(node, strings, rng))
    if operation == 11 and len(nodes) > 1:
        other = rng.randrange(len(nodes))
        other_path, other_node = _path(nodes, other), nodes[other][2]
        disjoint = path[: len(other_path)] != other_path and other_path[: len(path)] != path
        if path and other_path and disjoint:
            return _set(value, path, json.loads(json.dumps(other_node)))
    return _set(value, path, rng.choice(scalars)) if rng.random() < 0.3 else value


def _repeats(node: Any, rng: random.Random) -> int:
    """How many copies of ``node`` to add: up to thousands of a small node, a few of a large
    one (the copies are written out one by one)."""
    weight = len(_nodes(node, limit=MAX_COPIED_NODES))
    return min(rng.choice(REPEATS), max(2, MAX_COPIED_NODES // weight))


def _mutate_string(text: str, strings: list[str], rng: random.Random) -> str:
    choice = rng.randrange(5)
    if choice == 0 and strings:
        return rng.choice(strings)
    if choice == 1:
        return text + rng.choice(("/", "{x}", "#/a", "~1", "%2e", " ", "\n", "é"))
    if choice == 2:
        return text[: rng.randrange(len(text) + 1)]
    if choice == 3:
        return text * rng.choice((2, 50))
    return str(rng.choice(SCALARS))


# -- text formats ------------------------------------------------------------------------------

_TOKEN = re.compile(r'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|#[^\n]*|//[^\n]*|\s+|\w+|.', re.S)


def tokens(words: tuple[str, ...] = ()) -> SideMutator:
    """A side mutator over the tokens and lines of a text format; ``words`` are the format's
    keywords and punctuation worth inserting."""

    def mutate(data: bytes, other: bytes, max_size: int, rng: random.Random) -> bytes | None:
        try:
            text = data.decode("utf-8")
            donor = other.decode("utf-8")
        except UnicodeDecodeError:
            return None
        for _ in range(rng.choice((1, 1, 2, 3))):
            text = _mutate_text(text, donor, words, rng)
        out = text.encode("utf-8", "surrogatepass")
        return out if len(out) <= max_size else None

    return mutate


def _mutate_text(text: str, donor: str, words: tuple[str, ...], rng: random.Random) -> str:
    parts = _TOKEN.findall(text) or [""]
    donor_parts = [t for t in _TOKEN.findall(donor) if not t.isspace()] or ["x"]
    pool = (*words, *donor_parts)
    i = rng.randrange(len(parts))
    operation = rng.randrange(9)
    if operation == 0:
        parts[i] = rng.choice(pool)
    elif operation == 1:
        del parts[i]
    elif operation == 2:
        parts.insert(i, rng.choice(pool) + rng.choice(("", " ")))
    elif operation == 3:
        j = min(len(parts), i + rng.randrange(1, 6))
        span = "".join(parts[i:j])
        parts[i:j] = [span * rng.choice(REPEATS)]
    elif operation == 4:
        depth = rng.choice(REPEATS)
        opening, closing = rng.choice((("[", "]"), ("{", "}"), ("(", ")"), ('"', '"')))
        parts[i] = opening * depth + parts[i] + closing * depth
    else:
        lines = "".join(parts).split("\n")
        donor_lines = donor.split("\n")
        k = rng.randrange(len(lines))
        if operation == 5:
            lines.insert(k, rng.choice(donor_lines))
        elif operation == 6 and len(lines) > 1:
            del lines[k]
        elif operation == 7:
            m = rng.randrange(len(lines))
            lines[k], lines[m] = lines[m], lines[k]
        else:
            lines[k:k] = lines[k : k + rng.randrange(1, 8)] * rng.choice((1, 2, 50))
        return "\n".join(lines)
    return "".join(parts)
