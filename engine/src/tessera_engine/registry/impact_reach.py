"""Impact through references: a usage meets the changes inside the elements it reaches.

A declared ``Query.order`` reaches the type ``Order`` it returns, and through ``Order.customer``
the type ``Customer``; an RPC its request and response messages and everything in them; an
Avro field the named types it holds; a dbt model the models it is built from (lineage). The
findings do not list any of this (their ``operations`` stay what the comparator reported, and
no fingerprint changes): it is computed here, from the native format's ``ElementGraph`` of each
version the diff loaded (the new one and the olds it was compared with: an element reachable
in either version counts), and for OpenAPI and Swagger from the ``$ref``s of the documents
(``impact_refs``).

The walk is over names and costs nothing per consumer: for each version, the elements that
hold a change (``targets``) and those that lead to one (``relevant``, one reverse walk) are
found once; each distinct declared entry is then walked once, breadth first (so the chain
shown is a shortest one) and only through relevant elements, and its hits are memoised for
every consumer that declares it. Lineage graphs (dbt) stop after the registry's
``transitive_depth`` hops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..formats.native import NATIVE_NAMES, ElementGraph, ReferencingFormat, native_format
from ..model import Severity
from ..modes import Mode
from .impact_index import DOWNSTREAM, REACHES, FindingIndex
from .impact_keys import Key, node_key, root_keys


@dataclass(frozen=True, slots=True)
class ReachHit:
    finding: int  # index into the indexed findings
    relation: str  # reaches | downstream
    via: tuple[str, ...]  # the chain, from the used element to the changed one


class Reacher(Protocol):
    def hits(self, kind: str, entry: str) -> list[ReachHit]:
        """The findings one declared entry reaches, each once, nearest first."""


def reacher(
    format_name: str,
    mode: str,
    loaded: tuple[Sequence[Any], Any] | None,
    index: FindingIndex,
    depth: int,
) -> Reacher | None:
    """What the versions a diff loaded let a usage reach, or ``None`` when nothing can."""
    if loaded is None or not index.findings:
        return None
    olds, new = loaded
    compared = list(olds) if Mode.parse(mode).transitive else list(olds)[-1:]
    if format_name in ("openapi", "swagger"):
        from ..documents.refs import Workspace
        from .impact_refs import RefReach, component_graph

        versions = [v for v in (new, *compared) if isinstance(v, Workspace)]
        graphs = [component_graph(ws) for ws in versions]
        return Reachers([RefReach(versions, index), GraphReach(format_name, graphs, index, depth)])
    if format_name not in NATIVE_NAMES:
        return None
    native = native_format(format_name)
    if not isinstance(native, ReferencingFormat):
        return None
    graphs = [native.references(version) for version in (new, *compared)]
    return GraphReach(format_name, graphs, index, depth)


class Reachers:
    """Several ways to reach, the first one's hits first."""

    def __init__(self, reachers: list[Reacher]) -> None:
        self.reachers = reachers

    def hits(self, kind: str, entry: str) -> list[ReachHit]:
        found: dict[int, ReachHit] = {}
        for reach in self.reachers:
            for hit in reach.hits(kind, entry):
                found.setdefault(hit.finding, hit)
        return list(found.values())


class GraphReach:
    """Reachability over the element graphs of several versions (the first one's chains are
    preferred), toward the findings of ``index``."""

    def __init__(
        self, format_name: str, graphs: list[ElementGraph], index: FindingIndex, depth: int
    ) -> None:
        self.format = format_name
        self.index = index
        self.versions = [_Version(format_name, graph, index, depth) for graph in graphs]
        self._memo: dict[tuple[str, str], list[ReachHit]] = {}

    def hits(self, kind: str, entry: str) -> list[ReachHit]:
        memo = (kind, entry)
        found = self._memo.get(memo)
        if found is None:
            found = self._memo[memo] = self._hits(kind, entry)
        return found

    def _hits(self, kind: str, entry: str) -> list[ReachHit]:
        found: dict[int, ReachHit] = {}
        for key in root_keys(self.format, kind, entry):
            for version in self.versions:
                for hit in version.hits(key):
                    found.setdefault(hit.finding, hit)
        return list(found.values())


