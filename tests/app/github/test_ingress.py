"""``POST /webhooks/github`` with the vendored real payloads, signed as GitHub signs them, on
both databases: verification (rotation), storage, one job per delivery, duplicates, ignored
events, and the 401/400 answers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tessera_app.db.base import transaction
from tessera_app.db.github_models import Delivery
from tessera_app.db.queue_models import Job
from tessera_app.github import ingress
from tessera_app.github.ingress import HANDLED_EVENTS, finish, load, signature_of, verify
from tessera_app.settings import Settings
from tessera_app.web import create_app

FIXTURES = Path(__file__).parent / "fixtures"
OLD_SECRET = "the-old-webhook-secret-0123456789"
NEW_SECRET = "the-new-webhook-secret-9876543210"
PAYLOADS = sorted(FIXTURES.glob("*/*.json"))


def _headers(
    event: str, body: bytes, secret: str | None = NEW_SECRET, **extra: str
) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/a1b2c3d",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "123456",
    }
    if secret is not None:
        headers["X-Hub-Signature-256"] = signature_of(secret, body)
    headers.update(extra)
    return headers


@pytest.fixture
def client(database_url: str, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, webhook_secrets=f"{NEW_SECRET}, {OLD_SECRET}")
    app = create_app(settings)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def _count(sessions: sessionmaker[Session], model: Any) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- signatures -------------------------------------------------------------------------------


def test_signature_known_answer_from_githubs_documentation() -> None:
    assert signature_of("It's a Secret to Everybody", b"Hello, World!") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )


@pytest.mark.parametrize(
    ("secrets", "signature", "expected"),
    [
        ([NEW_SECRET], signature_of(NEW_SECRET, b"{}"), True),
        ([NEW_SECRET, OLD_SECRET], signature_of(OLD_SECRET, b"{}"), True),  # rotation
        ([NEW_SECRET], signature_of(OLD_SECRET, b"{}"), False),
        ([NEW_SECRET], signature_of(NEW_SECRET, b"{ }"), False),  # another body
        ([NEW_SECRET], signature_of(NEW_SECRET, b"{}").removeprefix("sha256="), False),
        ([NEW_SECRET], signature_of(NEW_SECRET, b"{}").upper(), False),
        ([NEW_SECRET], "", False),
        ([NEW_SECRET], None, False),
        ([], signature_of(NEW_SECRET, b"{}"), False),
    ],
)
def test_verify(secrets: list[str], signature: str | None, expected: bool) -> None:
    assert verify(secrets, b"{}", signature) is expected


# --- accepted deliveries ----------------------------------------------------------------------


def test_every_vendored_payload_is_stored_and_queued(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    sent: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in PAYLOADS:
        event, body = path.parent.name, path.read_bytes()
        headers = _headers(event, body)
        response = client.post("/webhooks/github", content=body, headers=headers)
        delivery = headers["X-GitHub-Delivery"]
        expected = "queued" if event in HANDLED_EVENTS else "ignored"
        assert response.status_code == 202, (path, response.text)
        assert response.json() == {"delivery": delivery, "status": expected}
        sent[delivery] = (event, json.loads(body))
    with sessions() as session:
        rows = {row.id: row for row in session.scalars(select(Delivery))}
        jobs = {job.key: job for job in session.scalars(select(Job))}
    assert rows.keys() == sent.keys()
    for delivery, (event, payload) in sent.items():
        row = rows[delivery]
        assert (row.event, row.action, row.payload) == (event, payload.get("action"), payload)
        assert row.installation_id == (payload.get("installation") or {}).get("id")
        if event in HANDLED_EVENTS:
            job = jobs[f"delivery:{delivery}"]
            assert (job.kind, job.payload, job.state) == (
                f"github.{event}",
                {"delivery": delivery},
                "queued",
            )
            assert row.status == "queued"
        else:
            assert row.status == "ignored"
    handled = sum(1 for event, _ in sent.values() if event in HANDLED_EVENTS)
    assert len(jobs) == handled == len(PAYLOADS) - 2  # the two pings are ignored


def test_a_delivery_signed_with_the_old_secret_is_accepted_during_rotation(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    body = (FIXTURES / "push/push.json").read_bytes()
    response = client.post(
        "/webhooks/github", content=body, headers=_headers("push", body, OLD_SECRET)
    )
    assert response.status_code == 202
    assert _count(sessions, Job) == 1


def test_a_redelivery_is_a_no_op(client: TestClient, sessions: sessionmaker[Session]) -> None:
    body = (FIXTURES / "pull_request/opened.payload.json").read_bytes()
    headers = _headers("pull_request", body)
    first = client.post("/webhooks/github", content=body, headers=headers)
    again = client.post("/webhooks/github", content=body, headers=headers)
    assert first.json()["status"] == "queued"
    assert again.status_code == 202 and again.json()["status"] == "duplicate"
    assert (_count(sessions, Delivery), _count(sessions, Job)) == (1, 1)
    # even after processing: the delivery keeps its status, no second job
    with transaction(sessions) as session:
        finish(session, headers["X-GitHub-Delivery"])
    client.post("/webhooks/github", content=body, headers=headers)
    with sessions() as session:
        assert load(session, headers["X-GitHub-Delivery"]).status == "processed"
    assert _count(sessions, Job) == 1


def test_an_unknown_event_is_acknowledged_and_stored_as_ignored(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    body = b'{"action": "created", "installation": {"id": 7}, "team": {"slug": "x"}}'
    headers = _headers("team", body)
    response = client.post("/webhooks/github", content=body, headers=headers)
    assert response.status_code == 202 and response.json()["status"] == "ignored"
    with sessions() as session:
        row = load(session, headers["X-GitHub-Delivery"])
    assert (row.event, row.action, row.installation_id, row.status) == (
        "team",
        "created",
        7,
        "ignored",
    )
    assert _count(sessions, Job) == 0


def test_finish_records_processing_and_failures(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    body = (FIXTURES / "issues/issues.closed.json").read_bytes()
    headers = _headers("issues", body)
    client.post("/webhooks/github", content=body, headers=headers)
    delivery = headers["X-GitHub-Delivery"]
    with transaction(sessions) as session:
        finish(session, delivery, "GitHubError: 502")
    with sessions() as session:
        row = load(session, delivery)
        assert (row.status, row.error) == ("failed", "GitHubError: 502")
        assert row.processed_at is not None
        assert [d.id for d in ingress.recent_failures(session)] == [delivery]
        with pytest.raises(LookupError):
            load(session, "no-such-delivery")


# --- refused deliveries -----------------------------------------------------------------------


def _refused(client: TestClient, body: bytes, headers: dict[str, str]) -> int:
    return client.post("/webhooks/github", content=body, headers=headers).status_code


def test_bad_signatures_are_401_and_store_nothing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    body = (FIXTURES / "issue_comment/created.payload.json").read_bytes()
    reserialised = json.dumps(json.loads(body)).encode()
    assert _refused(client, body, _headers("issue_comment", body, secret=None)) == 401
    assert _refused(client, body, _headers("issue_comment", body, "a-wrong-secret-xxxxxxx")) == 401
    assert _refused(client, body, _headers("issue_comment", reserialised)) == 401
    legacy_only = _headers("issue_comment", body, secret=None, **{"X-Hub-Signature": "sha1=00"})
    assert _refused(client, body, legacy_only) == 401
    assert (_count(sessions, Delivery), _count(sessions, Job)) == (0, 0)


@pytest.mark.parametrize(
    ("body", "drop", "override"),
    [
        (b"{not json", None, {}),
        (b"\xff\xfe", None, {}),
        (b"[1, 2]", None, {}),
        (b"", None, {}),
        (b"{}", "X-GitHub-Delivery", {}),
        (b"{}", "X-GitHub-Event", {}),
        (b"{}", None, {"X-GitHub-Delivery": "x" * 101}),
    ],
)
def test_malformed_deliveries_are_400(
    client: TestClient,
    sessions: sessionmaker[Session],
    body: bytes,
    drop: str | None,
    override: dict[str, str],
) -> None:
    headers = _headers("push", body, **override)
    if drop:
        del headers[drop]
    assert _refused(client, body, headers) == 400
    assert _count(sessions, Delivery) == 0


def test_delivery_and_job_commit_together(
    client: TestClient, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the queue is down")

    monkeypatch.setattr(ingress, "serial_of", broken)  # the job's insert fails
    body = (FIXTURES / "push/push.json").read_bytes()
    with pytest.raises(RuntimeError):
        client.post("/webhooks/github", content=body, headers=_headers("push", body))
    assert _count(sessions, Delivery) == 0  # rolled back: GitHub sees a failure and can redeliver


@pytest.mark.parametrize(
    "unreachable",
    [
        "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2",
        "sqlite:////nonexistent-directory/tessera.db",
    ],
)
def test_the_database_away_is_a_503_never_a_500(unreachable: str) -> None:
    """A webhook (and any API call) while the database cannot be reached is answered 503 with
    Retry-After: GitHub shows the delivery failed, and reconciliation redelivers it."""
    settings = Settings(database_url=unreachable, webhook_secrets=NEW_SECRET)
    app = create_app(settings)
    body = (FIXTURES / "pull_request/opened.payload.json").read_bytes()
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.post(
                "/webhooks/github", content=body, headers=_headers("pull_request", body)
            )
            assert response.status_code == 503, response.text
            assert int(response.headers["retry-after"]) > 0
            assert "database" in response.json()["detail"]
            assert client.get("/readyz").status_code == 503
            assert client.get("/api/v1/jobs/status").status_code == 503  # reads: open in dev
    finally:
        app.state.engine.dispose()
