"""Signing starts once, at the migration that adds signatures (revision 0004), on SQLite and
PostgreSQL: the events of a log from before it are covered by the signed
``audit.signing_started`` event the migration appends, and a database without events is
signed from its first one. Afterwards nothing signs unsigned rows: a history forged through the
database (every row deleted, correctly chained rows inserted without signatures) stays refused
by ``audit.verify``, ``GET /api/v1/audit/verify`` and ``tessera audit verify``, even after the
worker's checkpoint job has run and the service has appended a signed event on top of it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from tessera_app import audit, audit_keys
from tessera_app.audit_signing_start import ACTION, ACTOR
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.base import make_engine, session_factory, transaction
from tessera_app.migrations import config, upgrade
from tessera_app.queue import enqueue
from tessera_app.settings import Settings
from tessera_app.web import create_app
from tessera_app.worker import Worker
from tessera_engine import cli

from .conftest import postgres_database

SECRET = "a-real-secret-for-the-audit-migration-tests"


@pytest.fixture
def blank_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as ``database_url``, for this test alone (a
    migration runs once per database)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    with postgres_database("tessera_blank") as url:
        yield url


@pytest.fixture
def engine(blank_url: str) -> Iterator[Engine]:
    engine = make_engine(blank_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _unsigned_rows(engine: Engine, n: int, actor: str = "tessera-github") -> None:
    """Append ``n`` correctly chained rows without signatures, straight into the table (as
    a service without signatures wrote them, or as someone with the database forges them)."""
    with engine.begin() as connection:
        last = connection.execute(
            text("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        ).first()
        start, prev = (last[0] + 1, last[1]) if last else (1, audit.GENESIS)
        for seq in range(start, start + n):
            fields = {
                "seq": seq,
                "occurred_at": datetime(2026, 1, seq, tzinfo=UTC),
                "action": "proposal.opened",
                "actor": actor,
                "team": None,
                "subject": f"proposal:{seq}",
                "details": {},
                "prev_hash": prev,
            }
            digest = audit.compute_hash(**fields)
            connection.execute(
                text(
                    "INSERT INTO audit_events (seq, occurred_at, action, actor, team, "
                    "subject, details, prev_hash, hash) VALUES (:seq, :occurred_at, "
                    ":action, :actor, :team, :subject, '{}', :prev_hash, :hash)"
                ),
                {**fields, "hash": digest},
            )
            prev = digest


def _record(sessions: sessionmaker[Session], n: int) -> None:
    with transaction(sessions) as session:
        for i in range(n):
            audit.record(session, action="proposal.updated", actor="a", subject=f"s{i}", details={})


def test_events_from_before_signing_are_covered_by_the_migration(
    blank_url: str, engine: Engine
) -> None:
    upgrade(blank_url, "0003")
    _unsigned_rows(engine, 2)
    upgrade(blank_url)
    sessions = session_factory(engine)
    key = audit_keys.process_key()
    with sessions() as session:
        cover = session.get(AuditEvent, 3)
        assert cover is not None and audit.count(session) == 3
        assert (cover.action, cover.actor, cover.subject) == (ACTION, ACTOR, "audit")
        assert cover.details == {"key_id": key.key_id, "covers_through": 2}
        assert cover.key_id == key.key_id
        assert key.public.verify(3, cover.hash, str(cover.signature))
        report = audit.verify(session)
    assert report.ok, report.problem
    assert (report.checked, report.unsigned, report.signed) == (3, 2, 1)
    assert report.signing_started == 3
    _record(sessions, 1)
    with sessions() as session:
        report = audit.verify(session)
    assert report.ok and (report.checked, report.unsigned, report.signed) == (4, 2, 2)


def test_a_database_without_events_is_signed_from_its_first_event(
    blank_url: str, engine: Engine
) -> None:
    upgrade(blank_url, "0003")
    upgrade(blank_url)
    sessions = session_factory(engine)
    with sessions() as session:
        assert audit.count(session) == 0
    _record(sessions, 2)
    with sessions() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        report = audit.verify(session)
    assert [row.action for row in rows] == ["proposal.updated"] * 2
    assert all(row.signature for row in rows)
    assert report.ok and (report.unsigned, report.signed, report.signing_started) == (0, 2, None)


def test_a_history_forged_through_the_database_is_never_signed(
    blank_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every row deleted and a forged, correctly chained history inserted without
    signatures; then the worker's checkpoint job runs and the service records an event."""
    monkeypatch.setenv("TESSERA_SECRET_KEY", SECRET)
    upgrade(blank_url)
    sessions = session_factory(engine)
    _record(sessions, 3)
    with transaction(sessions) as session:
        session.execute(delete(AuditEvent.__table__))
    _unsigned_rows(engine, 3, actor="mallory")

    path = tmp_path / "checkpoints.jsonl"
    worker = Worker(sessions, Settings(), worker_id="w", kinds=["audit.checkpoint"])
    with transaction(sessions) as session:
        enqueue(session, "audit.checkpoint", {"path": str(path)})
    assert worker.run_once()
    with sessions() as session:
        assert audit.count(session) == 3  # the job signed nothing
    assert not path.exists()  # and found no signed event to checkpoint

    _record(sessions, 1)  # a genuine, signed event chained onto the forged rows
    with sessions() as session:
        assert session.scalar(select(AuditEvent.signature).where(AuditEvent.seq == 4))
        report = audit.verify(session)
    assert not report.ok and (report.first_bad_seq, report.checked) == (1, 0)
    assert "rows 1 to 3 are not signed, and row 4, the first signed row, is not the" in (
        report.problem or ""
    )

    app = create_app(Settings(database_url=blank_url))
    with TestClient(app) as client:
        answer = client.get("/api/v1/audit/verify").json()
    app.state.engine.dispose()
    assert answer["ok"] is False and answer["first_bad_seq"] == 1 and answer["signed"] == 0
    assert answer["trusted_key_ids"] == [audit_keys.process_key().key_id]

    out, err = io.StringIO(), io.StringIO()
    argv = ["audit", "verify", "--database-url", blank_url]
    assert cli.main(argv, stdout=out, stderr=err) == 1, err.getvalue()
    assert out.getvalue().startswith("audit log broken at event 1: rows 1 to 3 are not signed")


