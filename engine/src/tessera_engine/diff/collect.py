"""Turning the compared scopes into findings.

Every scope is visited once. A change in a shared definition is one finding, whichever
operations reach it: its path is the first one that reached it, ``operations`` lists all of
them. When the same change is reached from an input and an output, the two become one finding
at position ``both`` with the higher severity.
"""

from __future__ import annotations

from ..catalog import Catalog
from ..fingerprint import fingerprint
from ..model import Effect, Finding, Location, Position, Severity
from ..modes import Mode, severity
from .core import Change, Differ, Scope


def collect(differ: Differ, catalog: Catalog, mode: Mode) -> list[Finding]:
    scopes = _propagate_operations(differ.roots)
    merged: dict[str, Finding] = {}
    order: list[str] = []
    for scope in scopes:
        for change in scope.changes:
            finding = _finding(scope, change, catalog, mode)
            existing = merged.get(finding.fingerprint)
            if existing is None:
                merged[finding.fingerprint] = finding
                order.append(finding.fingerprint)
            else:
                merged[finding.fingerprint] = _merge(existing, finding)
    return [merged[key] for key in order]


def _propagate_operations(roots: list[Scope]) -> list[Scope]:
    """Every scope reachable from the roots, in first-reached order, with ``operations``
    filled in from the operation roots that reach it."""
    ordered: list[Scope] = []
    seen: set[int] = set()
    for root in roots:
        reached: set[int] = set()
        stack = [root]
        while stack:
            scope = stack.pop()
            if id(scope) in reached:
                continue
            reached.add(id(scope))
            if root.operation:
                scope.operations.add(root.operation)
            if id(scope) not in seen:
                seen.add(id(scope))
                ordered.append(scope)
            stack.extend(reversed(scope.children))
    return ordered


def _finding(scope: Scope, change: Change, catalog: Catalog, mode: Mode) -> Finding:
    rule = catalog[change.rule]
    effect = change.effect or rule.effect or Effect.REPLACE
    position = change.position or scope.position
    level = severity(rule, effect, position, mode, dangerous=change.dangerous)
    new_node = change.new
    old_node = change.old
    if new_node is not None:
        pointer = new_node.ptr
        location: Location | None = new_node.doc.locate(new_node.ptr)
    else:
        pointer = old_node.ptr if old_node is not None else (scope.new.ptr if scope.new else "")
        anchor = scope.new
        location = anchor.doc.locate(anchor.ptr) if anchor is not None else None
    old_location = None
    if new_node is None and old_node is not None:
        old_location = old_node.doc.locate(old_node.ptr)
    args = dict(change.args)
    identity = {k: v for k, v in args.items() if k != "note"}
    lkey = scope.lkey + change.lseg
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
        args=args,
        operations=tuple(sorted(scope.operations)),
        old_location=old_location,
    )


def _merge(a: Finding, b: Finding) -> Finding:
    from dataclasses import replace

    position = a.position.merge(b.position)
    level = max(a.severity, b.severity, key=lambda s: s.rank)
    operations = tuple(sorted(set(a.operations) | set(b.operations)))
    return replace(a, position=position, severity=level, operations=operations)


__all__ = ["Position", "Severity", "collect"]
