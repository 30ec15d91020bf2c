"""What the registry mirror applied last, per source: the ``registry_syncs`` rows.

    path_source(path) / github_source(repo, branch)   a source's name
    last_applied(session, source, lock=False)        its row (None: never applied); ``lock``
                                                     holds it until the transaction ends
    record_applied(session, source, commit)          a resync applied ``commit`` (None: a folder)
    record_checked(session, source)                  the source was looked at, nothing applied
    mark_published(session)                          a version was published into the mirror:
                                                     every source must be read again, even if
                                                     its branch did not move

A resync from GitHub refuses a commit that is not a descendant of the one its source applied
last (``tessera_app.github.registry_prs``), so the mirror never follows a registry branch back
in time.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .db.base import utcnow
from .db.mirror_models import RegistrySync


def path_source(path: str | Path) -> str:
    """The name of a registry checkout on this machine as a source."""
    return f"path:{Path(path).resolve()}"


def github_source(repo: str, branch: str) -> str:
    """The name of a registry repository's branch on GitHub as a source."""
    return f"github:{repo}@{branch}"


def last_applied(session: Session, source: str, *, lock: bool = False) -> RegistrySync | None:
    """The source's row as the database holds it now (never a copy loaded earlier)."""
    query = select(RegistrySync).where(RegistrySync.source == source)
    if lock:
        query = query.with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def record_applied(session: Session, source: str, commit: str | None) -> RegistrySync:
    now = utcnow()
    row = last_applied(session, source)
    if row is None:
        row = RegistrySync(source=source)
        session.add(row)
    row.commit, row.applied_at, row.checked_at, row.published_since = commit, now, now, False
    session.flush()
    return row


def record_checked(session: Session, source: str) -> None:
    session.execute(
        update(RegistrySync).where(RegistrySync.source == source).values(checked_at=utcnow())
    )


def mark_published(session: Session) -> None:
    session.execute(update(RegistrySync).values(published_since=True))
