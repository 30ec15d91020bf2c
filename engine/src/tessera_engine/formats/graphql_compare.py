"""Comparing two GraphQL schemas: roots, types, fields, arguments, input fields, enum values,
union members, implemented interfaces and directive definitions. Descriptions, deprecations
and applied directives are compared by ``graphql_meta``.

Paths name elements the way GraphQL people do: ``User.email``, ``Query.user(id:)``,
``UserInput.name``, ``Role.ADMIN``, ``@auth(role:)``; list items of a type reference add
``[]``. Removed elements are located at their parent in the new version, with
``old_location`` at the element itself; a removed type or directive at the schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..formats.native import Change
from ..model import Effect, Location, Position
from .graphql_meta import Meta
from .graphql_model import (
    BUILTIN_DIRECTIVES,
    BUILTIN_SCALARS,
    ENUM,
    INPUT,
    INTERFACE,
    OBJECT,
    UNION,
    DirectiveDef,
    Field,
    InputValue,
    Schema,
    TypeDef,
)
from .graphql_positions import DIRECTIVE, merged, positions, type_ref_changes


def compare(old: Schema, new: Schema) -> Iterator[Change]:
    yield from _Comparator(old, new).run()


class _Comparator:
    def __init__(self, old: Schema, new: Schema) -> None:
        self.old = old
        self.new = new
        self.positions = merged(positions(old), positions(new))
        self.root_types = set(old.roots.values()) | set(new.roots.values())
        self.meta = Meta(old, new)

    def position(self, type_name: str) -> Position:
        return self.positions.get(type_name, Position.NONE)

    def change(
        self,
        rule: str,
        position: Position,
        path: str,
        location: Location | None,
        args: dict[str, Any] | None = None,
        *,
        effect: Effect | None = None,
        old_location: Location | None = None,
        operations: tuple[str, ...] = (),
    ) -> Change:
        return Change(
            rule=rule,
            position=position,
            path=path,
            key=path,
            location=location,
            args=args or {},
            effect=effect,
            old_location=old_location,
            operations=operations,
        )

    # -- schema ---------------------------------------------------------------------------

    def run(self) -> Iterator[Change]:
        yield from self.roots()
        yield from self.meta.schema()
        yield from self.directives()
        old_types, new_types = self.old.types, self.new.types
        for name, new_type in new_types.items():
            old_type = old_types.get(name)
            if old_type is None:
                if name not in BUILTIN_SCALARS:
                    yield self.change(
                        "api.graphql-type.added",
                        self.position(name),
                        name,
                        self.new.locate(new_type.file, new_type.at),
                        {"name": name, "kind": new_type.kind},
                    )
            else:
                yield from self.type_pair(old_type, new_type)
        for name, old_type in old_types.items():
            if name not in new_types and name not in BUILTIN_SCALARS:
                yield self.change(
                    "api.graphql-type.removed",
                    self.position(name),
                    name,
                    self.new.start(),
                    {"name": name, "kind": old_type.kind},
                    old_location=self.old.locate(old_type.file, old_type.at),
                )

    def roots(self) -> Iterator[Change]:
        for operation in ("query", "mutation", "subscription"):
            before, after = self.old.roots.get(operation), self.new.roots.get(operation)
            if before == after:
                continue
            yield self.change(
                "api.graphql-root.changed",
                Position.NONE,
                f"schema.{operation}",
                self.new.start(),
                {"operation": operation, "old": before or "none", "new": after or "none"},
                effect=Effect.EXTENSION if before is None else Effect.IDENTITY,
                old_location=self.old.start(),
            )

    # -- types ----------------------------------------------------------------------------

    def type_pair(self, old: TypeDef, new: TypeDef) -> Iterator[Change]:
        name = new.name
        location = self.new.locate(new.file, new.at)
        position = self.position(name)
        if old.kind != new.kind:
            yield self.change(
                "schema.graphql-type.kind-changed",
                position,
                name,
                location,
                {"old": old.kind, "new": new.kind},
                old_location=self.old.locate(old.file, old.at),
            )
            return
        yield from self.meta.element(old, new, name, position, location, f"type {name}")
        if new.kind in (OBJECT, INTERFACE):
            yield from self.interfaces(old, new, location)
            operations = name in self.root_types
            for field_name, new_field in new.fields.items():
                old_field = old.fields.get(field_name)
                path = f"{name}.{field_name}"
                ops = (path,) if operations else ()
                if old_field is None:
                    yield self.change(
                        "api.graphql-field.added",
                        Position.OUTPUT,
                        path,
                        self.new.locate(new_field.file, new_field.at),
                        {"name": field_name, "type": new_field.type},
                        operations=ops,
                    )
                else:
                    yield from self.field_pair(old_field, new_field, path, ops)
            for field_name, old_field in old.fields.items():
                if field_name not in new.fields:
                    path = f"{name}.{field_name}"
                    yield self.change(
                        "api.graphql-field.removed",
                        Position.OUTPUT,
                        path,
                        location,
                        {"name": field_name, "deprecated": self.meta.deprecated(old_field)},
                        old_location=self.old.locate(old_field.file, old_field.at),
                        operations=(path,) if operations else (),
                    )
        elif new.kind == INPUT:
            yield from self.input_values(
                old.inputs, new.inputs, name, location, "schema.graphql-input-field", ()
            )
        elif new.kind == ENUM:
            yield from self.enum_values(old, new, position, location)
        elif new.kind == UNION:
            yield from self.members(old, new, location)

    def interfaces(self, old: TypeDef, new: TypeDef, location: Location) -> Iterator[Change]:
        before, after = set(old.interfaces), set(new.interfaces)
        for interface in new.interfaces:
            if interface not in before:
                yield self.change(
                    "schema.graphql-interface.added",
                    Position.OUTPUT,
                    f"{new.name}",
                    location,
                    {"interface": interface, "type": new.name},
                )
        for interface in old.interfaces:
            if interface not in after:
                yield self.change(
                    "schema.graphql-interface.removed",
                    Position.OUTPUT,
                    f"{new.name}",
                    location,
                    {"interface": interface, "type": new.name},
                    old_location=self.old.locate(old.file, old.at),
                )

    def members(self, old: TypeDef, new: TypeDef, location: Location) -> Iterator[Change]:
        before, after = set(old.members), set(new.members)
        for member in new.members:
            if member not in before:
                yield self.change(
                    "schema.graphql-union.member-added",
                    Position.OUTPUT,
                    new.name,
                    location,
                    {"member": member},
                )
        for member in old.members:
            if member not in after:
                yield self.change(
                    "schema.graphql-union.member-removed",
                    Position.OUTPUT,
                    new.name,
                    location,
                    {"member": member},
                    old_location=self.old.locate(old.file, old.at),
                )

    def enum_values(
        self, old: TypeDef, new: TypeDef, position: Position, location: Location
    ) -> Iterator[Change]:
        for value_name, new_value in new.values.items():
            path = f"{new.name}.{value_name}"
            old_value = old.values.get(value_name)
            value_location = self.new.locate(new_value.file, new_value.at)
            if old_value is None:
                yield self.change(
                    "schema.enum.value-added", position, path, value_location, {"value": value_name}
                )
            else:
                yield from self.meta.element(
                    old_value, new_value, path, position, value_location, f"enum value {path}"
                )
        for value_name, old_value in old.values.items():
            if value_name not in new.values:
                yield self.change(
                    "schema.enum.value-removed",
                    position,
                    f"{new.name}.{value_name}",
                    location,
                    {"value": value_name},
                    old_location=self.old.locate(old_value.file, old_value.at),
                )

    # -- fields, arguments, input fields --------------------------------------------------

    def field_pair(
        self, old: Field, new: Field, path: str, operations: tuple[str, ...]
    ) -> Iterator[Change]:
        location = self.new.locate(new.file, new.at)
        yield from self.type_ref(old.type, new.type, Position.OUTPUT, path, location, operations)
        yield from self.meta.element(old, new, path, Position.OUTPUT, location, f"field {path}")
        yield from self.input_values(
            old.args, new.args, path, location, "schema.graphql-argument", operations
        )

    def input_values(
        self,
        old: dict[str, InputValue],
        new: dict[str, InputValue],
        owner: str,
        owner_location: Location,
        family: str,
        operations: tuple[str, ...],
    ) -> Iterator[Change]:
        argument = family == "schema.graphql-argument"
        word = "argument" if argument else "input field"

        def path_of(name: str) -> str:
            return f"{owner}({name}:)" if argument else f"{owner}.{name}"

        for name, new_value in new.items():
            path = path_of(name)
            old_value = old.get(name)
            location = self.new.locate(new_value.file, new_value.at)
            if old_value is None:
                rule = f"{family}.required-added" if new_value.required else f"{family}.added"
                yield self.change(
                    rule,
                    Position.INPUT,
                    path,
                    location,
                    {"name": name, "type": new_value.type, "default": new_value.default or "none"},
                    operations=operations,
                )
                continue
            yield from self.type_ref(
                old_value.type, new_value.type, Position.INPUT, path, location, operations
            )
            if old_value.default != new_value.default:
                yield self.change(
                    "schema.graphql-default.changed",
                    Position.INPUT,
                    path,
                    location,
                    {"old": old_value.default or "none", "new": new_value.default or "none"},
                    old_location=self.old.locate(old_value.file, old_value.at),
                    operations=operations,
                )
            yield from self.meta.element(
                old_value, new_value, path, Position.INPUT, location, f"{word} {path}"
            )
        for name, old_value in old.items():
            if name not in new:
                yield self.change(
                    f"{family}.removed",
                    Position.INPUT,
                    path_of(name),
                    owner_location,
                    {"name": name},
                    old_location=self.old.locate(old_value.file, old_value.at),
                    operations=operations,
                )

    def type_ref(
        self,
        old: str,
        new: str,
        position: Position,
        path: str,
        location: Location,
        operations: tuple[str, ...],
    ) -> Iterator[Change]:
        for rule, suffix in type_ref_changes(old, new):
            yield self.change(
                rule,
                position,
                path + suffix,
                location,
                {"old": old, "new": new},
                operations=operations,
            )

    # -- directive definitions ------------------------------------------------------------

    def directives(self) -> Iterator[Change]:
        old, new = self.old.directives, self.new.directives
        for name, new_directive in new.items():
            if name in BUILTIN_DIRECTIVES:
                continue
            old_directive = old.get(name)
            location = self.new.locate(new_directive.file, new_directive.at)
            if old_directive is None:
                yield self.change(
                    "api.graphql-directive.added",
                    DIRECTIVE,
                    f"@{name}",
                    location,
                    {"name": name},
                )
            else:
                yield from self.directive_pair(old_directive, new_directive, location)
        for name, old_directive in old.items():
            if name not in new and name not in BUILTIN_DIRECTIVES:
                yield self.change(
                    "api.graphql-directive.removed",
                    DIRECTIVE,
                    f"@{name}",
                    self.new.start(),
                    {"name": name},
                    old_location=self.old.locate(old_directive.file, old_directive.at),
                )

    def directive_pair(
        self, old: DirectiveDef, new: DirectiveDef, location: Location
    ) -> Iterator[Change]:
        path = f"@{new.name}"
        old_location = self.old.locate(old.file, old.at)
        for where in new.locations:
            if where not in old.locations:
                yield self.change(
                    "api.graphql-directive.location-added",
                    DIRECTIVE,
                    path,
                    location,
                    {"location": where},
                )
        for where in old.locations:
            if where not in new.locations:
                yield self.change(
                    "api.graphql-directive.location-removed",
                    DIRECTIVE,
                    path,
                    location,
                    {"location": where},
                    old_location=old_location,
                )
        if old.repeatable != new.repeatable:
            rule = "repeatable-added" if new.repeatable else "repeatable-removed"
            yield self.change(
                f"api.graphql-directive.{rule}",
                DIRECTIVE,
                path,
                location,
                old_location=old_location,
            )
        yield from self.meta.description(old, new, path, DIRECTIVE, location)
        yield from self.input_values(
            old.args, new.args, path, location, "schema.graphql-argument", ()
        )
