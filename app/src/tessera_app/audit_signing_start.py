"""The ``audit.signing_started`` event: the one signature over the events from before signing.

    sign_history(connection, key) -> int | None     append it to a log that has no signed
                                                    event (the migration that adds signatures)
    covers(event, through) -> bool                  whether ``event`` is that event, covering
                                                    exactly the rows 1 to ``through``

Audit events written before signing existed carry no signature. They are legitimate only as
the history that existed when signing was introduced: the migration that adds the signature
columns (revision 0004) appends, in its own transaction and with the service's key, one signed
``audit.signing_started`` event whose details name the last of them (``covers_through``);
through the hash chain its signature covers every row before it. That happens once, when the
columns appear, and never afterwards: unsigned rows found later were written without the key
(a log forged or replaced through the database), and nothing the service does signs them. A
database that has no events when it migrates is signed from its first row.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .audit import ADVISORY_LOCK, compute_hash, jsonable
from .audit_keys import AuditKey
from .db.audit_models import AuditEvent
from .db.base import UtcDateTime, utcnow

ACTION = "audit.signing_started"
ACTOR = "tessera-app migrate"
SUBJECT = "audit"

_EVENTS = sa.table(
    "audit_events",
    sa.column("seq", sa.BigInteger()),
    sa.column("occurred_at", UtcDateTime()),
    sa.column("action", sa.String()),
    sa.column("actor", sa.String()),
    sa.column("team", sa.String()),
    sa.column("subject", sa.String()),
    sa.column("details", sa.JSON()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
    sa.column("key_id", sa.String()),
    sa.column("signature", sa.String()),
)
"""The table as revision 0004 leaves it (not the model, which later revisions may extend)."""


def sign_history(connection: Connection, key: AuditKey) -> int | None:
    """Append the signed ``audit.signing_started`` event after the events of a log that has
    none signed, in ``connection``'s transaction; its sequence number, or None when the log
    is empty (signed from its first row) or already has a signed event."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
    signed = connection.execute(
        sa.select(_EVENTS.c.seq).where(_EVENTS.c.signature.is_not(None)).limit(1)
    ).first()
    last = connection.execute(
        sa.select(_EVENTS.c.seq, _EVENTS.c.hash).order_by(_EVENTS.c.seq.desc()).limit(1)
    ).first()
    if signed is not None or last is None:
        return None
    seq = int(last.seq) + 1
    fields: dict[str, Any] = {
        "seq": seq,
        "occurred_at": utcnow(),
        "action": ACTION,
        "actor": ACTOR,
        "team": None,
        "subject": SUBJECT,
        "details": jsonable({"key_id": key.key_id, "covers_through": int(last.seq)}),
        "prev_hash": str(last.hash),
    }
    digest = compute_hash(**fields)
    connection.execute(
        sa.insert(_EVENTS).values(
            **fields, hash=digest, key_id=key.key_id, signature=key.sign(seq, digest)
        )
    )
    return seq


def covers(event: AuditEvent, through: int) -> bool:
    """Whether ``event`` (whose signature is already checked) is the ``audit.signing_started``
    event covering exactly the unsigned rows 1 to ``through``: it comes right after them and
    names the last of them and its own key."""
    details = event.details if isinstance(event.details, dict) else {}
    return (
        event.action == ACTION
        and event.seq == through + 1
        and details.get("covers_through") == through
        and details.get("key_id") == event.key_id
    )
