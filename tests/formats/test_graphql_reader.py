"""The fast SDL reader against graphql-core's parser, the oracle: the same definitions,
names, types, defaults, descriptions, directives and token positions on varied SDL; the same
error messages and locations on bad SDL."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import build_schema, parse, print_schema
from graphql.language import ast

from tessera_engine.errors import FormatError
from tessera_engine.formats.graphql import read_sdl
from tessera_engine.formats.graphql_model import EnumValue, Field, InputValue, TypeDef, Usage
from tessera_engine.formats.graphql_sdl import Document, read, token_offsets
from tessera_engine.formats.graphql_values import quote, string_value

VARIED = r'''
# a comment, then a schema definition with a description and directives
"""
  The schema.

    Indented line, "quotes", \""" escaped triple quotes
"""
schema @link(url: "https://example.com/v1", import: ["@key", "@shareable"]) {
  query: Root,
  mutation: Mutations
}

extend schema @tag(name: "extended")

"A string with escapes: \" \\ \/ \b \f \n \r \t \u00e9 \u{1F600} and unicode: ünïcødé ✓"
scalar DateTime @specifiedBy(url: "https://tools.ietf.org/html/rfc3339")

directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | SCHEMA | ARGUMENT_DEFINITION
  | ENUM_VALUE | INPUT_FIELD_DEFINITION | INTERFACE | UNION | INPUT_OBJECT | SCALAR
directive @link(url: String, import: [String]) on SCHEMA
directive @cost(
  "the weight"
  weight: Float = 1.5e3,
  complexity: Int = -12
) on | FIELD_DEFINITION | OBJECT

interface Node { id: ID! }
interface Resource implements Node & Named @tag(name: "res") {
  id: ID!
  name: String
  url(absolute: Boolean = true): String
}
interface Named { name: String }

"""Root query"""
type Root implements & Node {
  id: ID!,
  "Find things"
  search(
    """the text"""
    text: String! = "",
    first: Int = 10 @deprecated(reason: "use limit"),
    limit: Int
    filter: Filter = {tags: ["a", "b"], nested: {deep: [1, 2, 3]}, kind: BIG, on: null, flag: false}
  ): [SearchResult!]! @cost(weight: 2.0) @tag(name: "search")
  type: String @deprecated
  input: [[Int!]]!
  node(id: ID!): Node
}

type Mutations { do(x: DateTime, ids: [ID!]! = []): Boolean @tag(name: "m") }
type Thing implements Node & Resource & Named {
  id: ID! name: String url(absolute: Boolean = true): String
}
type Other { other: Int }

union SearchResult @tag(name: "u") = | Thing | Other
union Single = Thing

enum Kind {
  "small" SMALL
  BIG @deprecated(reason: """
    block reason
  """)
  on
  type
}

input Filter @tag(name: "f") {
  tags: [String!]
  nested: Nested
  kind: Kind = SMALL @tag(name: "k")
  on: Boolean
  flag: Boolean! = true
}
input Nested { deep: [Int] }

