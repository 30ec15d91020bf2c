"""What the registry mirror applied, and what it found inconsistent in its sources.

registry_syncs    one row per source the mirror was resynced from (``github:owner/name@branch``
                  or ``path:/abs/path``): the commit applied last (None for a plain folder),
                  when, when the source was last looked at, and whether the mirror recorded
                  a publication since (the next look must resync even if the branch did not
                  move, to confirm the source holds it)
mirror_findings   the open inconsistencies between a source and the mirror, one row per
                  distinct finding (kind, subject): a published version the source lacks or
                  holds with other files, a contract with published versions the source no
                  longer declares, a registry commit that is not a descendant of the one
                  applied, an invalid registry. A finding is audited when it appears and
                  when it is resolved, never in between.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, utcnow

SOURCE = 255


class RegistrySync(Base):
    """The last resync the mirror applied from one source."""

    __tablename__ = "registry_syncs"

    source: Mapped[str] = mapped_column(String(SOURCE), primary_key=True)
    commit: Mapped[str | None] = mapped_column(String(64))
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    published_since: Mapped[bool] = mapped_column(Boolean, default=False)


class MirrorFinding(Base):
    """One open inconsistency between a registry source and the mirror."""

    __tablename__ = "mirror_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(SOURCE + 80))
    source: Mapped[str] = mapped_column(String(SOURCE))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "subject"),)
