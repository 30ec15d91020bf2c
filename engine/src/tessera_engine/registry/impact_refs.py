"""OpenAPI and Swagger: a declared property path followed through ``$ref``s.

A finding names a property by the component that *defines* it (``Address.city``), while a
consumer may declare the path it reads (``Order.address.city``: component ``Order``, property
``address`` whose schema is a ``$ref`` to ``Address``). Each step of the declared path is looked
up in the documents of the new and old versions (their ``Workspace``s, as the diff loaded them,
sibling files included); every time a step's schema is a ``$ref`` into another named component,
the rest of the path is also known under that component (``Address.city``), and is matched
as any declared entry is (exact, inside, parent), with the relation ``reaches`` and the chain
(``Order.address -> Address.city``). Properties are found through ``allOf``/``oneOf``/``anyOf``
and array ``items``, as finding pointers skip them.

A whole component (``messages: [Order]``) or a property holding a ``$ref`` (``Order.customer``)
also reaches, through ``component_graph`` and ``impact_reach``'s walk, every component its
schema refers to, transitively (``Order.customer -> Customer.address -> Address.city``).
JSON pointer entries are taken as written. Only the named components of the root document
are nodes of that graph (a component of a sibling file is reached, not walked further).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..documents.loader import Document
from ..documents.pointer import escape
from ..documents.refs import Workspace, iter_refs
from ..errors import TesseraError
from ..formats.native import ElementGraph
from .impact_index import REACHES, FindingIndex
from .impact_keys import Key, pointer_segments
from .impact_reach import ReachHit

_ROOTS = (("components", "schemas"), ("definitions",))
_COMBINATORS = ("allOf", "oneOf", "anyOf")
_MAX_REFS = 32  # a $ref chain longer than this is a cycle
Place = tuple[Document, str, Any]  # a schema: its document, pointer and value


class RefReach:
    def __init__(self, versions: list[Workspace], index: FindingIndex) -> None:
        self.workspaces = versions
        self.index = index
        self._memo: dict[tuple[str, str], list[ReachHit]] = {}

    def hits(self, kind: str, entry: str) -> list[ReachHit]:
        if kind != "fields" or entry.startswith("/"):
            return []
        memo = (kind, entry)
        found = self._memo.get(memo)
        if found is None:
            found = self._memo[memo] = self._hits(entry)
        return found

    def _hits(self, entry: str) -> list[ReachHit]:
        names = tuple(part for part in re.split(r"[./]", entry.strip()) if part)
        if len(names) < 2:
            return []
        aliases: dict[Key, str] = {}
        for ws in self.workspaces:
            try:
                for label, key in _aliases(ws, names):
                    aliases.setdefault(key, label)
            except (TesseraError, OSError, KeyError, TypeError):
                continue  # a broken $ref in an old version: nothing to follow there
        found: dict[int, ReachHit] = {}
        for key, label in aliases.items():
            for hit in self.index.lookup(key):
                if hit.finding not in found:
                    via = (label, ".".join(hit.element[1:]))
                    found[hit.finding] = ReachHit(hit.finding, REACHES, via)
        return list(found.values())


def _aliases(ws: Workspace, names: tuple[str, ...]) -> Iterator[tuple[str, Key]]:
    """(``Order.address``, ``("schema", "Address", "city")``) for each ``$ref`` into a named
    component met along ``names`` (``Order``, ``address``, ``city``)."""
    data = ws.root.data
    root = next((r for r in _ROOTS if isinstance(_get(data, r), dict)), None)
    if root is None:
        return
    start = _get(data, (*root, names[0]))
    if start is None:
        return
    pointer = "/" + "/".join(escape(p) for p in (*root, names[0]))
    places = [_deref(ws, (ws.root, pointer, start))[0]]
    for i, name in enumerate(names[1:], start=2):
        following: list[Place] = []
        for place in places:
            for step, owner in _property(ws, place, name):
                if owner is not None and owner != names[0]:  # defined in another component
                    yield ".".join(names[: i - 1]), ("schema", owner, *names[i - 1 :])
                target, components = _deref(ws, step)
                for component in components:
                    yield ".".join(names[:i]), ("schema", component, *names[i:])
                following.append(target)
        places = following
        if not places:
            return


def _property(ws: Workspace, place: Place, name: str) -> Iterator[tuple[Place, str | None]]:
    """The schemas of property ``name`` of the schema at ``place`` (through combinators and
    array items, ``$ref``s included), each with the named component that defines it when the
    search entered one."""
    stack: list[tuple[Place, str | None]] = [(place, None)]
    seen: set[tuple[str, str]] = set()
    while stack:
        (doc, pointer, schema), owner = stack.pop()
        if (doc.path, pointer) in seen or not isinstance(schema, dict):
            continue
        seen.add((doc.path, pointer))
        properties = schema.get("properties")
        if isinstance(properties, dict) and name in properties:
            yield (doc, f"{pointer}/properties/{escape(name)}", properties[name]), owner
        inner: list[tuple[str, Any]] = []
        for keyword in _COMBINATORS:
            members = schema.get(keyword)
            if isinstance(members, list):
                inner += [(f"{pointer}/{keyword}/{n}", member) for n, member in enumerate(members)]
        if isinstance(schema.get("items"), dict):
            inner.append((f"{pointer}/items", schema["items"]))
        for at, member in inner:
            target, components = _deref(ws, (doc, at, member))
            stack.append((target, components[-1] if components else owner))


def component_graph(ws: Workspace) -> ElementGraph:
    """The named components as an element graph: a component refers to its properties
    (``Order.customer``) and to the components its combinators and items ``$ref``
    (``Order`` -> ``Base``); a property to every component its schema ``$ref``s."""
    data = ws.root.data
    root = next((r for r in _ROOTS if isinstance(_get(data, r), dict)), None)
    edges: dict[str, tuple[str, ...]] = {}
    if root is None:
        return ElementGraph(edges)
    for name, schema in _get(data, root).items():
        pointer = "/" + "/".join(escape(p) for p in (*root, name))
        refs: list[str] = []
        stack: list[tuple[str, Any]] = [(pointer, schema)]
        while stack:
            at, current = stack.pop()
            if not isinstance(current, dict):
                continue
            if isinstance(current.get("$ref"), str):
                refs += _components(ws, (ws.root, at, current))
                continue
            properties = current.get("properties")
            if isinstance(properties, dict):
                for prop, value in properties.items():
                    held = _components_within(ws, f"{at}/properties/{escape(prop)}", value)
                    if held:
                        edges[f"{name}.{prop}"] = held
                        refs.append(f"{name}.{prop}")
            for keyword in _COMBINATORS:
                members = current.get(keyword)
                if isinstance(members, list):
                    stack += [(f"{at}/{keyword}/{n}", m) for n, m in enumerate(members)]
            if isinstance(current.get("items"), dict):
                stack.append((f"{at}/items", current["items"]))
        if refs:
            edges[name] = tuple(dict.fromkeys(refs))
    return ElementGraph(edges)


def _components_within(ws: Workspace, pointer: str, value: Any) -> tuple[str, ...]:
    """The named components the ``$ref``s anywhere inside ``value`` lead to."""
    found: list[str] = []
    for ref in iter_refs(value):
        try:
            found += _components(ws, (ws.root, pointer, {"$ref": ref}))
        except (TesseraError, OSError, KeyError, TypeError):
            continue
    return tuple(dict.fromkeys(found))


def _components(ws: Workspace, place: Place) -> list[str]:
    try:
        return _deref(ws, place)[1][:1]
    except (TesseraError, OSError, KeyError, TypeError):
        return []


def _deref(ws: Workspace, place: Place) -> tuple[Place, list[str]]:
    """The schema a ``$ref`` chain at ``place`` ends at, and the named components it enters."""
    components: list[str] = []
    doc, pointer, schema = place
    for _ in range(_MAX_REFS):
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        if not isinstance(ref, str):
            break
        doc, pointer, schema = ws.resolve(doc, ref, pointer)
        segments = pointer_segments(pointer)
        for root in _ROOTS:
            if len(segments) == len(root) + 1 and segments[: len(root)] == root:
                components.append(segments[-1])
    return (doc, pointer, schema), components


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        if not isinstance(data, dict):
            return None
        data = data.get(step)
    return data