extend type Other @tag(name: "o") { more: String }
extend interface Named @tag(name: "n")
extend union Single = Other
extend enum Kind { HUGE }
extend input Nested { shallow: Int }
extend scalar DateTime @tag(name: "d")
type Empty
'''


def _gc_value(node: ast.ValueNode) -> str:
    if isinstance(node, ast.StringValueNode):
        return quote(node.value)
    if isinstance(node, ast.IntValueNode | ast.FloatValueNode | ast.EnumValueNode):
        return node.value
    if isinstance(node, ast.BooleanValueNode):
        return "true" if node.value else "false"
    if isinstance(node, ast.NullValueNode):
        return "null"
    if isinstance(node, ast.ListValueNode):
        return "[" + ", ".join(_gc_value(v) for v in node.values) + "]"
    assert isinstance(node, ast.ObjectValueNode)
    members = sorted(f"{f.name.value}: {_gc_value(f.value)}" for f in node.fields)
    return "{" + ", ".join(members) + "}"


def _gc_type(node: ast.TypeNode) -> str:
    if isinstance(node, ast.NonNullTypeNode):
        return _gc_type(node.type) + "!"
    if isinstance(node, ast.ListTypeNode):
        return f"[{_gc_type(node.type)}]"
    assert isinstance(node, ast.NamedTypeNode)
    return node.name.value


def _gc_directives(nodes: Any) -> list[Usage]:
    return [
        (d.name.value, tuple(sorted((a.name.value, _gc_value(a.value)) for a in d.arguments or ())))
        for d in nodes or ()
    ]


def _gc_description(node: Any) -> str | None:
    description = getattr(node, "description", None)
    return None if description is None else str(description.value)


def _gc_input(node: ast.InputValueDefinitionNode) -> tuple[Any, ...]:
    default = None if node.default_value is None else _gc_value(node.default_value)
    return (
        node.name.value,
        _gc_type(node.type),
        default,
        _gc_description(node),
        _gc_directives(node.directives),
        node.name.loc.start if node.name.loc else None,
    )


_GC_KINDS = {
    "object": "type",
    "interface": "interface",
    "union": "union",
    "enum": "enum",
    "input_object": "input",
    "scalar": "scalar",
}


def _gc_definitions(text: str) -> list[tuple[Any, ...]]:
    """graphql-core's reading, in the shape ``_ours`` gives."""
    found: list[tuple[Any, ...]] = []
    for node in parse(text).definitions:
        if isinstance(node, ast.SchemaDefinitionNode | ast.SchemaExtensionNode):
            roots = {o.operation.value: o.type.name.value for o in node.operation_types or ()}
            found.append(("schema", roots, _gc_directives(node.directives)))
        elif isinstance(node, ast.DirectiveDefinitionNode):
            found.append(
                (
                    "directive",
                    node.name.value,
                    _gc_description(node),
                    [_gc_input(a) for a in node.arguments or ()],
                    [loc.value for loc in node.locations],
                    node.repeatable,
                )
            )
        else:
            kind = node.kind.removesuffix("_type_definition").removesuffix("_type_extension")
            extension = node.kind.endswith("_extension")
            fields = getattr(node, "fields", None) or ()
            found.append(
                (
                    _GC_KINDS[kind],
                    node.name.value,
                    extension,
                    _gc_description(node),
                    _gc_directives(node.directives),
                    [i.name.value for i in getattr(node, "interfaces", None) or ()],
                    [m.name.value for m in getattr(node, "types", None) or ()],
                    [
                        _gc_input(f)
                        if isinstance(f, ast.InputValueDefinitionNode)
                        else (
                            f.name.value,
                            _gc_type(f.type),
                            [_gc_input(a) for a in f.arguments or ()],
                            _gc_description(f),
                            _gc_directives(f.directives),
                            f.name.loc.start if f.name.loc else None,
                        )
                        for f in fields
                    ],
                    [
                        (
                            v.name.value,
                            _gc_description(v),
                            _gc_directives(v.directives),
                            v.name.loc.start if v.name.loc else None,
                        )
                        for v in getattr(node, "values", None) or ()
                    ],
                )
            )
    return found


def _description(raw: str | None) -> str | None:
    return None if raw is None else string_value(raw)


def _input(value: InputValue, offsets: list[int]) -> tuple[Any, ...]:
    assert isinstance(value.at, int)
    return (
        value.name,
        value.type,
        value.default,
        _description(value.description),
        list(value.directives),
        offsets[value.at],
    )


def _field(field: Field, offsets: list[int]) -> tuple[Any, ...]:
    assert isinstance(field.at, int)
    return (
        field.name,
        field.type,
        [_input(a, offsets) for a in field.args.values()],
        _description(field.description),
        list(field.directives),
        offsets[field.at],
    )


def _value(value: EnumValue, offsets: list[int]) -> tuple[Any, ...]:
    assert isinstance(value.at, int)
    return (value.name, _description(value.description), list(value.directives), offsets[value.at])


def _type(definition: TypeDef, extension: bool, offsets: list[int]) -> tuple[Any, ...]:
    members: list[tuple[Any, ...]] = [_field(f, offsets) for f in definition.fields.values()]
    members += [_input(v, offsets) for v in definition.inputs.values()]
    return (
        definition.kind,
        definition.name,
        extension,
        _description(definition.description),
        list(definition.directives),
        definition.interfaces,
        definition.members,
        members,
        [_value(v, offsets) for v in definition.values.values()],
    )


def _ours(text: str) -> list[tuple[Any, ...]]:
    """Our reading in one list, in source order (the reader keeps each kind in order)."""
    document: Document = read(text, 0)
    offsets = token_offsets(text)
    items: list[tuple[int, tuple[Any, ...]]] = []
    for definition, extension in document.types:
        assert isinstance(definition.at, int)
        items.append((definition.at, _type(definition, extension, offsets)))
    for directive in document.directives:
        assert isinstance(directive.at, int)
        args = [_input(a, offsets) for a in directive.args.values()]
        entry = (
            "directive",
            directive.name,
            _description(directive.description),
            args,
            list(directive.locations),
            directive.repeatable,
        )
        items.append((directive.at, entry))
    for part in document.schemas:
        roots = {operation: name for operation, (name, _) in part.roots.items()}
        items.append((part.at, ("schema", roots, part.directives)))
    return [entry for _, entry in sorted(items, key=lambda item: item[0])]


@pytest.mark.parametrize(
    "text",
    [
        VARIED,
        VARIED.replace("\n", "\r\n"),
        print_schema(build_schema(VARIED.replace("type Empty", ""))),
        'type Query{a(x:Int=1,y:[String!]!=["a"]):String}',
        '"""\n\n  only\n    indented\n\n"""\ntype Q { a: Int }',
        '""""""\ntype Q { "" a: Int }',
    ],
    ids=["varied", "crlf", "printed", "compact", "block-indent", "empty-strings"],
)
def test_reader_agrees_with_graphql_core(text: str) -> None:
    assert _ours(text) == _gc_definitions(text)


@pytest.mark.parametrize(
    "text",
    [
        "type Query {\n  a: String\n  b(: Int\n}\n",
        'type Query { a: String "unterminated }\n',
        "type Query { a: String }\ntype",
        "type Query { }",
        "",
        "type Query { a: Int = 12a }",
        'type Query { a: String @d(x: "\\q") }',
        "enum E { A true }",
        "type Query { a(x: Int = $v): Int }",
        "type Query { a: [Int }",
        "type Query implements A B { a: Int }",
        "type Query { a: Int } \u00a0",
    ],
)
def test_syntax_errors_are_graphql_cores(text: str) -> None:
    with pytest.raises(FormatError) as caught:
        read_sdl("schema.graphql", [("schema.graphql", text)])
    try:
        parse(text)
    except Exception as error:  # the oracle's message and position
        where = error.locations[0]  # type: ignore[attr-defined]
        expected = f"schema.graphql:{where.line}:{where.column}: {error.message}"  # type: ignore[attr-defined]
    else:
        pytest.fail("graphql-core accepts this text")
    assert str(caught.value) == expected


def test_executable_definitions_are_not_a_schema() -> None:
    with pytest.raises(FormatError, match=r"^schema.graphql:2:1: .*type system definition"):
        read_sdl("schema.graphql", [("schema.graphql", "type Q { a: Int }\nquery { a }\n")])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("type Query { a: Foo }", "1:14: Unknown type 'Foo'."),
        ("type Query { a: U }\ninput I { x: Int }\nunion U = I", "3:1: Union type U can only"),
        ("type Query { a: I }\ninput I { x: Int }", "1:14: The type of Query.a must be Output"),
        ("type Query { a(x: Query): Int }", "1:16: The type of Query.a(x:) must be Input Type"),
        ("type Query { a: Int\n a: Int }", "2:2: Field 'Query.a' can only be defined once."),
        ("type Query { a: Int }\ntype Query { b: Int }", "2:1: There can be only one type"),
        ("type Query { a: Int }\nextend type Nope { b: Int }", "2:1: Cannot extend type 'Nope'"),
        ("type Query { a: Int }\nextend input Query { b: Int }", "2:1: Cannot extend non-input"),
        ("type Query { a: Int @nope }", "1:14: Unknown directive '@nope'."),
        ("interface I { a: Int }\ntype Query implements I { b: Int }", "2:1: Interface field I.a"),
        ("type Query { a: Int }\nextend type Query { a: Int }", "2:21: Field 'Query.a' can only"),
        ("schema { query: In }\ninput In { a: Int }", "1:1: Query root type must be Object"),
        ("directive @d on OBJECT\ntype Query { a: Int @d }", "2:14: Directive '@d' may not be"),
        ("directive @d on OBJECT\ntype Query @d @d { a: Int }", "2:1: The directive '@d' can"),
        ("type Query @deprecated { a: Int }", "1:1: Directive '@deprecated' may not be used"),
    ],
)
def test_invalid_schemas_are_refused_with_a_location(text: str, message: str) -> None:
    with pytest.raises(FormatError) as caught:
        read_sdl("s.graphql", [("s.graphql", text)])
    assert str(caught.value).startswith(f"s.graphql:{message}")
    assert "\n" not in str(caught.value)


def test_extensions_merge_across_files() -> None:
    schema = read_sdl(
        "dir",
        [
            ("a.graphql", "extend type Query { b: Int }\nextend enum E { C }"),
            ("b.graphql", "type Query { a: E }\nenum E { A B }"),
        ],
    )
    assert list(schema.types["Query"].fields) == ["a", "b"]
    assert list(schema.types["E"].values) == ["A", "B", "C"]
    field = schema.types["Query"].fields["b"]
    assert str(schema.locate(field.file, field.at)) == "a.graphql:1:21"
