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
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tessera_app.audit import record
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.base import transaction, utcnow
from tessera_app.db.queue_models import Job
from tessera_app.db.registry_models import Team
from tessera_app.queue import enqueue
from tessera_app.settings import Settings
from tessera_app.worker import PERIODIC, Worker

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
