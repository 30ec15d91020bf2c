"""Interface implementations are validated as graphql-core's ``validate_schema`` validates
them (the oracle): the same schemas refused, with graphql-core's message, located at the
implementing field, argument or type; the same schemas accepted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from graphql import build_schema, introspection_from_schema, validate_schema

from tessera_engine import Mode
from tessera_engine.documents import FileSource
from tessera_engine.errors import FormatError
from tessera_engine.formats.graphql import GraphQLFormat, read_sdl
from tessera_engine.formats.native import Settings

INVALID = {
    "field type unrelated": (
        "interface I { a: String }\ntype T implements I {\n  a: Int\n}\ntype Query { t: T }",
        "3:3",
    ),
    "non-null removed": (
        "interface I { a: String! }\ntype T implements I {\n  a: String\n}\ntype Query { t: T }",
        "3:3",
    ),
    "list removed": (
        "interface I { a: [String] }\ntype T implements I { a: String }\ntype Query { t: T }",
        "2:23",
    ),
    "list added": (
        "interface I { a: String }\ntype T implements I { a: [String] }\ntype Query { t: T }",
        "2:23",
    ),
    "list nested deeper": (
        "interface I { a: [String] }\ntype T implements I { a: [[String]] }\ntype Query { t: T }",
        "2:23",
    ),
    "non-null item removed": (
        "interface I { a: [String!] }\ntype T implements I { a: [String]! }\ntype Query { t: T }",
        "2:23",
    ),
    "object outside the union": (
        "type A { x: Int }\ntype B { x: Int }\nunion U = A\n"
        "interface I { u: U }\ntype T implements I { u: B }\ntype Query { t: T }",
        "5:23",
    ),
    "object not implementing the interface": (
        "interface Node { id: ID }\ntype Other { id: ID }\n"
        "interface I { n: Node }\ntype T implements I { n: Other }\ntype Query { t: T }",
        "4:23",
    ),
    "a union for an interface": (
        "interface Node { id: ID }\ntype A implements Node { id: ID }\nunion U = A\n"
        "interface I { n: Node }\ntype T implements I { n: U }\ntype Query { t: T }",
        "5:23",
    ),
    "interface argument missing": (
        "interface I { a(x: Int): String }\ntype T implements I {\n  a: String\n}\n"
        "type Query { t: T }",
        "3:3",
    ),
    "argument type changed": (
        "interface I { a(x: Int): String }\ntype T implements I {\n  a(x: Int!): String\n}\n"
        "type Query { t: T }",
        "3:5",
    ),
    "argument type is invariant": (
        "interface I { a(x: [Int!]): String }\ntype T implements I { a(x: [Int]): String }\n"
        "type Query { t: T }",
        "2:25",
    ),
    "additional required argument": (
        "interface I { a: String }\ntype T implements I {\n  a(x: Int, y: ID!): String\n}\n"
        "type Query { t: T }",
        "3:13",
    ),
    "transitive interface not declared": (
        "interface A { id: ID }\ninterface B implements A { id: ID }\n"
        "type T implements B { id: ID }\ntype Query { t: T }",
        "3:1",
    ),
    "interface implementing itself": (
        "interface I implements I { a: Int }\ntype Query { i: I }",
        "1:1",
    ),
    "interfaces implementing each other": (
        "interface A implements B { a: Int }\ninterface B implements A { a: Int }\n"
        "type Query { a: A }",
        "1:1",
    ),
    "interface on an interface, field narrowed wrongly": (
        "interface I { a: Int! }\ninterface J implements I { a: Int }\ntype Query { j: J }",
        "2:28",
    ),
    "missing field": (
        "interface I { a: Int b: Int }\ntype T implements I { a: Int }\ntype Query { t: T }",
        "2:1",
    ),
}

VALID = {
    "non-null added": "interface I { a: String }\ntype T implements I { a: String! }",
    "non-null added at every level": (
        "interface I { a: [[String]] }\ntype T implements I { a: [[String!]!]! }"
    ),
    "implementation of the interface": (
        "interface Node { id: ID }\ntype User implements Node { id: ID }\n"
        "interface I { n: [Node] }\ntype T implements I { n: [User!]! }"
    ),
    "interface implementing the interface": (
        "interface Node { id: ID }\ninterface Resource implements Node { id: ID }\n"
        "interface I { n: Node }\ntype T implements I { n: Resource }"
    ),
    "member of the union": (
        "type A { x: Int }\ntype B { x: Int }\nunion U = A | B\n"
        "interface I { u: U! }\ntype T implements I { u: B! }"
    ),
    "additional optional arguments": (
        "interface I { a(x: Int): String }\n"
        "type T implements I { a(x: Int, y: Int, z: Int! = 1): String }"
    ),
    "every ancestor declared": (
        "interface A { id: ID }\ninterface B implements A { id: ID }\n"
        "type T implements B & A { id: ID }"
    ),
    "interface fields provided through an extension": (
        "interface I { a(x: Int): Int }\ntype T implements I { b: Int }\n"
        "extend type T { a(x: Int): Int! }"
    ),
}


def _graphql_core_errors(text: str) -> list[str]:
    return [error.message for error in validate_schema(build_schema(text))]


@pytest.mark.parametrize(("text", "where"), INVALID.values(), ids=INVALID.keys())
def test_invalid_implementations_are_refused_as_graphql_core_refuses_them(
    text: str, where: str
) -> None:
    expected = _graphql_core_errors(text)
    assert expected, "graphql-core accepts this schema"
    with pytest.raises(FormatError) as caught:
        read_sdl("s.graphql", [("s.graphql", text)])
    prefix = f"s.graphql:{where}: "
    message = str(caught.value)
    assert message.startswith(prefix), message
    assert message.removeprefix(prefix) in expected


@pytest.mark.parametrize("text", VALID.values(), ids=VALID.keys())
def test_valid_implementations_are_accepted_as_graphql_core_accepts_them(text: str) -> None:
    text += "\ntype Query { t: T }"
    assert _graphql_core_errors(text) == []
    read_sdl("s.graphql", [("s.graphql", text)])


def test_a_field_added_by_an_extension_in_another_file_is_located_there() -> None:
    files = [
        ("a.graphql", "interface I { a: Int! }\ntype Query { t: T }"),
        ("b.graphql", "type T implements I { b: Int }\nextend type T {\n  a: Int\n}"),
    ]
    with pytest.raises(FormatError) as caught:
        read_sdl("dir", files)
    assert str(caught.value) == (
        "b.graphql:3:3: Interface field I.a expects type Int! but T.a is type Int."
    )


def test_a_deprecated_implementation_field_is_accepted() -> None:
    """graphql-core 3.3 refuses it (a draft-specification rule), graphql-js 16 does not, and
    GitHub's public schema has such fields: Tessera reads them."""
    text = "interface I { a: Int }\ntype T implements I { a: Int @deprecated }\ntype Query { t: T }"
    assert _graphql_core_errors(text) == [
        "Interface field I.a is not deprecated, so implementation field T.a must not be deprecated."
    ]
    schema = read_sdl("s.graphql", [("s.graphql", text)])
    assert "a" in schema.types["T"].fields


