"""App installations and the repositories they cover: the ``installations`` and
``repositories`` mirror tables, kept right by the installation events.

    on_installation(session, gh, event, settings)               created / deleted / suspend /
                                                                unsuspend / new_permissions_
                                                                accepted
    on_installation_repositories(session, gh, event, settings)  added / removed

``created`` records the installation and the repositories the payload lists (for an "all
repositories" installation GitHub lists them too); ``deleted`` removes both; ``suspend`` keeps
the rows (the installation comes back on ``unsuspend``) but records when it was suspended in
the audit log. Every handler is idempotent: a duplicate or late event converges on the same
rows. ``gh`` is unused (a deleted installation has no token) and may be None.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .. import audit
from ..db.base import utcnow
from ..db.registry_models import Installation as InstallationRow
from ..db.registry_models import Repository
from ..settings import Settings
from .payloads import InstallationEvent, InstallationRepositoriesEvent, RepositoryRef

if TYPE_CHECKING:
    from .gateway import Installation

ACTOR = "github"


def on_installation(
    session: Session, gh: Installation | None, event: InstallationEvent, settings: Settings
) -> None:
    if event.action == "deleted":
        session.execute(
            delete(Repository).where(Repository.installation_id == event.installation_id)
        )
        session.execute(delete(InstallationRow).where(InstallationRow.id == event.installation_id))
        _audit(session, event.action, event.installation_id, event.account, [])
        return
    row = _ensure(session, event.installation_id, event.account)
    if event.action == "created":
        added = _add(session, row.id, event.repositories)
        _audit(session, "created", row.id, row.account, added)
    elif event.action in ("suspend", "unsuspend"):
        _audit(session, event.action, row.id, row.account, [])
    session.flush()


def on_installation_repositories(
    session: Session,
    gh: Installation | None,
    event: InstallationRepositoriesEvent,
    settings: Settings,
) -> None:
    row = _ensure(session, event.installation_id, event.account)
    added = _add(session, row.id, event.added)
    removed = [ref.full_name for ref in event.removed]
    if removed:
        session.execute(
            delete(Repository).where(
                Repository.installation_id == row.id, Repository.full_name.in_(removed)
            )
        )
    session.flush()
    _audit(session, f"repositories_{event.action}", row.id, row.account, added or removed)


def _ensure(session: Session, installation_id: int, account: str) -> InstallationRow:
    row = session.get(InstallationRow, installation_id)
    if row is None:
        row = InstallationRow(id=installation_id, account=account, created_at=utcnow())
        session.add(row)
        session.flush()
    elif row.account != account:  # an organisation renamed
        row.account = account
    return row


def _add(session: Session, installation_id: int, refs: Iterable[RepositoryRef]) -> list[str]:
    """Record (or move to this installation) each repository with a GitHub id."""
    names: list[str] = []
    for ref in refs:
        if ref.id is None:
            continue
        existing = session.get(Repository, ref.id)
        if existing is None:
            # a repository renamed or recreated under the same name: the name is unique
            session.execute(delete(Repository).where(Repository.full_name == ref.full_name))
            session.add(
                Repository(id=ref.id, installation_id=installation_id, full_name=ref.full_name)
            )
        else:
            existing.installation_id = installation_id
            existing.full_name = ref.full_name
        session.flush()
        names.append(ref.full_name)
    return names


def _audit(
    session: Session, action: str, installation_id: int, account: str, repos: list[str]
) -> None:
    audit.record(
        session,
        action=f"installation.{action}",
        actor=ACTOR,
        subject=f"installation:{installation_id}",
        details={"account": account, "repositories": sorted(repos)},
    )


def repositories_of(session: Session, installation_id: int) -> list[str]:
    """The full names of the repositories ``installation_id`` covers, sorted."""
    return list(
        session.scalars(
            select(Repository.full_name)
            .where(Repository.installation_id == installation_id)
            .order_by(Repository.full_name)
        )
    )
