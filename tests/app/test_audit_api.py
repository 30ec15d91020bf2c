"""The audit log's signatures and signed head over HTTP, on both databases: ``GET
/audit/verify`` checks every signature, ``GET /audit/checkpoint`` answers the newest committed
signed event for a witness to keep, and the kept answers anchor ``tessera audit verify``."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tessera_app import audit, audit_keys
from tessera_app.db.base import transaction
from tessera_app.settings import Settings
from tessera_app.web import create_app
from tessera_engine import cli

API = "/api/v1/audit"


@pytest.fixture(autouse=True)
def real_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service and the auditor share a real TESSERA_SECRET_KEY (a key derived from the
    placeholder default is not trusted by ``tessera audit verify``)."""
    monkeypatch.setenv("TESSERA_SECRET_KEY", "a-real-secret-for-the-audit-api-tests")


@pytest.fixture
def client(database_url: str, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url))
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def _events(sessions: sessionmaker[Session], n: int) -> None:
    with transaction(sessions) as session:
        for i in range(n):
            audit.record(session, action="t", actor="a", subject=f"s{i}", details={"i": i})


def test_the_checkpoint_is_the_signed_head(
    client: TestClient, sessions: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    missing = client.get(f"{API}/checkpoint")
    assert missing.status_code == 404 and "no signed event" in missing.json()["detail"]
    _events(sessions, 3)
    answer = client.get(f"{API}/checkpoint")
    assert answer.status_code == 200
    head = answer.json()
    newest = client.get(f"{API}/events?limit=1").json()["items"][0]
    assert (head["seq"], head["hash"], head["signature"]) == (
        3,
        newest["hash"],
        newest["signature"],
    )
    key = audit_keys.process_key()
    assert head["key_id"] == newest["key_id"] == key.key_id
    assert key.public.verify(head["seq"], head["hash"], head["signature"])
    witness = tmp_path / "witness.jsonl"
    witness.write_text(json.dumps(head) + "\n")
    with transaction(sessions) as session:
        session.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    out = io.StringIO()
    argv = ["audit", "verify", "--database-url", database_url, "--checkpoints", str(witness)]
    assert cli.main(argv, stdout=out) == 1
    assert out.getvalue().startswith("audit log broken at event 3: rows 3 to 3 are missing")


def test_verify_checks_every_signature(client: TestClient, sessions: sessionmaker[Session]) -> None:
    _events(sessions, 3)
    verified = client.get(f"{API}/verify").json()
    assert verified["ok"] is True and verified["signed"] == 3 and verified["head_seq"] == 3
    assert verified["key_ids"] == [audit_keys.process_key().key_id]
    assert verified["trusted_key_ids"] == [audit_keys.process_key().key_id]
    assert verified["signing_started"] is None
    with transaction(sessions) as session:
        session.execute(
            text("UPDATE audit_events SET signature = NULL, key_id = NULL WHERE seq = 3")
        )
    broken = client.get(f"{API}/verify").json()
    assert broken["ok"] is False and broken["first_bad_seq"] == 3 and broken["checked"] == 2
    assert "not signed" in broken["problem"]
