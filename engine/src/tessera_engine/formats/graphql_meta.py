"""Descriptions, deprecations and applied directives of GraphQL elements.

Descriptions are compared as raw tokens first and decoded only when those differ (a block
string and a quoted string with the same text are the same description). ``@deprecated`` is
read as a deprecation (added, removed, reason changed), never as an applied directive;
``@oneOf`` on an input object changes what callers may send; every other applied directive is
reported as added, removed or changed: it may change what the server does (authorization,
cost limits, federation keys), which readers of the schema cannot see.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..formats.native import Change
from ..model import Location, Position
from .graphql_model import (
    DirectiveDef,
    EnumValue,
    Field,
    InputValue,
    Schema,
    TypeDef,
    Usage,
    deprecation,
    show_usage,
)
from .graphql_values import string_value

Element = TypeDef | Field | InputValue | EnumValue


class Meta:
    def __init__(self, old: Schema, new: Schema) -> None:
        self.old = old
        self.new = new

    def deprecated(self, element: Element) -> bool:
        return deprecation(element.directives) is not None

    def schema(self) -> Iterator[Change]:
        location = self.new.start()
        if _text(self.old.description) != _text(self.new.description):
            yield _change(
                "meta.description.changed", "schema", location, {"keyword": "description"}
            )
        yield from self.usages(
            self.old.directives_used, self.new.directives_used, "schema", Position.NONE, location
        )

    def element(
        self,
        old: Element,
        new: Element,
        path: str,
        position: Position,
        location: Location,
        label: str,
    ) -> Iterator[Change]:
        yield from self.description(old, new, path, position, location)
        before, after = deprecation(old.directives), deprecation(new.directives)
        if before != after:
            if before is None:
                yield _change(
                    "lifecycle.deprecation.added",
                    path,
                    location,
                    {"element": label, "note": f': "{after}"', "reason": after},
                    position,
                )
            elif after is None:
                yield _change(
                    "lifecycle.deprecation.removed", path, location, {"element": label}, position
                )
            else:
                yield _change(
                    "lifecycle.graphql-deprecation.reason-changed",
                    path,
                    location,
                    {"element": label, "old": before, "new": after},
                    position,
                )
        if old.directives or new.directives:
            yield from self.usages(old.directives, new.directives, path, position, location)

    def description(
        self,
        old: Element | DirectiveDef,
        new: Element | DirectiveDef,
        path: str,
        position: Position,
        location: Location,
    ) -> Iterator[Change]:
        if old.description != new.description and _text(old.description) != _text(new.description):
            change = "added" if old.description is None else "changed"
            change = "removed" if new.description is None else change
            yield _change(
                "meta.description.changed",
                path,
                location,
                {"keyword": "description", "change": change},
                position,
            )

    def usages(
        self,
        old: tuple[Usage, ...] | list[Usage],
        new: tuple[Usage, ...] | list[Usage],
        path: str,
        position: Position,
        location: Location,
    ) -> Iterator[Change]:
        if old == new:
            return
        before = _by_name(old)
        after = _by_name(new)
        for name, usages in after.items():
            previous = before.get(name)
            if previous is None:
                rule = "schema.graphql-one-of.added" if name == "oneOf" else None
                yield _change(
                    rule or "api.graphql-directive-usage.added",
                    path,
                    location,
                    {"directive": name, "usage": ", ".join(map(show_usage, usages))},
                    position,
                )
            elif sorted(previous) != sorted(usages):
                yield _change(
                    "api.graphql-directive-usage.changed",
                    path,
                    location,
                    {
                        "directive": name,
                        "old": ", ".join(map(show_usage, previous)),
                        "new": ", ".join(map(show_usage, usages)),
                    },
                    position,
                )
        for name, usages in before.items():
            if name not in after:
                rule = "schema.graphql-one-of.removed" if name == "oneOf" else None
                yield _change(
                    rule or "api.graphql-directive-usage.removed",
                    path,
                    location,
                    {"directive": name, "usage": ", ".join(map(show_usage, usages))},
                    position,
                )


def _by_name(usages: tuple[Usage, ...] | list[Usage]) -> dict[str, list[Usage]]:
    found: dict[str, list[Usage]] = {}
    for usage in usages:
        if usage[0] != "deprecated":
            found.setdefault(usage[0], []).append(usage)
    return found


def _text(raw: str | None) -> str | None:
    return None if raw is None else string_value(raw)


def _change(
    rule: str,
    path: str,
    location: Location,
    args: dict[str, Any],
    position: Position = Position.NONE,
) -> Change:
    return Change(rule=rule, position=position, path=path, key=path, location=location, args=args)
