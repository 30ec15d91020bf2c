"""API keys: hashed at rest (HMAC-SHA256 peppered with ``TESSERA_SECRET_KEY``), scoped,
expiring and revocable. Only the short ``prefix`` is ever shown again after creation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, utcnow


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32), index=True)  # "tsk_" + 8 characters
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex HMAC-SHA256
    scopes: Mapped[list[str]] = mapped_column(JSON)  # read / write / admin
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
