"""The worker: handlers in the job's transaction, failures recorded, graceful stop, periodic
scheduling and the built-in jobs, on both databases."""

from __future__ import annotations

import os
import signal
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, func, select, text, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tessera_app.audit import record
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.base import transaction, utcnow
from tessera_app.db.queue_models import Job
from tessera_app.db.registry_models import Team
from tessera_app.queue import DEAD_HOOKS, PermanentError, enqueue
from tessera_app.settings import Settings
from tessera_app.worker import PERIODIC, Worker

from .conftest import ADMIN_URL
from .polling import wait_until

TEMPLATE = Path(__file__).parents[2] / "registry-template"
SETTINGS = Settings(worker_poll_seconds=0.01)


def _jobs(sessions: sessionmaker[Session]) -> list[Job]:
    with transaction(sessions) as session:
        return list(session.scalars(select(Job).order_by(Job.id)))


def _audit_count(sessions: sessionmaker[Session]) -> int:
    with transaction(sessions) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_a_handler_commits_with_its_job_or_not_at_all(sessions: sessionmaker[Session]) -> None:
    def ok(session: Session, payload: dict[str, Any]) -> None:
        record(session, action="test.ok", actor="t", subject="s", details=payload)

    def broken(session: Session, payload: dict[str, Any]) -> None:
        record(session, action="test.broken", actor="t", subject="s", details=payload)
        raise RuntimeError("the handler broke")

    worker = Worker(sessions, SETTINGS, handlers={"ok": ok, "broken": broken}, periodic=False)
    with transaction(sessions) as session:
        enqueue(session, "ok", {"n": 1})
        enqueue(session, "broken", {"n": 2}, max_attempts=2)
        enqueue(session, "unknown", {"n": 3})
    assert worker.run_once() and worker.run_once()
    assert not worker.run_once()  # the broken job backs off; unknown kinds are left alone
    done, failed, unknown = _jobs(sessions)
    assert done.state == "done"
    assert (failed.state, failed.attempts) == ("queued", 1)
    assert failed.last_error is not None
    assert failed.last_error.startswith("RuntimeError: the handler broke")
    assert "Traceback" in failed.last_error
    assert failed.run_at > utcnow()
    assert (unknown.state, unknown.attempts) == ("queued", 0)
    assert _audit_count(sessions) == 1  # the broken handler's write was rolled back

    with transaction(sessions) as session:  # make it due again: its second failure is final
        session.get_one(Job, failed.id).run_at = utcnow()
    assert worker.run_once()
    assert _jobs(sessions)[1].state == "dead"


def test_stop_finishes_the_current_job(sessions: sessionmaker[Session]) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(session: Session, payload: dict[str, Any]) -> None:
        started.set()
        assert release.wait(10)

    worker = Worker(sessions, SETTINGS, handlers={"slow": slow}, periodic=False)
    with transaction(sessions) as session:
        enqueue(session, "slow", {})
        enqueue(session, "slow", {})
    thread = threading.Thread(target=worker.run)
    thread.start()
    assert started.wait(10)
    worker.stop()
    release.set()
    thread.join(10)
    assert not thread.is_alive()
    assert [job.state for job in _jobs(sessions)] == ["done", "queued"]


def test_sigterm_and_sigint_stop_the_loop(sessions: sessionmaker[Session]) -> None:
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for sig in previous:
            worker = Worker(sessions, SETTINGS, handlers={}, periodic=False)
            worker.install_signal_handlers()
            os.kill(os.getpid(), sig)
            assert worker.stopping.wait(5)
            worker.run()  # returns at once
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def test_periodic_jobs_are_scheduled_once_per_period(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    first = Worker(sessions, SETTINGS, worker_id="a")
    second = Worker(sessions, SETTINGS.model_copy(update={"registry_path": "/r"}), worker_id="b")
    first.schedule(now)
    second.schedule(now)
    second.schedule(now + timedelta(seconds=1))  # checked at most every 30 s
    kinds = sorted(job.kind for job in _jobs(sessions))
    assert kinds == ["proposals.expire", "registry.resync"]  # resync: only with a registry path
    resync = next(job for job in _jobs(sessions) if job.kind == "registry.resync")
    assert resync.payload == {"path": "/r"} and resync.run_at <= now
    longest = max(p.every for p in PERIODIC)
    second.schedule(now + longest)
    assert len(_jobs(sessions)) == 4  # the next period's


def test_builtin_jobs_resync_and_expire(sessions: sessionmaker[Session]) -> None:
    worker = Worker(sessions, SETTINGS, periodic=False)
    with transaction(sessions) as session:
        enqueue(session, "registry.resync", {"path": str(TEMPLATE)})
        enqueue(session, "proposals.expire", {})
    assert worker.run_once() and worker.run_once()
    assert [(job.kind, job.state, job.last_error) for job in _jobs(sessions)] == [
        ("registry.resync", "done", None),
        ("proposals.expire", "done", None),
    ]
    with transaction(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Team))


