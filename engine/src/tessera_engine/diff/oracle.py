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
_Target = tuple[Document, Any]


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

    def _target(self, ws: Workspace, doc: Document, ref: str) -> _Target | None:
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

    def _visit(self, key: _Key, old: _Target, new: _Target) -> None:
        """Tarjan's algorithm from one pair of definitions, iterative: a chain of references
        may be as long as a document allows, far deeper than Python's stack."""
        work = [self._enter(key, old, new)]
        while work:
            frame = work[-1]
            if frame.position < len(frame.refs):
                ref = frame.refs[frame.position]
                frame.position += 1
                child_old = self._target(self._old, frame.old[0], ref)
                child_new = self._target(self._new, frame.new[0], ref)
                if child_old is None or child_new is None:
                    frame.changed = True
                    frame.position = len(frame.refs)
                    continue
                child = (id(child_old[1]), id(child_new[1]))
                if child in self._result:
                    frame.changed = frame.changed or self._result[child]
                elif child not in self._index:
                    work.append(self._enter(child, child_old, child_new))
                elif child in self._on_stack:
                    self._low[frame.key] = min(self._low[frame.key], self._index[child])
                continue
            work.pop()
            self._leave(frame)
            if work:
                parent = work[-1]
                self._low[parent.key] = min(self._low[parent.key], self._low[frame.key])
                if frame.key in self._result:
                    parent.changed = parent.changed or self._result[frame.key]

    def _enter(self, key: _Key, old: _Target, new: _Target) -> _Frame:
        index = len(self._index)
        self._index[key] = self._low[key] = index
        self._stack.append(key)
        self._on_stack.add(key)
        try:
            changed = old[1] != new[1]
        except RecursionError:
            changed = True
        refs = () if changed else self.refs_in(old[1])
        return _Frame(key, old, new, refs, changed)

    def _leave(self, frame: _Frame) -> None:
        """Record a pair's own verdict; when it closes a component, settle every member."""
        key = frame.key
        self._flag[key] = frame.changed
        if self._low[key] != self._index[key]:
            return
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


class _Frame:
    """A pair of definitions being visited: the references left to follow in it."""

    __slots__ = ("changed", "key", "new", "old", "position", "refs")

    def __init__(
        self, key: _Key, old: _Target, new: _Target, refs: tuple[str, ...], changed: bool
    ) -> None:
        self.key = key
        self.old = old
        self.new = new
        self.refs = refs
        self.position = 0
        self.changed = changed
