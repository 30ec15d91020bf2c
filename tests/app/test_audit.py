"""The hash-chained audit log: appending, verifying, and catching a changed, removed or
reordered row, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from tessera_app import audit
from tessera_app.db.audit_models import AppendOnlyError, AuditEvent
from tessera_app.db.base import is_postgres, transaction


def _append(sessions: sessionmaker[Session], n: int, start: int = 0) -> None:
    with transaction(sessions) as session:
        for i in range(start, start + n):
            audit.record(
                session,
                action="test.event",
                actor=f"user{i}",
                subject=f"thing:{i}",
                details={"i": i, "when": datetime(2026, 1, 2, tzinfo=UTC), "tags": {"b", "a"}},
                team="payments" if i % 2 else None,
            )


def test_record_chains_rows(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 3)
    with sessions() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert [r.seq for r in rows] == [1, 2, 3]
        assert rows[0].prev_hash == audit.GENESIS
        assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
        assert rows[0].details == {"i": 0, "when": "2026-01-02T00:00:00+00:00", "tags": ["a", "b"]}
        assert rows[1].team == "payments"
        report = audit.verify(session)
    assert report.ok and report.checked == 3 and report.head == rows[2].hash
    assert report.first_bad_seq is None


def test_an_empty_log_verifies(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        report = audit.verify(session)
    assert report.ok and report.checked == 0 and report.head == audit.GENESIS


def test_rows_rolled_back_with_the_callers_transaction(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 1)
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        audit.record(session, action="a", actor="b", subject="c", details={})
        raise RuntimeError("the caller fails")
    _append(sessions, 1, start=1)
    with sessions() as session:
        assert audit.verify(session).ok
        assert audit.count(session) == 2


def _tampered(sessions: sessionmaker[Session], *statements: str) -> audit.VerifyReport:
    _append(sessions, 5)
    with transaction(sessions) as session:
        for statement in statements:
            session.execute(text(statement))
    with sessions() as session:
        return audit.verify(session)


def test_a_changed_row_is_detected(sessions: sessionmaker[Session]) -> None:
    report = _tampered(sessions, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    assert not report.ok
    assert report.first_bad_seq == 3 and report.checked == 2
    assert "changed" in (report.problem or "")


def test_changed_details_are_detected(sessions: sessionmaker[Session]) -> None:
    report = _tampered(sessions, """UPDATE audit_events SET details = '{"i": 99}' WHERE seq = 4""")
    assert not report.ok and report.first_bad_seq == 4


def test_a_removed_row_is_detected(sessions: sessionmaker[Session]) -> None:
    report = _tampered(sessions, "DELETE FROM audit_events WHERE seq = 2")
    assert not report.ok and report.first_bad_seq == 2
    assert "missing" in (report.problem or "")


def test_a_removed_first_row_is_detected(sessions: sessionmaker[Session]) -> None:
    report = _tampered(sessions, "DELETE FROM audit_events WHERE seq = 1")
    assert not report.ok and report.first_bad_seq == 1


def test_a_removed_and_renumbered_row_is_detected(sessions: sessionmaker[Session]) -> None:
    report = _tampered(
        sessions,
        "DELETE FROM audit_events WHERE seq = 3",
        "UPDATE audit_events SET seq = seq - 1 WHERE seq > 3",
    )
    assert not report.ok and report.first_bad_seq == 3
    assert "does not follow" in (report.problem or "")


def test_reordered_rows_are_detected(sessions: sessionmaker[Session]) -> None:
    report = _tampered(
        sessions,
        "UPDATE audit_events SET seq = 100 WHERE seq = 2",
        "UPDATE audit_events SET seq = 2 WHERE seq = 4",
        "UPDATE audit_events SET seq = 4 WHERE seq = 100",
    )
    assert not report.ok and report.first_bad_seq == 2


def test_the_orm_refuses_updates_and_deletes(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 1)
    with sessions() as session:
        row = session.get(AuditEvent, 1)
        assert row is not None
        row.actor = "mallory"
        with pytest.raises(AppendOnlyError, match="append-only"):
            session.flush()
        session.rollback()
        row = session.get(AuditEvent, 1)
        session.delete(row)
        with pytest.raises(AppendOnlyError, match="append-only"):
            session.flush()


def test_details_must_be_json(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, pytest.raises(TypeError, match="not JSON"):
        audit.record(session, action="a", actor="b", subject="c", details={"x": object()})


def test_concurrent_writers_do_not_fork_the_chain(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    """Several threads append at once: PostgreSQL serializes them with the advisory lock;
    SQLite has one writer (a writer that loses the race retries)."""
    errors: list[BaseException] = []
    per_thread, threads = 10, 4

    def work(worker: int) -> None:
        for i in range(per_thread):
            for _attempt in range(50):
                try:
                    with transaction(sessions) as session:
                        audit.record(
                            session, action="race", actor=f"w{worker}", subject=f"s{i}", details={}
                        )
                    break
                except Exception as err:  # SQLite: database is locked / duplicate seq: retry
                    if is_postgres(engine):
                        errors.append(err)
                        return
            else:
                errors.append(RuntimeError("gave up"))

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert not errors
    with sessions() as session:
        report = audit.verify(session)
    assert report.ok and report.checked == per_thread * threads
