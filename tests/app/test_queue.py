"""The job queue: enqueue, claim, complete, retries with backoff, dead letters and leases, on
both databases."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tessera_app.db.base import transaction, utcnow
from tessera_app.db.queue_models import Job
from tessera_app.queue import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    LeaseLost,
    backoff,
    claim,
    complete,
    enqueue,
    fail,
    retry_dead,
)


def _job(sessions: sessionmaker[Session], job_id: int) -> Job:
    with transaction(sessions) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def test_enqueue_claim_complete(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    with transaction(sessions) as session:
        first = enqueue(session, "a", {"n": 1}, max_attempts=3).id
        later = enqueue(session, "a", {"n": 2}, run_at=now + timedelta(hours=1)).id
        other = enqueue(session, "b", {"n": 3}).id
    with transaction(sessions) as session:
        job = claim(session, "w1", ["a"])
        assert job is not None and job.id == first
        assert (job.state, job.attempts, job.locked_by, job.payload) == (
            "running",
            1,
            "w1",
            {"n": 1},
        )
        assert job.locked_until is not None and job.locked_until > now
    with transaction(sessions) as session:
        assert claim(session, "w1", ["a"]) is None  # `later` is not due, `other` is another kind
        complete(session, job)
    done = _job(sessions, first)
    assert (done.state, done.locked_by, done.locked_until) == ("done", None, None)
    assert done.finished_at is not None
    with transaction(sessions) as session:
        claimed = claim(session, "w1")
        assert claimed is not None and claimed.id == other
        due = claim(session, "w1", ["a"], now=now + timedelta(hours=2))
        assert due is not None and due.id == later
        assert claim(session, "w1", ["a"], now=now + timedelta(hours=2)) is None


def test_a_key_makes_enqueue_idempotent(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        first = enqueue(session, "a", {"n": 1}, key="once")
        again = enqueue(session, "a", {"n": 2}, key="once")
        assert again.id == first.id and again.payload == {"n": 1}
    with transaction(sessions) as session:
        job = claim(session, "w")
        assert job is not None
        complete(session, job)
    with transaction(sessions) as session:
        assert enqueue(session, "a", {}, key="once").state == "done"  # not run twice
        assert len(session.scalars(select(Job)).all()) == 1


def test_backoff_is_exponential_with_jitter() -> None:
    rng = random.Random(7)
    for attempt in range(1, 12):
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
        delays = {backoff(attempt, rng) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered
    assert backoff(50) <= BACKOFF_CAP


def test_retries_back_off_then_dead_letter(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    with transaction(sessions) as session:
        job_id = enqueue(session, "flaky", {}, run_at=now, max_attempts=3).id
    moment = now
    for attempt in (1, 2, 3):
        with transaction(sessions) as session:
            assert claim(session, "w", now=moment - timedelta(seconds=1)) is None  # not yet due
            job = claim(session, "w", now=moment)
            assert job is not None and job.attempts == attempt
        with transaction(sessions) as session:
            state = fail(session, job, f"boom {attempt}", now=moment)
        row = _job(sessions, job_id)
        assert row.last_error == f"boom {attempt}"
        if attempt < 3:
            assert state == row.state == "queued"
            ceiling = BACKOFF_BASE * 2 ** (attempt - 1)
            assert moment + ceiling / 2 <= row.run_at <= moment + ceiling
            moment = row.run_at
        else:
            assert state == row.state == "dead"
    with transaction(sessions) as session:
        assert claim(session, "w", now=moment + timedelta(days=1)) is None  # dead stays dead
        queued = enqueue(session, "x", {}, run_at=moment + timedelta(days=2)).id
        with pytest.raises(ValueError, match="not dead"):
            retry_dead(session, queued)
        with pytest.raises(LookupError):
            retry_dead(session, 10**6)
        retried = retry_dead(session, job_id)
        assert (retried.state, retried.attempts, retried.last_error) == ("queued", 0, "boom 3")
    with transaction(sessions) as session:
        job = claim(session, "w", ["flaky"])
        assert job is not None and job.id == job_id and job.attempts == 1


def test_an_expired_lease_is_claimed_again(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    with transaction(sessions) as session:
        job_id = enqueue(session, "slow", {}, run_at=now, max_attempts=2).id
    with transaction(sessions) as session:
        crashed = claim(session, "w1", lease=timedelta(seconds=30), now=now)
        assert crashed is not None
    with transaction(sessions) as session:
        assert claim(session, "w2", now=now + timedelta(seconds=29)) is None  # still leased
        taken = claim(session, "w2", now=now + timedelta(seconds=31))
        assert taken is not None and taken.id == job_id
        assert (taken.locked_by, taken.attempts) == ("w2", 2)
    with transaction(sessions) as session, pytest.raises(LeaseLost):
        complete(session, crashed)  # the first worker woke up too late: it must roll back
    with transaction(sessions) as session, pytest.raises(LeaseLost):
        fail(session, crashed, "late")
    # the second worker dies too: its attempts are used up, so the job is dead-lettered
    with transaction(sessions) as session:
        assert claim(session, "w3", now=now + timedelta(hours=1)) is None
    row = _job(sessions, job_id)
    assert row.state == "dead" and row.locked_by is None
    assert row.last_error is not None and "lease expired" in row.last_error


def test_jobs_of_one_serial_never_run_together(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    with transaction(sessions) as session:
        first = enqueue(session, "a", {"n": 1}, serial="acme/api#7", run_at=now).id
        second = enqueue(session, "a", {"n": 2}, serial="acme/api#7", run_at=now).id
        other = enqueue(session, "a", {"n": 3}, serial="acme/api#8", run_at=now).id
        free = enqueue(session, "a", {"n": 4}, run_at=now).id
    with transaction(sessions) as session:
        job = claim(session, "w1")
        assert job is not None and job.id == first
    claimed = []
    for _ in range(3):  # the second job of #7 waits; the others run
        with transaction(sessions) as session:
            found = claim(session, "w2")
            claimed.append(found.id if found is not None else None)
    assert claimed == [other, free, None]
    with transaction(sessions) as session:
        complete(session, job)
    with transaction(sessions) as session:
        after = claim(session, "w2")
        assert after is not None and after.id == second


def test_a_serial_whose_job_lost_its_lease_is_taken_over(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    with transaction(sessions) as session:
        stuck = enqueue(session, "a", {}, serial="acme/api#7", run_at=now).id
        enqueue(session, "a", {}, serial="acme/api#7", run_at=now)
    with transaction(sessions) as session:
        assert claim(session, "dies", lease=timedelta(seconds=1)) is not None
    with transaction(sessions) as session:  # the lease ran out: the same job, not its sibling
        again = claim(session, "w2", now=now + timedelta(minutes=1))
        assert again is not None and again.id == stuck and again.locked_by == "w2"


def test_the_database_refuses_two_running_jobs_of_one_serial(
    sessions: sessionmaker[Session],
) -> None:
    """The backstop for two workers claiming at the same instant: a unique index on the
    running jobs' serial (claim retries when it trips)."""
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    with transaction(sessions) as session:
        ids = [enqueue(session, "a", {}, serial="acme/api#7").id for _ in range(2)]
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        session.execute(update(Job).where(Job.id.in_(ids)).values(state="running"))
    with transaction(sessions) as session:  # any number of finished ones is fine
        session.execute(update(Job).where(Job.id.in_(ids)).values(state="done"))
