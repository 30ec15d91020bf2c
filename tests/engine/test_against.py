"""``tessera diff --against REF PATH``: the working tree against a git ref, sibling files
included, read straight from the object database."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from .helpers import assert_one_line_error, cli, line_of, only, spawn, write

OPENAPI = """\
openapi: 3.0.3
info:
  title: Orders
  version: 1.0.0
paths:
  /orders/{id}:
    get:
      responses:
        '200':
          description: an order
          content:
            application/json:
              schema:
                $ref: 'common.yaml#/components/schemas/Order'
"""
COMMON = """\
components:
  schemas:
    Order:
      type: object
      properties:
        id:
          type: string
        total:
          type: number
"""
SIGNATURE = pygit2.Signature("Tessera Tests", "tests@example.com", 1_700_000_000, 0)


def commit(repo: pygit2.Repository, message: str) -> pygit2.Oid:
    index = repo.index
    index.add_all()
    index.write()
    tree = index.write_tree()
    parents = [] if repo.head_is_unborn else [repo.head.target]
    return repo.create_commit("HEAD", SIGNATURE, SIGNATURE, message, tree, parents)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with openapi.yaml and its sibling common.yaml committed; cwd inside it."""
    root = tmp_path / "repo"
    root.mkdir()
    git = pygit2.init_repository(str(root), bare=False)
    write(root / "openapi.yaml", OPENAPI)
    write(root / "common.yaml", COMMON)
    commit(git, "first version")
    monkeypatch.chdir(root)
    return root


def test_unchanged_working_tree(repo: Path) -> None:
    run = cli("diff", "--against", "HEAD", "openapi.yaml", "--output", "json")
    assert run.code == 0, run.err
    assert run.data["findings"] == []
    assert run.data["old"] == "HEAD:openapi.yaml"


def test_breaking_change_in_a_sibling_file(repo: Path) -> None:
    new_common = COMMON.replace("        total:\n          type: number\n", "")
    write(repo / "common.yaml", new_common)
    run = cli("diff", "--against", "HEAD", "openapi.yaml", "--output", "json")
    assert run.code == 1, run.err
    data = run.data
    assert data["old"] == "HEAD:openapi.yaml"
    assert data["new"] == "openapi.yaml"
    removed = only(data, "schema.property.removed")
    assert removed["severity"] == "breaking"
    assert removed["path"] == "GET /orders/{id} → 200 → body.total"
    assert removed["location"]["file"] == "common.yaml"
    assert removed["location"]["line"] == line_of(new_common, "Order:")
    # the old side was read from git, not from the working tree
    assert removed["old_location"] == {
        "file": "HEAD:common.yaml",
        "line": line_of(COMMON, "total:"),
        "column": 9,
    }


def test_change_in_the_root_file_as_a_real_process(repo: Path) -> None:
    write(repo / "openapi.yaml", OPENAPI.replace("  /orders/{id}:", "  /order/{id}:"))
    run = spawn("diff", "--against", "HEAD", "openapi.yaml", "--output", "json", cwd=repo)
    assert run.code == 1, run.err
    assert '"api.operation.removed"' in run.out


def test_against_an_older_commit(repo: Path) -> None:
    git = pygit2.Repository(str(repo))
    write(repo / "common.yaml", COMMON.replace("type: number", "type: string"))
    commit(git, "total becomes a string")
    assert cli("diff", "--against", "HEAD", "openapi.yaml").code == 0
    run = cli("diff", "--against", "HEAD~1", "openapi.yaml", "--output", "json")
    assert run.code == 1, run.err
    changed = only(run.data, "schema.type.changed")
    assert changed["location"]["file"] == "common.yaml"
    assert run.data["old"] == "HEAD~1:openapi.yaml"


def test_against_a_branch_and_a_commit_id(repo: Path) -> None:
    git = pygit2.Repository(str(repo))
    first = git.head.target
    git.branches.local.create("release", git[first])
    write(repo / "common.yaml", COMMON.replace("type: number", "type: string"))
    commit(git, "total becomes a string")
    write(repo / "common.yaml", COMMON)  # the working tree is back to the first version
    assert cli("diff", "--against", "release", "openapi.yaml").code == 0
    assert cli("diff", "--against", str(first), "openapi.yaml").code == 0
    assert cli("diff", "--against", "HEAD", "openapi.yaml").code == 1


def test_path_given_from_a_subdirectory(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "docs").mkdir()
    monkeypatch.chdir(repo / "docs")
    write(repo / "common.yaml", COMMON.replace("type: number", "type: integer"))
    run = cli("diff", "--against", "HEAD", "../openapi.yaml", "--output", "json")
    assert run.code == 0, run.err  # number -> integer in a response narrows: safe
    assert [f["rule"] for f in run.data["findings"]] == ["schema.type.narrowed"]


def test_unknown_ref(repo: Path) -> None:
    run = cli("diff", "--against", "no-such-branch", "openapi.yaml")
    assert run.code == 2
    assert run.out == ""
    assert run.err.count("\n") == 1 and run.err.startswith("tessera: error: ")
    assert "no-such-branch" in run.err


def test_file_not_in_the_commit(repo: Path) -> None:
    write(repo / "new.yaml", OPENAPI)
    run = cli("diff", "--against", "HEAD", "new.yaml")
    assert run.code == 2
    assert run.out == ""
    assert "not found" in assert_one_line_error(run.err, "HEAD:new.yaml")


def test_old_siblings_are_read_from_the_commit(repo: Path) -> None:
    """HEAD refers to extra.yaml, which is deleted from the working tree (now back on
    common.yaml): the old side must still find it, in the commit."""
    git = pygit2.Repository(str(repo))
    write(repo / "extra.yaml", COMMON.replace("type: number", "type: string"))
    write(repo / "openapi.yaml", OPENAPI.replace("common.yaml#", "extra.yaml#"))
    commit(git, "use extra.yaml")
    (repo / "extra.yaml").unlink()
    write(repo / "openapi.yaml", OPENAPI)
    run = cli("diff", "--against", "HEAD", "openapi.yaml", "--output", "json")
    assert run.code == 1, run.err
    changed = only(run.data, "schema.type.changed")  # string (extra.yaml) -> number
    assert changed["location"]["file"] == "common.yaml"
    assert changed["location"]["line"] == line_of(COMMON, "type: number")


def test_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.chdir(outside)
    write(outside / "openapi.yaml", OPENAPI)
    run = cli("diff", "--against", "HEAD", "openapi.yaml")
    assert run.code == 2
    assert run.out == ""
    assert run.err.count("\n") == 1 and run.err.startswith("tessera: error: ")
    assert "git" in run.err


def test_empty_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "empty"
    pygit2.init_repository(str(root), bare=False)
    monkeypatch.chdir(root)
    write(root / "openapi.yaml", OPENAPI)
    run = cli("diff", "--against", "HEAD", "openapi.yaml")
    assert run.code == 2
    assert run.err.count("\n") == 1 and run.err.startswith("tessera: error: ")
