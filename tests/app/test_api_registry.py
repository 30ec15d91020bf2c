"""The registry API over the mirror: contracts, versions, diffs, teams, consumers, search, the
pre-publish check, impact and the resync endpoint. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tessera_app.auth import create_key
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.base import transaction
from tessera_app.db.registry_models import Consumer, ContractVersion
from tessera_app.mirror import record_version, resync
from tessera_app.settings import Settings
from tessera_app.web import create_app

from .test_mirror import SPEC, make_registry

PEPPER = "k" * 32
API = "/api/v1"


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return make_registry(tmp_path)


@pytest.fixture
def client(
    database_url: str, sessions: sessionmaker[Session], registry: Path
) -> Iterator[TestClient]:
    with transaction(sessions) as session:
        resync(session, registry)
    app = create_app(
        Settings(database_url=database_url, registry_path=str(registry), secret_key=PEPPER)
    )
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def get(client: TestClient, url: str, status: int = 200) -> Any:
    response = client.get(API + url)
    assert response.status_code == status, response.text
    return response.json()


def post(client: TestClient, url: str, body: Any = None, status: int = 200, **kw: Any) -> Any:
    response = client.post(API + url, json=body, **kw)
    assert response.status_code == status, response.text
    return response.json()


def spec(client: TestClient, version: str = "2.1.0") -> str:
    text: str = get(client, f"/contracts/orders-api/versions/{version}")["files"][SPEC]
    return text


def test_contracts_are_listed_filtered_and_paginated(client: TestClient) -> None:
    page = get(client, "/contracts")
    assert [c["id"] for c in page["items"]] == [
        "checkout-events",
        "orders-api",
        "orders-mart",
        "storefront-graph",
    ]
    assert page["total"] == 4
    orders = page["items"][1]
    assert (orders["owner"], orders["active_version"], orders["tags"]) == (
        "orders",
        "2.2.0",
        ["pii", "tier-1"],
    )
    assert [c["id"] for c in get(client, "/contracts?team=checkout")["items"]] == [
        "checkout-events",
        "storefront-graph",
    ]
    assert [c["id"] for c in get(client, "/contracts?format=dbt")["items"]] == ["orders-mart"]
    tagged = get(client, "/contracts?tag=pii&limit=1&offset=1")
    assert ([c["id"] for c in tagged["items"]], tagged["total"]) == (["orders-mart"], 2)
    assert get(client, "/contracts?tag=nothing")["items"] == []
    get(client, "/contracts?limit=0", status=422)
    get(client, "/contracts?limit=501", status=422)


def test_a_contract_with_its_settings_declared_and_in_effect(client: TestClient) -> None:
    orders = get(client, "/contracts/orders-api")
    assert orders["versions"] == ["2.1.0", "2.2.0"]
    assert orders["consumers"] == 2
    assert orders["declared"]["versioning"] == "enforce"
    assert orders["declared"]["prerelease_allowed"] is None
    assert orders["effective"]["prerelease_allowed"] is True  # tessera.yaml's default
    mart = get(client, "/contracts/orders-mart")
    assert mart["declared"]["versioning"] is None
    assert mart["effective"]["versioning"] == "suggest"  # tessera.yaml's default
    assert mart["effective"]["guarantee_policy"] == "strict"
    assert mart["active_version"] is None and mart["versions"] == []
    assert {"kind": "unique", "element": "fct_orders.order_id", "args": {}} in mart["guarantees"]
    assert get(client, "/contracts/nope", status=404) == {"detail": "no contract 'nope'"}
    get(client, "/contracts/Not%20An%20Id", status=422)


def test_versions_and_the_diff_between_any_two(client: TestClient) -> None:
    versions = get(client, "/contracts/orders-api/versions")
    assert [(v["version"], v["pull_request"]) for v in versions] == [("2.1.0", 142), ("2.2.0", 150)]
    assert "files" not in versions[0]
    one = get(client, "/contracts/orders-api/versions/2.2.0")
    assert one["published_at"] == "2025-06-01T10:00:00Z"
    assert one["fingerprints"] == ["f" * 16]
    get(client, "/contracts/orders-api/versions/9.9.9", status=404)
    get(client, "/contracts/nope/versions", status=404)

    forward = get(client, "/contracts/orders-api/diff?from=2.1.0&to=2.2.0")
    assert (forward["verdict"], forward["bump"], forward["format"]) == (
        "breaking",
        "major",
        "openapi",
    )
    removed = [f for f in forward["findings"] if f["severity"] == "breaking"]
    assert removed and all("email" in f["path"] for f in removed)
    assert all(len(f["fingerprint"]) >= 16 for f in forward["findings"])
    backward = get(client, "/contracts/orders-api/diff?to=2.1.0&from=2.2.0")
    assert {f["rule"] for f in backward["findings"]} == {"schema.property.added"}
    assert {f["severity"] for f in backward["findings"]} == {"breaking", "safe"}  # input, output
    assert get(client, "/contracts/orders-api/diff?from=2.1.0&to=2.1.0")["findings"] == []
    get(client, "/contracts/orders-api/diff?from=2.1.0&to=3.0.0", status=404)
    get(client, "/contracts/orders-api/diff?from=2.1.0", status=422)


def test_teams_and_consumers(client: TestClient) -> None:
    teams = get(client, "/teams")
    assert [t["id"] for t in teams["items"]] == ["checkout", "data-platform", "orders"]
    orders = get(client, "/teams/orders")
    assert (orders["github_team"], orders["contracts"], orders["consumers"]) == (
        "acme/orders",
        ["orders-api"],
        ["orders-reporting"],
    )
    assert orders["channels"][1] == {"kind": "email", "target": "orders-team@acme.example"}
    get(client, "/teams/nobody", status=404)

    readers = get(client, "/consumers?contract=orders-api")
    assert [c["id"] for c in readers["items"]] == ["analytics-ingest", "checkout-web"]
    web = readers["items"][1]
    assert web["dependencies"][0]["uses"]["fields"] == ["Order.id", "Order.status", "Order.total"]
    assert web["dependencies"][0]["republishes"] == ["checkout-events"]
    ingest = readers["items"][0]
    assert [d["uses"] is None for d in ingest["dependencies"]] == [False, True]
    assert get(client, "/consumers?team=orders")["total"] == 1
    assert get(client, "/consumers?team=orders&contract=orders-api")["items"] == []


def test_search_by_text_type_team_and_tag(client: TestClient) -> None:
    hits = get(client, "/search?q=ORDERS")["items"]
    assert (hits[0]["type"], hits[0]["id"]) == ("team", "orders")  # the exact id first
    assert {("contract", "orders-api"), ("consumer", "orders-reporting")} <= {
        (h["type"], h["id"]) for h in hits
    }
    assert [h["id"] for h in get(client, "/search?q=order&type=contract&team=orders")["items"]] == [
        "orders-api"
    ]
    pii_teams = get(client, "/search?tag=pii&type=team")["items"]
    assert [h["id"] for h in pii_teams] == ["data-platform", "orders"]
    assert get(client, "/search?q=%25")["items"] == []  # LIKE wildcards are literal
    get(client, "/search?type=service", status=422)


def test_check_a_raw_spec_before_publishing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    current = spec(client, "2.2.0")
    breaking = current.replace("          enum: [placed, paid, shipped, cancelled]\n", "")
    result = post(
        client, "/contracts/orders-api/check", {"spec": breaking, "proposed_version": "2.3.0"}
    )
    assert (result["against"], result["verdict"], result["bump"]) == ("2.2.0", "breaking", "major")
    assert result["next_version"] == "3.0.0"
    rules = {f["rule"] for f in result["diff"]["findings"]}
    assert "lifecycle.version.bump-insufficient" in rules  # enforce: 2.3.0 is too small
    assert result["diff"]["version_check"]["ok"] is False
    same = post(
        client,
        "/contracts/orders-api/check",
        {"files": {SPEC: current}, "proposed_version": "2.2.1"},
    )
    assert (same["verdict"], same["bump"], same["diff"]["findings"]) == ("compatible", "none", [])

    bad = post(
        client, "/contracts/orders-api/check", {"spec": "openapi: 3.0.3\npaths: [\n"}, status=422
    )
    assert bad["detail"].startswith(f"orders-api@proposed:{SPEC}:2:")
    assert "\n" not in bad["detail"]
    post(client, "/contracts/orders-mart/check", {"spec": "{}"}, status=409)
    post(client, "/contracts/nope/check", {"spec": "x"}, status=404)
    post(client, "/contracts/orders-api/check", {"spec": "x", "files": {"a": "b"}}, status=422)
    post(client, "/contracts/orders-api/check", {"files": {"../etc/passwd": "x"}}, status=422)
    events = {
        "events.proto": 'syntax = "proto3";\npackage acme.v1;\nmessage Paid { string id = 1; }\n'
    }
    empty = post(client, "/contracts/checkout-events/check", {"files": events}, status=409)
    assert "no published version" in empty["detail"]
    with transaction(sessions) as session:
        record_version(session, "checkout-events", "1.0.0", events, "r/x", "p", "c" * 40, 1, [])
    auto = post(
        client,
        "/contracts/checkout-events/check",
        {"files": events, "proposed_version": "2.0.0"},
        status=422,
    )
    assert "versioned automatically" in auto["detail"]
    same = post(client, "/contracts/checkout-events/check", {"files": events})
    assert (same["against"], same["next_version"], same["verdict"]) == (
        "1.0.0",
        "1.0.0",
        "compatible",
    )
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ContractVersion)) == 3


@pytest.mark.parametrize("ref", ["/etc/passwd", "../../../../etc/passwd", "%2e%2e/%2e%2e/x.yaml"])
def test_a_checked_spec_reads_nothing_but_its_own_files(client: TestClient, ref: str) -> None:
    current = spec(client, "2.2.0")
    hostile = current.replace("paths:\n", f"x-leak:\n  $ref: '{ref}'\npaths:\n", 1)
    assert hostile != current
    refused = post(client, "/contracts/orders-api/check", {"spec": hostile}, status=422)
    assert refused["detail"].startswith(f"orders-api@proposed:{SPEC}:")
    assert "outside the spec's root orders-api@proposed" in refused["detail"]
    assert "root:" not in refused["detail"]  # nothing of /etc/passwd


def test_impact_of_a_proposed_spec_writes_nothing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent))
    changed = spec(client, "2.2.0").replace("        total:\n          type: number\n", "")
    result = post(
        client, "/contracts/orders-api/impact", {"spec": changed, "proposed_version": "3.0.0"}
    )
    assert (result["verdict"], result["versions"]["current"]) == ("breaking", "2.2.0")
    assert result["acknowledgement"]["required"] is True
    assert set(result["acknowledgement"]["teams"]) == {"checkout", "data-platform"}
    web = next(c for c in result["consumers"] if c["consumer"] == "checkout-web")
    assert web["must_acknowledge"] and web["in_range"] is False  # ^2.0 excludes 3.0.0
    assert [m["element"] for m in web["matches"]] == ["POST /orders → 201 → body.total"]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
    bad = post(
        client, "/contracts/orders-api/impact", {"spec": "openapi: 3.0.3\npaths: [\n"}, status=422
    )
    assert SPEC in bad["detail"]


def test_resync_needs_an_admin_key(
    client: TestClient, sessions: sessionmaker[Session], registry: Path
) -> None:
    with transaction(sessions) as session:
        admin, _ = create_key(session, "ops", ["admin"], owner="alice", pepper=PEPPER)
        reader, _ = create_key(session, "ci", ["read"], pepper=PEPPER)
    post(client, "/registry/resync", status=401)
    post(client, "/registry/resync", status=403, headers={"Authorization": f"Bearer {reader}"})
    get(client, "/contracts")  # reads are open
    assert (
        client.get(f"{API}/contracts", headers={"Authorization": "Bearer tsk_wrong"}).status_code
        == 401
    )

    (registry / "consumers/orders-reporting.yaml").unlink()
    report = post(client, "/registry/resync", headers={"Authorization": f"Bearer {admin}"})
    assert report["changes"] == 3  # the consumer and its two declarations
    assert report["tables"]["dependencies"] == {"inserted": 0, "updated": 0, "deleted": 2}
    with sessions() as session:
        assert session.get(Consumer, "orders-reporting") is None
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert event is not None and (event.action, event.actor) == (
            "registry.resync",
            "alice (admin key ops)",
        )
    (registry / "teams/orders.yaml").write_text("id: orders\n")  # github_team is missing
    bad = post(client, "/registry/resync", status=422, headers={"Authorization": f"Bearer {admin}"})
    assert "orders.yaml" in bad["detail"]


def test_resync_without_a_registry_path(database_url: str, sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        admin, _ = create_key(session, "ops", ["admin"], owner="alice", pepper=PEPPER)
    app = create_app(Settings(database_url=database_url, secret_key=PEPPER))
    with TestClient(app) as client:
        post(client, "/registry/resync", status=409, headers={"Authorization": f"Bearer {admin}"})
    app.state.engine.dispose()
