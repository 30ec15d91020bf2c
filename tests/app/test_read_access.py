"""``TESSERA_READ_ACCESS``: whether reads under ``/api/v1`` need an API key. Every read route
(found from the app's own routes, so a new one cannot slip through) is 401 without a key when
reads need one and answers with a key of any scope; the probes and the webhook endpoint never
need one; the OpenAPI document says so. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tessera_app.auth import create_key
from tessera_app.db.base import transaction
from tessera_app.github.ingress import signature_of
from tessera_app.settings import Settings
from tessera_app.web import create_app

PEPPER = "r" * 32
SECRET = "w" * 32
STRONG = {"secret_key": PEPPER, "webhook_secrets": SECRET}
# Path parameters filled in to reach each route (what they name need not exist: 404 is an
# answer; what matters is that the key was checked first).
SAMPLES = {"contract_id": "orders-api", "version": "1.0.0", "team_id": "web"}
# Body of the read operations that are POSTs (the pre-publish check and impact).
READ_POSTS = {
    "/api/v1/contracts/{contract_id}/check": {"spec": "openapi: 3.0.3\n"},
    "/api/v1/contracts/{contract_id}/impact": {"spec": "openapi: 3.0.3\n"},
}
EXPECTED = (  # the reads the documentation promises are covered
    "/api/v1/proposals",
    "/api/v1/proposals/{proposal_id}",
    "/api/v1/acknowledgements",
    "/api/v1/audit/events",
    "/api/v1/audit/verify",
    "/api/v1/contracts",
    "/api/v1/contracts/{contract_id}",
    "/api/v1/contracts/{contract_id}/versions",
    "/api/v1/contracts/{contract_id}/versions/{version}",
    "/api/v1/contracts/{contract_id}/diff",
    "/api/v1/teams",
    "/api/v1/teams/{team_id}",
    "/api/v1/consumers",
    "/api/v1/search",
    "/api/v1/jobs",
    "/api/v1/jobs/status",
    *READ_POSTS,
)


def _app(database_url: str, **settings: object) -> FastAPI:
    return create_app(Settings(database_url=database_url, **settings))  # type: ignore[arg-type]


@pytest.fixture
def closed(database_url: str, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    app = _app(database_url, read_access="key", **STRONG)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def _read_routes(database_url: str) -> list[tuple[str, str]]:
    """(method, path) of every ``/api/v1`` operation that only needs ``read``: those whose
    security, with reads open, makes the key optional (``{}``)."""
    app = _app(database_url, read_access="open")
    try:
        document = app.openapi()
    finally:
        app.state.engine.dispose()
    return sorted(
        (method.upper(), path)
        for path, operations in document["paths"].items()
        if path.startswith("/api/v1")
        for method, operation in operations.items()
        if {} in operation.get("security", [])
    )


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES.get(m.group(1), "1"), path)


def _call(client: TestClient, method: str, path: str, key: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if method == "GET":
        return client.get(_url(path), headers=headers).status_code
    return client.post(_url(path), json=READ_POSTS[path], headers=headers).status_code


def test_the_default_follows_the_environment() -> None:
    assert Settings(environment="development").reads_need_key is False
    assert Settings(environment="test").reads_need_key is True
    assert Settings(environment="production", **STRONG).reads_need_key is True  # type: ignore[arg-type]
    assert Settings(environment="production", read_access="open", **STRONG).reads_need_key is False  # type: ignore[arg-type]
    assert Settings(environment="development", read_access="key").reads_need_key is True


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESSERA_READ_ACCESS", "key")
    assert Settings().reads_need_key is True
    monkeypatch.setenv("TESSERA_READ_ACCESS", "sometimes")
    with pytest.raises(ValueError, match="read_access"):
        Settings()


def test_every_read_route_is_covered(database_url: str) -> None:
    reads = {path for _method, path in _read_routes(database_url)}
    assert set(EXPECTED) <= reads, set(EXPECTED) - reads
    app = _app(database_url, read_access="open")
    try:
        paths = app.openapi()["paths"]
    finally:
        app.state.engine.dispose()
    gets = {path for path, operations in paths.items() if "get" in operations}
    assert {p for p in gets if p.startswith("/api/v1")} - reads == {"/api/v1/keys"}  # admin


def test_reads_need_a_key_when_the_setting_says_key(
    closed: TestClient, sessions: sessionmaker[Session], database_url: str
) -> None:
    with transaction(sessions) as session:
        reader, _ = create_key(session, "dashboard", ["read"], pepper=PEPPER)
    routes = _read_routes(database_url)
    assert len(routes) >= len(EXPECTED)
    for method, path in routes:
        refused = _call(closed, method, path)
        assert refused == 401, (method, path, refused)
        answered = _call(closed, method, path, reader)
        assert answered not in (401, 403), (method, path, answered)
        assert answered < 500, (method, path, answered)
    response = closed.get("/api/v1/proposals")
    assert response.json()["detail"] == "reading needs an API key (TESSERA_READ_ACCESS=key)"
    assert response.headers["www-authenticate"] == "Bearer"
    assert (
        closed.get("/api/v1/proposals", headers={"Authorization": "Bearer tsk_x"}).status_code
        == 401
    )


def test_reads_are_keyed_by_default_outside_development(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    for environment, status in (("production", 401), ("test", 401), ("development", 200)):
        app = _app(database_url, environment=environment, **STRONG)
        with TestClient(app) as client:
            assert client.get("/api/v1/contracts").status_code == status, environment
        app.state.engine.dispose()


def test_probes_and_webhooks_need_no_key(closed: TestClient) -> None:
    assert closed.get("/healthz").status_code == 200
    assert closed.get("/readyz").status_code == 200
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    delivered = closed.post(
        "/webhooks/github",
        content=body,
        headers={
            "X-GitHub-Event": "ping",
            "X-GitHub-Delivery": "read-access-ping",
            "X-Hub-Signature-256": signature_of(SECRET, body),
            "Content-Type": "application/json",
        },
    )
    assert delivered.status_code == 202, delivered.text


def test_the_openapi_document_says_reads_need_a_key(closed: TestClient, database_url: str) -> None:
    keyed = closed.app.openapi()  # type: ignore[attr-defined]
    assert keyed["paths"]["/api/v1/proposals"]["get"]["security"] == [{"ApiKey": []}]
    assert keyed["paths"]["/api/v1/contracts/{contract_id}/check"]["post"]["security"] == [
        {"ApiKey": []}
    ]
    assert set(keyed["components"]["securitySchemes"]) == {"ApiKey"}
    app = _app(database_url, read_access="open")
    try:
        open_reads = app.openapi()
    finally:
        app.state.engine.dispose()
    assert open_reads["paths"]["/api/v1/proposals"]["get"]["security"] == [{}, {"ApiKey": []}]
    assert open_reads["paths"]["/api/v1/keys"]["get"]["security"] == [{"ApiKey": []}]