@pytest.mark.parametrize("path", ["/nonexistent/registry"])
def test_a_failed_resync_is_recorded(sessions: sessionmaker[Session], path: str) -> None:
    worker = Worker(sessions, SETTINGS, periodic=False)
    with transaction(sessions) as session:
        enqueue(session, "registry.resync", {"path": path})
    assert worker.run_once()
    (job,) = _jobs(sessions)
    assert job.state == "queued" and job.last_error and path in job.last_error


class Outage:
    """The database goes away and comes back, for real on PostgreSQL (connections refused and
    every session cut off) and through the driver on SQLite (every statement fails)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.away = threading.Event()
        self.postgres = engine.dialect.name == "postgresql"
        self.name = engine.url.database
        if not self.postgres:
            event.listen(engine, "before_cursor_execute", self._refuse)

    def _refuse(self, *_: object) -> None:
        if self.away.is_set():
            raise OperationalError("SELECT", {}, Exception("disk I/O error: the database is away"))

    def _admin(self, statement: str) -> None:
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(statement))
        finally:
            admin.dispose()

    def begin(self) -> None:
        self.away.set()
        if self.postgres:
            self._admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
            self._admin(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{self.name}' AND pid <> pg_backend_pid()"
            )

    def end(self) -> None:
        if self.postgres:
            self._admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')
        self.away.clear()

    def close(self) -> None:
        if self.away.is_set():
            self.end()
        if not self.postgres:
            event.remove(self.engine, "before_cursor_execute", self._refuse)


def test_a_job_cut_short_by_the_database_goes_back_at_once(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    """The database goes away while a job completes: the worker keeps the job, and when the
    database answers again gives it back at once (its attempt not counted), instead of leaving
    it to its 5-minute lease."""
    outage = Outage(engine)
    runs: list[int] = []

    def job(session: Session, payload: dict[str, Any]) -> None:
        runs.append(1)
        record(session, action="test.job", actor="t", subject="s", details={"run": len(runs)})
        if len(runs) == 1:
            outage.begin()  # the completion after the handler fails

    worker = Worker(sessions, SETTINGS, handlers={"job": job}, periodic=False)
    try:
        with transaction(sessions) as session:
            enqueue(session, "job", {})
        assert worker.run_once()
        assert len(worker.orphans) == 1
        with pytest.raises(SQLAlchemyError):
            worker.give_back_orphans()  # still away: kept for later
        assert len(worker.orphans) == 1
        outage.end()
        worker.give_back_orphans()
        assert worker.orphans == []
        assert worker.run_once()  # due now: not after the lease
    finally:
        outage.close()
    (done,) = _jobs(sessions)
    assert (done.state, done.attempts) == ("done", 1)
    assert len(runs) == 2
    assert _audit_count(sessions) == 1  # the first run's write did not commit


def test_the_worker_loop_rides_out_an_outage(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    """The running loop: an outage mid-job, then the database back; the job is done soon
    after, well before its lease would have run out."""
    outage = Outage(engine)
    runs: list[int] = []

    def job(session: Session, payload: dict[str, Any]) -> None:
        runs.append(1)
        if len(runs) == 1:
            outage.begin()
            threading.Timer(1.0, outage.end).start()

    worker = Worker(sessions, SETTINGS, handlers={"job": job}, periodic=False)
    thread = threading.Thread(target=worker.run)
    try:
        with transaction(sessions) as session:
            enqueue(session, "job", {})
        thread.start()
        wait_until(
            "the job to run again after the outage",
            lambda: len(runs) >= 2 and _states(sessions) == ["done"],
        )
    finally:
        worker.stop()
        thread.join(30)
        outage.close()
    assert not thread.is_alive()


def _states(sessions: sessionmaker[Session]) -> list[str]:
    try:
        return [job.state for job in _jobs(sessions)]
    except SQLAlchemyError:
        return ["unreachable"]


def test_a_permanent_failure_is_not_retried(sessions: sessionmaker[Session]) -> None:
    def hopeless(session: Session, payload: dict[str, Any]) -> None:
        raise PermanentError("GitHub 404: Not Found (GET /repos/acme/gone/pulls/1)")

    died: list[int] = []
    worker = Worker(sessions, SETTINGS, handlers={"hopeless": hopeless}, periodic=False)
    with transaction(sessions) as session:
        enqueue(session, "hopeless", {}, max_attempts=5)
    DEAD_HOOKS["hopeless"] = lambda session, job: died.append(job.id)
    try:
        assert worker.run_once()
    finally:
        DEAD_HOOKS.pop("hopeless")
    (job,) = _jobs(sessions)
    assert (job.state, job.attempts) == ("dead", 1)
    assert job.last_error and job.last_error.startswith("permanent failure, not retried")
    assert died == [job.id]


def test_after_a_github_call_a_job_reads_what_others_decided_meanwhile(
    sessions: sessionmaker[Session],
) -> None:
    """A job commits before each GitHub call; while GitHub answers, another job may publish
    the proposal. What the job decides next must be decided on the proposal as it is now, not
    as the job had loaded it: a publication is never overwritten."""
    from tessera_app import workflow
    from tessera_app.db.workflow_models import Proposal
    from tessera_app.io_boundary import before_io

    from .test_workflow import opened

    with transaction(sessions) as session:
        proposal_id = opened(session).id
    outcome: list[str] = []

    def comment(session: Session, payload: dict[str, Any]) -> None:
        proposal = workflow.get(session, proposal_id)
        assert proposal.state == "open"
        before_io()  # a GitHub call (the membership check): the job's transaction ends here
        with transaction(sessions) as other:  # meanwhile the merge job publishes it
            other.get_one(Proposal, proposal_id).state = "published"
        try:
            workflow.acknowledge(session, proposal_id, "web", "carol", "approved")
        except workflow.InvalidTransition as err:
            outcome.append(str(err))

    worker = Worker(sessions, SETTINGS, handlers={"comment": comment}, periodic=False)
    with transaction(sessions) as session:
        enqueue(session, "comment", {})
    assert worker.run_once()
    assert outcome and "published" in outcome[0]
    with transaction(sessions) as session:
        assert session.get_one(Proposal, proposal_id).state == "published"


def test_a_job_whose_lease_was_taken_over_commits_nothing_more(
    sessions: sessionmaker[Session],
) -> None:
    from tessera_app.io_boundary import before_io

    def slow(session: Session, payload: dict[str, Any]) -> None:
        with transaction(sessions) as other:  # its lease ran out; another worker took it
            other.execute(update(Job).values(locked_by="another worker"))
        record(session, action="test.before", actor="t", subject="s", details={})
        before_io()  # the next GitHub call finds the job is not its own any more

    worker = Worker(sessions, SETTINGS, handlers={"slow": slow}, periodic=False)
    with transaction(sessions) as session:
        enqueue(session, "slow", {})
    assert worker.run_once()
    assert _audit_count(sessions) == 0  # its write before the call was not committed
    (job,) = _jobs(sessions)
    assert (job.state, job.locked_by) == ("running", "another worker")


def test_a_statement_the_database_refuses_is_an_attempt_not_an_outage(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    """Only a database that cannot be reached sends a job back uncounted: a statement it
    refuses (a timeout on PostgreSQL, a missing table on SQLite) is a failed attempt."""

    def refused(session: Session, payload: dict[str, Any]) -> None:
        if engine.dialect.name == "postgresql":
            session.execute(text("SET LOCAL statement_timeout = 10"))
            session.execute(text("SELECT pg_sleep(1)"))
        else:
            session.execute(text("SELECT * FROM no_such_table"))

    worker = Worker(sessions, SETTINGS, handlers={"refused": refused}, periodic=False)
    with transaction(sessions) as session:
        enqueue(session, "refused", {}, max_attempts=3)
    assert worker.run_once()
    assert worker.orphans == []
    (job,) = _jobs(sessions)
    assert (job.state, job.attempts) == ("queued", 1)
