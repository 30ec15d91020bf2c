"""The service dependency graph: whole, by team, and a node's neighbourhood. On SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tessera_app.db.base import transaction
from tessera_app.mirror import resync
from tessera_app.settings import Settings
from tessera_app.web import create_app

from .test_mirror import make_registry


@pytest.fixture
def client(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> Iterator[TestClient]:
    with transaction(sessions) as session:
        resync(session, make_registry(tmp_path))
    app = create_app(Settings(database_url=database_url))
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def graph(client: TestClient, query: str = "", status: int = 200) -> Any:
    response = client.get(f"/api/v1/graph{query}")
    assert response.status_code == status, response.text
    return response.json()


def edges(found: Any) -> set[tuple[str, str, str]]:
    return {(e["source"], e["kind"], e["target"]) for e in found["edges"]}


def nodes(found: Any) -> set[str]:
    return {n["id"] for n in found["nodes"]}


def test_the_whole_graph(client: TestClient) -> None:
    found = graph(client)
    assert len(found["nodes"]) == 3 + 4 + 3  # teams, contracts, services
    assert (
        len(edges(found)) == 4 + 3 + 5 + 1
    )  # owns contracts, owns services, consumes, republishes
    assert ("service:checkout-web", "republishes", "contract:checkout-events") in edges(found)
    web = next(
        e
        for e in found["edges"]
        if e["source"] == "service:checkout-web" and e["kind"] == "consumes"
    )
    assert web["versions"] == "^2.0"
    for edge in found["edges"]:  # every edge's ends are nodes
        assert {edge["source"], edge["target"]} <= nodes(found)
    assert found["truncated"] is False
    small = graph(client, "?max_nodes=4")
    assert (len(small["nodes"]), small["truncated"]) == (4, True)
    for edge in small["edges"]:
        assert {edge["source"], edge["target"]} <= nodes(small)


def test_a_teams_part(client: TestClient) -> None:
    found = graph(client, "?team=checkout")
    assert edges(found) == {
        ("team:checkout", "owns", "contract:checkout-events"),
        ("team:checkout", "owns", "contract:storefront-graph"),
        ("team:checkout", "owns", "service:checkout-web"),
        ("service:checkout-web", "consumes", "contract:orders-api"),
        ("service:checkout-web", "republishes", "contract:checkout-events"),
        ("service:analytics-ingest", "consumes", "contract:checkout-events"),
        ("service:orders-reporting", "consumes", "contract:storefront-graph"),
    }
    labels = {n["id"]: (n["kind"], n["team"]) for n in found["nodes"]}
    assert labels["service:analytics-ingest"] == ("service", "data-platform")
    assert labels["contract:orders-api"] == ("contract", "orders")
    graph(client, "?team=nobody", status=404)


def test_a_neighbourhood(client: TestClient) -> None:
    one = graph(client, "?around=contract:orders-api")
    assert edges(one) == {
        ("team:orders", "owns", "contract:orders-api"),
        ("service:analytics-ingest", "consumes", "contract:orders-api"),
        ("service:checkout-web", "consumes", "contract:orders-api"),
    }
    two = graph(client, "?around=contract:orders-api&depth=2")
    assert edges(one) < edges(two)
    assert {
        ("service:checkout-web", "republishes", "contract:checkout-events"),
        ("team:orders", "owns", "service:orders-reporting"),
        ("team:checkout", "owns", "service:checkout-web"),
    } <= edges(two)
    assert "contract:storefront-graph" not in nodes(two)  # three hops away
    assert "contract:storefront-graph" in nodes(
        graph(client, "?around=contract:orders-api&depth=3")
    )
    team = graph(client, "?around=team:data-platform")
    assert nodes(team) == {"team:data-platform", "contract:orders-mart", "service:analytics-ingest"}


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("?around=contract:nope", 404),
        ("?around=service:nope", 404),
        ("?around=orders-api", 422),
        ("?around=planet:earth", 422),
        ("?around=team:orders&team=orders", 422),
        ("?around=team:orders&depth=5", 422),
        ("?around=team:orders&depth=0", 422),
    ],
)
def test_bad_graph_queries(client: TestClient, query: str, status: int) -> None:
    assert "detail" in graph(client, query, status=status)
