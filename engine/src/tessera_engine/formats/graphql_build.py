"""One schema from SDL files: definitions merged across files, ``extend`` applied, and the
checks that make a schema invalid (those graphql-core's ``build_schema`` and
``validate_schema`` make): names defined once, known types and directives, inputs and outputs
in their places, union members of the right kind, interface implementations
(``graphql_interfaces``). Every problem is a ``FormatError`` naming file:line:col."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..documents.locate import LineIndex
from ..errors import FormatError
from .graphql_interfaces import Problem, implementation_problems
from .graphql_model import (
    BUILTIN_DIRECTIVES,
    BUILTIN_SCALARS,
    ENUM,
    INPUT,
    INTERFACE,
    OBJECT,
    ROOT_NAMES,
    SCALAR,
    UNION,
    Schema,
    SourceFile,
    TypeDef,
    Usage,
    named,
)
from .graphql_sdl import Document, token_offsets

_KIND_WORDS = {
    OBJECT: "object",
    INTERFACE: "interface",
    UNION: "union",
    ENUM: "enum",
    INPUT: "input object",
    SCALAR: "scalar",
}
_LOCATIONS = {
    OBJECT: "OBJECT",
    INTERFACE: "INTERFACE",
    UNION: "UNION",
    ENUM: "ENUM",
    INPUT: "INPUT_OBJECT",
    SCALAR: "SCALAR",
}
_BUILTIN_LOCATIONS = {
    "deprecated": (
        "FIELD_DEFINITION",
        "ARGUMENT_DEFINITION",
        "INPUT_FIELD_DEFINITION",
        "ENUM_VALUE",
    ),
    "specifiedBy": ("SCALAR",),
    "oneOf": ("INPUT_OBJECT",),
}
_OUTPUT_KINDS = frozenset({OBJECT, INTERFACE, UNION, ENUM, SCALAR})
_INPUT_KINDS = frozenset({INPUT, ENUM, SCALAR})


def sdl_position(text: str) -> Callable[[int | str], tuple[int, int]]:
    """(line, column) of a token index in ``text``; offsets are computed on first use."""
    cache: list[tuple[list[int], LineIndex]] = []

    def position(at: int | str) -> tuple[int, int]:
        if not cache:
            cache.append((token_offsets(text), LineIndex(text)))
        offsets, lines = cache[0]
        index = at if isinstance(at, int) else 0
        offset = offsets[index] if index < len(offsets) else len(text)
        return lines.position(offset)

    return position


def build(name: str, files: list[SourceFile], documents: list[Document]) -> Schema:
    schema = Schema(name, files)
    _Builder(schema).merge(documents)
    validate(schema)
    return schema


class _Builder:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._held: dict[int, tuple[list[str], set[str]]] = {}

    def add_unique(self, names: list[str], more: list[str]) -> None:
        """Append the names of ``more`` that ``names`` does not hold yet, with a set kept per
        list, so a type extended thousands of times costs one step per name."""
        if not more:
            return
        entry = self._held.get(id(names))
        if entry is None or entry[0] is not names:
            entry = self._held[id(names)] = (names, set(names))
        held = entry[1]
        for name in more:
            if name not in held:
                held.add(name)
                names.append(name)

    def fail(self, message: str, file: int, at: int | str) -> FormatError:
        location = self.schema.locate(file, at)
        return FormatError(message, file=location.file, line=location.line, column=location.column)

    def merge(self, documents: list[Document]) -> None:
        types = self.schema.types
        for document in documents:
            for definition, extension in document.types:
                if extension:
                    continue
                if definition.name in types:
                    raise self.fail(
                        f"There can be only one type named '{definition.name}'.",
                        definition.file,
                        definition.at,
                    )
                types[definition.name] = definition
            for directive in document.directives:
                if directive.name in self.schema.directives:
                    raise self.fail(
                        f"There can be only one directive named '@{directive.name}'.",
                        directive.file,
                        directive.at,
                    )
                self.schema.directives[directive.name] = directive
        for document in documents:
            for definition, extension in document.types:
                if extension:
                    self.extend(definition)
        self.schema_parts(documents)

    def extend(self, extension: TypeDef) -> None:
        target = self.schema.types.get(extension.name)
        if target is None:
            raise self.fail(
                f"Cannot extend type '{extension.name}' because it is not defined.",
                extension.file,
                extension.at,
            )
        if target.kind != extension.kind:
            raise self.fail(
                f"Cannot extend non-{_KIND_WORDS[extension.kind]} type '{extension.name}'.",
                extension.file,
                extension.at,
            )
        target.directives.extend(extension.directives)
        self.add_unique(target.interfaces, extension.interfaces)
        self.add_unique(target.members, extension.members)
        tables: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
            OBJECT: (target.fields, extension.fields, "Field"),
            INTERFACE: (target.fields, extension.fields, "Field"),
            INPUT: (target.inputs, extension.inputs, "Field"),
            ENUM: (target.values, extension.values, "Enum value"),
        }
        if extension.kind not in tables:
            return
        table, added, word = tables[extension.kind]
        for key, element in added.items():
            if key in table:
                raise self.fail(
                    f"{word} '{target.name}.{key}' can only be defined once.",
                    element.file,
                    element.at,
                )
            table[key] = element

    def schema_parts(self, documents: list[Document]) -> None:
        schema = self.schema
        parts = [part for document in documents for part in document.schemas]
        for part in parts:
            if not part.extension:
                if schema.at is not None:
                    raise self.fail("Must provide only one schema definition.", part.file, part.at)
                schema.description = part.description
                schema.at = (part.file, part.at)
            schema.directives_used.extend(part.directives)
            for operation, (type_name, at) in part.roots.items():
                if operation in schema.roots:
                    raise self.fail(
                        f"Type for {operation} already defined in the schema. "
                        "It cannot be redefined.",
                        part.file,
                        at,
                    )
                schema.roots[operation] = type_name
        if not any(part.roots for part in parts):
            for operation, type_name in ROOT_NAMES.items():
                if type_name in schema.types:
                    schema.roots[operation] = type_name


def validate(schema: Schema) -> None:
    """Raise a ``FormatError`` at the first element that makes ``schema`` invalid."""
    for message, file, at in problems(schema):
        location = schema.locate(file, at)
        raise FormatError(message, file=location.file, line=location.line, column=location.column)


def problems(schema: Schema) -> Iterator[Problem]:
    types = schema.types
    known_directives = BUILTIN_DIRECTIVES | schema.directives.keys()

    def kind(type_ref: str) -> str | None:
        base = named(type_ref)
        if base in types:
            return types[base].kind
        return SCALAR if base in BUILTIN_SCALARS else None

    def usages(
        directives: tuple[Usage, ...] | list[Usage], where: str, file: int, at: int | str
    ) -> Iterator[Problem]:
        seen: set[str] = set()
        for name, _ in directives:
            if name not in known_directives:
                yield f"Unknown directive '@{name}'.", file, at
                continue
            custom = schema.directives.get(name)
            allowed = custom.locations if custom else _BUILTIN_LOCATIONS.get(name, ())
            if where not in allowed:
                yield f"Directive '@{name}' may not be used on {where}.", file, at
            if name in seen and not (custom and custom.repeatable):
                yield f"The directive '@{name}' can only be used once at this location.", file, at
            seen.add(name)

    def input_type(owner: str, type_ref: str, file: int, at: int | str) -> Iterator[Problem]:
        found = kind(type_ref)
        if found is None:
            yield f"Unknown type '{named(type_ref)}'.", file, at
        elif found not in _INPUT_KINDS:
            yield f"The type of {owner} must be Input Type but got: {type_ref}.", file, at

    for operation, type_name in schema.roots.items():
        root = types.get(type_name)
        file, at = schema.at or (0, 0)
        if root is None:
            yield f"Unknown type '{type_name}'.", file, at
        elif root.kind != OBJECT:
            word = operation.capitalize()
            yield f"{word} root type must be Object type, it cannot be {type_name}.", file, at
    yield from usages(schema.directives_used, "SCHEMA", *(schema.at or (0, 0)))
    for directive in schema.directives.values():
        for arg in directive.args.values():
            owner = f"@{directive.name}({arg.name}:)"
            yield from input_type(owner, arg.type, arg.file, arg.at)
    for definition in types.values():
        where = _LOCATIONS[definition.kind]
        yield from usages(definition.directives, where, definition.file, definition.at)
        for member in definition.members:
            target = types.get(member)
            if target is None:
                yield f"Unknown type '{member}'.", definition.file, definition.at
            elif target.kind != OBJECT:
                yield (
                    f"Union type {definition.name} can only include Object types, "
                    f"it cannot include {member}.",
                    definition.file,
                    definition.at,
                )
        for field in definition.fields.values():
            found = kind(field.type)
            if found is None:
                yield f"Unknown type '{named(field.type)}'.", field.file, field.at
            elif found not in _OUTPUT_KINDS:
                yield (
                    f"The type of {definition.name}.{field.name} must be Output Type "
                    f"but got: {field.type}.",
                    field.file,
                    field.at,
                )
            yield from usages(field.directives, "FIELD_DEFINITION", field.file, field.at)
            for arg in field.args.values():
                owner = f"{definition.name}.{field.name}({arg.name}:)"
                yield from input_type(owner, arg.type, arg.file, arg.at)
                yield from usages(arg.directives, "ARGUMENT_DEFINITION", arg.file, arg.at)
        for value in definition.inputs.values():
            yield from input_type(
                f"{definition.name}.{value.name}", value.type, value.file, value.at
            )
            yield from usages(value.directives, "INPUT_FIELD_DEFINITION", value.file, value.at)
        for enum_value in definition.values.values():
            yield from usages(enum_value.directives, "ENUM_VALUE", enum_value.file, enum_value.at)
    # graphql-core's build_schema reports unknown types and directives before validate_schema
    # compares implementations, so these come last.
    for definition in types.values():
        if definition.interfaces:
            yield from implementation_problems(types, definition)