class _Version:
    """One version's graph, prepared for the findings of one diff."""

    def __init__(self, format_name: str, graph: ElementGraph, index: FindingIndex, depth: int):
        self.graph = graph
        self.index = index
        self.depth = depth if graph.lineage else None
        self.relation = DOWNSTREAM if graph.lineage else REACHES
        self.nodes: dict[Key, str] = {}
        self.targets: dict[str, list[tuple[int, str]]] = {}  # element -> its changes
        names = set(graph.edges)
        for refs in graph.edges.values():
            names.update(refs)
        for name in names:
            key = node_key(format_name, name)
            if key is None:
                continue
            self.nodes.setdefault(key, name)
            if index.has_within(key):
                changes = self._changes(key)
                if changes:
                    self.targets[name] = changes
        self.relevant = self._leading_to(self.targets) if self.targets else set()
        self._memo: dict[str, list[ReachHit]] = {}

    def _leading_to(self, targets: dict[str, list[tuple[int, str]]]) -> set[str]:
        """Every element from which some target can be reached (targets included)."""
        reverse: dict[str, list[str]] = {}
        for name, refs in self.graph.edges.items():
            for ref in refs:
                reverse.setdefault(ref, []).append(name)
        relevant = set(targets)
        stack = list(targets)
        while stack:
            for referrer in reverse.get(stack.pop(), ()):
                if referrer not in relevant:
                    relevant.add(referrer)
                    stack.append(referrer)
        return relevant

    def hits(self, key: Key) -> list[ReachHit]:
        root = self.nodes.get(key)
        if root is None or root not in self.relevant:
            return []
        found = self._memo.get(root)
        if found is None:
            found = self._memo[root] = self._walk(root)
        return found

    def _walk(self, root: str) -> list[ReachHit]:
        """Breadth first from ``root``, through relevant elements only; the root itself is
        left out (what is inside it is matched by name)."""
        edges, relevant = self.graph.edges, self.relevant
        parent: dict[str, str] = {root: root}
        level, hops = [root], 0
        reached: list[str] = []
        while level and (self.depth is None or hops < self.depth):
            hops += 1
            following: list[str] = []
            for name in level:
                for ref in edges.get(name, ()):
                    if ref in relevant and ref not in parent:
                        parent[ref] = name
                        following.append(ref)
                        if ref in self.targets:
                            reached.append(ref)
            level = following
        found: dict[int, ReachHit] = {}
        for target in reached:
            steps: tuple[str, ...] | None = None
            for number, element in self.targets[target]:
                if number in found:
                    continue
                if steps is None:
                    steps = self._steps(root, target, parent)
                if self.graph.lineage:
                    via = steps
                else:
                    last = steps[-1]
                    via = (*steps[:-1], element) if _within(element, last) else (*steps, element)
                found[number] = ReachHit(number, self.relation, via)
        return list(found.values())

    def _changes(self, key: Key) -> list[tuple[int, str]]:
        """The findings on the element ``key`` or inside it that can concern a consumer
        (dangerous or breaking: ``consumer_matches`` drops the rest), each with the changed
        element's name (an OpenAPI finding's path is where an operation meets it: the
        component property, ``Address.city``, is named instead)."""
        findings = self.index.findings
        return [
            (
                hit.finding,
                ".".join(hit.element[1:])
                if hit.element[0] == "schema"
                else findings[hit.finding].path,
            )
            for hit in self.index.within(key)
            if findings[hit.finding].severity >= Severity.DANGEROUS
        ]

    def _steps(self, root: str, target: str, parent: dict[str, str]) -> tuple[str, ...]:
        """The chain people read, to ``target``: a lineage from the source model to the used
        one; a type chain from the used element, each field standing for its type
        (``Query.order -> Order.customer -> Customer``, the changed element then replacing
        or following the last step)."""
        path = [target]
        while path[-1] != root:
            path.append(parent[path[-1]])
        if self.graph.lineage:
            return tuple(self.graph.shown.get(name, name) for name in path)
        path.reverse()
        return tuple(
            name
            for i, name in enumerate(path)
            if i + 1 == len(path) or not _inside(path[i + 1], name)
        )


def _within(name: str, outer: str) -> bool:
    return name == outer or _inside(name, outer)


def _inside(name: str, outer: str) -> bool:
    """``Order.email``, ``Order.total(currency:)`` and ``shop.v1.Orders/Get`` are inside
    ``Order``, ``Order`` and ``shop.v1.Orders``."""
    return len(name) > len(outer) and name.startswith(outer) and name[len(outer)] in "./("
