"""The GraphQL format end to end: directories of SDL files, introspection JSON, locations,
operations, detection and one-line errors from the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from graphql import build_schema, introspection_from_schema

from tessera_engine import DiffOptions, DiffResult, Finding, Mode, diff
from tessera_engine.cli import main

OLD = """type Query {
  user(id: ID!): User
  legacy: String
}

type User {
  id: ID!
  name: String!
}
"""
NEW = """type Query {
  user(id: ID!): User
}

type User {
  id: ID!
  name: String
}
"""


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _only(result: DiffResult, rule: str) -> Finding:
    found = [f for f in result.findings if f.rule == rule]
    assert len(found) == 1, [(f.rule, f.path) for f in result.findings]
    return found[0]


def test_removed_root_field_is_located_at_its_type_and_names_the_operation(
    tmp_path: Path,
) -> None:
    _write(tmp_path, {"old.graphql": OLD, "new.graphql": NEW})
    result = diff(str(tmp_path / "old.graphql"), str(tmp_path / "new.graphql"))
    assert result.format == "graphql"
    removed = _only(result, "api.graphql-field.removed")
    assert removed.operations == ("Query.legacy",)
    assert removed.location is not None and removed.old_location is not None
    assert (removed.location.line, removed.location.column) == (1, 1)
    assert removed.old_location.file.endswith("old.graphql")
    assert (removed.old_location.line, removed.old_location.column) == (3, 3)
    nullable = _only(result, "schema.nullable.added")
    assert nullable.path == "User.name" and nullable.severity.value == "breaking"
    assert nullable.location is not None and nullable.location.line == 7
    assert nullable.operations == ()


def test_a_directory_is_one_schema(tmp_path: Path) -> None:
    old = _write(tmp_path / "old", {"schema.graphql": OLD})
    new = _write(
        tmp_path / "new",
        {
            "query.graphqls": "type Query { user(id: ID!): User legacy: String }",
            "types/user.gql": "type User { id: ID! }\nextend type User { name: String! }",
            "README.md": "not a schema",
        },
    )
    result = diff(str(old), str(new), DiffOptions(format="graphql"))
    assert result.findings == ()
    assert result.new == str(new)


def test_an_empty_directory_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    _write(tmp_path / "new", {"a.graphql": OLD})
    err = io.StringIO()
    code = main(["diff", str(tmp_path / "old"), str(tmp_path / "new")], stderr=err)
    assert code == 2
    assert "no .graphql" in err.getvalue() and err.getvalue().count("\n") == 1


def test_introspection_json_equals_its_sdl_and_is_located_in_the_json(tmp_path: Path) -> None:
    introspection = {"data": introspection_from_schema(build_schema(OLD))}
    (tmp_path / "old.json").write_text(json.dumps(introspection, indent=2), encoding="utf-8")
    _write(tmp_path, {"old.graphql": OLD, "new.graphql": NEW})
    same = diff(str(tmp_path / "old.graphql"), str(tmp_path / "old.json"))
    assert same.format == "graphql" and same.findings == ()
    changed = diff(str(tmp_path / "new.graphql"), str(tmp_path / "old.json"))
    added = _only(changed, "api.graphql-field.added")
    assert added.path == "Query.legacy"
    assert added.location is not None and added.location.file.endswith("old.json")
    lines = (tmp_path / "old.json").read_text().splitlines()
    assert '"name": "legacy"' in lines[added.location.line]  # the field object's next line


def test_bare_introspection_and_invalid_introspection(tmp_path: Path) -> None:
    bare = introspection_from_schema(build_schema(OLD))
    (tmp_path / "bare.json").write_text(json.dumps(bare), encoding="utf-8")
    _write(tmp_path, {"old.graphql": OLD})
    assert diff(str(tmp_path / "old.graphql"), str(tmp_path / "bare.json")).findings == ()
    (tmp_path / "bad.json").write_text('{"__schema": {"types": 3}}', encoding="utf-8")
    err = io.StringIO()
    code = main(["diff", str(tmp_path / "old.graphql"), str(tmp_path / "bad.json")], stderr=err)
    assert code == 2
    assert "bad.json:1:1: invalid introspection result" in err.getvalue()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "type Query {\n  a: String\n  b(: Int\n}\n",
            "new.graphql:3:5: Syntax Error: Expected Name",
        ),
        ("type Query { a: Nope }", "new.graphql:1:14: Unknown type 'Nope'."),
        ("type Query { a: String\n  a: Int }", "new.graphql:2:3: Field 'Query.a' can only be"),
    ],
)
def test_bad_sdl_is_one_line_and_exit_2(tmp_path: Path, text: str, message: str) -> None:
    _write(tmp_path, {"old.graphql": OLD, "new.graphql": text})
    err = io.StringIO()
    code = main(["diff", str(tmp_path / "old.graphql"), str(tmp_path / "new.graphql")], stderr=err)
    assert code == 2
    assert message in err.getvalue()
    assert err.getvalue().count("\n") == 1


def test_mode_backward_judges_outputs_as_inputs(tmp_path: Path) -> None:
    _write(tmp_path, {"old.graphql": OLD, "new.graphql": NEW})
    options = DiffOptions(mode=Mode.BACKWARD)
    result = diff(str(tmp_path / "old.graphql"), str(tmp_path / "new.graphql"), options)
    assert _only(result, "schema.nullable.added").severity.value == "safe"
