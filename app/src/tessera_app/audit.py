"""The audit log: append a hash-chained event in the caller's transaction, and verify the chain.

    record(session, action=..., actor=..., subject=..., details=..., team=None) -> AuditEvent
    verify(session) -> VerifyReport

``hash = sha256(canonical_json({seq, occurred_at, action, actor, team, subject, details,
prev_hash}))`` where ``prev_hash`` is the previous row's hash (``GENESIS`` for the first row).
Canonical JSON: sorted keys, no spaces, UTF-8, timestamps as ISO 8601 UTC with microseconds.

Concurrent writers never fork the chain: on PostgreSQL ``record`` takes a transaction-scoped
advisory lock before reading the last row, so writers append one after another (the lock is
held until the caller's transaction ends); SQLite has one writer at a time. The sequence number
is the primary key, so two rows can never claim the same place either way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from .db.audit_models import AuditEvent
from .db.base import utcnow

GENESIS = "0" * 64
ADVISORY_LOCK = 0x7E55E7A_A0D17
"""The PostgreSQL advisory lock key that serializes appends to the audit chain."""
BATCH = 1000


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: dates as ISO 8601, enums by value, tuples and sets as
    lists (sets sorted), mapping keys as strings. What is stored is exactly what is hashed."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(jsonable(item) for item in value)
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"audit details hold a {type(value).__name__}, which is not JSON data")


def canonical(content: Mapping[str, Any]) -> bytes:
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def compute_hash(
    *,
    seq: int,
    occurred_at: datetime,
    action: str,
    actor: str,
    team: str | None,
    subject: str,
    details: Mapping[str, Any],
    prev_hash: str,
) -> str:
    content = {
        "seq": seq,
        "occurred_at": _timestamp(occurred_at),
        "action": action,
        "actor": actor,
        "team": team,
        "subject": subject,
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical(content)).hexdigest()


def event_hash(event: AuditEvent) -> str:
    """The hash ``event`` should carry, recomputed from its stored content."""
    return compute_hash(
        seq=event.seq,
        occurred_at=event.occurred_at,
        action=event.action,
        actor=event.actor,
        team=event.team,
        subject=event.subject,
        details=event.details,
        prev_hash=event.prev_hash,
    )


def record(
    session: Session,
    *,
    action: str,
    actor: str,
    subject: str,
    details: Mapping[str, Any],
    team: str | None = None,
) -> AuditEvent:
    """Append one event to the chain in the caller's transaction (flushed, not committed)."""
    if not action or not actor or not subject:
        raise ValueError("an audit event needs an action, an actor and a subject")
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
    session.flush()  # earlier events of this transaction first
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    # microseconds survive both databases; anything finer would change the hash on reload
    occurred_at = utcnow()
    data = jsonable(dict(details))
    fields: dict[str, Any] = {
        "seq": seq,
        "occurred_at": occurred_at,
        "action": action,
        "actor": actor,
        "team": team,
        "subject": subject,
        "details": data,
        "prev_hash": prev_hash,
    }
    event = AuditEvent(**fields, hash=compute_hash(**fields))
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of walking the chain: ``ok``, how many rows were checked, and for a broken
    chain the first bad sequence number and what is wrong with it. ``head`` is the hash of the
    last row: keep it elsewhere to detect a removal of the newest rows too."""

    ok: bool
    checked: int
    head: str
    first_bad_seq: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head": self.head,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
        }


def verify(session: Session) -> VerifyReport:
    """Walk the chain in sequence order: every row must follow the previous one (no gap), point
    at its hash, and hash to what it carries. The first violation is reported."""
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    result = session.execute(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=BATCH)
    )
    try:  # a server-side cursor on PostgreSQL: closed even when the walk stops early
        for event in result.scalars():
            problem, bad = _check(event, expected_seq, prev_hash)
            if problem:
                return VerifyReport(False, checked, prev_hash, bad, problem)
            checked += 1
            expected_seq, prev_hash = event.seq + 1, event.hash
    finally:
        result.close()
    return VerifyReport(True, checked, prev_hash)


def _check(event: AuditEvent, expected_seq: int, prev_hash: str) -> tuple[str | None, int]:
    """What is wrong with ``event`` as the row after ``expected_seq - 1`` (None: nothing), and
    the first bad sequence number."""
    if event.seq > expected_seq:
        return (
            f"row {expected_seq} is missing: the row after {expected_seq - 1} is {event.seq}",
            expected_seq,
        )
    if event.seq < expected_seq:
        return f"sequence number {event.seq} is out of order", event.seq
    if event.prev_hash != prev_hash:
        return (
            f"row {event.seq} does not follow row {event.seq - 1}: its previous hash differs "
            "(a row was removed, replaced or reordered)",
            event.seq,
        )
    if event_hash(event) != event.hash:
        return f"row {event.seq} was changed: its content does not match its hash", event.seq
    return None, event.seq


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0
