"""The audit log over HTTP: the events (newest first, by page) and a verification of the chain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..auth import Principal, require
from ..db.audit_models import AuditEvent

router = APIRouter(prefix="/audit", tags=["audit"])
Reader = Annotated[Principal, Depends(require("read"))]


def _session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(_session)]


class EventOut(BaseModel):
    seq: int
    occurred_at: datetime
    action: str
    actor: str
    team: str | None
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class EventPage(BaseModel):
    items: list[EventOut]
    next_before: int | None = Field(
        description="pass as ``before`` for the next (older) page; null on the last page"
    )


class VerifyOut(BaseModel):
    ok: bool
    checked: int = Field(description="rows verified before the first bad one (all when ok)")
    head: str = Field(description="the hash of the last good row: anchor it elsewhere")
    first_bad_seq: int | None
    problem: str | None


@router.get("/events", response_model=EventPage)
def list_events(
    session: SessionDep,
    _: Reader,
    action: Annotated[str | None, Query(max_length=100)] = None,
    subject: Annotated[str | None, Query(max_length=300, description="e.g. proposal:12")] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="older than this seq")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventPage:
    """Audit events, newest first, filtered by action and subject, paged by sequence number."""
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if subject:
        query = query.where(AuditEvent.subject == subject)
    if before is not None:
        query = query.where(AuditEvent.seq < before)
    rows = list(session.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return EventPage(
        items=[EventOut.model_validate(row, from_attributes=True) for row in rows],
        next_before=rows[-1].seq if more and rows else None,
    )


@router.get("/verify", response_model=VerifyOut)
def verify(session: SessionDep, _: Reader) -> VerifyOut:
    """Walk the whole chain: a changed, removed or reordered row is reported with the first bad
    sequence number."""
    return VerifyOut(**audit.verify(session).to_dict())
