"""``tessera registry validate``: text, json and github output, and exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path

from tessera_engine.cli import main

from .registry_helpers import TEMPLATE, registry


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_a_valid_registry_exits_0_with_a_summary() -> None:
    code, out, _ = _run("registry", "validate", str(TEMPLATE))
    assert code == 0
    assert out == (
        "registry valid: 3 teams, 4 contracts, 3 consumers, 5 declarations, 1 versions\n"
    )


def test_an_invalid_registry_exits_2_listing_every_problem(tmp_path: Path) -> None:
    root = registry(tmp_path, {"teams/orders.yaml": "id: orders\ngithub_team: [x]\nx: 1\n"})
    code, out, _ = _run("registry", "validate", str(root))
    assert code == 2
    assert out.splitlines() == [
        f"{root}/teams/orders.yaml:2:1: github_team: expected a string, found a list",
        f"{root}/teams/orders.yaml:3:1: unknown key 'x' (expected channels, github_team, id, "
        "maintainers, name)",
        "registry 2 problems: 2 teams, 4 contracts, 3 consumers, 5 declarations, 1 versions",
    ]
    code, out, _ = _run("registry", "validate", str(root), "--output", "json")
    document = json.loads(out)
    assert code == 2 and document["valid"] is False
    assert document["errors"][0] == {
        "file": f"{root}/teams/orders.yaml",
        "line": 2,
        "column": 1,
        "message": "github_team: expected a string, found a list",
    }
    assert document["counts"]["contracts"] == 4
    code, out, _ = _run("registry", "validate", str(root), "--output", "github")
    assert code == 2
    assert out.splitlines()[0] == (
        f"::error file={root}/teams/orders.yaml,line=2,col=1::github_team: expected a string, "
        "found a list"
    )


def test_registry_without_an_action_is_a_usage_error() -> None:
    code, _, err = _run("registry")
    assert code == 2
    assert "needs an action" in err
