"""Deciding cheaply that two values are the same, references included.

Most of a large spec does not change between versions. Two values are *the same* when they are
equal as JSON (a comparison done in C) and every ``$ref`` inside them leads, on both sides, to
definitions that are themselves the same, recursively. References form a graph with cycles
(recursive schemas), so "the same" is computed once per pair of definitions with Tarjan's
strongly-connected-components algorithm: a definition is changed when it differs itself or
reaches a changed definition.
"""

from __future__ import annotations

from typing import Any

from ..documents import Document
from ..documents.refs import Workspace, iter_refs
from ..errors import TesseraError

_Key = tuple[int, int]


class Oracle:
    def __init__(self, old: Workspace, new: Workspace) -> None:
        self._old = old
        self._new = new
        self._refs: dict[int, tuple[str, ...]] = {}
        self._result: dict[_Key, bool] = {}
        self._index: dict[_Key, int] = {}
        self._low: dict[_Key, int] = {}
        self._flag: dict[_Key, bool] = {}
        self._stack: list[_Key] = []
        self._on_stack: set[_Key] = set()

    def same(self, old_doc: Document, old: Any, new_doc: Document, new: Any) -> bool:
        """True when ``old`` and ``new`` are equal and so is everything they reference."""
        if old is new:
            return True
        try:
            if old != new:
                return False
        except RecursionError:
            return False
        return not any(self._ref_changed(old_doc, new_doc, ref) for ref in self.refs_in(old))

    def refs_in(self, value: Any) -> tuple[str, ...]:
        """The ``$ref`` strings inside ``value`` (not following them), memoised by identity."""
        if not isinstance(value, dict | list):
            return ()
        cached = self._refs.get(id(value))
        if cached is None:
            cached = tuple(dict.fromkeys(iter_refs(value)))
            self._refs[id(value)] = cached
        return cached

    # -- the reference graph ------------------------------------------------------------------

    def _target(self, ws: Workspace, doc: Document, ref: str) -> tuple[Document, Any] | None:
        try:
            target_doc, _, value = ws.resolve(doc, ref, "")
        except TesseraError:
            return None
        return target_doc, value

    def _ref_changed(self, old_doc: Document, new_doc: Document, ref: str) -> bool:
        old = self._target(self._old, old_doc, ref)
        new = self._target(self._new, new_doc, ref)
        if old is None or new is None:
            return True
        key = (id(old[1]), id(new[1]))
        if key not in self._result:
            self._visit(key, old, new)
        return self._result[key]

    def _visit(self, key: _Key, old: tuple[Document, Any], new: tuple[Document, Any]) -> None:
        index = len(self._index)
        self._index[key] = self._low[key] = index
        self._stack.append(key)
        self._on_stack.add(key)
        try:
            changed = old[1] != new[1]
        except RecursionError:
            changed = True
        if not changed:
            for ref in self.refs_in(old[1]):
                child_old = self._target(self._old, old[0], ref)
                child_new = self._target(self._new, new[0], ref)
                if child_old is None or child_new is None:
                    changed = True
                    break
                child = (id(child_old[1]), id(child_new[1]))
                if child in self._result:
                    changed = changed or self._result[child]
                elif child not in self._index:
                    self._visit(child, child_old, child_new)
                    self._low[key] = min(self._low[key], self._low[child])
                    if child in self._result:
                        changed = changed or self._result[child]
                elif child in self._on_stack:
                    self._low[key] = min(self._low[key], self._index[child])
        self._flag[key] = changed
        if self._low[key] == self._index[key]:
            members = []
            while True:
                member = self._stack.pop()
                self._on_stack.discard(member)
                members.append(member)
                if member == key:
                    break
            result = any(self._flag[m] for m in members)
            for member in members:
                self._result[member] = result
