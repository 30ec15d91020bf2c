"""The hash-chained audit log: one append-only row per state change, API write and force action.

Each row carries the SHA-256 of the previous row (``prev_hash``) and its own hash over a
canonical JSON of its content plus ``prev_hash`` (``tessera_app.audit`` computes both), so a
changed, removed or reordered row breaks the chain that ``audit.verify`` walks. Each row also
carries an Ed25519 signature over its sequence number, hash and key id (``signature``,
``key_id``; ``tessera_app.audit_keys``) made with a key that is not in the database, so rows
cannot be forged or rewritten with recomputed hashes without it. Rows written before signing
existed have neither; the ``audit.signing_started`` event that the migration adding signatures
appended right after them covers them through the chain (``tessera_app.audit_signing_start``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(100), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200), nullable=True)
    subject: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    signature: Mapped[str | None] = mapped_column(String(88), nullable=True)

    __table_args__ = (Index("ix_audit_events_subject", "subject"),)


class AppendOnlyError(RuntimeError):
    """An audit row was about to be changed or deleted through the ORM."""


@event.listens_for(AuditEvent, "before_update")
def _no_update(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    raise AppendOnlyError(f"audit event {target.seq} is append-only: it cannot be changed")


@event.listens_for(AuditEvent, "before_delete")
def _no_delete(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    raise AppendOnlyError(f"audit event {target.seq} is append-only: it cannot be deleted")
