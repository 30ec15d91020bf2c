"""The audit log: append a hash-chained, signed event in the caller's transaction.

    record(session, action=..., actor=..., subject=..., details=..., team=None) -> AuditEvent
    verify(session, keys=None, anchors=()) -> VerifyReport     (``tessera_app.audit_verify``)

``hash = sha256(canonical_json({seq, occurred_at, action, actor, team, subject, details,
prev_hash}))`` where ``prev_hash`` is the previous row's hash (``GENESIS`` for the first row).
Canonical JSON: sorted keys, no spaces, UTF-8, timestamps as ISO 8601 UTC with microseconds.
Every row is also signed with the process's audit key (``audit_keys``): ``signature`` is the
Ed25519 signature of ``(seq, hash, key_id)``, so rows cannot be forged or rewritten with
recomputed hashes by someone who holds the database but not the key.

Concurrent writers never fork the chain: on PostgreSQL ``record`` takes a transaction-scoped
advisory lock before reading the last row, so writers append one after another (the lock is
held until the caller's transaction ends); SQLite has one writer at a time. The sequence number
is the primary key, so two rows can never claim the same place either way.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from .audit_keys import process_key
from .db.audit_models import AuditEvent
from .db.base import utcnow

if TYPE_CHECKING:
    from .audit_checkpoints import Checkpoint
    from .audit_keys import TrustedKeys
    from .audit_verify import VerifyReport

GENESIS = "0" * 64
ADVISORY_LOCK = 0x7E55E7A_A0D17
"""The PostgreSQL advisory lock key that serializes appends to the audit chain."""
BATCH = 1000
_APPENDED = "tessera.audit.appended"
"""``session.info`` key: (the open transaction, the first sequence number it appended)."""


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
    digest = compute_hash(**fields)
    key = process_key()
    event = AuditEvent(**fields, hash=digest, key_id=key.key_id, signature=key.sign(seq, digest))
    session.add(event)
    session.flush()
    _note_appended(session, seq)
    return event


def _note_appended(session: Session, seq: int) -> None:
    transaction = session.get_transaction()
    mark = session.info.get(_APPENDED)
    if transaction is not None and (mark is None or mark[0]() is not transaction):
        session.info[_APPENDED] = (weakref.ref(transaction), seq)


def appended_from(session: Session) -> int | None:
    """The first sequence number ``session`` appended in its open transaction (the rows from
    it on are not committed yet); None when it appended none."""
    mark = session.info.get(_APPENDED)
    transaction = session.get_transaction()
    if mark is None or transaction is None or mark[0]() is not transaction:
        return None
    return int(mark[1])


def verify(
    session: Session,
    keys: TrustedKeys | None = None,
    anchors: Iterable[Checkpoint] = (),
) -> VerifyReport:
    """Walk the chain, check every signature against ``keys`` (default: the keys this
    process's environment trusts) and the rows against ``anchors``; see
    ``audit_verify.verify``."""
    from . import audit_verify

    return audit_verify.verify(session, keys, anchors)


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0
