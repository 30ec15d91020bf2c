"""API keys: hashed at rest (HMAC-SHA256 peppered with ``TESSERA_SECRET_KEY``), scoped,
expiring and revocable, each with its principal: the registry ``team`` a write key acts for,
the ``owner`` an admin key is recorded as (``tessera_app.principals``). Only the short
``prefix`` is ever shown again after creation."""

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
    # The principal: a write key's registry team (no foreign key: a key outlives a team's
    # removal from the registry, and then acts for nothing), an admin (or read) key's owner.
    team: Mapped[str | None] = mapped_column(String(64))
    owner: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
