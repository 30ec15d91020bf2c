"""API keys: hashing at rest, scopes, expiry and revocation, and the keys API, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tessera_app.auth import Principal, authenticate, create_key, hash_key, require
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.auth_models import ApiKey
from tessera_app.db.base import transaction, utcnow
from tessera_app.settings import Settings
from tessera_app.web import create_app

PEPPER = "p" * 32


@pytest.fixture
def app(database_url: str, sessions: sessionmaker[Session]) -> Iterator[FastAPI]:
    app = create_app(Settings(database_url=database_url, secret_key=PEPPER))

    @app.get("/probe/{scope}")
    def read(principal: Principal = Depends(require("read"))) -> dict[str, object]:  # noqa: B008
        return {"name": principal.name}

    @app.post("/probe/write")
    def write(principal: Principal = Depends(require("write"))) -> dict[str, object]:  # noqa: B008
        return {"name": principal.name, "actor": principal.actor}

    @app.post("/probe/admin")
    def admin(principal: Principal = Depends(require("admin"))) -> dict[str, object]:  # noqa: B008
        return {"name": principal.name}

    yield app
    app.state.engine.dispose()


def _key(sessions: sessionmaker[Session], scopes: list[str], **kwargs: object) -> str:
    with transaction(sessions) as session:
        secret, _ = create_key(session, "ci", scopes, pepper=PEPPER, **kwargs)  # type: ignore[arg-type]
    return secret


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_keys_are_hashed_at_rest(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        secret, _ = create_key(session, "deploy", ["write", "read", "write"], pepper=PEPPER)
    assert secret.startswith("tsk_") and len(secret) >= 40
    with transaction(sessions) as session:
        stored = session.scalars(select(ApiKey)).one()
        assert stored.key_hash == hash_key(secret, PEPPER) != secret
        assert secret not in (stored.key_hash, stored.prefix) and secret.startswith(stored.prefix)
        assert stored.scopes == ["read", "write"]
        assert authenticate(session, secret, PEPPER, utcnow()) is not None
        assert authenticate(session, secret, "another pepper", utcnow()) is None
        assert authenticate(session, secret[:-1] + "x", PEPPER, utcnow()) is None


def test_unknown_scopes_are_refused(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session, pytest.raises(ValueError, match="scopes"):
        create_key(session, "x", ["root"], pepper=PEPPER)


def test_reads_are_open_writes_need_a_key(app: FastAPI) -> None:
    with TestClient(app) as client:
        assert client.get("/probe/read").json() == {"name": "anonymous"}
        response = client.post("/probe/write")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert "write" in response.json()["detail"]


def test_scopes_nest(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    read, write, admin = (_key(sessions, [s]) for s in ("read", "write", "admin"))
    with TestClient(app) as client:
        assert client.get("/probe/read", headers=_auth(read)).json() == {"name": "ci"}
        assert client.post("/probe/write", headers=_auth(read)).status_code == 403
        assert client.post("/probe/write", headers=_auth(write)).json() == {
            "name": "ci",
            "actor": "api-key:ci",
        }
        assert client.post("/probe/admin", headers=_auth(write)).status_code == 403
        assert client.post("/probe/admin", headers=_auth(admin)).status_code == 200
        assert client.post("/probe/write", headers=_auth(admin)).status_code == 200


def test_bad_expired_and_revoked_keys_are_401(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    expired = _key(sessions, ["admin"], expires_at=utcnow() + timedelta(milliseconds=1))
    live = _key(sessions, ["admin"], expires_at=utcnow() + timedelta(days=1))
    with TestClient(app) as client:
        for headers in (
            _auth(expired),
            _auth("tsk_not-a-key-at-all"),
            _auth("nonsense"),
            {"Authorization": "Basic dXNlcjpwYXNz"},
        ):
            assert client.get("/probe/read", headers=headers).status_code == 401, headers
            assert client.post("/probe/write", headers=headers).status_code == 401, headers
        assert client.post("/probe/write", headers=_auth(live)).status_code == 200
        with transaction(sessions) as session:
            row = session.scalars(select(ApiKey).where(ApiKey.expires_at > utcnow())).one()
            assert row.last_used_at is not None
            row.revoked_at = utcnow()
        assert client.post("/probe/write", headers=_auth(live)).status_code == 401


def test_keys_api(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    admin = _key(sessions, ["admin"])
    with TestClient(app) as client:
        assert (
            client.post("/api/v1/keys", json={"name": "x", "scopes": ["read"]}).status_code == 401
        )
        created = client.post(
            "/api/v1/keys", json={"name": "ci bot", "scopes": ["write"]}, headers=_auth(admin)
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["key"].startswith(body["prefix"]) and body["active"]
        new = body["key"]
        assert client.post("/probe/write", headers=_auth(new)).json()["name"] == "ci bot"
        assert client.get("/api/v1/keys", headers=_auth(new)).status_code == 403

        listed = client.get("/api/v1/keys", headers=_auth(admin)).json()
        assert [k["name"] for k in listed] == ["ci bot", "ci"]
        assert all("key" not in k and new not in str(k) for k in listed)

        revoked = client.post(f"/api/v1/keys/{body['id']}/revoke", headers=_auth(admin))
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        assert not revoked.json()["active"]
        assert client.post("/probe/write", headers=_auth(new)).status_code == 401
        again = client.post(f"/api/v1/keys/{body['id']}/revoke", headers=_auth(admin))
        assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
        assert client.post("/api/v1/keys/999999/revoke", headers=_auth(admin)).status_code == 404
    with transaction(sessions) as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert [(e.action, e.actor, e.subject) for e in events] == [
            ("api_key.created", "api-key:ci", f"api-key:{body['id']}"),
            ("api_key.revoked", "api-key:ci", f"api-key:{body['id']}"),
        ]
        assert new not in str([e.details for e in events])


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "scopes": ["read"]},
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["root"]},
        {"name": "x", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"},
        {"name": "x", "scopes": ["read"], "expires_at": "2999-01-01T00:00:00"},
        {"name": "x", "scopes": ["read"], "expires_at": "9999-12-31T23:59:59-23:00"},
    ],
)
def test_bad_key_requests_are_422(
    app: FastAPI, sessions: sessionmaker[Session], body: dict[str, object]
) -> None:
    admin = _key(sessions, ["admin"])
    with TestClient(app) as client:
        response = client.post("/api/v1/keys", json=body, headers=_auth(admin))
        assert response.status_code == 422, response.text


def test_the_openapi_document_says_which_operations_need_a_key(app: FastAPI) -> None:
    document = app.openapi()
    assert set(document["components"]["securitySchemes"]) == {"ApiKey"}
    jobs = document["paths"]["/api/v1/jobs"]["get"]
    assert jobs["security"] == [{}, {"ApiKey": []}]  # reads: a key is optional
    assert document["paths"]["/api/v1/keys"]["post"]["security"] == [{"ApiKey": []}]
    assert {"401", "403"} <= set(jobs["responses"])
