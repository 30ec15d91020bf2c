"""The mirror follows the registry repository on GitHub (the ``github.registry_resync`` job).

    follow(session, app, settings) -> ResyncReport | None

When the GitHub App publishes, the registry repository's branch (``TESSERA_REGISTRY_REPO``,
``TESSERA_REGISTRY_BRANCH``) is the one source of truth. The worker enqueues this job once when
it starts and every ``worker.PERIODIC`` period; merged registry pull requests resync at once
(``registry_prs.on_registry_merged``). The job finds an installation of the App that can read
the registry repository (the one the ``repositories`` table names first, then every other
installation known from installation events and webhook deliveries), reads the branch's head
and hands it to ``registry_prs.resync_from``: an unmoved head costs one request; a new one is
applied only if it descends from the commit applied last. No installation able to read the
repository is a ``registry-unreachable`` finding (``GET /readyz``), cleared once one can.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from .. import mirror, mirror_findings, mirror_syncs
from ..db.github_models import Delivery
from ..db.registry_models import Installation as InstallationRow
from ..db.registry_models import Repository
from ..mirror_findings import REFUSAL_KINDS, REGISTRY_UNREACHABLE, Finding
from ..settings import Settings
from . import registry_prs
from .gateway_types import GitHubError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .gateway import GitHubApp, Installation

log = logging.getLogger(__name__)
ACTOR = "tessera-github"


def follow(session: Session, app: GitHubApp, settings: Settings) -> mirror.ResyncReport | None:
    """Resync the mirror from the head of the registry branch on GitHub (None: nothing applied,
    see ``registry_prs.resync_from``)."""
    repo, branch = settings.registry_repo, settings.registry_branch
    if not repo:
        return None
    found = reader(session, app, repo, branch)
    source = mirror_syncs.github_source(repo, branch)
    if found is None:
        message = (
            f"{source}: no installation of the GitHub App can read {repo} (is the App "
            f"installed on it, and does {branch} exist?): the mirror is not updated from it"
        )
        finding = Finding(kind=REGISTRY_UNREACHABLE, subject=f"registry:{source}", message=message)
        mirror_findings.settle(
            session, [finding], kinds=REFUSAL_KINDS, source=source, actor=ACTOR, per_source=True
        )
        return None
    gh, head = found
    report = registry_prs.resync_from(session, gh, settings, head, repo=repo)
    if report is not None:
        log.info("registry resync from %s at %s: %s changes", source, head[:12], report.changes)
    return report


def reader(
    session: Session, app: GitHubApp, repo: str, branch: str
) -> tuple[Installation, str] | None:
    """An installation that can read ``repo``, and the head of ``branch`` as it sees it."""
    for installation_id in _candidates(session, repo):
        gh = app.installation(installation_id)
        try:
            head = gh.branch_head(repo, branch)
        except GitHubError as err:  # a removed installation, a repository it lost
            log.info("installation %s cannot read %s: %s", installation_id, repo, err)
            continue
        if head is not None:
            return gh, head
    return None


def _candidates(session: Session, repo: str) -> list[int]:
    named = session.scalars(
        select(Repository.installation_id).where(Repository.full_name == repo)
    ).all()
    known = session.scalars(select(InstallationRow.id).order_by(InstallationRow.id)).all()
    delivered = session.scalars(
        select(Delivery.installation_id)
        .where(Delivery.installation_id.is_not(None))
        .distinct()
        .order_by(Delivery.installation_id)
    ).all()
    return list(dict.fromkeys(int(i) for i in [*named, *known, *delivered] if i is not None))
