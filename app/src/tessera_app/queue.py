"""The durable job queue: ``enqueue``, ``claim``, ``complete``, ``fail``, ``release``,
``retry_dead``, and the handler registry (``@handler("kind")``) that the worker dispatches on.

Claiming is one ``UPDATE ... WHERE id = (SELECT ... LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING``
statement: on PostgreSQL any number of workers (in any number of app replicas) claim different
jobs without waiting for each other; on SQLite (which ignores ``FOR UPDATE``) the statement is
a single short write transaction, enough for the one worker SQLite supports. A claim takes a
lease (``locked_until``): a worker that dies mid-job leaves a lease that expires, and the job is
claimed again, or dead-lettered if it has used all its attempts. ``complete`` and ``fail`` only
act while the caller still holds the lease (else ``LeaseLost``), so a job whose lease was taken
over cannot also be completed by its first worker: with the handler's last writes in the same
transaction as ``complete``, a job is done exactly when its work is.

A job with a ``serial`` (what it works on: ``owner/repo#12``) is not claimed while another job of
the same serial runs, so work on one pull request is serialized across workers; the partial
unique index on the running jobs' serial turns a race between two claims into a retried claim.

A failure is retried with backoff unless it is a ``PermanentError`` (retrying cannot help: the
job is dead at once), and a job that dies (failed for good, or its lease expired with no attempt
left) runs its kind's ``on_dead`` hook in the same transaction (a webhook job marks its delivery
``failed``). ``release`` gives a claimed job back without counting the attempt: what a worker
does after the database went away under it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from .db.base import utcnow
from .db.queue_models import Job
from .settings import Settings

Handler = Callable[[Session, dict[str, Any]], None]
"""A job handler: its last writes commit with the job's completion, or roll back with its
failure; writes made before a call to another service are committed before that call
(``io_boundary``), so a handler converges when run again; raising marks the attempt failed."""

DeadHook = Callable[[Session, Job], None]
"""Called in the transaction that dead-letters a job of its kind (with the job as it ends)."""

HANDLERS: dict[str, Handler] = {}
DEAD_HOOKS: dict[str, DeadHook] = {}
DEFAULT_LEASE = timedelta(minutes=5)
CLAIM_RACES = 5  # claims retried when another worker took the same serial at the same moment
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(hours=1)
MAX_ERROR = 4000  # characters of the last error kept on the job


class LeaseLost(RuntimeError):
    """The job is no longer this worker's (its lease expired and it was claimed again, or an
    admin changed it): the caller must roll back."""


class PermanentError(Exception):
    """A failure that no retry can mend (the input is unreadable, GitHub says the thing does
    not exist or refuses the request as invalid): the job is dead-lettered at once."""


def handler(kind: str, *, on_dead: DeadHook | None = None) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of jobs of ``kind`` (and ``on_dead``,
    what a job of that kind does when it dies)."""

    def register(function: Handler) -> Handler:
        existing = HANDLERS.get(kind)
        if existing is not None and existing is not function:
            raise ValueError(f"a handler for job kind {kind!r} is already registered")
        HANDLERS[kind] = function
        if on_dead is not None:
            DEAD_HOOKS[kind] = on_dead
        return function

    return register


