"""The jobs API: status, listing, dead letters and retrying (admin), on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tessera_app.auth import create_key
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.base import transaction, utcnow
from tessera_app.db.registry_models import Team
from tessera_app.queue import claim, complete, enqueue, fail
from tessera_app.settings import Settings
from tessera_app.web import create_app

PEPPER = "q" * 32


@pytest.fixture
def client(database_url: str, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url, secret_key=PEPPER))
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def _seed(sessions: sessionmaker[Session]) -> dict[str, int]:
    """One done, one dead, one queued job (of two kinds)."""
    with transaction(sessions) as session:
        done = enqueue(session, "registry.resync", {"path": "/r"}).id
        dead = enqueue(session, "proposals.expire", {}, max_attempts=1).id
        queued = enqueue(session, "proposals.expire", {}, run_at=utcnow()).id
    with transaction(sessions) as session:
        job = claim(session, "w", ["registry.resync"])
        assert job is not None
        complete(session, job)
        job = claim(session, "w", ["proposals.expire"])
        assert job is not None and job.id == dead
        assert fail(session, job, "ValueError: nope") == "dead"
    return {"done": done, "dead": dead, "queued": queued}


def _admin(sessions: sessionmaker[Session], scope: str = "admin") -> dict[str, str]:
    """An admin key owned by alice, or a write key of team web."""
    with transaction(sessions) as session:
        if scope == "admin":
            key, _ = create_key(session, "ops", [scope], owner="alice", pepper=PEPPER)
        else:
            session.merge(Team(id="web", github_team="acme/web"))
            key, _ = create_key(session, "ops", [scope], team="web", pepper=PEPPER)
    return {"Authorization": f"Bearer {key}"}


def test_status_and_listing(client: TestClient, sessions: sessionmaker[Session]) -> None:
    ids = _seed(sessions)
    status = client.get("/api/v1/jobs/status").json()
    assert status["states"] == {"queued": 1, "running": 0, "done": 1, "dead": 1}
    assert status["kinds"] == [
        {"kind": "proposals.expire", "queued": 1, "running": 0, "done": 0, "dead": 1},
        {"kind": "registry.resync", "queued": 0, "running": 0, "done": 1, "dead": 0},
    ]
    assert status["oldest_due_at"] is not None

    listed = client.get("/api/v1/jobs").json()
    assert [j["id"] for j in listed] == sorted(ids.values(), reverse=True)
    assert [j["id"] for j in client.get("/api/v1/jobs?state=done").json()] == [ids["done"]]
    by_kind = client.get("/api/v1/jobs", params={"kind": "proposals.expire", "limit": 1}).json()
    assert [j["id"] for j in by_kind] == [ids["queued"]]
    dead = client.get("/api/v1/jobs/dead").json()
    assert [(j["id"], j["last_error"], j["attempts"]) for j in dead] == [
        (ids["dead"], "ValueError: nope", 1)
    ]
    assert client.get(f"/api/v1/jobs/{ids['done']}").json()["state"] == "done"
    assert client.get("/api/v1/jobs/999999").status_code == 404
    assert client.get("/api/v1/jobs?state=lost").status_code == 422
    assert client.get("/api/v1/jobs", params={"kind": "a\x00b"}).status_code == 422


def test_retrying_a_dead_job(client: TestClient, sessions: sessionmaker[Session]) -> None:
    ids = _seed(sessions)
    url = f"/api/v1/jobs/{ids['dead']}/retry"
    assert client.post(url).status_code == 401
    assert client.post(url, headers=_admin(sessions, "write")).status_code == 403
    admin = _admin(sessions)
    retried = client.post(url, headers=admin)
    assert retried.status_code == 200, retried.text
    assert (retried.json()["state"], retried.json()["attempts"]) == ("queued", 0)
    assert client.post(url, headers=admin).status_code == 409  # no longer dead
    assert client.post("/api/v1/jobs/999999/retry", headers=admin).status_code == 404
    assert client.get("/api/v1/jobs/status").json()["states"]["dead"] == 0
    with transaction(sessions) as session:
        events = session.scalars(select(AuditEvent)).all()
        assert [(e.action, e.actor, e.subject) for e in events] == [
            ("job.retried", "alice (admin key ops)", f"job:{ids['dead']}")
        ]
