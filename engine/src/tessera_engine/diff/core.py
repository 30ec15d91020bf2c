"""The comparison framework: scopes, memoised schema pairs and the emitted changes.

A ``Scope`` is one compared pair (an operation, a response, a pair of schemas). Checks record
``Change``s in it; schema pairs are memoised by the identity of their resolved values, their
position and polarity, so a shared or recursive schema is compared once and linked from every
place that uses it. Turning scopes into findings (paths, locations, severities) happens once at
the end, in ``collect``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypedDict

from ..documents.refs import Workspace
from ..errors import LimitError
from ..model import Effect, Position
from .effects import Effects
from .nodes import Node
from .oracle import Oracle
from .resolve import Resolver

MAX_DEPTH = 400
"""Deepest chain of nested schema comparisons (through properties, items and references)."""


@dataclass(frozen=True)
class Options:
    """How to compare. ``strict`` is Confluent's STRICT content-model policy (``--policy``);
    ``api`` says the contract is an API (request/response semantics: defaults fill omitted
    input values, tolerant readers)."""

    strict: bool = False
    api: bool = True
    honour_defaults: bool = False  # a required property with a default is not a new burden
    today: date | None = None  # for sunset dates; None means the current date


@dataclass(slots=True)
class Change:
    rule: str
    seg: str
    lseg: str
    old: Node | None
    new: Node | None
    args: dict[str, Any]
    effect: Effect | None
    dangerous: bool
    position: Position | None


@dataclass(slots=True, eq=False)
class Scope:
    path: str
    lkey: str
    old: Node | None
    new: Node | None
    position: Position
    changes: list[Change] = field(default_factory=list)
    children: list[Scope] = field(default_factory=list)
    operation: str | None = None  # set on operation roots
    operations: frozenset[str] = frozenset()  # filled in by collect


SchemaCheck = Callable[["Pair"], None]


class At(TypedDict):
    """Where a change is, on each side: ``pair.emit(rule, **at)``."""

    old: Node | None
    new: Node | None


class Differ:
    """Holds the state of one diff: both sides, the memo and the root scopes."""

    def __init__(
        self,
        old: Workspace,
        new: Workspace,
        options: Options,
        schema_checks: list[SchemaCheck],
    ) -> None:
        self.old = Resolver(old)
        self.new = Resolver(new)
        self.oracle = Oracle(old, new)
        self.options = options
        self.roots: list[Scope] = []
        self._memo: dict[tuple[int, int, Position, bool], Scope] = {}
        self._checks = schema_checks
        self._depth = 0
        self._effects = Effects()
        self.memo_nonnull: dict[int, Node] = {}  # plain schemas with null taken out
        # what checks derive once per value: (what, id of the value) -> it (compiled patterns)
        self.memo: dict[tuple[str, int], Any] = {}

    def root(
        self,
        path: str,
        lkey: str,
        old: Node | None,
        new: Node | None,
        position: Position,
        *,
        operation: str | None = None,
    ) -> Scope:
        scope = Scope(path, lkey, old, new, position, operation=operation)
        self.roots.append(scope)
        return scope

    def scope(
        self,
        parent: Scope,
        seg: str,
        lseg: str,
        old: Node | None,
        new: Node | None,
        position: Position | None = None,
    ) -> Scope:
        """A child scope that is not memoised (an operation's response, a parameter)."""
        scope = Scope(parent.path + seg, parent.lkey + lseg, old, new, position or parent.position)
        parent.children.append(scope)
        return scope

    def same(self, old: Node, new: Node) -> bool:
        return self.oracle.same(old.doc, old.value, new.doc, new.value)

    def emit(
        self,
        scope: Scope,
        rule: str,
        *,
        old: Node | None = None,
        new: Node | None = None,
        seg: str = "",
        lseg: str | None = None,
        args: dict[str, Any] | None = None,
        effect: Effect | None = None,
        dangerous: bool = False,
        position: Position | None = None,
    ) -> None:
        scope.changes.append(
            Change(
                rule,
                seg,
                seg if lseg is None else lseg,
                old,
                new,
                args or {},
                effect,
                dangerous,
                position,
            )
        )

    def schema(
        self,
        parent: Scope,
        seg: str,
        lseg: str,
        old: Node,
        new: Node,
        position: Position,
        negated: bool = False,
    ) -> Scope | None:
        """Compare two schemas under ``parent``; memoised, cycle-safe. Returns the scope
        holding the comparison, or None when the two are the same."""
        if self.same(old, new):
            return None
        o = self.old.resolve(old)
        n = self.new.resolve(new)
        if o.value is n.value:
            return None
        if o.value is True:
            o = Node(o.doc, o.ptr, _EMPTY, ref=o.ref)
        if n.value is True:
            n = Node(n.doc, n.ptr, _EMPTY, ref=n.ref)
        memoisable = isinstance(o.value, dict) and isinstance(n.value, dict)
        key = (id(o.value), id(n.value), position, negated)
        if memoisable:
            existing = self._memo.get(key)
            if existing is not None:
                parent.children.append(existing)
                return existing
        lkey = self.definition_key(n) or self.definition_key(o) or parent.lkey + lseg
        scope = Scope(parent.path + seg, lkey, o, n, position)
        parent.children.append(scope)
        if memoisable:
            self._memo[key] = scope
            self._effects.shared.add(id(scope))
        self._depth += 1
        self._effects.running.add(id(scope))
        try:
            if self._depth > MAX_DEPTH:
                loc = n.doc.locate(n.ptr)
                raise LimitError(
                    f"schemas nested more than {MAX_DEPTH} levels deep",
                    file=loc.file,
                    line=loc.line,
                    column=loc.column,
                )
            pair = Pair(self, scope, o, n, position, negated)
            for check in self._checks:
                check(pair)
        finally:
            self._depth -= 1
            self._effects.running.discard(id(scope))
        return scope

    def probe(self, old: Node, new: Node, position: Position, negated: bool = False) -> set[Effect]:
        """The effects of changing ``old`` into ``new``, without reporting them: the comparison
        hangs from a scope no root reaches (it stays memoised, so a later real comparison of
        the same pair reuses it and reports it then)."""
        detached = Scope("", "", old, new, position)
        scope = self.schema(detached, "", "", old, new, position, negated)
        return self.effects(scope) if scope is not None else set()

    def definition_key(self, node: Node) -> str | None:
        """A logical key for a schema that lives in a named definition (``components``,
        ``definitions``, ``$defs``): its pointer there, whichever way it was reached (through
        a ``$ref``, a flattened ``allOf``, a request or a response). Pointers there are built
        from names, so they survive reformatting and reordering."""
        if node.ref:
            return node.ref
        pointer = node.ptr
        if not pointer.startswith(_DEFINITION_AREAS) and "/$defs/" not in pointer:
            return None
        if node.doc is self.new.workspace.root or node.doc is self.old.workspace.root:
            return pointer
        return f"{node.doc.name}#{pointer}"

    def effects(self, scope: Scope) -> set[Effect]:
        """Every effect recorded in ``scope`` and below (cycle-safe)."""
        return set(self._effects.of(scope))


class Pair:
    """What a schema check sees: the resolved old and new schema and ways to report."""

    __slots__ = ("differ", "memo", "n", "negated", "o", "position", "scope")

    def __init__(
        self, differ: Differ, scope: Scope, o: Node, n: Node, position: Position, negated: bool
    ) -> None:
        self.differ = differ
        self.scope = scope
        self.o = o
        self.n = n
        self.position = position
        self.negated = negated
        self.memo: dict[str, Any] = {}

    @property
    def options(self) -> Options:
        return self.differ.options

    def emit(
        self,
        rule: str,
        *,
        old: Node | None = None,
        new: Node | None = None,
        seg: str = "",
        lseg: str | None = None,
        args: dict[str, Any] | None = None,
        effect: Effect | None = None,
        dangerous: bool = False,
    ) -> None:
        if effect is not None and self.negated:
            effect = effect.inverted()
        elif effect is None and self.negated:
            effect = _catalog_effect(rule).inverted()
        self.differ.emit(
            self.scope,
            rule,
            old=old,
            new=new,
            seg=seg,
            lseg=lseg,
            args=args,
            effect=effect,
            dangerous=dangerous,
        )

    def child(
        self, seg: str, old: Node, new: Node, *, lseg: str | None = None, flip: bool = False
    ) -> Scope | None:
        """Compare a pair of subschemas (``seg`` extends the human path)."""
        return self.differ.schema(
            self.scope,
            seg,
            seg if lseg is None else lseg,
            old,
            new,
            self.position,
            self.negated ^ flip,
        )

    def subschema(self, keyword: str, seg: str, *, flip: bool = False) -> None:
        """Compare a keyword that holds one subschema (``not``, ``contains``, ``propertyNames``,
        ``contentSchema``): both present, compare them; one present, it was added or removed."""
        old, new = self.o.kw(keyword), self.n.kw(keyword)
        if old is not None and new is not None:
            self.child(seg, old, new, lseg=f"|{keyword}", flip=flip)
        elif old is not None or new is not None:
            rule = "schema.subschema.added" if new is not None else "schema.subschema.removed"
            self.emit(rule, old=old, new=new, args={"keyword": keyword})

    def narrows(self, scope: Scope | None) -> bool:
        """Whether a compared subschema pair rejects some values it accepted before."""
        if scope is None:
            return False
        return bool(self.differ.effects(scope) & {Effect.NARROW, Effect.REPLACE, Effect.IDENTITY})


_EMPTY: dict[str, Any] = {}
_DEFINITION_AREAS = ("/components/", "/definitions/", "/parameters/", "/responses/", "/$defs/")


def _catalog_effect(rule: str) -> Effect:
    from ..catalog import load_catalog

    effect = load_catalog()[rule].effect
    return effect if effect is not None else Effect.REPLACE
