"""``tessera registry validate``: text, json and github output, and exit codes."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from tessera_engine.cli import main

from .registry_helpers import TEMPLATE, registry


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


NOTES = [
    "consumers/analytics-ingest.yaml:8:3: note: checkout-events has no published version yet: "
    "nothing to check the uses declared here against until one is published",
    "consumers/orders-reporting.yaml:6:3: note: orders-mart has no published version yet: "
    "nothing to check the uses declared here against until one is published",
    "consumers/orders-reporting.yaml:13:3: note: storefront-graph has no published version yet: "
    "nothing to check the uses declared here against until one is published",
]


def test_a_valid_registry_exits_0_with_its_notes_and_a_summary() -> None:
    code, out, _ = _run("registry", "validate", str(TEMPLATE))
    assert code == 0
    assert out.splitlines() == [
        *(f"{os.path.relpath(TEMPLATE)}/{note}" for note in NOTES),
        "registry valid (3 notes): 3 teams, 4 contracts, 3 consumers, 5 declarations, "
        "1 versions, 5 uses",
    ]


def test_an_invalid_registry_exits_2_listing_every_problem(tmp_path: Path) -> None:
    root = registry(tmp_path, {"teams/orders.yaml": "id: orders\ngithub_team: [x]\nx: 1\n"})
    code, out, _ = _run("registry", "validate", str(root))
    assert code == 2
    assert out.splitlines() == [
        f"{root}/teams/orders.yaml:2:1: github_team: expected a string, found a list",
        f"{root}/teams/orders.yaml:3:1: unknown key 'x' (expected channels, github_team, id, "
        "maintainers, name)",
        *(f"{root}/{note}" for note in NOTES),
        "registry 2 problems (3 notes): 2 teams, 4 contracts, 3 consumers, 5 declarations, "
        "1 versions, 5 uses",
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


def test_unknown_uses_are_listed_in_every_output(tmp_path: Path) -> None:
    consumer = (TEMPLATE / "consumers/checkout-web.yaml").read_text(encoding="utf-8")
    root = registry(
        tmp_path, {"consumers/checkout-web.yaml": consumer.replace("Order.status", "Order.stat")}
    )
    message = (
        "'Order.stat' is not a field of orders-api 2.1.0 (its active version): did you mean "
        "'Order.status'?"
    )
    code, out, _ = _run("registry", "validate", str(root))
    assert code == 2
    assert out.splitlines()[0] == f"{root}/consumers/checkout-web.yaml:15:11: {message}"
    assert out.splitlines()[-1].startswith("registry 1 problem (3 notes): ")
    code, out, _ = _run("registry", "validate", str(root), "--output", "json")
    document = json.loads(out)
    assert code == 2 and document["valid"] is False
    assert document["errors"] == [
        {
            "file": f"{root}/consumers/checkout-web.yaml",
            "line": 15,
            "column": 11,
            "message": message,
        }
    ]
    assert [note["line"] for note in document["notes"]] == [8, 6, 13]
    assert document["counts"]["uses"] == 5
    code, out, _ = _run("registry", "validate", str(root), "--output", "github")
    lines = out.splitlines()
    assert lines[0] == (
        f"::error file={root}/consumers/checkout-web.yaml,line=15,col=11::{message}"
    )
    assert lines[1].startswith(
        f"::notice file={root}/consumers/analytics-ingest.yaml,line=8,col=3::checkout-events "
    )
    assert len(lines) == 5


def test_registry_without_an_action_is_a_usage_error() -> None:
    code, _, err = _run("registry")
    assert code == 2
    assert "needs an action" in err
