"""The worker: claims due jobs and runs their handlers, one job per transaction.

    Worker(sessions, settings).run()     loop until stop() (or SIGTERM/SIGINT once
                                         install_signal_handlers() was called)

Each job: a short transaction claims it (taking a lease), then a second transaction runs the
handler and marks the job done, so the handler's writes and the completion commit together (or
neither does). A handler that raises rolls back, and the failure is recorded in a third
transaction (retry with backoff, or dead letter). Stopping is graceful: the current job
finishes first. The worker only claims the kinds it has handlers for.

It also schedules the periodic built-in jobs: ``proposals.expire`` (the workflow's timeouts),
``registry.resync`` (when ``TESSERA_REGISTRY_PATH`` is set) and ``github.reconcile`` (when the
GitHub App is configured; ``tessera_app.github.handlers``, imported here, registers the
``github.*`` handlers). Each period's job has an idempotency key naming the period, so any
number of workers schedule each one exactly once.
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

from .db.base import transaction, utcnow
from .db.queue_models import Job
from .github import handlers as _github_handlers  # noqa: F401  (registers the github.* jobs)
from .queue import (
    DEFAULT_LEASE,
    HANDLERS,
    Handler,
    LeaseLost,
    claim,
    complete,
    enqueue,
    fail,
    handler,
)
from .settings import Settings

log = logging.getLogger(__name__)
SCHEDULE_CHECK = timedelta(seconds=30)


@dataclass(frozen=True)
class Periodic:
    kind: str
    every: timedelta


PERIODIC = (
    Periodic("proposals.expire", timedelta(minutes=5)),
    Periodic("registry.resync", timedelta(minutes=15)),
    Periodic("github.reconcile", timedelta(minutes=10)),  # when the GitHub App is configured
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
    log.info("proposals expired or reopened: %d", len(changed))


def _describe(err: BaseException) -> str:
    summary = "".join(traceback.format_exception_only(err)).strip()
    trace = "".join(traceback.format_exception(err))
    return f"{summary}\n\n{trace[-2000:]}"


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

    def stop(self, *_: object) -> None:
        """Stop after the current job (safe to call from a signal handler)."""
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.stop)

    def run(self) -> None:
        log.info("worker %s started (kinds: %s)", self.id, self._kinds())
        while not self.stopping.is_set():
            try:
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
        try:
            with transaction(self.sessions) as session:
                function(session, dict(job.payload))
                complete(session, job)
        except LeaseLost as err:
            log.warning("job %s (%s): %s; its work was rolled back", job.id, job.kind, err)
            return
        except Exception as err:  # a handler's failure is recorded, never fatal to the loop
            try:
                with transaction(self.sessions) as session:
                    state = fail(session, job, _describe(err))
            except LeaseLost as lost:
                log.warning("job %s (%s) failed, then %s", job.id, job.kind, lost)
                return
            log.exception(
                "job %s (%s) attempt %s/%s failed; now %s",
                job.id,
                job.kind,
                job.attempts,
                job.max_attempts,
                state,
            )
            return
        log.info("job %s (%s) done", job.id, job.kind)

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
                if periodic.kind == "registry.resync":
                    if not self.settings.registry_path:
                        continue
                    payload = {"path": self.settings.registry_path}
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
