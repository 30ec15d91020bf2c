"""Comparing two versions of an Avro schema: every change, with its effect under schema
resolution in both directions.

Tessera's effects map onto Avro's two reading directions:

- *backward*: the new schema reads data written with the old one (Confluent's BACKWARD);
- *forward*: the old schema reads data written with the new one (FORWARD).

A change that breaks only the backward direction *narrows* (the new reader rejects some old
data: a field added without a default, an enum symbol removed), one that breaks only forward
*widens* (old readers reject some new data: int promoted to long, a symbol added, a field
without default removed), one that breaks both *replaces*, and one that breaks neither is an
*extension* (a field added with a default). The engine judges every element as an input under
``backward`` (narrowing breaks), as an output under ``forward`` (widening breaks) and both
under ``full``, so the verdict in each mode is Avro's own.

Elements are paired as resolution pairs them, and resolution differs per direction: a field
renamed with an alias on the new side matches in the backward direction only (the reader's
aliases are used); a union branch may be read by another branch of the reader. So every pair
is compared for a set of *directions* in which it really is a reader/writer pair, and a change
breaks only in those. Whether a whole subtree can be read is decided by ``avro_resolve``.

Cost. Branches, fields and symbols are paired through tables, so the work grows with the size
of the schemas, not with the product of two unions' or enums' lengths; walking deeper than
``MAX_NESTING`` levels (named types referring to one another in a chain) is refused with a
``LimitError`` instead of overflowing the stack.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..limits import MAX_NESTING
from ..model import Effect, Position
from .avro_model import (
    Array,
    Enum,
    Field,
    Fixed,
    Map,
    Named,
    Record,
    Schema,
    Site,
    Union,
    branch_key,
)
from .avro_resolve import Resolver, decimals_match, names_match, too_deep, writer_field
from .avro_work import WorkBudget
from .native import Change

BACKWARD = "backward"  # reader: new, writer: old
FORWARD = "forward"  # reader: old, writer: new
BOTH = frozenset({BACKWARD, FORWARD})
Directions = frozenset[str]


def effect_of(breaks_backward: bool, breaks_forward: bool, directions: Directions) -> Effect:
    """The effect of a change from which directions it breaks (only those it applies in)."""
    backward = breaks_backward and BACKWARD in directions
    forward = breaks_forward and FORWARD in directions
    if backward and forward:
        return Effect.REPLACE
    if backward:
        return Effect.NARROW
    if forward:
        return Effect.WIDEN
    return Effect.EXTENSION


@dataclass(frozen=True)
class Where:
    """An element being compared: its path (for people, and the finding's key) and its sites
    in the new and the old version."""

    path: str
    new: Site
    old: Site

    def to(self, path: str, new: Site, old: Site) -> Where:
        return Where(path, new, old)


class Comparer:
    """Walks an old and a new schema together and collects ``Change``s."""

    def __init__(self, position: Position, budget: WorkBudget) -> None:
        self.position = position
        self.budget = budget
        self.resolver = Resolver(budget)
        self.changes: list[Change] = []
        self._seen: set[tuple[int, int, Directions]] = set()
        self._depth = 0
        self._described: dict[int, str] = {}
        self._emitted: set[tuple[str, str, Effect | None, bool, str]] = set()

    def describe(self, schema: Schema) -> str:
        """``schema.describe()``, once per schema: a type inside a named type compared with
        many counterparts is described once, however often it is reported."""
        text = self._described.get(id(schema))
        if text is None:
            text = self._described[id(schema)] = schema.describe()
        return text

    def emit(
        self,
        rule: str,
        where: Where,
        args: dict[str, Any],
        *,
        effect: Effect | None = None,
        at: Site | None = None,
        old_at: Site | None = None,
        dangerous: bool = False,
    ) -> None:
        """Record a change, once: a named type compared with several counterparts finds the
        same change of its own elements with each (the engine would merge them, as they
        have one fingerprint; keeping the first spares building the others)."""
        self.budget.spend()
        key = (rule, where.path, effect, dangerous, repr(sorted(args.items())))
        if key in self._emitted:
            return
        self._emitted.add(key)
        site = at or where.new
        self.changes.append(
            Change(
                rule=rule,
                position=self.position,
                path=where.path,
                key=where.path,
                location=site.location(),
                args=args,
                effect=effect,
                pointer=site.pointer,
                old_location=(old_at or where.old).location(),
                dangerous=dangerous,
            )
        )

    # -- any schema ---------------------------------------------------------------------------

    def schema(self, old: Schema, new: Schema, where: Where, directions: Directions) -> None:
        if not directions:
            return
        self.budget.spend()
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise too_deep(where.new)
            self._schema(old, new, where, directions)
        finally:
            self._depth -= 1

    def _schema(self, old: Schema, new: Schema, where: Where, directions: Directions) -> None:
        if isinstance(old, Union) or isinstance(new, Union):
            self.union(old, new, where, directions)
            return
        if old.kind != new.kind:
            self.type_changed(old, new, where, directions)
            self.logical(old, new, where, directions)
            return
        if isinstance(old, Named) and isinstance(new, Named):
            key = (id(old), id(new), directions)
            if key in self._seen:
                return
            self._seen.add(key)
            where = where.to(new.fullname, new.site, old.site)
            self.named(old, new, where, directions)
        if isinstance(old, Record) and isinstance(new, Record):
            self.record(old, new, where, directions)
        elif isinstance(old, Enum) and isinstance(new, Enum):
            self.enum(old, new, where, directions)
        elif isinstance(old, Fixed) and isinstance(new, Fixed):
            if old.size != new.size:
                args = {"old": old.size, "new": new.size}
                effect = effect_of(True, True, directions)
                self.emit("schema.avro-fixed.size-changed", where, args, effect=effect)
        elif isinstance(old, Array) and isinstance(new, Array):
            inner = where.to(f"{where.path}[]", new.items_site, old.items_site)
            self.schema(old.items, new.items, inner, directions)
        elif isinstance(old, Map) and isinstance(new, Map):
            inner = where.to(f"{where.path}{{}}", new.values_site, old.values_site)
            self.schema(old.values, new.values, inner, directions)
        self.logical(old, new, where, directions)

    def type_changed(self, old: Schema, new: Schema, where: Where, directions: Directions) -> None:
        backward = self.resolver.can_read(new, old)
        forward = self.resolver.can_read(old, new)
        rule = "schema.avro-type.promoted" if backward or forward else "schema.avro-type.changed"
        note = _readers(backward, forward)
        args = {"old": self.describe(old), "new": self.describe(new), "note": note}
        self.emit(rule, where, args, effect=effect_of(not backward, not forward, directions))

    def logical(self, old: Schema, new: Schema, where: Where, directions: Directions) -> None:
        if old.logical == new.logical:
            return
        args = {"old": str(old.logical or "none"), "new": str(new.logical or "none")}
        if old.kind == new.kind and not decimals_match(new, old):
            effect = effect_of(True, True, directions)
            self.emit("schema.avro-decimal.changed", where, args, effect=effect)
            return
        self.emit("schema.avro-logical-type.changed", where, args, dangerous=True)

    # -- named types --------------------------------------------------------------------------

    def named(self, old: Named, new: Named, where: Where, directions: Directions) -> None:
        if old.fullname != new.fullname:
            backward, forward = names_match(new, old), names_match(old, new)
            args = {
                "kind": new.kind,
                "old": old.fullname,
                "new": new.fullname,
                "note": _name_note(old, new, backward, forward),
            }
            effect = effect_of(not backward, not forward, directions)
            self.emit("schema.avro-name.changed", where, args, effect=effect)
        if old.doc != new.doc:
            self.emit("meta.description.changed", where, {"keyword": "doc"})

    def enum(self, old: Enum, new: Enum, where: Where, directions: Directions) -> None:
        symbols = where.new.at("symbols")
        self.budget.spend(len(old.symbols) + len(new.symbols))
        old_symbols, new_symbols = set(old.symbols), set(new.symbols)
        for index, symbol in enumerate(new.symbols):
            if symbol not in old_symbols:
                at = symbols.at(index)
                note = (
                    f"; old readers read it as their default {old.default!r}" if old.default else ""
                )
                effect = effect_of(False, old.default is None, directions)
                args = {"symbol": symbol, "note": note}
                self.emit("schema.avro-enum.symbol-added", where, args, effect=effect, at=at)
        for index, symbol in enumerate(old.symbols):
            if symbol not in new_symbols:
                note = (
                    f"; new readers read it as their default {new.default!r}" if new.default else ""
                )
                effect = effect_of(new.default is None, False, directions)
                args = {"symbol": symbol, "note": note}
                old_at = where.old.at("symbols", index)
                self.emit(
                    "schema.avro-enum.symbol-removed",
                    where,
                    args,
                    effect=effect,
                    at=symbols,
                    old_at=old_at,
                )
        if old.default != new.default:
            at = where.new.at("default") if new.default is not None else where.new
            defaults: dict[str, Any] = {"old": old.default, "new": new.default}
            self.emit("schema.avro-enum.default-changed", where, defaults, at=at)

    # -- records ------------------------------------------------------------------------------

    def record(self, old: Record, new: Record, where: Where, directions: Directions) -> None:
        self.budget.spend(len(old.fields) + len(new.fields))
        # the writer field each reader field reads, in each direction
        backward = {id(f): writer_field(old, f) for f in new.fields}
        forward = {id(f): writer_field(new, f) for f in old.fields}
        pairs: dict[tuple[int, int], tuple[Field, Field, set[str]]] = {}
        for reader in new.fields:
            if (writer := backward[id(reader)]) is not None:
                pairs.setdefault((id(writer), id(reader)), (writer, reader, set()))[2].add(BACKWARD)
        for reader in old.fields:
            if (writer := forward[id(reader)]) is not None:
                pairs.setdefault((id(reader), id(writer)), (reader, writer, set()))[2].add(FORWARD)
        paired_old = {id(o) for o, _, _ in pairs.values()}
        paired_new = {id(n) for _, n, _ in pairs.values()}
        for old_field, new_field, matched in pairs.values():
            self.field_pair(old_field, new_field, where, directions, matched, backward, forward)
        for new_field in new.fields:
            if id(new_field) not in paired_new:
                self.field_added(new_field, where, directions)
        for old_field in old.fields:
            if id(old_field) not in paired_old:
                self.field_removed(old_field, where, directions)

    def field_pair(
        self,
        old: Field,
        new: Field,
        where: Where,
        directions: Directions,
        matched: set[str],
        backward: dict[int, Field | None],
        forward: dict[int, Field | None],
    ) -> None:
        inner = where.to(f"{where.path}.{new.name}", new.site, old.site)
        if old.name != new.name:
            # a reader field that matches nothing in a direction needs its default there
            breaks_backward = backward[id(new)] is None and not new.has_default
            breaks_forward = forward[id(old)] is None and not old.has_default
            args = {
                "old": old.name,
                "new": new.name,
                "note": _rename_note(matched, breaks_backward, breaks_forward),
            }
            effect = effect_of(breaks_backward, breaks_forward, directions)
            self.emit(
                "schema.avro-field.renamed", inner, args, effect=effect, at=new.site.at("name")
            )
        typed = inner.to(inner.path, new.type_site, old.type_site)
        self.schema(old.type, new.type, typed, directions & matched)
        if (old.has_default, old.default) != (new.has_default, new.default):
            at = new.site.at("default") if new.has_default else new.site
            args = {"name": new.name, "detail": _default_detail(old, new)}
            self.emit("schema.avro-field.default-changed", inner, args, at=at)
        if old.doc != new.doc:
            self.emit("meta.description.changed", inner, {"keyword": "doc"})

    def field_added(self, field: Field, where: Where, directions: Directions) -> None:
        inner = where.to(f"{where.path}.{field.name}", field.site, where.old)
        if field.has_default:
            args = {"name": field.name, "default": field.default}
            self.emit("schema.avro-field.added", inner, args, effect=Effect.EXTENSION)
        else:
            effect = effect_of(True, False, directions)
            args = {"name": field.name}
            self.emit("schema.avro-field.added-without-default", inner, args, effect=effect)

    def field_removed(self, field: Field, where: Where, directions: Directions) -> None:
        inner = where.to(f"{where.path}.{field.name}", where.new.at("fields"), field.site)
        if field.has_default:
            args = {"name": field.name, "default": field.default}
            self.emit("schema.avro-field.removed", inner, args, effect=Effect.EXTENSION)
        else:
            effect = effect_of(False, True, directions)
            args = {"name": field.name}
            self.emit("schema.avro-field.removed-without-default", inner, args, effect=effect)

    # -- unions -------------------------------------------------------------------------------

    def union(self, old: Schema, new: Schema, where: Where, directions: Directions) -> None:
        olds, old_sites = _branches(old, where.old)
        news, new_sites = _branches(new, where.new)
        self.budget.spend(len(olds) + len(news))
        can_read, any_reads = self.resolver.can_read, self.resolver.any_reads
        pairs = _pair_branches(olds, news)
        for i, j in pairs:
            o, n = olds[i], news[j]
            active = set(directions)
            # resolution reads a writer branch with any reader branch that can read it
            if not can_read(n, o) and any_reads(news, o, skip=n):
                active.discard(BACKWARD)
            if not can_read(o, n) and any_reads(olds, n, skip=o):
                active.discard(FORWARD)
            inner = where.to(f"{where.path}|{branch_key(n)}", new_sites[j], old_sites[i])
            self.schema(o, n, inner, frozenset(active))
        paired_old = {i for i, _ in pairs}
        paired_new = {j for _, j in pairs}
        for j, n in enumerate(news):
            if j not in paired_new:
                readable = any_reads(olds, n)
                args = {"branch": self.describe(n), "note": "" if readable else _OLD_CANNOT}
                effect = effect_of(False, not readable, directions)
                at = new_sites[j]
                self.emit("schema.avro-union.branch-added", where, args, effect=effect, at=at)
        for i, o in enumerate(olds):
            if i not in paired_old:
                readable = any_reads(news, o)
                args = {"branch": self.describe(o), "note": "" if readable else _NEW_CANNOT}
                effect = effect_of(not readable, False, directions)
                old_at = old_sites[i]
                self.emit(
                    "schema.avro-union.branch-removed", where, args, effect=effect, old_at=old_at
                )


_OLD_CANNOT = "; old readers have no branch that reads it"
_NEW_CANNOT = "; new readers have no branch that reads data written with it"


def _branches(schema: Schema, site: Site) -> tuple[list[Schema], list[Site]]:
    if isinstance(schema, Union):
        return schema.branches, schema.sites
    return [schema], [site]


def _pair_branches(olds: list[Schema], news: list[Schema]) -> list[tuple[int, int]]:
    """Branches that are the same element in both versions: same type or full name, then a
    named type renamed (an alias, or the same unqualified name: the first new branch left
    that matches), then the one branch left on each side."""
    pairs: list[tuple[int, int]] = []
    new_keys = {branch_key(n): j for j, n in enumerate(news)}
    paired_new: set[int] = set()
    left_old: list[int] = []
    for i, o in enumerate(olds):
        j = new_keys.get(branch_key(o))
        if j is None:
            left_old.append(i)
        else:
            pairs.append((i, j))
            paired_new.add(j)
    left_new = [j for j in range(len(news)) if j not in paired_new]
    renames = _Renames(news, left_new)
    still_old: list[int] = []
    for i in left_old:
        j = renames.take(olds[i])
        if j is None:
            still_old.append(i)
        else:
            pairs.append((i, j))
    still_new = renames.left()
    if len(still_old) == 1 and len(still_new) == 1:
        pairs.append((still_old[0], still_new[0]))
    return pairs


class _Renames:
    """The named branches of a new union not paired yet, by what a renamed old branch may
    match: kind and unqualified name, kind and full name (an old alias names it), kind and
    alias (it names the old branch)."""

    def __init__(self, news: list[Schema], left: list[int]) -> None:
        self.news = news
        self.left_new = left
        self.taken: set[int] = set()
        self.by_key: dict[tuple[str, str, str], list[int]] = {}
        for j in reversed(left):  # lists are used as stacks: the first branch on top
            n = news[j]
            if isinstance(n, Named):
                self.by_key.setdefault(("name", n.kind, n.name), []).append(j)
                self.by_key.setdefault(("full", n.kind, n.fullname), []).append(j)
                for alias in n.aliases:
                    self.by_key.setdefault(("alias", n.kind, alias), []).append(j)

    def take(self, old: Schema) -> int | None:
        """The first new branch left that ``old`` was renamed to, marked taken."""
        if not isinstance(old, Named):
            return None
        keys = [("name", old.kind, old.name), ("alias", old.kind, old.fullname)]
        keys += [("full", old.kind, alias) for alias in old.aliases]
        found = [j for j in map(self._first, keys) if j is not None]
        if not found:
            return None
        j = min(found)
        self.taken.add(j)
        return j

    def _first(self, key: tuple[str, str, str]) -> int | None:
        stack = self.by_key.get(key)
        while stack and stack[-1] in self.taken:
            stack.pop()
        return stack[-1] if stack else None

    def left(self) -> list[int]:
        return [j for j in self.left_new if j not in self.taken]


def _readers(backward: bool, forward: bool) -> str:
    if backward and forward:
        return "each reads the other's data"
    if backward:
        return "new readers read old data, old readers cannot read new data"
    if forward:
        return "old readers read new data, new readers cannot read old data"
    return "neither reads the other's data"


def _name_note(old: Named, new: Named, backward: bool, forward: bool) -> str:
    if old.name == new.name:
        return " (only the namespace changed: resolution matches unqualified names)"
    if backward and forward:
        return " (each version has the other's name as an alias)"
    if backward:
        return f" (new readers match it through the alias {old.fullname})"
    if forward:
        return f" (old readers match it through the alias {new.fullname})"
    return " without an alias: readers of one version do not recognise the other's records"


def _rename_note(matched: Iterable[str], breaks_backward: bool, breaks_forward: bool) -> str:
    found = set(matched)
    parts = []
    if BACKWARD in found:
        parts.append("new readers match it through an alias")
    if FORWARD in found:
        parts.append("old readers match it through an alias")
    if breaks_backward:
        parts.append("new readers find no value for it in old data and it has no default")
    if breaks_forward:
        parts.append("old readers find no value for the old name and it had no default")
    return " (" + "; ".join(parts) + ")" if parts else ""


def _default_detail(old: Field, new: Field) -> str:
    from ..catalog import show_literal

    if not old.has_default:
        return f"{show_literal(new.default)} added"
    if not new.has_default:
        return f"{show_literal(old.default)} removed"
    return f"changed from {show_literal(old.default)} to {show_literal(new.default)}"
