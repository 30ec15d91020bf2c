"""Two workers drain 1,000 jobs and each job's effect commits exactly once. The PostgreSQL run
is the one that matters (SKIP LOCKED lets the workers claim in parallel); SQLite, where each
commit is a file sync, runs fewer jobs to keep the suite fast."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from tessera_app.db.base import transaction, utcnow
from tessera_app.db.queue_models import Job
from tessera_app.settings import Settings
from tessera_app.worker import Worker

JOBS = {"postgresql": 1000, "sqlite": 300}
effects_metadata = MetaData()
effects = Table(
    "test_job_effects",
    effects_metadata,
    Column("n", Integer, primary_key=True),  # a second run of a job would violate this
    Column("worker", String(200), nullable=False),
)


@pytest.fixture
def effects_table(engine: Engine) -> Iterator[Table]:
    effects_metadata.create_all(engine)
    yield effects
    effects_metadata.drop_all(engine)


def test_two_workers_run_each_job_exactly_once(
    engine: Engine, sessions: sessionmaker[Session], effects_table: Table
) -> None:
    jobs = JOBS[engine.dialect.name]
    runs: Counter[int] = Counter()
    lock = threading.Lock()

    def make_handler(worker: str) -> Any:
        def effect(session: Session, payload: dict[str, Any]) -> None:
            with lock:
                runs[payload["n"]] += 1
            session.execute(insert(effects_table).values(n=payload["n"], worker=worker))

        return effect

    now = utcnow()
    with transaction(sessions) as session:
        session.execute(
            insert(Job),
            [
                {"kind": "test.effect", "payload": {"n": n}, "max_attempts": 5, "run_at": now}
                for n in range(jobs)
            ],
        )
    settings = Settings(worker_poll_seconds=0.01)
    workers = [
        Worker(
            sessions,
            settings,
            worker_id=f"w{i}",
            handlers={"test.effect": make_handler(f"w{i}")},
            periodic=False,
        )
        for i in (1, 2)
    ]
    threads = [threading.Thread(target=w.run) for w in workers]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    try:
        deadline = started + 60
        while time.perf_counter() < deadline:
            with transaction(sessions) as session:
                left = session.scalar(select(func.count()).where(Job.state != "done"))
            if left == 0:
                break
            time.sleep(0.05)
    finally:
        for worker in workers:
            worker.stop()
        for thread in threads:
            thread.join(10)
    elapsed = time.perf_counter() - started
    assert left == 0, f"{left} jobs not done after {elapsed:.1f}s"
    assert set(runs) == set(range(jobs)) and set(runs.values()) == {1}, "a job ran twice"
    with transaction(sessions) as session:
        by_worker = dict(
            session.execute(
                select(effects_table.c.worker, func.count()).group_by(effects_table.c.worker)
            ).all()
        )
        attempts = set(session.scalars(select(Job.attempts).distinct()))
    assert sum(by_worker.values()) == jobs
    assert attempts == {1}  # no job failed or was retried
    assert set(by_worker) == {"w1", "w2"}, by_worker  # both workers took part
    print(f"2 workers, {jobs} jobs: {elapsed:.2f}s; by worker {by_worker}")
