"""The hash-chained, signed audit log: appending, verifying, catching a changed, removed or
reordered row and a missing or wrong signature, rows from before signing, and the
checkpoints of its signed head (the committed head, the checkpoint file, the worker's job),
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from tessera_app import audit, audit_checkpoints, audit_keys, audit_signing_start
from tessera_app.audit_keys import AuditKey
from tessera_app.db.audit_models import AppendOnlyError, AuditEvent
from tessera_app.db.base import is_postgres, transaction
from tessera_app.db.queue_models import Job
from tessera_app.queue import enqueue
from tessera_app.settings import Settings
from tessera_app.worker import Worker


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
        # one row at a time: PostgreSQL checks the primary key row by row, in storage order
        "UPDATE audit_events SET seq = 3 WHERE seq = 4",
        "UPDATE audit_events SET seq = 4 WHERE seq = 5",
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


# --- signatures ------------------------------------------------------------------------------


def test_every_row_is_signed_with_the_process_key(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 3)
    key = audit_keys.process_key()
    with sessions() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        report = audit.verify(session)
    assert all(row.key_id == key.key_id for row in rows)
    assert all(key.public.verify(row.seq, row.hash, str(row.signature)) for row in rows)
    assert report.ok and report.signed == 3 and report.unsigned == 0
    assert report.key_ids == (key.key_id,)


def test_verification_trusts_only_the_keys_it_is_given(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 2)
    stranger = AuditKey.generate()
    with sessions() as session:
        report = audit.verify(session, {stranger.key_id: stranger.public})
    assert not report.ok and report.first_bad_seq == 1 and report.checked == 0
    assert "not a trusted key" in (report.problem or "")


def _unsign(sessions: sessionmaker[Session], where: str = "") -> None:
    """Make rows look like rows written before signing existed."""
    with transaction(sessions) as session:
        session.execute(text(f"UPDATE audit_events SET key_id = NULL, signature = NULL {where}"))


def test_unsigned_rows_followed_by_an_ordinary_signed_row_are_refused(
    sessions: sessionmaker[Session],
) -> None:
    """Unsigned rows at the start of the log and a genuine signed event after them (what a
    forged history looks like once the service appends on top of it)."""
    _append(sessions, 3)
    _unsign(sessions)
    with sessions() as session:
        report = audit.verify(session)
    assert not report.ok and (report.first_bad_seq, report.checked) == (1, 0)
    assert "rows 1 to 3 are not signed and no audit.signing_started event covers them" in (
        report.problem or ""
    )
    _append(sessions, 1, start=3)
    with sessions() as session:
        report = audit.verify(session)
    assert not report.ok and (report.first_bad_seq, report.checked, report.head_seq) == (1, 0, 0)
    assert report.head == audit.GENESIS
    assert "row 4, the first signed row, is not the audit.signing_started event" in (
        report.problem or ""
    )


def _signing_start(engine: Engine, key: AuditKey, details: dict[str, object]) -> None:
    """Append an ``audit.signing_started`` event with ``details``, signed with ``key``."""
    with engine.begin() as connection:
        last = connection.execute(
            select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
        ).one()
        fields = {
            "seq": last.seq + 1,
            "occurred_at": datetime(2026, 1, 2, tzinfo=UTC),
            "action": audit_signing_start.ACTION,
            "actor": audit_signing_start.ACTOR,
            "team": None,
            "subject": "audit",
            "details": details,
            "prev_hash": last.hash,
        }
        digest = audit.compute_hash(**fields)
        connection.execute(
            AuditEvent.__table__.insert().values(
                **fields, hash=digest, key_id=key.key_id, signature=key.sign(last.seq + 1, digest)
            )
        )


@pytest.mark.parametrize(
    ("details", "covered"),
    [
        ({"covers_through": 3}, True),
        ({"covers_through": 2}, False),  # one of the unsigned rows left out
        ({"covers_through": 4}, False),
        ({}, False),
        ({"covers_through": 3, "key_id": "0" * 16}, False),  # another key named
    ],
)
def test_only_the_signing_start_event_covering_exactly_them_covers_unsigned_rows(
    engine: Engine, sessions: sessionmaker[Session], details: dict[str, object], covered: bool
) -> None:
    key = AuditKey.generate()
    _append(sessions, 3)
    _unsign(sessions)
    _signing_start(engine, key, {"key_id": key.key_id, **details})
    with sessions() as session:
        report = audit.verify(session, {key.key_id: key.public})
    if covered:
        assert report.ok and (report.checked, report.unsigned, report.signed) == (4, 3, 1)
        assert report.signing_started == 4 and report.trusted_key_ids == (key.key_id,)
    else:
        assert not report.ok and report.first_bad_seq == 1
        assert "is not the audit.signing_started event that covers exactly them" in (
            report.problem or ""
        )


def test_sign_history_covers_a_log_from_before_signing_once(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    key = audit_keys.process_key()
    with engine.begin() as connection:
        assert audit_signing_start.sign_history(connection, key) is None  # empty: signed later
    _append(sessions, 2)
    with engine.begin() as connection:
        assert audit_signing_start.sign_history(connection, key) is None  # already signed
    _unsign(sessions)
    with engine.begin() as connection:
        assert audit_signing_start.sign_history(connection, key) == 3
    with engine.begin() as connection:
        assert audit_signing_start.sign_history(connection, key) is None  # once
    with sessions() as session:
        cover = session.get(AuditEvent, 3)
        report = audit.verify(session)
    assert cover is not None and cover.action == "audit.signing_started"
    assert cover.details == {"key_id": key.key_id, "covers_through": 2}
    assert report.ok and (report.unsigned, report.signed, report.signing_started) == (2, 1, 3)


def test_an_unsigned_row_after_signed_ones_is_reported(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 4)
    _unsign(sessions, "WHERE seq = 3")
    with sessions() as session:
        report = audit.verify(session)
    assert not report.ok and report.first_bad_seq == 3 and report.checked == 2
    assert "row 3 is not signed, although row 2 before it is" in (report.problem or "")


def test_a_changed_signature_is_reported(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 3)
    with transaction(sessions) as session:
        row = session.get(AuditEvent, 2)
        assert row is not None and row.signature
        other = audit_keys.process_key().sign(99, row.hash)
        session.execute(text("UPDATE audit_events SET signature = :s WHERE seq = 2"), {"s": other})
    with sessions() as session:
        report = audit.verify(session)
    assert not report.ok and report.first_bad_seq == 2
    assert "does not match its signature" in (report.problem or "")


# --- checkpoints -----------------------------------------------------------------------------


def test_the_committed_head_leaves_out_rows_not_committed_yet(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        assert audit_checkpoints.committed_head(session) is None
    _append(sessions, 2)
    with transaction(sessions) as session:
        before = audit_checkpoints.committed_head(session)
        assert before is not None and before.seq == 2
        audit.record(session, action="a", actor="b", subject="c", details={})
        during = audit_checkpoints.committed_head(session)
        assert during is not None and (during.seq, during.hash) == (2, before.hash)
    with sessions() as session:
        after = audit_checkpoints.committed_head(session)
        row = session.get(AuditEvent, 3)
    assert after is not None and row is not None
    assert (after.seq, after.hash, after.signature) == (3, row.hash, row.signature)
    assert audit_keys.process_key().public.verify(after.seq, after.hash, after.signature)


def test_the_committed_head_skips_unsigned_rows(sessions: sessionmaker[Session]) -> None:
    _append(sessions, 3)
    _unsign(sessions, "WHERE seq = 3")
    with sessions() as session:
        head = audit_checkpoints.committed_head(session)
    assert head is not None and head.seq == 2  # a checkpoint is never signed afresh


def test_a_checkpoint_file_gets_one_line_per_new_head(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "checkpoints.jsonl"
    _append(sessions, 2)
    with sessions() as session:
        first = audit_checkpoints.committed_head(session)
    assert first is not None
    assert audit_checkpoints.append(path, first)
    assert not audit_checkpoints.append(path, first)  # the same head again: nothing
    with path.open("a") as handle:
        handle.write('{"seq": 3, "hash": "torn')  # a write cut short by a crash
    _append(sessions, 1, start=2)
    with sessions() as session:
        second = audit_checkpoints.committed_head(session)
    assert second is not None and audit_checkpoints.append(path, second)
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[2])["seq"] == 3
    with pytest.raises(audit_checkpoints.CheckpointError, match=rf"{path}:2: not JSON"):
        audit_checkpoints.read_file(path)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[1, 2]", "a checkpoint is a JSON object"),
        ('{"seq": 0}', "seq must be a positive integer"),
        ('{"seq": 1, "hash": "x"}', "hash must be 64 lowercase hex digits"),
        ('{"seq": 1, "hash": "' + "a" * 64 + '", "key_id": "k"}', "key_id must be 16"),
    ],
)
def test_a_bad_checkpoint_line_is_named_by_file_and_line(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "checkpoints.jsonl"
    path.write_text("\n" + line + "\n")
    with pytest.raises(audit_checkpoints.CheckpointError, match=rf"^{path}:2: {message}"):
        audit_checkpoints.read_file(path)


def test_the_worker_writes_checkpoints_when_a_file_is_set(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "checkpoints.jsonl"
    unset = Worker(sessions, Settings(), worker_id="w0")
    unset.schedule()
    with sessions() as session:
        assert not session.scalars(select(Job).where(Job.kind == "audit.checkpoint")).all()
    settings = Settings(audit_checkpoint_file=str(path))
    worker = Worker(sessions, settings, worker_id="w1", kinds=["audit.checkpoint"])
    _append(sessions, 2)
    worker.schedule()
    with sessions() as session:
        (job,) = session.scalars(select(Job).where(Job.kind == "audit.checkpoint")).all()
    assert job.payload == {"path": str(path)}
    assert worker.run_once()
    (checkpoint,) = audit_checkpoints.read_file(path)
    with sessions() as session:
        head = session.get(AuditEvent, 2)
        report = audit.verify(session, anchors=[checkpoint])
        assert audit.count(session) == 2  # the job appends nothing to the log
    assert head is not None and (checkpoint.seq, checkpoint.hash) == (2, head.hash)
    assert report.ok and report.anchors == 1 and report.newest_anchor == 2


def test_the_worker_never_signs_unsigned_rows(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "checkpoints.jsonl"
    _append(sessions, 2)
    _unsign(sessions)  # rows written without the key
    worker = Worker(sessions, Settings(), worker_id="w3", kinds=["audit.checkpoint"])
    for _ in range(2):
        with transaction(sessions) as session:
            enqueue(session, "audit.checkpoint", {"path": str(path)})
        assert worker.run_once()
    with sessions() as session:
        assert audit.count(session) == 2
        assert not audit.verify(session).ok
        (job, again) = session.scalars(select(Job).where(Job.kind == "audit.checkpoint")).all()
    assert job.state == again.state == "done" and not path.exists()


def test_a_checkpoint_file_that_cannot_be_written_fails_the_job(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "missing-directory" / "checkpoints.jsonl"
    _append(sessions, 1)
    worker = Worker(sessions, Settings(), worker_id="w2", kinds=["audit.checkpoint"])
    with transaction(sessions) as session:
        enqueue(session, "audit.checkpoint", {"path": str(path)})
    assert worker.run_once()
    with sessions() as session:
        (job,) = session.scalars(select(Job).where(Job.kind == "audit.checkpoint")).all()
    assert job.state == "queued" and job.attempts == 1  # retried with backoff
    assert job.last_error and "No such file or directory" in job.last_error
