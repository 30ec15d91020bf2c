"""Validating a registry: every problem at once, each at file:line:column."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera_engine.errors import InputError
from tessera_engine.registry.loader import load_registry
from tessera_engine.registry.validate import validate

from .registry_helpers import TEMPLATE, registry


def _lines(root: Path) -> list[str]:
    result = validate(root)
    prefix = str(root) + "/"
    return [str(p).removeprefix(prefix) for p in result.problems]


def test_the_template_is_valid() -> None:
    result = validate(TEMPLATE)
    assert result.problems == []
    assert result.counts == {
        "teams": 3,
        "contracts": 4,
        "consumers": 3,
        "declarations": 5,
        "versions": 1,
        "uses": 5,
    }
    loaded = load_registry(TEMPLATE)
    assert set(loaded.teams) == {"orders", "checkout", "data-platform"}
    checkout = loaded.consumers["checkout-web"]
    (dependency,) = checkout.dependencies
    assert dependency.republishes == ("checkout-events",)
    assert dependency.uses.operations == ("POST /orders", "GET /orders/{orderId}")
    assert dependency.location is not None
    assert (dependency.location.line, dependency.location.column) == (7, 3)
    events = loaded.contracts["checkout-events"]
    assert events.proto_level == "wire_json"
    assert loaded.prerelease_of(events).skip_acknowledgement
    assert not loaded.prerelease_of(loaded.contracts["orders-api"]).skip_acknowledgement
    assert loaded.versioning_of(loaded.contracts["orders-api"]) == "enforce"
    assert loaded.versioning_of(loaded.contracts["storefront-graph"]) == "suggest"
    mart = loaded.contracts["orders-mart"]
    assert [g.kind for g in mart.guarantees] == ["unique", "not_null", "freshness"]
    assert mart.guarantees[2].args == {"within": "24h"}
    assert loaded.contracts["orders-api"].annotations["Order.email"] == ("pii",)
    assert [c.id for c, _ in loaded.consumers_of("orders-api")] == [
        "analytics-ingest",
        "checkout-web",
    ]


CONSUMER = """\
team: checkout
service: web
consumes:
  - contract: nope
    versions: "^1.2"
  - contract: checkout-events
  - contract: orders-mart
    versions: "1.2.3.4"
    uses:
      operations: [GET /x]
    republishes: [ghost]
  - contract: orders-api
    versions: 2.0
    colour: blue
