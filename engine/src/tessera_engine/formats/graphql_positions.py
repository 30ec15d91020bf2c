"""Who reads a GraphQL element, and what a type reference change does.

Positions follow use: fields of objects and interfaces are outputs (servers write them,
clients read them); arguments and input object fields are inputs. An enum or a scalar is an
input when some argument or input field has its type, an output when some field has it, both
when both (in either version, so a value added to an enum that just became an output is
judged as an output). Object, interface and union types are outputs, input objects inputs.
Directive definitions are inputs, like their arguments: documents apply them (queries for
executable locations, schemas for type-system ones) and the server or tool that defines them
reads them. The schema itself (its roots) is structural.

Type references are judged by wrapping: ``String!`` -> ``String`` makes the value nullable
(``schema.nullable.added``, a widening: breaks readers of an output, safe for an argument),
``[A]`` -> ``[A!]`` makes the items non-null (``schema.nullable.removed`` at ``[]``), and any
other change (another named type, a list added or removed) replaces the type.
"""

from __future__ import annotations

from ..model import Position
from .graphql_model import ENUM, INPUT, INTERFACE, OBJECT, SCALAR, UNION, Schema, named

DIRECTIVE = Position.INPUT
"""The position of a directive definition (see the module docstring)."""

_BY_KIND = {
    OBJECT: Position.OUTPUT,
    INTERFACE: Position.OUTPUT,
    UNION: Position.OUTPUT,
    INPUT: Position.INPUT,
}


def positions(schema: Schema) -> dict[str, Position]:
    """The position of every named type of ``schema``, by use."""
    uses: dict[str, Position] = {}

    def use(type_ref: str, position: Position) -> None:
        name = named(type_ref)
        uses[name] = uses.get(name, position).merge(position)

    for definition in schema.types.values():
        if definition.kind in (OBJECT, INTERFACE):
            for field in definition.fields.values():
                use(field.type, Position.OUTPUT)
                for arg in field.args.values():
                    use(arg.type, Position.INPUT)
        elif definition.kind == INPUT:
            for value in definition.inputs.values():
                use(value.type, Position.INPUT)
    for directive in schema.directives.values():
        for arg in directive.args.values():
            use(arg.type, Position.INPUT)
    found: dict[str, Position] = {}
    for name, definition in schema.types.items():
        if definition.kind in (ENUM, SCALAR):
            found[name] = uses.get(name, Position.NONE)
        else:
            found[name] = _BY_KIND[definition.kind]
    return found


def merged(old: dict[str, Position], new: dict[str, Position]) -> dict[str, Position]:
    result = dict(old)
    for name, position in new.items():
        result[name] = result.get(name, Position.NONE).merge(position)
    return result


def type_ref_changes(old: str, new: str) -> list[tuple[str, str]]:
    """(rule, path suffix) for a changed type reference: nullability per wrapping level
    (``""`` is the value, ``"[]"`` its items, ``"[][]"`` theirs), or one replacement."""
    if old == new:
        return []
    if old.replace("!", "") != new.replace("!", ""):
        return [("schema.type.changed", "")]
    found: list[tuple[str, str]] = []
    suffix = ""
    while True:
        old_required, new_required = old.endswith("!"), new.endswith("!")
        if old_required and not new_required:
            found.append(("schema.nullable.added", suffix))
        elif new_required and not old_required:
            found.append(("schema.nullable.removed", suffix))
        old, new = old.removesuffix("!"), new.removesuffix("!")
        if not old.startswith("["):
            return found
        old, new = old[1:-1], new[1:-1]
        suffix += "[]"
