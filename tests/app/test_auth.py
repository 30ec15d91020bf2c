"""API keys: hashing at rest, scopes, principals (a write key's team, an admin key's owner),
expiry and revocation, the keys API and the OpenAPI document, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tessera_app.auth import Principal, acting_for, authenticate, create_key, hash_key, require
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.auth_models import ApiKey
from tessera_app.db.base import transaction, utcnow
from tessera_app.db.registry_models import Team
from tessera_app.principals import ACTOR_MAX, NAME_MAX, OWNER_MAX
from tessera_app.settings import Settings
from tessera_app.web import create_app

PEPPER = "p" * 32
TEAMS = ("web", "data")


@pytest.fixture
def app(database_url: str, sessions: sessionmaker[Session]) -> Iterator[FastAPI]:
    with transaction(sessions) as session:
        session.add_all(Team(id=team, github_team=f"acme/{team}") for team in TEAMS)
    app = create_app(Settings(database_url=database_url, secret_key=PEPPER))

    @app.get("/probe/{scope}")
    def read(principal: Principal = Depends(require("read"))) -> dict[str, object]:  # noqa: B008
        return {"name": principal.name}

    @app.post("/probe/write/{team}")
    def write(team: str, principal: Principal = Depends(require("write"))) -> dict[str, object]:  # noqa: B008
        return {"name": principal.name, "actor": acting_for(principal, team)}

    @app.post("/probe/admin")
    def admin(principal: Principal = Depends(require("admin"))) -> dict[str, object]:  # noqa: B008
        return {"name": principal.name, "actor": principal.actor}

    yield app
    app.state.engine.dispose()


def _key(sessions: sessionmaker[Session], scopes: list[str], **kwargs: object) -> str:
    """A key named ci with the principal its scope needs (team web, owner alice)."""
    top = "admin" if "admin" in scopes else "write" if "write" in scopes else "read"
    principal = {"write": {"team": "web"}, "admin": {"owner": "alice"}, "read": {}}[top]
    with transaction(sessions) as session:
        secret, _ = create_key(session, "ci", scopes, pepper=PEPPER, **principal, **kwargs)  # type: ignore[arg-type]
    return secret


def _legacy(sessions: sessionmaker[Session], scopes: list[str]) -> str:
    """A key as made before keys had principals: no team, no owner."""
    with transaction(sessions) as session:
        secret, row = create_key(session, "old", ["read"], pepper=PEPPER)
        row.scopes = scopes
    return secret


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_keys_are_hashed_at_rest(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        secret, _ = create_key(
            session, "deploy", ["write", "read", "write"], team="web", pepper=PEPPER
        )
    assert secret.startswith("tsk_") and len(secret) >= 40
    with transaction(sessions) as session:
        stored = session.scalars(select(ApiKey)).one()
        assert stored.key_hash == hash_key(secret, PEPPER) != secret
        assert secret not in (stored.key_hash, stored.prefix) and secret.startswith(stored.prefix)
        assert stored.scopes == ["read", "write"] and stored.team == "web"
        assert authenticate(session, secret, PEPPER, utcnow()) is not None
        assert authenticate(session, secret, "another pepper", utcnow()) is None
        assert authenticate(session, secret[:-1] + "x", PEPPER, utcnow()) is None


@pytest.mark.parametrize(
    ("scopes", "principal", "message"),
    [
        (["root"], {}, "scopes"),
        (["write"], {}, "a write key acts for one registry team"),
        (["write"], {"team": "web", "owner": "alice"}, "an owner is for admin and read keys"),
        (["admin"], {}, "an admin key needs a named owner"),
        (["write", "admin"], {"team": "web"}, "an admin key needs a named owner"),
        (["admin"], {"owner": "alice", "team": "web"}, "a team is for write keys"),
        (["read"], {"team": "web"}, "a read key acts for nobody"),
        (["admin"], {"owner": "  "}, "the owner must be 1 to"),
        (["read"], {"owner": "x" * (OWNER_MAX + 1)}, "the owner must be 1 to"),
        (["write"], {"team": "wbe"}, "team 'wbe' is not in the registry mirror: did you mean web?"),
        (["write"], {"team": "nobody"}, "(teams: data, web)"),
    ],
)
def test_a_key_needs_the_principal_its_scope_needs(
    app: FastAPI,
    sessions: sessionmaker[Session],
    scopes: list[str],
    principal: dict[str, str],
    message: str,
) -> None:
    with transaction(sessions) as session, pytest.raises(ValueError) as raised:
        create_key(session, "x", scopes, pepper=PEPPER, **principal)  # type: ignore[arg-type]
    assert message in str(raised.value)
    with transaction(sessions) as session:
        assert session.scalars(select(ApiKey)).all() == []


def test_reads_are_open_in_development_writes_need_a_key(app: FastAPI) -> None:
    with TestClient(app) as client:
        assert client.get("/probe/read").json() == {"name": "anonymous"}
        response = client.post("/probe/write/web")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert "write" in response.json()["detail"]


def test_scopes_nest(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    read, write, admin = (_key(sessions, [s]) for s in ("read", "write", "admin"))
    with TestClient(app) as client:
        assert client.get("/probe/read", headers=_auth(read)).json() == {"name": "ci"}
        assert client.post("/probe/write/web", headers=_auth(read)).status_code == 403
        assert client.post("/probe/write/web", headers=_auth(write)).json() == {
            "name": "ci",
            "actor": "team web (key ci)",
        }
        assert client.post("/probe/admin", headers=_auth(write)).status_code == 403
        assert client.post("/probe/admin", headers=_auth(admin)).status_code == 200
        assert client.post("/probe/write/web", headers=_auth(admin)).status_code == 200


def test_a_team_key_acts_only_for_its_team_an_admin_key_for_any(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    write, admin = _key(sessions, ["write"]), _key(sessions, ["admin"])
    with TestClient(app) as client:
        other = client.post("/probe/write/data", headers=_auth(write))
        assert other.status_code == 403
        assert other.json()["detail"] == (
            "API key ci belongs to team web: it cannot act for team data"
        )
        as_admin = client.post("/probe/write/data", headers=_auth(admin)).json()
        assert as_admin["actor"] == "alice (admin key ci) acting for data"
        assert client.post("/probe/admin", headers=_auth(admin)).json()["actor"] == (
            "alice (admin key ci)"
        )


def test_keys_without_their_principal_may_only_read(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    old_write, old_admin = _legacy(sessions, ["read", "write"]), _legacy(sessions, ["admin"])
    with TestClient(app) as client:
        for key, option in ((old_write, "--team TEAM"), (old_admin, "--owner WHO")):
            assert client.get("/probe/read", headers=_auth(key)).status_code == 200
            refused = client.post("/probe/write/web", headers=_auth(key))
            assert refused.status_code == 403 and option in refused.json()["detail"]
            assert "it may only read" in refused.json()["detail"]
        assert client.post("/probe/admin", headers=_auth(old_admin)).status_code == 403


def test_every_actor_fits_the_audit_columns() -> None:
    longest = Principal(
        key_id=1, name="n" * NAME_MAX, scopes=frozenset({"admin"}), owner="o" * OWNER_MAX
    )
    assert len(longest.actor_for("t" * 64)) <= ACTOR_MAX
    team_key = Principal(key_id=1, name="n" * NAME_MAX, scopes=frozenset({"write"}), team="t" * 64)
    assert len(team_key.actor_for("t" * 64)) <= ACTOR_MAX


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
            assert client.post("/probe/write/web", headers=headers).status_code == 401, headers
        assert client.post("/probe/write/web", headers=_auth(live)).status_code == 200
        with transaction(sessions) as session:
            row = session.scalars(select(ApiKey).where(ApiKey.expires_at > utcnow())).one()
            assert row.last_used_at is not None
            row.revoked_at = utcnow()
        assert client.post("/probe/write/web", headers=_auth(live)).status_code == 401


def test_keys_api(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    admin = _key(sessions, ["admin"])
    with TestClient(app) as client:
        assert (
            client.post("/api/v1/keys", json={"name": "x", "scopes": ["read"]}).status_code == 401
        )
        created = client.post(
            "/api/v1/keys",
            json={"name": "ci-bot", "scopes": ["write"], "team": "data"},
            headers=_auth(admin),
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["key"].startswith(body["prefix"]) and body["active"]
        assert (body["role"], body["team"], body["owner"], body["principal"]) == (
            "write",
            "data",
            None,
            "team data",
        )
        new = body["key"]
        assert client.post("/probe/write/data", headers=_auth(new)).json()["name"] == "ci-bot"
        assert client.post("/probe/write/web", headers=_auth(new)).status_code == 403
        assert client.get("/api/v1/keys", headers=_auth(new)).status_code == 403

        listed = client.get("/api/v1/keys", headers=_auth(admin)).json()
        assert [(k["name"], k["principal"]) for k in listed] == [
            ("ci-bot", "team data"),
            ("ci", "admin alice"),
        ]
        assert all("key" not in k and new not in str(k) for k in listed)

        revoked = client.post(f"/api/v1/keys/{body['id']}/revoke", headers=_auth(admin))
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        assert not revoked.json()["active"]
        assert client.post("/probe/write/data", headers=_auth(new)).status_code == 401
        again = client.post(f"/api/v1/keys/{body['id']}/revoke", headers=_auth(admin))
        assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
        assert client.post("/api/v1/keys/999999/revoke", headers=_auth(admin)).status_code == 404
    with transaction(sessions) as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert [(e.action, e.actor, e.subject) for e in events] == [
            ("api_key.created", "alice (admin key ci)", f"api-key:{body['id']}"),
            ("api_key.revoked", "alice (admin key ci)", f"api-key:{body['id']}"),
        ]
        assert events[0].details["team"] == "data" and events[0].details["owner"] is None
        assert events[0].details["by_key"]["owner"] == "alice"
        assert events[1].details["by_key"]["name"] == "ci"
        assert new not in str([e.details for e in events])


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"name": "", "scopes": ["read"]}, None),
        ({"name": "x", "scopes": []}, None),
        ({"name": "x", "scopes": ["root"]}, None),
        ({"name": "x" * 51, "scopes": ["read"]}, None),
        ({"name": "x", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"}, None),
        ({"name": "x", "scopes": ["read"], "expires_at": "2999-01-01T00:00:00"}, None),
        ({"name": "x", "scopes": ["read"], "expires_at": "9999-12-31T23:59:59-23:00"}, None),
        ({"name": "x", "scopes": ["read"], "actor": "mallory"}, None),
        ({"name": "x", "scopes": ["write"]}, "a write key acts for one registry team"),
        ({"name": "x", "scopes": ["admin"]}, "an admin key needs a named owner"),
        (
            {"name": "x", "scopes": ["write"], "team": "payments"},
            "team 'payments' is not in the registry mirror (teams: data, web)",
        ),
    ],
)
def test_bad_key_requests_are_422(
    app: FastAPI, sessions: sessionmaker[Session], body: dict[str, object], detail: str | None
) -> None:
    admin = _key(sessions, ["admin"])
    with TestClient(app) as client:
        response = client.post("/api/v1/keys", json=body, headers=_auth(admin))
        assert response.status_code == 422, response.text
        if detail is not None:
            assert detail in response.json()["detail"]
    with transaction(sessions) as session:
        assert len(session.scalars(select(ApiKey)).all()) == 1  # the admin key only
        assert session.scalars(select(AuditEvent)).all() == []


def test_the_openapi_document_says_which_operations_need_a_key(app: FastAPI) -> None:
    document = app.openapi()
    assert set(document["components"]["securitySchemes"]) == {"ApiKey"}
    jobs = document["paths"]["/api/v1/jobs"]["get"]
    assert jobs["security"] == [{}, {"ApiKey": []}]  # reads in development: a key is optional
    assert document["paths"]["/api/v1/keys"]["post"]["security"] == [{"ApiKey": []}]
    assert {"401", "403"} <= set(jobs["responses"])
    create = document["components"]["schemas"]["KeyRequest"]
    assert {"team", "owner"} <= set(create["properties"])
    assert create["additionalProperties"] is False


@pytest.mark.parametrize("owner", ["x) acting for payments", "alice (admin key ops)", "a b"])
def test_a_key_owner_reads_as_one_word_in_the_audit_log(
    sessions: sessionmaker[Session], owner: str
) -> None:
    """Names and owners are what the audit log shows as who acted: no text that could read as
    another principal."""
    with transaction(sessions) as session, pytest.raises(ValueError, match="one word"):
        create_key(session, "ops", ["admin"], owner=owner, pepper="p")
