"""The audit log over HTTP: the events (newest first, by page), a verification of the chain and
its signatures, and the signed head for witnesses to keep (``GET /audit/checkpoint``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..audit_checkpoints import committed_head
from ..audit_keys import process_trusted_keys
from ..auth import Principal, require
from ..db.audit_models import AuditEvent
from .text_inputs import ONE_LINE

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
    key_id: str | None = Field(description="the key that signed the event (null: before signing)")
    signature: str | None = Field(description="base64 Ed25519 signature of (seq, hash, key_id)")


class EventPage(BaseModel):
    items: list[EventOut]
    next_before: int | None = Field(
        description="pass as ``before`` for the next (older) page; null on the last page"
    )


class VerifyOut(BaseModel):
    ok: bool
    checked: int = Field(description="rows verified before the first bad one (all when ok)")
    head: str = Field(description="the hash of the last good row")
    head_seq: int = Field(description="the sequence number of the last good row")
    first_bad_seq: int | None
    problem: str | None
    signed: int = Field(description="rows with a valid signature by a trusted key")
    unsigned: int = Field(
        description="rows from before signing, covered by the audit.signing_started event"
    )
    key_ids: list[str] = Field(description="the keys that signed the rows")
    anchors: int = Field(description="always 0 here: `tessera audit verify` checks anchors")
    newest_anchor: int | None
    signing_started: int | None = Field(
        description="the audit.signing_started event that covers the rows from before signing "
        "(null: the log is signed from its first row)"
    )
    trusted_key_ids: list[str] = Field(description="the keys whose signatures were accepted")


class CheckpointOut(BaseModel):
    seq: int = Field(description="the newest committed signed event")
    hash: str
    key_id: str
    signature: str = Field(description="base64 Ed25519 signature of (seq, hash, key_id)")
    taken_at: datetime = Field(description="when this answer was made (not signed)")


@router.get("/events", response_model=EventPage)
def list_events(
    session: SessionDep,
    _: Reader,
    action: Annotated[str | None, Query(max_length=100, pattern=ONE_LINE)] = None,
    subject: Annotated[
        str | None, Query(max_length=300, pattern=ONE_LINE, description="e.g. proposal:12")
    ] = None,
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


VERIFYING = threading.Lock()
"""Held while a verification runs: its cost grows with the log (about 0.2 ms of CPU per
event), so one runs at a time in this process."""
VERIFY_RETRY_SECONDS = 10


@router.get(
    "/verify",
    response_model=VerifyOut,
    responses={
        503: {"description": "a verification is running already: retry after `Retry-After`"}
    },
)
def verify(session: SessionDep, _: Reader) -> VerifyOut:
    """Walk the whole chain and check every signature with the service's trusted keys: a
    changed, removed, reordered, inserted or forged row is reported with the first bad sequence
    number. The anchors outside the database (registry commits, checkpoint files) are checked
    by `tessera audit verify`. It costs about 0.2 ms of CPU per event, so one verification
    runs at a time: another one meanwhile is answered 503 with `Retry-After`."""
    if not VERIFYING.acquire(blocking=False):
        raise HTTPException(
            503,
            "a verification of the audit log is running already: try again shortly",
            headers={"Retry-After": str(VERIFY_RETRY_SECONDS)},
        )
    try:
        return VerifyOut(**audit.verify(session, process_trusted_keys()).to_dict())
    finally:
        VERIFYING.release()


@router.get(
    "/checkpoint",
    response_model=CheckpointOut,
    responses={404: {"description": "no signed event yet"}},
)
def checkpoint(session: SessionDep, _: Reader) -> CheckpointOut:
    """The signed head of the audit log: store each answer outside the service (one JSON
    object per line) and check the log against them later with `tessera audit verify
    --checkpoints FILE`."""
    head = committed_head(session)
    if head is None:
        raise HTTPException(404, "the audit log has no signed event yet")
    return CheckpointOut.model_validate(head.to_dict())