def backoff(attempt: int, rng: random.Random | None = None) -> timedelta:
    """The wait before retrying after failed attempt number ``attempt`` (1-based): exponential
    (5 s, 10 s, 20 s, ... capped at an hour) with "equal jitter" (half fixed, half random), so
    jobs that failed together do not all retry together."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * (1 << min(max(attempt - 1, 0), 30)))
    jitter = rng.random() if rng is not None else random.random()
    return delay / 2 + delay / 2 * jitter


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    key: str | None = None,
    run_at: datetime | None = None,
    max_attempts: int | None = None,
    serial: str | None = None,
) -> Job:
    """Add a job (in the caller's transaction). With a ``key``, enqueueing is idempotent: if a
    job with that key exists (in any state) it is returned and nothing is added. ``serial``:
    what the job works on (jobs of one serial never run at the same time)."""
    values: dict[str, Any] = {
        "kind": kind,
        "payload": payload,
        "key": key,
        "serial": serial,
        "run_at": run_at or utcnow(),
        "max_attempts": max_attempts or Settings().job_max_attempts,
    }
    if key is None:
        job = Job(**values)
        session.add(job)
        session.flush()
        return job
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    added = session.scalars(
        insert(Job)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Job)
        .execution_options(populate_existing=True)
    ).first()
    if added is not None:
        return added
    return session.scalars(select(Job).where(Job.key == key)).one()


def claim(
    session: Session,
    worker_id: str,
    kinds: Iterable[str] | None = None,
    *,
    lease: timedelta = DEFAULT_LEASE,
    now: datetime | None = None,
) -> Job | None:
    """Take the next due job (queued and due, or running with an expired lease) whose serial
    no other job is running, for ``worker_id``, or None. The caller commits promptly: the claim
    is its own transaction. Two workers racing for the same serial: the loser claims again."""
    for _ in range(CLAIM_RACES):
        try:
            with session.begin_nested():
                return _claim(session, worker_id, kinds, lease, now)
        except IntegrityError:  # another worker started a job of the same serial just now
            continue
    return None


def _claim(
    session: Session,
    worker_id: str,
    kinds: Iterable[str] | None,
    lease: timedelta,
    now: datetime | None,
) -> Job | None:
    kinds = list(kinds) if kinds is not None else None
    running = aliased(Job)
    while True:
        moment = now or utcnow()
        due = ((Job.state == "queued") & (Job.run_at <= moment)) | (
            (Job.state == "running") & (Job.locked_until < moment)
        )
        busy = exists().where(
            running.serial == Job.serial, running.state == "running", running.id != Job.id
        )
        due = due & (Job.serial.is_(None) | ~busy)
        if kinds is not None:
            due = due & Job.kind.in_(kinds)
        candidate = (
            select(Job.id)
            .where(due)
            .order_by(Job.run_at, Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        exhausted = Job.attempts >= Job.max_attempts  # only an expired lease can be exhausted
        job = session.scalars(
            update(Job)
            .where(Job.id == candidate)
            .values(
                state=case((exhausted, "dead"), else_="running"),
                attempts=case((exhausted, Job.attempts), else_=Job.attempts + 1),
                locked_by=case((exhausted, None), else_=worker_id),
                locked_until=case((exhausted, None), else_=moment + lease),
                last_error=case(
                    (exhausted, "lease expired while running (the worker stopped or hung)"),
                    else_=Job.last_error,
                ),
                finished_at=case((exhausted, moment), else_=None),
                updated_at=moment,
            )
            .returning(Job)
            .execution_options(synchronize_session=False, populate_existing=True)
        ).first()
        if job is None:
            return None
        if job.state == "running":
            return job
        # an exhausted expired lease was dead-lettered: look for another job
        _died(session, job)


def _died(session: Session, job: Job) -> None:
    hook = DEAD_HOOKS.get(job.kind)
    if hook is not None:
        hook(session, job)


def _release(session: Session, job: Job, **values: Any) -> None:
    """Apply ``values`` to ``job`` if this worker still holds its lease, else ``LeaseLost``."""
    result = session.execute(
        update(Job)
        .where(Job.id == job.id, Job.state == "running", Job.locked_by == job.locked_by)
        .values(locked_by=None, locked_until=None, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(f"job {job.id} is no longer held by {job.locked_by}")
    for name, value in values.items():
        setattr(job, name, value)
    job.locked_by = job.locked_until = None


def complete(session: Session, job: Job, *, now: datetime | None = None) -> None:
    """Mark a claimed job done (in the transaction that holds its handler's writes)."""
    _release(session, job, state="done", finished_at=now or utcnow())


def fail(
    session: Session,
    job: Job,
    error: str,
    *,
    permanent: bool = False,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> str:
    """Record a failed attempt: back to ``queued`` after a backoff, or ``dead`` once the job
    has used ``max_attempts`` (or at once when the failure is ``permanent``). Returns the new
    state."""
    moment = now or utcnow()
    error = error[:MAX_ERROR]
    if permanent or job.attempts >= job.max_attempts:
        if permanent and job.attempts < job.max_attempts:
            error = f"permanent failure, not retried: {error}"[:MAX_ERROR]
        _release(session, job, state="dead", last_error=error, finished_at=moment)
        _died(session, job)
        return "dead"
    _release(
        session, job, state="queued", last_error=error, run_at=moment + backoff(job.attempts, rng)
    )
    return "queued"


def renew(session: Session, job: Job, lease: timedelta, *, now: datetime | None = None) -> None:
    """Extend the lease of a job this worker runs (in the caller's transaction), or
    ``LeaseLost`` when it is no longer this worker's."""
    until = (now or utcnow()) + lease
    result = session.execute(
        update(Job)
        .where(Job.id == job.id, Job.state == "running", Job.locked_by == job.locked_by)
        .values(locked_until=until)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(f"job {job.id} is no longer held by {job.locked_by}")
    job.locked_until = until


def release(session: Session, job: Job, *, now: datetime | None = None) -> None:
    """Give a claimed job back to the queue, due now, without counting the attempt (the work
    was cut short by the database, not by the job); ``LeaseLost`` if it is no longer ours."""
    _release(session, job, state="queued", run_at=now or utcnow(), attempts=job.attempts - 1)


def retry_dead(session: Session, job_id: int, *, now: datetime | None = None) -> Job:
    """Put a dead job back in the queue with a fresh set of attempts (``LookupError`` if there
    is no such job, ``ValueError`` if it is not dead). Its last error is kept until it runs."""
    job = session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise LookupError(f"no job with id {job_id}")
    if job.state != "dead":
        raise ValueError(f"job {job_id} is {job.state}, not dead")
    moment = now or utcnow()
    job.state = "queued"
    job.attempts = 0
    job.run_at = moment
    job.finished_at = None
    job.locked_by = job.locked_until = None
    job.updated_at = moment
    session.flush()
    return job