"""


def test_every_problem_is_reported_at_its_key_or_value(tmp_path: Path) -> None:
    orders = (TEMPLATE / "contracts/orders-api.yaml").read_text(encoding="utf-8")
    root = registry(
        tmp_path,
        {
            "consumers/web.yaml": CONSUMER.replace("    colour: blue\n", "").replace(
                "versions: 2.0", "versions: '2.0'"
            ),
            "contracts/orders-api.yaml": orders.replace("owner: orders", "owner: shipping").replace(
                "format: openapi", "format: graphql"
            ),
            "teams/checkout.yaml": "id: checkout\ngithub_team: acme/checkout\nid: again\n",
        },
    )
    assert _lines(root) == [
        "consumers/web.yaml:4:15: unknown contract 'nope': no contracts/nope.yaml",
        "consumers/web.yaml:6:15: team 'checkout' consumes its own contract 'checkout-events':"
        " declare only other teams' contracts",
        "consumers/web.yaml:8:15: invalid version range: '1.2.3.4' is not a version or version "
        "range",
        "consumers/web.yaml:10:7: uses.operations does not apply to a dbt contract "
        "(it takes columns)",
        "consumers/web.yaml:11:19: republishes an unknown contract 'ghost'",
        "contracts/orders-api.yaml:3:8: unknown team 'shipping': no teams/shipping.yaml",
        "contracts/orders-api.yaml:12:11: policy (strict | lenient) applies to openapi, swagger, "
        "jsonschema contracts, not graphql",
        "contracts/orders-api/versions/2.1.0.json:4:3: orders-api 2.1.0 (its active version) was "
        "published as openapi, but the contract's format is graphql: the uses declared on it "
        "cannot be checked",
        # a file that does not load is reported once; references to it are not "unknown"
        "teams/checkout.yaml:3:1: duplicate key 'id'",
    ]


def test_schema_errors_name_the_key_or_value(tmp_path: Path) -> None:
    root = registry(tmp_path, {"consumers/web.yaml": CONSUMER})
    assert _lines(root) == [
        "consumers/web.yaml:13:15: consumes[3].versions: expected a string, found 2.0 (quote it)",
        "consumers/web.yaml:14:5: consumes[3]: unknown key 'colour' (expected contract, "
        "republishes, uses, versions)",
    ]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("teams/a.yaml", "", "teams/a.yaml:1:1: the file is empty: expected a mapping of keys"),
        (
            "teams/a.yaml",
            "- id: a\n",
            "teams/a.yaml:1:1: expected a mapping of keys at the top, found a list",
        ),
        (
            "teams/a.yaml",
            "id: a\ngithub_team: x/y\nname: &n A\n",
            "teams/a.yaml:3:7: YAML anchors are not allowed in a registry file",
        ),
        (
            "teams/a.yaml",
            "id: a\ngithub_team: !!str x/y\n",
            "teams/a.yaml:2:14: YAML tags "
            "(tag:yaml.org,2002:str) are not allowed in a registry file",
        ),
        (
            "teams/a.yaml",
            "id: a\ngithub_team: x/y\n---\nid: b\n",
            "teams/a.yaml:3:1: a registry file holds one YAML document",
        ),
        (
            "teams/a.yaml",
            "id: b\ngithub_team: x/y\n",
            "teams/a.yaml:1:5: the id 'b' does not match the file name ('a'): name the file b.yaml",
        ),
        (
            "teams/a.yaml",
            "id: A\ngithub_team: x/y\n",
            "teams/a.yaml:1:5: id: 'A' is not an id: "
            "lowercase letters, digits and hyphens, starting with a letter or digit",
        ),
        ("teams/a.yaml", "github_team: x/y\n", "teams/a.yaml:1:1: missing required key 'id'"),
        ("teams/a.yaml", "id: a\ngithub_team: [x\n", "teams/a.yaml:2:14: invalid YAML: "),
    ],
)
def test_bad_files(tmp_path: Path, name: str, text: str, expected: str) -> None:
    lines = _lines(registry(tmp_path, {name: text}))
    assert len(lines) == 1
    assert lines[0].startswith(expected)


def test_not_utf8(tmp_path: Path) -> None:
    root = registry(tmp_path)
    (root / "teams/bad.yaml").write_bytes(b"id: bad\nname: \xff\n")
    assert _lines(root) == ["teams/bad.yaml:2:1: not UTF-8 text (invalid byte 0xff)"]


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    """Nine levels of nine aliases would expand to billions of values: refused by the YAML
    reader's alias limit, with Python's allocations staying small (no expansion happened)."""
    lines = ["id: a", "github_team: x/y", "name: &a0 [lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"n{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    root = registry(tmp_path, {"teams/a.yaml": "\n".join(lines) + "\n"})
    import tracemalloc

    tracemalloc.start()
    try:
        problems = _lines(root)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024
    assert len(problems) == 1
    assert "aliases expand too much" in problems[0] or "not allowed" in problems[0]


def test_duplicate_ids_and_missing_settings(tmp_path: Path) -> None:
    root = registry(
        tmp_path,
        {
            "teams/orders.yml": (TEMPLATE / "teams/orders.yaml").read_text(encoding="utf-8"),
            "tessera.yaml": None,
        },
    )
    assert _lines(root) == [
        f"teams/orders.yml:2:5: duplicate team id 'orders' (also in {root}/teams/orders.yaml)",
        "tessera.yaml:1:1: not a registry: tessera.yaml is missing",
    ]


def test_source_needs_exactly_one_of_path_and_paths(tmp_path: Path) -> None:
    text = (TEMPLATE / "contracts/storefront-graph.yaml").read_text(encoding="utf-8")
    both = text.replace("  path: schema", "  paths: [a.graphql]\n  path: schema")
    neither = text.replace("  path: schema/storefront.graphql\n", "")
    assert _lines(registry(tmp_path / "1", {"contracts/storefront-graph.yaml": both})) == [
        "contracts/storefront-graph.yaml:8:3: source: give path or paths, not both"
    ]
    assert _lines(registry(tmp_path / "2", {"contracts/storefront-graph.yaml": neither})) == [
        "contracts/storefront-graph.yaml:6:1: source: missing 'path' (or 'paths'): where the "
        "spec is in repo"
    ]


def test_load_registry_raises_the_first_problem(tmp_path: Path) -> None:
    root = registry(tmp_path, {"consumers/web.yaml": CONSUMER})
    with pytest.raises(InputError) as err:
        load_registry(root)
    assert str(err.value) == (
        f"{root}/consumers/web.yaml:13:15: consumes[3].versions: expected a string, found 2.0 "
        "(quote it) (and 1 more problem: run tessera registry validate)"
    )


def test_not_a_directory(tmp_path: Path) -> None:
    assert [str(p) for p in validate(tmp_path / "none").problems] == [
        f"{tmp_path}/none:1:1: registry not found"
    ]
