"""Comparing two dbt manifests: relations, columns, guarantees, contracts, access, versions
and materializations, as ``Change``s.

Every element is an output: consumers select from the relations a project builds. Relations
pair by key (``model.<package>.<name>[.v<version>]``); one that left a package and appeared
under the same name in another (no other candidate on either side) pairs too and is reported
as moved. The guarantee policy decides how guarantee findings count: ``strict`` as they are,
``notify`` at most dangerous, ``ignore`` not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model import Effect, Location, Position, Severity
from .dbt_guarantees import compare_guarantee
from .dbt_model import Column, Guarantee, Manifest, Relation
from .dbt_read import ACCESS_LEVELS
from .native import Change

GUARANTEE_RULES = frozenset(
    {
        "schema.dbt-guarantee.removed",
        "schema.dbt-guarantee.relaxed",
        "schema.dbt-guarantee.added",
        "schema.dbt-guarantee.tightened",
    }
)
_TABLES = frozenset({"table", "incremental", "snapshot", "seed"})


@dataclass
class Draft:
    """A change before it is located: ``new_at``/``old_at`` are pointers into each manifest
    (``new_at`` is the nearest surviving parent when the element was removed)."""

    rule: str
    path: str
    args: dict[str, Any]
    new_at: str | None
    old_at: str | None
    pointer: str
    effect: Effect | None = None
    dangerous: bool = False


@dataclass
class Comparer:
    old: Manifest
    new: Manifest
    guarantee_policy: str = "strict"
    drafts: list[Draft] = field(default_factory=list)

    def run(self) -> list[Change]:
        pairs, removed, added = self._pair()
        for a, b in pairs:
            self._relation(a, b)
        for a in removed:
            rule = "schema.dbt-version.removed" if a.version else "schema.dbt-model.removed"
            parent = "/sources" if a.kind == "source" else "/nodes"  # nearest surviving parent
            self._emit(rule, a.key, _relation_args(a), parent, a.pointer, a.pointer)
        for b in added:
            rule = "schema.dbt-version.added" if b.version else "schema.dbt-model.added"
            self._emit(rule, b.key, _relation_args(b), b.pointer, None, b.pointer)
        self._latest_versions()
        return self._located()

    # -- pairing ---------------------------------------------------------------------------

    def _pair(self) -> tuple[list[tuple[Relation, Relation]], list[Relation], list[Relation]]:
        olds, news = self.old.relations, self.new.relations
        pairs = [(olds[k], news[k]) for k in news if k in olds]
        removed = [olds[k] for k in olds if k not in news]
        added = [news[k] for k in news if k not in olds]
        gone = _unique_by_name(removed)
        came = _unique_by_name(added)
        for name, b in came.items():
            a = gone.get(name)
            if a is None:
                continue
            pairs.append((a, b))
            removed.remove(a)
            added.remove(b)
            args = {**_relation_args(b), "old": a.package, "new": b.package}
            self._emit(
                "schema.dbt-model.package-changed", b.key, args, b.pointer, a.pointer, b.pointer
            )
        return pairs, removed, added

    # -- relations -------------------------------------------------------------------------

    def _relation(self, a: Relation, b: Relation) -> None:
        path, base = b.key, _relation_args(b)
        here = (b.pointer, a.pointer, b.pointer)
        if a.access != b.access and a.access in ACCESS_LEVELS and b.access in ACCESS_LEVELS:
            narrowed = ACCESS_LEVELS.index(b.access) < ACCESS_LEVELS.index(a.access)
            rule = "schema.dbt-access.narrowed" if narrowed else "schema.dbt-access.widened"
            self._emit(rule, path, {**base, "old": a.access, "new": b.access}, *here)
        if a.contract_enforced and not b.contract_enforced:
            self._emit("schema.dbt-contract.unenforced", path, base, *here)
        elif b.contract_enforced and not a.contract_enforced:
            self._emit("schema.dbt-contract.enforced", path, base, *here)
        self._materialization(a, b, path, base, here)
        if b.deprecation_date and not a.deprecation_date:
            note = f" (deprecation date {b.deprecation_date})"
            args = {**base, "element": f"{b.kind} {b.label}", "note": note}
            self._emit("lifecycle.deprecation.added", path, args, *here)
        if a.description.strip() != b.description.strip():
            self._emit("meta.description.changed", path, {**base, "keyword": "description"}, *here)
        self._columns(a, b)
        self._guarantees(a.guarantees, b.guarantees, path, base, here)

    def _materialization(
        self, a: Relation, b: Relation, path: str, base: dict[str, Any], here: tuple[str, str, str]
    ) -> None:
        old, new = a.materialized, b.materialized
        if old == new or old is None or new is None:
            return
        dangerous = False
        if new == "ephemeral":
            effect = Effect.IDENTITY  # no relation left to select from
        elif old == "ephemeral":
            effect = Effect.EXTENSION
        elif old in _TABLES and new in _TABLES:
            effect = Effect.ANNOTATION
        else:
            effect, dangerous = Effect.REPLACE, True
        args = {**base, "old": old, "new": new}
        self._emit("schema.dbt-materialization.changed", path, args, *here, effect, dangerous)

    def _latest_versions(self) -> None:
        old, new = _latest(self.old), _latest(self.new)
        for name, (b, latest) in new.items():
            found = old.get(name)
            if found is None or found[1] == latest:
                continue
            args = {"model": b.name, "node": f"{b.kind}.{b.package}.{b.name}"}
            args.update(old=found[1], new=latest)
            self._emit(
                "schema.dbt-version.latest-changed",
                args["node"],
                args,
                b.pointer,
                found[0].pointer,
                b.pointer,
            )

    # -- columns ---------------------------------------------------------------------------

    def _columns(self, a: Relation, b: Relation) -> None:
        for key, new in b.columns.items():
            old = a.columns.get(key)
            args = {**_relation_args(b), "column": new.name}
            path = f"{b.key} → {new.name}"
            if old is None:
                self._emit(
                    "schema.dbt-column.added",
                    path,
                    {**args, "type": new.data_type or "unknown"},
                    new.pointer,
                    None,
                    new.pointer,
                )
                continue
            self._column(old, new, path, args)
        for key, old in a.columns.items():
            if key not in b.columns:
                args = {**_relation_args(b), "column": old.name}
                path = f"{b.key} → {old.name}"
                self._emit(
                    "schema.dbt-column.removed", path, args, b.pointer, old.pointer, old.pointer
                )
        for key in set(a.column_guarantees) | set(b.column_guarantees):
            if (key in a.columns) != (key in b.columns):
                continue  # the column came or went: its own finding says it all
            name = b.column_label(key) if key in b.columns else a.column_label(key)
            at = b.columns[key].pointer if key in b.columns else b.pointer
            old_at = a.columns[key].pointer if key in a.columns else a.pointer
            args = {**_relation_args(b), "column": name}
            self._guarantees(
                a.column_guarantees.get(key, {}),
                b.column_guarantees.get(key, {}),
                f"{b.key} → {name}",
                args,
                (at, old_at, at),
            )

    def _column(self, old: Column, new: Column, path: str, args: dict[str, Any]) -> None:
        here = (new.pointer, old.pointer, new.pointer)
        if old.data_type and new.data_type and old.data_type != new.data_type:
            change = {**args, "old": old.data_type, "new": new.data_type}
            self._emit("schema.dbt-column.type-changed", path, change, *here)
        if old.description.strip() != new.description.strip() and old.description + new.description:
            self._emit("meta.description.changed", path, {**args, "keyword": "description"}, *here)

    # -- guarantees ------------------------------------------------------------------------

    def _guarantees(
        self,
        old: dict[str, Guarantee],
        new: dict[str, Guarantee],
        path: str,
        base: dict[str, Any],
        here: tuple[str, str, str],
    ) -> None:
        if self.guarantee_policy == "ignore":
            return
        at = here[0]
        element = f"{base['model']}.{base['column']}" if "column" in base else base["model"]
        for key, g in new.items():
            args = _guarantee_args(base, element, key, g)
            before = old.get(key)
            if before is None:
                self._emit(
                    "schema.dbt-guarantee.added",
                    f"{path} → {key}",
                    args,
                    g.pointer,
                    None,
                    g.pointer,
                )
                continue
            delta = compare_guarantee(before, g)
            where = (g.pointer, before.pointer, g.pointer)
            if delta.relaxed:
                detail = {**args, "detail": "; ".join(delta.relaxed)}
                self._emit(
                    "schema.dbt-guarantee.relaxed",
                    f"{path} → {key}",
                    detail,
                    *where,
                    dangerous=delta.undecided,
                )
            if delta.tightened:
                detail = {**args, "detail": "; ".join(delta.tightened)}
                self._emit("schema.dbt-guarantee.tightened", f"{path} → {key}", detail, *where)
        for key, g in old.items():
            if key not in new:
                args = _guarantee_args(base, element, key, g)
                self._emit(
                    "schema.dbt-guarantee.removed",
                    f"{path} → {key}",
                    args,
                    at,
                    g.pointer,
                    g.pointer,
                )

    # -- output ----------------------------------------------------------------------------

    def _emit(
        self,
        rule: str,
        path: str,
        args: dict[str, Any],
        new_at: str | None,
        old_at: str | None,
        pointer: str,
        effect: Effect | None = None,
        dangerous: bool = False,
    ) -> None:
        self.drafts.append(Draft(rule, path, args, new_at, old_at, pointer, effect, dangerous))

    def _located(self) -> list[Change]:
        """The drafts as changes, every location found in one pass per manifest."""
        new_places = _locate(self.new, [d.new_at for d in self.drafts if d.new_at is not None])
        old_places = _locate(self.old, [d.old_at for d in self.drafts if d.old_at is not None])
        cap = Severity.DANGEROUS if self.guarantee_policy == "notify" else None
        return [
            Change(
                rule=d.rule,
                position=Position.OUTPUT,
                path=d.path,
                key=d.path,
                location=new_places.get(d.new_at) if d.new_at is not None else None,
                args=d.args,
                effect=d.effect,
                pointer=d.pointer,
                old_location=old_places.get(d.old_at) if d.old_at is not None else None,
                dangerous=d.dangerous,
                cap=cap if d.rule in GUARANTEE_RULES else None,
            )
            for d in self.drafts
        ]


def _guarantee_args(
    base: dict[str, Any], element: str, key: str, guarantee: Guarantee
) -> dict[str, Any]:
    args = {**base, "element": element, "guarantee": key, "kind": guarantee.kind}
    if guarantee.args:
        args["arguments"] = dict(guarantee.args)
    return args


def _locate(manifest: Manifest, pointers: list[str]) -> dict[str, Location]:
    if not pointers:
        return {}
    return manifest.document.locate_many(sorted(set(pointers)))


def _relation_args(relation: Relation) -> dict[str, Any]:
    args: dict[str, Any] = {"kind": relation.kind, "model": relation.label, "node": relation.key}
    if relation.version is not None:
        args["version"] = relation.version
    return args


def _unique_by_name(relations: list[Relation]) -> dict[tuple[str, str, str | None], Relation]:
    """Relations by (kind, name, version), leaving out names held by more than one."""
    found: dict[tuple[str, str, str | None], list[Relation]] = {}
    for relation in relations:
        found.setdefault((relation.kind, relation.name, relation.version), []).append(relation)
    return {name: group[0] for name, group in found.items() if len(group) == 1}


def _latest(manifest: Manifest) -> dict[str, tuple[Relation, str]]:
    """Versioned models by package and name, with their latest version."""
    found: dict[str, tuple[Relation, str]] = {}
    for relation in manifest.relations.values():
        if relation.version is not None and relation.latest_version is not None:
            found.setdefault(
                f"{relation.package}.{relation.name}", (relation, relation.latest_version)
            )
    return found
