"""Upgrading a database whose audit log predates signatures (revision 0003 to the newest), on
SQLite and PostgreSQL: its events are kept unsigned, the log is reported as not covered by
any signature until a signed event follows them, and then verifies."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from tessera_app import audit
from tessera_app.db.base import make_engine, session_factory, transaction
from tessera_app.migrations import upgrade


def test_events_from_before_signing_survive_the_upgrade(database_url: str) -> None:
    upgrade(database_url, "0003")
    engine = make_engine(database_url)
    try:
        prev = audit.GENESIS
        with engine.begin() as connection:
            for seq in (1, 2):
                fields = {
                    "seq": seq,
                    "occurred_at": datetime(2026, 1, seq, tzinfo=UTC),
                    "action": "proposal.opened",
                    "actor": "tessera-github",
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
        upgrade(database_url)
        sessions = session_factory(engine)
        with sessions() as session:
            report = audit.verify(session)
        assert not report.ok and report.first_bad_seq == 1
        assert "rows 1 to 2 are not signed" in (report.problem or "")
        with transaction(sessions) as session:
            audit.record(session, action="proposal.updated", actor="a", subject="s", details={})
        with sessions() as session:
            report = audit.verify(session)
        assert report.ok and (report.checked, report.unsigned, report.signed) == (3, 2, 1)
    finally:
        engine.dispose()