def test_a_forged_signing_start_event_is_refused(
    blank_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forger also adds an ``audit.signing_started`` event, signed with their own key."""
    monkeypatch.setenv("TESSERA_SECRET_KEY", SECRET)
    upgrade(blank_url)
    _unsigned_rows(engine, 2, actor="mallory")
    forger = audit_keys.AuditKey.generate()
    with engine.begin() as connection:
        prev = connection.execute(text("SELECT hash FROM audit_events WHERE seq = 2")).scalar()
        fields = {
            "seq": 3,
            "occurred_at": datetime(2026, 1, 3, tzinfo=UTC),
            "action": ACTION,
            "actor": ACTOR,
            "team": None,
            "subject": "audit",
            "details": {"key_id": forger.key_id, "covers_through": 2},
            "prev_hash": str(prev),
        }
        digest = audit.compute_hash(**fields)
        connection.execute(
            insert(AuditEvent.__table__).values(
                **fields, hash=digest, key_id=forger.key_id, signature=forger.sign(3, digest)
            )
        )
    with session_factory(engine)() as session:
        report = audit.verify(session)
    assert not report.ok and report.first_bad_seq == 3
    assert f"signed with key {forger.key_id}, which is not a trusted key" in (report.problem or "")


def test_the_signing_migration_cannot_be_rendered_as_offline_sql(
    blank_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Signing needs the rows: the revision refuses ``alembic upgrade --sql`` with a sentence
    instead of leaving a log from before signing uncovered for good."""
    with pytest.raises(RuntimeError, match="run it against the database"):
        command.upgrade(config(blank_url), "0003:0004", sql=True)
    capsys.readouterr()  # the SQL of the revisions before it
