"""Turning the compared scopes into findings.

Every scope is visited once. A change in a shared definition is one finding, whichever
operations reach it: its path is the first one that reached it, ``operations`` lists all of
them. When the same change is reached from an input and an output, the two become one finding
at position ``both`` with the higher severity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from ..catalog import Catalog
from ..documents import Document
from ..fingerprint import fingerprint
from ..model import Effect, Finding, Location, Position, Severity, bounded_args
from ..modes import Mode, severity
from .core import Change, Differ, Scope
from .nodes import Node

Locate = Callable[[Node], Location]


def collect(differ: Differ, catalog: Catalog, mode: Mode) -> list[Finding]:
    scopes = _propagate_operations(differ.roots)
    locate = _locator(scopes)
    listed = _OperationLists()
    merged: dict[str, Finding] = {}
    order: list[str] = []
    for scope in scopes:
        operations = listed.of(scope.operations)
        for change in scope.changes:
            finding = _finding(
                scope, change, catalog, mode, locate, differ.definition_key, operations
            )
            existing = merged.get(finding.fingerprint)
            if existing is None:
                merged[finding.fingerprint] = finding
                order.append(finding.fingerprint)
            else:
                merged[finding.fingerprint] = _merge(existing, finding, listed)
    return [merged[key] for key in order]


class _OperationLists:
    """Findings' ``operations`` tuples, one per distinct set: the scopes below a shared
    definition share one set of operations, so its findings share one sorted tuple instead
    of each sorting (and holding) thousands of names."""

    def __init__(self) -> None:
        self._sorted: dict[int, tuple[str, ...]] = {}
        self._merged: dict[tuple[int, int], tuple[str, ...]] = {}
        self._keep: list[object] = []  # the sets and tuples keyed by id stay alive

    def of(self, operations: frozenset[str]) -> tuple[str, ...]:
        found = self._sorted.get(id(operations))
        if found is None:
            found = self._sorted[id(operations)] = tuple(sorted(operations))
            self._keep.append(operations)
        return found

    def merged(self, a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
        if a is b:
            return a
        key = (id(a), id(b))
        found = self._merged.get(key)
        if found is None:
            found = self._merged[key] = tuple(sorted(set(a) | set(b)))
            self._keep.extend((a, b))
        return found


def _propagate_operations(roots: list[Scope]) -> list[Scope]:
    """Every scope holding changes, in first-reached order, with ``operations`` filled in
    from the operation roots that reach it.

    Only scopes that hold changes, or lead to some, take part. Recursive schemas make the
    scope graph cyclic, so operations flow over its strongly connected components in
    topological order: each component gets the union of its parents' operations once."""
    dirty = _leading_to_changes(roots)
    ordered: list[Scope] = []
    seen: set[int] = set()
    for root in roots:
        if id(root) not in dirty:
            continue
        stack = [root]
        while stack:  # first-reached order
            scope = stack.pop()
            if id(scope) in seen:
                continue
            seen.add(id(scope))
            if scope.changes:
                ordered.append(scope)
            stack.extend(c for c in reversed(scope.children) if id(c) in dirty)
    # every scope gets the union of what reaches it; scopes reached the same way share one
    # frozenset, so a definition reached by thousands of operations costs one set, not one
    # per scope below it
    reaching: dict[int, list[frozenset[str]]] = defaultdict(list)
    for component in _components_in_topological_order(roots, dirty):
        sources = [s for scope in component for s in reaching.pop(id(scope), ())]
        sources += [frozenset({scope.operation}) for scope in component if scope.operation]
        operations = _union(sources)
        for scope in component:
            scope.operations = operations
        for scope in component:
            for child in scope.children:
                if id(child) in dirty:
                    reaching[id(child)].append(operations)
    return ordered


def _union(sets: list[frozenset[str]]) -> frozenset[str]:
    """The union of ``sets``, reusing one of them when it holds all the others."""
    unique = list({id(s): s for s in sets}.values())
    if not unique:
        return frozenset()
    largest = max(unique, key=len)
    if all(s is largest or s <= largest for s in unique):
        return largest
    return frozenset().union(*unique)


