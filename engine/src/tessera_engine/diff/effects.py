"""The effects recorded in a scope and everything below it, each scope walked once.

Checks ask this of fresh comparisons again and again (is an added property covered by the
old schema for such names? does an ``anyOf`` branch cover another?), and those comparisons
often lead to the same memoised scope: a definition every property refers to. Walking it on
every question makes the work grow with questions × definition size; so the answer for a
memoised scope is kept once its comparison is finished.

Recursive schemas make the scope graph cyclic: effects are gathered per strongly connected
component (Tarjan's algorithm, iterative), children's components first. A scope whose checks
are still running may gain changes and children, so an answer that depends on one is not
kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import Effect

if TYPE_CHECKING:
    from .core import Scope


class Effects:
    def __init__(self) -> None:
        self.running: set[int] = set()  # scopes whose checks are running
        self.shared: set[int] = set()  # memoised scopes: kept alive, so their ids stay theirs
        self._known: dict[int, frozenset[Effect]] = {}

    def of(self, scope: Scope) -> frozenset[Effect]:
        """Every effect recorded in ``scope`` and below (cycle-safe)."""
        known = self._known.get(id(scope))
        if known is not None:
            return known
        return _Walk(self).run(scope)

    def keep(self, scope: Scope, effects: frozenset[Effect]) -> None:
        if id(scope) in self.shared:
            self._known[id(scope)] = effects

    def known(self, scope: Scope) -> frozenset[Effect] | None:
        return self._known.get(id(scope))


class _Walk:
    """One question: Tarjan's algorithm over the scopes below one scope, stopping at scopes
    whose answer is kept."""

    def __init__(self, effects: Effects) -> None:
        from ..catalog import load_catalog

        self.catalog = load_catalog()
        self.effects = effects
        self.index: dict[int, int] = {}
        self.low: dict[int, int] = {}
        self.stack: list[Scope] = []
        self.on_stack: set[int] = set()
        self.found: dict[int, tuple[frozenset[Effect], bool]] = {}  # (effects, complete)

    def run(self, scope: Scope) -> frozenset[Effect]:
        self._enter(scope)
        work: list[tuple[Scope, int]] = [(scope, 0)]
        while work:
            current, position = work[-1]
            if position < len(current.children):
                work[-1] = (current, position + 1)
                child = current.children[position]
                key = id(child)
                if key in self.found or self.effects.known(child) is not None:
                    continue
                if key not in self.index:
                    self._enter(child)
                    work.append((child, 0))
                elif key in self.on_stack:
                    self.low[id(current)] = min(self.low[id(current)], self.index[key])
                continue
            work.pop()
            if work:
                parent = id(work[-1][0])
                self.low[parent] = min(self.low[parent], self.low[id(current)])
            if self.low[id(current)] == self.index[id(current)]:
                self._finish(current)
        return self.found[id(scope)][0]

    def _enter(self, scope: Scope) -> None:
        self.index[id(scope)] = self.low[id(scope)] = len(self.index)
        self.stack.append(scope)
        self.on_stack.add(id(scope))

    def _finish(self, root: Scope) -> None:
        """Pop ``root``'s component and give each member the component's effects."""
        members: list[Scope] = []
        while True:
            member = self.stack.pop()
            self.on_stack.discard(id(member))
            members.append(member)
            if member is root:
                break
        inside = {id(member) for member in members}
        gathered: set[Effect] = set()
        complete = True
        for member in members:
            complete = complete and id(member) not in self.effects.running
            for change in member.changes:
                effect = change.effect or self.catalog[change.rule].effect
                if effect is not None:
                    gathered.add(effect)
            for child in member.children:
                if id(child) in inside:
                    continue
                known = self.effects.known(child)
                if known is not None:
                    gathered |= known
                else:
                    below, child_complete = self.found[id(child)]
                    gathered |= below
                    complete = complete and child_complete
        result = frozenset(gathered)
        for member in members:
            self.found[id(member)] = (result, complete)
            if complete:
                self.effects.keep(member, result)
