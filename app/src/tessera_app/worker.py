"""The worker: claims due jobs and runs their handlers, one job per transaction.

    Worker(sessions, settings).run()     loop until stop() (or SIGTERM/SIGINT once
                                         install_signal_handlers() was called)

Each job: a short transaction claims it (taking a lease), then the handler runs and the job is
marked done in the handler's last transaction, so the handler's final writes and the completion
commit together (or neither does). A handler never waits on GitHub inside a transaction
(``io_boundary``): before each GitHub request the writes so far are committed, so SQLite's write
lock and PostgreSQL's row and advisory locks are held for milliseconds, not for GitHub's answer;
handlers are written to converge when a job runs again after part of it committed. A handler
that raises rolls back its open transaction, and the failure is recorded in another one (retry
with backoff; a ``PermanentError`` or the last attempt: dead letter). When the database itself
goes away under a job, the job is kept in memory and given back to the queue (``release``, the
attempt not counted) as soon as the database answers again, instead of waiting for its lease to
run out. Stopping is graceful: the current job finishes first. The worker only claims the kinds
it has handlers for.

It also schedules the periodic built-in jobs: ``proposals.expire`` (the workflow's timeouts),
``registry.resync`` (when ``TESSERA_REGISTRY_PATH`` is set), ``github.reconcile`` (when the
GitHub App is configured; ``tessera_app.github.handlers``, imported here, registers the
``github.*`` handlers) and ``audit.checkpoint`` (when ``TESSERA_AUDIT_CHECKPOINT_FILE`` is
set), and ``github.registry_resync`` (when the App publishes into ``TESSERA_REGISTRY_REPO``:
the mirror follows that repository's branch; also enqueued once when a worker starts). Each
period's job has an idempotency key naming the period, so any number of workers schedule each
one exactly once.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from .db.base import database_unavailable, transaction, utcnow
from .db.queue_models import Job
from .github import handlers as _github_handlers
from .io_boundary import releasing
from .queue import (
    DEFAULT_LEASE,
    HANDLERS,
    Handler,
    LeaseLost,
    PermanentError,
    claim,
    complete,
    enqueue,
    fail,
    handler,
    release,
    renew,
)
from .settings import Settings

log = logging.getLogger(__name__)
SCHEDULE_CHECK = timedelta(seconds=30)
MAX_GIVE_BACKS = 5  # a job cut short by the database more often than this fails an attempt


@dataclass(frozen=True)
class Periodic:
    kind: str
    every: timedelta
    at_start: bool = False  # also enqueued once when a worker starts


PERIODIC = (
    Periodic("proposals.expire", timedelta(minutes=5)),
    Periodic("registry.resync", timedelta(minutes=15)),
    Periodic("github.reconcile", timedelta(minutes=10)),  # when the GitHub App is configured
    Periodic("github.registry_resync", timedelta(minutes=5), at_start=True),  # the App publishes
    Periodic("audit.checkpoint", timedelta(minutes=5)),  # when a checkpoint file is configured
)


@handler("registry.resync")
def resync_registry(session: Session, payload: dict[str, Any]) -> None:
    """Rebuild the database mirror from the registry checkout at ``payload["path"]``."""
    from . import mirror  # lazily: only the worker needs it

    report = mirror.resync(session, payload["path"], actor="tessera-worker")
    log.info("registry resync from %s: %s changes", payload["path"], report.changes)


@handler("proposals.expire")
def expire_proposals(session: Session, payload: dict[str, Any]) -> None:
    """Expire the open proposals whose contract's timeout has passed."""
    from . import workflow

    changed = workflow.expire_due(session)
    _github_handlers.tell_github(session, changed)  # their checks, issues and comments
    log.info("proposals expired or reopened: %d", len(changed))


@handler("audit.checkpoint")
def checkpoint_audit_log(session: Session, payload: dict[str, Any]) -> None:
    """Append the audit log's signed head to the checkpoint file at ``payload["path"]``."""
    from . import audit_checkpoints

    head = audit_checkpoints.write(session, payload["path"], actor="tessera-worker")
    log.info("audit checkpoint: %s", f"event {head.seq}" if head else "no signed event yet")


