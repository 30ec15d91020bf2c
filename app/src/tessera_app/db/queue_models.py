"""Durable jobs: the work queue shared by every worker and app replica.

A job is ``queued`` until ``run_at``, then claimed (``running``, with a lease: ``locked_by``
and ``locked_until``), then ``done``; a failure puts it back in ``queued`` with a later
``run_at`` (backoff) until ``max_attempts``, after which it is ``dead`` (the dead letters,
retried only by an admin). A worker that dies mid-job leaves a lease that expires: the job is
claimed again. ``key`` makes enqueueing idempotent. ``serial`` names what a job works on (a
pull request, an issue): at most one job of a serial runs at a time, so two events about the
same pull request never interleave, whichever workers claim them (a partial unique index on the
running jobs' serial backs this up on both databases).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, utcnow

JOB_STATES = ("queued", "running", "done", "dead")


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(f"state IN {JOB_STATES!r}", name="state"),
        Index("ix_jobs_state_run_at", "state", "run_at"),
        Index(
            "uq_jobs_running_serial",
            "serial",
            unique=True,
            postgresql_where=text("state = 'running'"),
            sqlite_where=text("state = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(100), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    key: Mapped[str | None] = mapped_column(String(300), unique=True)
    serial: Mapped[str | None] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int]
    run_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
