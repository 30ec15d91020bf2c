"""Reconciliation: missed or failed webhooks heal themselves (the ``github.reconcile`` job,
scheduled by the worker every ``worker.PERIODIC`` period).

    run(session, app, settings) -> Report

1. Pull requests: for every producer repository with a registered contract (``contracts.
   source_repo``) the App is installed on (``repositories``), the open pull requests are read
   again; one that changes a contract's source but has no check run at its head commit (in the
   ``check_runs`` bookkeeping) missed its ``pull_request`` event, or its job died: it is judged
   again (``pull_requests.evaluate``, idempotent).
2. Deliveries: GitHub keeps its deliveries (``GET /app/hook/deliveries``) for a few days and
   never retries on its own. A delivery whose every attempt failed, and that was never stored
   here (a stored one is the job queue's to retry), is redelivered (``POST .../attempts``);
   a delivery already tried ``MAX_ATTEMPTS`` times is left alone, so a delivery that can never
   succeed is not redelivered for ever. At most ``MAX_REDELIVERIES`` per run.
3. Published versions: a version the App published that the registry repository lacks (the
   mirror's follow of the registry branch reports it as a ``version-missing`` finding: its
   registry commit failed for good, or someone removed the file) is written back, in one
   commit, and audited (``registry.version.restored``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.github_models import CheckRunRecord, Delivery
from ..db.registry_models import Contract, Repository
from ..settings import Settings

if TYPE_CHECKING:
    from .gateway import GitHubApp
    from .gateway_types import Delivery as GitHubDelivery

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # attempts of one delivery (the original and redeliveries) before giving up
MAX_REDELIVERIES = 50  # per run


@dataclass
class Report:
    judged: list[str] = field(default_factory=list)  # "owner/repo#N" judged again
    redelivered: list[str] = field(default_factory=list)  # delivery guids
    skipped_repos: list[str] = field(default_factory=list)  # no installation known
    restored: list[str] = field(default_factory=list)  # "contract@version" written back

    def __str__(self) -> str:
        return (
            f"{len(self.judged)} pull requests judged again, {len(self.redelivered)} "
            f"deliveries redelivered, {len(self.restored)} published versions written back, "
            f"{len(self.skipped_repos)} repositories not installed"
        )


def run(session: Session, app: GitHubApp, settings: Settings) -> Report:
    report = Report()
    rejudge(session, app, settings, report)
    redeliver(session, app, report)
    restore_published(session, app, settings, report)
    return report


def restore_published(session: Session, app: GitHubApp, settings: Settings, report: Report) -> None:
    """Versions the App published that the registry repository lacks (the mirror's follow of
    the registry found them missing: a registry commit that failed for good, or a file someone
    removed) are written back."""
    from ..db.mirror_models import MirrorFinding
    from ..db.registry_models import ContractVersion
    from ..db.workflow_models import Publication
    from ..mirror_findings import VERSION_MISSING
    from .publish import restore

    if not settings.registry_repo:
        return
    missing = session.scalars(
        select(MirrorFinding).where(
            MirrorFinding.kind == VERSION_MISSING, MirrorFinding.source.startswith("github:")
        )
    ).all()
    rows = []
    for finding in missing:
        contract, version = finding.details.get("contract"), finding.details.get("version")
        published = session.scalars(
            select(Publication.id)
            .where(Publication.contract_id == contract, Publication.version == version)
            .limit(1)
        ).first()
        if published is None:
            continue  # not the App's publication: reported, not written (mirror_findings)
        row = session.scalars(
            select(ContractVersion).where(
                ContractVersion.contract_id == contract, ContractVersion.version == version
            )
        ).one_or_none()
        if row is not None:
            rows.append(row)
    if not rows:
        return
    installation = session.scalars(
        select(Repository.installation_id).where(
            func.lower(Repository.full_name) == settings.registry_repo.lower()
        )
    ).first()
    if installation is None:
        report.skipped_repos.append(settings.registry_repo)
        return
    if restore(session, app.installation(installation), rows, settings) is not None:
        report.restored += [f"{row.contract_id}@{row.version}" for row in rows]


def rejudge(session: Session, app: GitHubApp, settings: Settings, report: Report) -> None:
    """Judge again the open pull requests that change a contract and have no check at their
    head commit."""
    from .pull_requests import evaluate, touches

    contracts: dict[str, list[Contract]] = defaultdict(list)
    for row in session.scalars(select(Contract).order_by(Contract.id)):
        contracts[row.source_repo].append(row)
    installed = {
        row.full_name: row.installation_id
        for row in session.scalars(
            select(Repository).where(Repository.full_name.in_(sorted(contracts)))
        )
    }
    for repo in sorted(contracts):
        installation = installed.get(repo)
        if installation is None:
            report.skipped_repos.append(repo)
            continue
        gh = app.installation(installation)
        for pr in gh.open_pull_requests(repo):
            checked = session.scalars(
                select(CheckRunRecord.name)
                .where(CheckRunRecord.repo == repo, CheckRunRecord.head_sha == pr.head_sha)
                .limit(1)
            ).first()
            if checked is not None:
                continue
            files = gh.pull_request_files(repo, pr.number)
            if not any(
                c.source_branch == pr.base_ref and touches(c.source_paths, files)
                for c in contracts[repo]
            ):
                continue
            evaluate(session, gh, repo, pr.number, settings)
            report.judged.append(f"{repo}#{pr.number}")


def redeliver(session: Session, app: GitHubApp, report: Report) -> None:
    """Redeliver the deliveries that failed every time and never reached us."""
    attempts: dict[str, list[GitHubDelivery]] = defaultdict(list)
    for delivery in app.deliveries():
        attempts[delivery.guid].append(delivery)
    failed = {
        guid: tries
        for guid, tries in attempts.items()
        if all(t.failed for t in tries) and len(tries) < MAX_ATTEMPTS
    }
    if not failed:
        return
    stored = set(session.scalars(select(Delivery.id).where(Delivery.id.in_(sorted(failed)))))
    for guid in sorted(failed, key=lambda g: max(t.id for t in failed[g])):
        if guid in stored:
            continue  # it reached us: the job queue retries it
        if len(report.redelivered) >= MAX_REDELIVERIES:
            break
        latest = max(failed[guid], key=lambda t: t.id)
        app.redeliver(latest.id)
        report.redelivered.append(guid)