def _describe(err: BaseException) -> str:
    summary = "".join(traceback.format_exception_only(err)).strip()
    trace = "".join(traceback.format_exception(err))
    return f"{summary}\n\n{trace[-2000:]}"


def _commit_so_far(session: Session, job: Job, lease: timedelta) -> None:
    """Before a GitHub request: renew the job's lease and commit its writes so far, together
    (``LeaseLost`` instead when another worker has taken the job over: nothing is committed);
    then forget what the session had loaded, so what the job reads next is read again (another
    job may have changed it while GitHub answered)."""
    if not session.in_transaction() or session.in_nested_transaction():
        return
    renew(session, job, lease)
    session.commit()
    session.expire_all()


def _rollback(session: Session) -> None:
    try:
        session.rollback()
    except SQLAlchemyError:  # the connection is gone already: nothing to roll back
        session.invalidate()


class Worker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        *,
        worker_id: str | None = None,
        kinds: Iterable[str] | None = None,
        handlers: Mapping[str, Handler] | None = None,
        lease: timedelta = DEFAULT_LEASE,
        periodic: bool = True,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.handlers = handlers if handlers is not None else HANDLERS
        self.kinds = list(kinds) if kinds is not None else None
        self.lease = lease
        self.periodic = periodic
        self.stopping = threading.Event()
        self._next_schedule: datetime | None = None
        self.orphans: list[Job] = []  # claimed jobs cut short by the database, to give back
        self.given_back: dict[int, int] = {}  # job id -> times given back (bounded)
        self.failing: list[tuple[Job, BaseException]] = []  # failures to record when it can

    def stop(self, *_: object) -> None:
        """Stop after the current job (safe to call from a signal handler)."""
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.stop)

    def run(self) -> None:
        log.info("worker %s started (kinds: %s)", self.id, self._kinds())
        if self.periodic:
            self.enqueue_start_jobs()
        while not self.stopping.is_set():
            try:
                self.give_back_orphans()
                if self.periodic:
                    self.schedule()
                worked = self.run_once()
            except SQLAlchemyError as err:  # the database is away or refused: wait, try again
                log.warning("worker %s: database unavailable: %s", self.id, err)
                worked = False
            if not worked:
                self.stopping.wait(self.settings.worker_poll_seconds)
        log.info("worker %s stopped", self.id)

    def _kinds(self) -> list[str]:
        handled = sorted(self.handlers)
        return [k for k in self.kinds if k in self.handlers] if self.kinds is not None else handled

    def run_once(self) -> bool:
        """Claim and run one due job; False if there was none."""
        with transaction(self.sessions) as session:
            job = claim(session, self.id, self._kinds(), lease=self.lease)
        if job is None:
            return False
        self.execute(job)
        return True

    def execute(self, job: Job) -> None:
        function = self.handlers[job.kind]
        session = self.sessions()
        try:
            with releasing(lambda: _commit_so_far(session, job, self.lease)):
                function(session, dict(job.payload))
            complete(session, job)
            session.commit()
        except LeaseLost as err:
            _rollback(session)
            log.warning(
                "job %s (%s): %s; its work since its last GitHub call was rolled back",
                job.id,
                job.kind,
                err,
            )
            return
        except Exception as err:  # a handler's failure is recorded, never fatal to the loop
            _rollback(session)
            if database_unavailable(err):
                self._orphan(job, err)
                return
            self._record_failure(job, err)
            return
        finally:
            session.close()
        self.given_back.pop(job.id, None)
        log.info("job %s (%s) done", job.id, job.kind)

    def _record_failure(self, job: Job, err: BaseException) -> None:
        try:
            with transaction(self.sessions) as session:
                state = fail(
                    session, job, _describe(err), permanent=isinstance(err, PermanentError)
                )
        except LeaseLost as lost:
            log.warning("job %s (%s) failed, then %s", job.id, job.kind, lost)
            return
        except SQLAlchemyError as db:
            if not database_unavailable(db):
                raise
            self._orphan(job, db)
            return
        log.warning(
            "job %s (%s) attempt %s/%s failed; now %s: %s",
            job.id,
            job.kind,
            job.attempts,
            job.max_attempts,
            state,
            "".join(traceback.format_exception_only(err)).strip(),
            exc_info=not isinstance(err, PermanentError),
        )

    def _orphan(self, job: Job, err: BaseException) -> None:
        self.given_back[job.id] = self.given_back.get(job.id, 0) + 1
        if self.given_back[job.id] > MAX_GIVE_BACKS:  # not an outage: this job's own doing
            log.warning("job %s (%s) was cut short %s times", job.id, job.kind, MAX_GIVE_BACKS)
            self.failing.append((job, err))
            return
        log.warning(
            "job %s (%s): the database went away (%s); it goes back to the queue as soon as "
            "the database answers",
            job.id,
            job.kind,
            type(err).__name__,
        )
        self.orphans.append(job)

    def give_back_orphans(self) -> None:
        """Return the jobs the database cut short to the queue (due now, attempt not counted);
        a job whose lease was taken over meanwhile is another worker's now. A job cut short
        more than ``MAX_GIVE_BACKS`` times has its failure recorded as an attempt instead."""
        while self.failing:
            job, err = self.failing[0]
            self.failing.pop(0)
            self.given_back.pop(job.id, None)
            self._record_failure(job, err)
        while self.orphans:
            job = self.orphans[0]
            try:
                with transaction(self.sessions) as session:
                    release(session, job)
            except LeaseLost:
                log.info("job %s (%s) was taken over while the database was away", job.id, job.kind)
            else:
                log.info("job %s (%s) given back to the queue", job.id, job.kind)
            self.orphans.pop(0)

    def enqueue_start_jobs(self, now: datetime | None = None) -> None:
        """Enqueue, once, the built-in jobs a starting worker runs at once (``at_start``): the
        mirror follows the registry on GitHub without waiting for the next period."""
        now = now or utcnow()
        kinds = [p.kind for p in PERIODIC if p.at_start and p.kind in self.handlers]
        if "github.registry_resync" in kinds and not self.settings.app_publishes:
            kinds.remove("github.registry_resync")
        try:
            with transaction(self.sessions) as session:
                for kind in kinds:
                    enqueue(
                        session,
                        kind,
                        {},
                        key=f"{kind}@start:{self.id}@{now.isoformat()}",
                        max_attempts=self.settings.job_max_attempts,
                    )
        except SQLAlchemyError as err:  # the periodic schedule enqueues them soon anyway
            log.warning("worker %s: start-up jobs not enqueued: %s", self.id, err)

    def schedule(self, now: datetime | None = None) -> None:
        """Enqueue this period's built-in jobs (idempotent: keyed by period)."""
        now = now or utcnow()
        if self._next_schedule is not None and now < self._next_schedule:
            return
        self._next_schedule = now + SCHEDULE_CHECK
        with transaction(self.sessions) as session:
            for periodic in PERIODIC:
                if periodic.kind not in self.handlers:
                    continue
                payload: dict[str, Any] = {}
                if periodic.kind == "github.reconcile" and self.settings.github_app_id is None:
                    continue
                if periodic.kind == "github.registry_resync" and not self.settings.app_publishes:
                    continue
                if periodic.kind == "registry.resync":
                    if not self.settings.registry_path:
                        continue
                    payload = {"path": self.settings.registry_path}
                if periodic.kind == "audit.checkpoint":
                    if not self.settings.audit_checkpoint_file:
                        continue
                    payload = {"path": self.settings.audit_checkpoint_file}
                seconds = int(periodic.every.total_seconds())
                start = datetime.fromtimestamp(
                    int(now.timestamp()) // seconds * seconds, now.tzinfo
                )
                enqueue(
                    session,
                    periodic.kind,
                    payload,
                    key=f"{periodic.kind}@{start.isoformat()}",
                    run_at=start,
                    max_attempts=self.settings.job_max_attempts,
                )
