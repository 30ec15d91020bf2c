"""The job queue, seen from outside: counts by state and kind, the jobs (filtered), the dead
letters, and retrying a dead job (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from ..audit import record
from ..auth import Principal, require
from ..db.base import transaction, utcnow
from ..db.queue_models import Job
from ..queue import retry_dead

router = APIRouter(prefix="/jobs", tags=["jobs"])
State = Literal["queued", "running", "done", "dead"]
Reader = Annotated[Principal, Depends(require("read"))]
Admin = Annotated[Principal, Depends(require("admin"))]
JobId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"  # PostgreSQL refuses NUL in text: a 422, not a 500
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such job"}}


class StateCounts(BaseModel):
    queued: int = 0
    running: int = 0
    done: int = 0
    dead: int = 0


class KindCounts(StateCounts):
    kind: str


class QueueStatus(BaseModel):
    states: StateCounts = Field(description="jobs per state")
    kinds: list[KindCounts] = Field(description="jobs per kind and state, by kind")
    oldest_due_at: datetime | None = Field(
        description="when the longest-waiting due job became due (the queue's lag)"
    )


class JobInfo(BaseModel):
    id: int
    kind: str
    payload: dict[str, Any]
    key: str | None
    state: State
    attempts: int
    max_attempts: int
    run_at: datetime
    locked_by: str | None
    locked_until: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job) -> JobInfo:
        return cls.model_validate(job, from_attributes=True)


@router.get("/status", response_model=QueueStatus)
def queue_status(request: Request, _: Reader) -> QueueStatus:
    """How many jobs are in each state, per kind, and how far behind the queue is."""
    with transaction(request.app.state.sessions) as session:
        rows = session.execute(
            select(Job.kind, Job.state, func.count()).group_by(Job.kind, Job.state)
        ).all()
        oldest = session.scalar(
            select(func.min(Job.run_at)).where(Job.state == "queued", Job.run_at <= utcnow())
        )
    states = StateCounts()
    kinds: dict[str, KindCounts] = {}
    for kind, state, count in rows:
        setattr(states, state, getattr(states, state) + count)
        setattr(kinds.setdefault(kind, KindCounts(kind=kind)), state, count)
    return QueueStatus(states=states, kinds=[kinds[k] for k in sorted(kinds)], oldest_due_at=oldest)


@router.get("", response_model=list[JobInfo])
def list_jobs(
    request: Request,
    _: Reader,
    state: State | None = None,
    kind: Annotated[str | None, Query(max_length=100, pattern=PRINTABLE)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[JobInfo]:
    """Jobs, newest first, optionally of one state and kind."""
    query = select(Job).order_by(Job.id.desc()).limit(limit).offset(offset)
    if state is not None:
        query = query.where(Job.state == state)
    if kind is not None:
        query = query.where(Job.kind == kind)
    with transaction(request.app.state.sessions) as session:
        return [JobInfo.of(job) for job in session.scalars(query)]


@router.get("/dead", response_model=list[JobInfo])
def dead_letters(
    request: Request,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[JobInfo]:
    """The dead letters: jobs that used every attempt, most recently failed first."""
    query = (
        select(Job)
        .where(Job.state == "dead")
        .order_by(Job.updated_at.desc(), Job.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with transaction(request.app.state.sessions) as session:
        return [JobInfo.of(job) for job in session.scalars(query)]


@router.get("/{job_id}", response_model=JobInfo, responses=NOT_FOUND)
def get_job(job_id: JobId, request: Request, _: Reader) -> JobInfo:
    with transaction(request.app.state.sessions) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job with id {job_id}")
        return JobInfo.of(job)


@router.post(
    "/{job_id}/retry",
    response_model=JobInfo,
    responses={**NOT_FOUND, 409: {"description": "the job is not dead"}},
)
def retry(job_id: JobId, request: Request, principal: Admin) -> JobInfo:
    """Put a dead job back in the queue with a fresh set of attempts."""
    with transaction(request.app.state.sessions) as session:
        try:
            job = retry_dead(session, job_id)
        except LookupError as err:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
        except ValueError as err:
            raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
        record(
            session,
            action="job.retried",
            actor=principal.actor,
            subject=f"job:{job.id}",
            details={"kind": job.kind, "last_error": (job.last_error or "")[:500]},
        )
        return JobInfo.of(job)
