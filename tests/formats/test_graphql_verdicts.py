"""Tessera's GraphQL verdicts against graphql-core's ``find_breaking_changes`` and
``find_dangerous_changes`` on a set of pairs: the same worst severity, except where Tessera
judges by position on purpose (listed in ``DIFFERENT`` with the reason)."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema, find_breaking_changes, find_dangerous_changes

from tessera_engine import DiffOptions, diff

BASE = """
type Query { user(id: ID!, role: Role): User  users(first: Int = 10, filter: Filter): [User!]! }
type Mutation { save(input: UserInput!): User }
interface Node { id: ID! }
type User implements Node { id: ID! name: String! tags: [String!] role: Role kind: Kind }
enum Role { ADMIN USER }
enum Kind { HUMAN BOT }
input Filter { name: String role: Role }
input UserInput { name: String! email: String }
union Result = User
"""

PAIRS: dict[str, tuple[str, str]] = {
    "field removed": ("name: String!", ""),
    "field added": ("name: String!", "name: String! nick: String"),
    "output became nullable": ("name: String!", "name: String"),
    "output became non-null": ("tags: [String!]", "tags: [String!]!"),
    "output list items nullable": ("tags: [String!]", "tags: [String]"),
    "output type changed": ("name: String!", "name: Int!"),
    "argument became required": ("role: Role)", "role: Role!)"),
    "argument became optional": ("user(id: ID!", "user(id: ID"),
    "argument removed": ("user(id: ID!, role: Role)", "user(id: ID!)"),
    "required argument added": ("users(first: Int = 10,", "users(first: Int = 10, after: ID!,"),
    "optional argument added": ("users(first: Int = 10,", "users(first: Int = 10, after: ID,"),
    "argument default changed": ("first: Int = 10", "first: Int = 20"),
    "input field required added": ("email: String }", "email: String age: Int! }"),
    "input field optional added": ("email: String }", "email: String age: Int }"),
    "input field removed": ("name: String role: Role }", "name: String }"),
    "input field became required": (
        "input UserInput { name: String! email: String",
        ("input UserInput { name: String! email: String!"),
    ),
    "enum value added, both ways": ("enum Role { ADMIN USER }", "enum Role { ADMIN USER GUEST }"),
    "enum value added, output only": ("enum Kind { HUMAN BOT }", "enum Kind { HUMAN BOT ALIEN }"),
    "enum value removed, both ways": ("enum Role { ADMIN USER }", "enum Role { ADMIN }"),
    "enum value removed, output only": ("enum Kind { HUMAN BOT }", "enum Kind { HUMAN }"),
    "union member added": ("union Result = User", "union Result = User | Bot\ntype Bot { x: Int }"),
    "union member removed": (
        "union Result = User",
        "union Result = Bot\ntype Bot { x: Int }",
    ),
    "interface added": (
        "interface Node { id: ID! }",
        "interface Node { id: ID! }\ninterface E { id: ID! }",
    ),
    "implementation added": ("type User implements Node", "type User implements Node & Named"),
    "implementation removed": ("type User implements Node", "type User"),
    "type removed": ("union Result = User", ""),
    "type kind changed": ("union Result = User", "type Result { a: Int }"),
    "description only": ("type Query {", '"The root" type Query {'),
    "deprecation only": ("name: String!", 'name: String! @deprecated(reason: "no")'),
}
EXTRA = {"implementation added": "interface Named { name: String! }"}

DIFFERENT = {
    # graphql-core (like Inspector) calls any optional argument or input field added dangerous:
    # callers that do not send it keep working, so Tessera says safe.
    "optional argument added": "safe",
    "input field optional added": "safe",
    # the enum is only read (an output): clients never send the removed value.
    "enum value removed, output only": "safe",
}


def _expected(old: str, new: str) -> str:
    a, b = build_schema(old), build_schema(new)
    if find_breaking_changes(a, b):
        return "breaking"
    return "dangerous" if find_dangerous_changes(a, b) else "safe"


def _ours(old: str, new: str, tmp_path: Path) -> str:
    (tmp_path / "old.graphql").write_text(old, encoding="utf-8")
    (tmp_path / "new.graphql").write_text(new, encoding="utf-8")
    result = diff(str(tmp_path / "old.graphql"), str(tmp_path / "new.graphql"), DiffOptions())
    worst = max((f.severity for f in result.findings), default=None)
    return "safe" if worst is None or worst.value in ("safe", "annotation") else worst.value


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_verdict_agrees_with_graphql_core(name: str, tmp_path: Path) -> None:
    before, after = PAIRS[name]
    old = BASE + EXTRA.get(name, "")
    new = old.replace(before, after, 1)
    assert new != old, "the pair must change something"
    expected = _expected(old, new)
    ours = _ours(old, new, tmp_path)
    if name in DIFFERENT:
        assert expected != DIFFERENT[name], "graphql-core now agrees: drop the exception"
        assert ours == DIFFERENT[name]
    else:
        assert ours == expected