def _components_in_topological_order(roots: list[Scope], dirty: set[int]) -> list[list[Scope]]:
    """Strongly connected components of the dirty scope graph, parents before children
    (Tarjan's algorithm, iterative: schema graphs can be deep)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[Scope] = []
    components: list[list[Scope]] = []
    for root in roots:
        if id(root) not in dirty or id(root) in index:
            continue
        work: list[tuple[Scope, int]] = [(root, 0)]
        index[id(root)] = low[id(root)] = len(index)
        stack.append(root)
        on_stack.add(id(root))
        while work:
            scope, position = work[-1]
            children = scope.children
            while position < len(children) and id(children[position]) not in dirty:
                position += 1
            if position < len(children):
                child = children[position]
                work[-1] = (scope, position + 1)
                if id(child) not in index:
                    index[id(child)] = low[id(child)] = len(index)
                    stack.append(child)
                    on_stack.add(id(child))
                    work.append((child, 0))
                elif id(child) in on_stack:
                    low[id(scope)] = min(low[id(scope)], index[id(child)])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[id(parent)] = min(low[id(parent)], low[id(scope)])
            if low[id(scope)] == index[id(scope)]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(id(member))
                    component.append(member)
                    if member is scope:
                        break
                components.append(component)
    components.reverse()  # Tarjan emits children first
    return components


def _leading_to_changes(roots: list[Scope]) -> set[int]:
    """Ids of the scopes that hold changes or reach one (walking parent links backwards from
    every scope with changes, so cycles need no special care)."""
    parents: dict[int, list[Scope]] = defaultdict(list)
    changed: list[Scope] = []
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        scope = stack.pop()
        if id(scope) in seen:
            continue
        seen.add(id(scope))
        if scope.changes:
            changed.append(scope)
        for child in scope.children:
            parents[id(child)].append(scope)
            stack.append(child)
    dirty: set[int] = set()
    while changed:
        scope = changed.pop()
        if id(scope) in dirty:
            continue
        dirty.add(id(scope))
        changed.extend(parents[id(scope)])
    return dirty


def _locator(scopes: list[Scope]) -> Locate:
    """Locate every node the findings will point at, one batch per document."""
    wanted: dict[Document, set[str]] = defaultdict(set)
    for scope in scopes:
        for change in scope.changes:
            for node in (change.new or scope.new, change.old if change.new is None else None):
                if node is not None:
                    wanted[node.doc].add(node.ptr)
    found = {doc: doc.locate_many(sorted(pointers)) for doc, pointers in wanted.items()}

    def locate(node: Node) -> Location:
        return found[node.doc].get(node.ptr) or node.doc.locate(node.ptr)

    return locate


def _finding(
    scope: Scope,
    change: Change,
    catalog: Catalog,
    mode: Mode,
    locate: Locate,
    definition_key: Callable[[Node], str | None],
    operations: tuple[str, ...],
) -> Finding:
    rule = catalog[change.rule]
    effect = change.effect or rule.effect or Effect.REPLACE
    position = change.position or scope.position
    level = severity(rule, effect, position, mode, dangerous=change.dangerous)
    new_node = change.new
    old_node = change.old
    if new_node is not None:
        pointer = new_node.ptr
        location: Location | None = locate(new_node)
    else:
        pointer = old_node.ptr if old_node is not None else (scope.new.ptr if scope.new else "")
        anchor = scope.new
        location = locate(anchor) if anchor is not None else None
    old_location = None
    if new_node is None and old_node is not None:
        old_location = locate(old_node)
    args = dict(change.args)
    identity = {k: v for k, v in args.items() if k != "note"}
    # the element's own definition when it lives in one (a property of a shared component
    # reached through a request and a response is one element), else the scope's key
    element = new_node or old_node
    lkey = ((element is not None and definition_key(element)) or scope.lkey) + change.lseg
    return Finding(
        rule=rule.id,
        severity=level,
        position=position,
        effect=effect,
        path=scope.path + change.seg,
        pointer=pointer,
        location=location,
        message=rule.render(args),
        fingerprint=fingerprint(rule.id, lkey, identity),
        args=bounded_args(args),
        operations=operations,
        old_location=old_location,
    )


def _merge(a: Finding, b: Finding, listed: _OperationLists) -> Finding:
    from dataclasses import replace

    position = a.position.merge(b.position)
    level = max(a.severity, b.severity, key=lambda s: s.rank)
    operations = listed.merged(a.operations, b.operations)
    return replace(a, position=position, severity=level, operations=operations)


__all__ = ["Position", "Severity", "collect"]