def _introspection(tmp_path: Path, text: str, field: dict[str, object]) -> Path:
    """An introspection result of ``text`` (a valid schema) with ``T.a`` updated by
    ``field``: graphql-core introspects only valid schemas."""
    result = introspection_from_schema(build_schema(text))
    (t_type,) = (t for t in result["__schema"]["types"] if t["name"] == "T")
    t_type["fields"][0].update(field)
    path = tmp_path / "schema.json"
    path.write_text(json.dumps({"data": result}), encoding="utf-8")
    return path


def test_an_introspection_result_with_a_deprecated_implementation_field_is_accepted(
    tmp_path: Path,
) -> None:
    text = "interface I { a: Int }\ntype T implements I { a: Int }\ntype Query { t: T }"
    path = _introspection(tmp_path, text, {"isDeprecated": True, "deprecationReason": "old"})
    loaded = GraphQLFormat().load(FileSource(), str(path), Settings(Mode.AUTO, strict=False))
    assert loaded.types["T"].fields["a"].directives == (("deprecated", (("reason", '"old"'),)),)


def test_an_invalid_implementation_in_an_introspection_result_is_refused(tmp_path: Path) -> None:
    text = "interface I { a: Int }\ntype T implements I { a: Int }\ntype Query { t: T }"
    string = {"kind": "SCALAR", "name": "String", "ofType": None}
    path = _introspection(tmp_path, text, {"type": string})
    with pytest.raises(FormatError, match=r"Interface field I\.a expects type Int but T\.a is"):
        GraphQLFormat().load(FileSource(), str(path), Settings(Mode.AUTO, strict=False))
