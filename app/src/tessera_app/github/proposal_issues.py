"""The proposal issue in the registry repository (``settings.registry_repo``).

    sync(session, gh, outcome, settings)            create it once, then edit it on every push
    sync_direct(session, gh, proposal, settings)    the same for a direct push's proposal (G4)
    close(session, gh, proposal, settings)          the proposal finished: say so, close it

The issue @-mentions the GitHub teams that must acknowledge (their slugs from the mirror's
``teams``), shows exactly which declared usages each breaking finding meets, and lists the
commands. It is created once per pull request and contract: when a push supersedes the proposal
the issue follows the new one (its ``proposal_issues`` row is re-pointed), so consumers keep one
conversation and a comment on the issue always finds the live proposal. A break that concerns
no team opens no issue; an issue that exists is still updated (a push that fixed the break says
so there).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tessera_engine.errors import TesseraError
from tessera_engine.registry.impact_result import ImpactResult

from ..db.github_models import ProposalIssue
from ..db.registry_models import Contract, Team
from ..db.workflow_models import Proposal
from ..settings import Settings
from ..workflow import status
from ..workflow_state import LIVE
from . import render
from .gateway import Installation

if TYPE_CHECKING:
    from .pull_requests import Outcome

LABELS = ("tessera", "contract-proposal")


def sync(session: Session, gh: Installation, outcome: Outcome, settings: Settings) -> int | None:
    """The issue number of ``outcome``'s proposal, after creating or editing the issue; None
    when there is no registry repository configured or nobody to ask and no issue yet."""
    if outcome.proposal is None:
        return None
    source = Source(outcome.repo, outcome.number, outcome.head_sha, outcome.title)
    return _sync(session, gh, outcome.proposal, settings, source, outcome.impact)


def sync_direct(
    session: Session, gh: Installation, proposal: Proposal, settings: Settings
) -> int | None:
    """The issue of a direct push's proposal (G4): the impact is judged again from the
    pushed spec, so the issue shows the usages that break as for a pull request."""
    contract = session.get(Contract, proposal.contract_id)
    if contract is None:
        return None
    impact = _impact_at(session, gh, contract, proposal.head_sha)
    title = f"direct push of {proposal.head_sha[:12]} to {contract.source_branch}"
    source = Source(contract.source_repo, proposal.pull_request, proposal.head_sha, title)
    return _sync(session, gh, proposal, settings, source, impact)


def close(session: Session, gh: Installation, proposal: Proposal, settings: Settings) -> None:
    """The proposal finished (published, withdrawn, expired): the issue says so and is
    closed, once. A superseded proposal's issue moved to its successor: nothing to do."""
    row = issue_of(session, proposal)
    if row is None or row.closed or proposal.state in ("open", "approved", "superseded"):
        return
    contract = session.get(Contract, proposal.contract_id)
    repo = contract.source_repo if contract is not None else ""
    if proposal.state == "published" and proposal.published_version and proposal.merge_commit:
        summary = render.PublishView(
            contract_id=proposal.contract_id,
            version=proposal.published_version,
            bump=proposal.bump,
            producer_repo=repo,
            pull_request=proposal.pull_request,
            merge_commit=proposal.merge_commit,
            previous_version=proposal.current_version,
            teams=_team_rows(proposal),
            forced_by=proposal.forced_by,
            force_reason=proposal.force_reason,
        )
        gh.create_comment(row.repo, row.issue, render.publish_summary(summary))
    source = Source(repo, proposal.pull_request, proposal.head_sha, "")
    view = issue_view(session, proposal, source, None)
    body = render.proposal_issue(view)
    gh.update_issue(row.repo, row.issue, body=body, state="closed")
    row.closed = True
    row.digest = digest(render.proposal_issue_title(view), body)
    session.flush()


def _team_rows(proposal: Proposal) -> list[render.TeamRow]:
    rows = []
    for team in status(proposal).teams:
        ack = team.acknowledgement
        rows.append(render.TeamRow(team.team, team.state, actor=ack.actor if ack else None))
    return rows


@dataclass(frozen=True)
class Source:
    """Where the change comes from: a pull request (``number``) or a direct push."""

    repo: str
    number: int  # a pull request; negative: a direct push's key (G4's ``direct_key``)
    head_sha: str
    title: str


def _sync(
    session: Session,
    gh: Installation,
    proposal: Proposal,
    settings: Settings,
    source: Source,
    impact: ImpactResult | None,
) -> int | None:
    registry = settings.registry_repo
    if not registry:
        return None
    row = issue_of(session, proposal)
    if row is None and not proposal.required:
        return None
    view = issue_view(session, proposal, source, impact)
    title, body = render.proposal_issue_title(view), render.proposal_issue(view)
    written = digest(title, body)
    if row is None:
        number = gh.create_issue(registry, title, body, LABELS)
        session.add(
            ProposalIssue(proposal_id=proposal.id, repo=registry, issue=number, digest=written)
        )
        session.flush()
        return number
    if row.closed and proposal.state in LIVE:
        # the proposal is live again (its pull request was reopened): so is its issue
        gh.update_issue(row.repo, row.issue, title=title, body=body, state="open")
        row.closed, row.digest = False, written
        session.flush()
    elif row.digest != written:  # an unchanged issue is not edited (nor its webhook sent back)
        gh.update_issue(row.repo, row.issue, title=title, body=body)
        row.digest = written
        session.flush()
    return row.issue


def digest(title: str, body: str) -> str:
    """What identifies the text the App wrote into an issue."""
    return hashlib.sha256(f"{title}\0{body}".encode()).hexdigest()


def _impact_at(
    session: Session, gh: Installation, contract: Contract, ref: str
) -> ImpactResult | None:
    from ..api.registry_engine import NothingToCompare, impact_of
    from .pull_requests import MissingSpec, read_spec

    try:
        files = read_spec(gh, contract.source_repo, ref, contract.source_paths)
        return impact_of(session, contract.id, files, None)
    except (MissingSpec, NothingToCompare, TesseraError):
        return None


def issue_of(session: Session, proposal: Proposal) -> ProposalIssue | None:
    """The issue of ``proposal``, or of the proposal it superseded (the row moves over)."""
    row = session.get(ProposalIssue, proposal.id)
    if row is not None:
        return row
    earlier = proposal.supersedes_id
    seen: set[int] = set()
    while earlier is not None and earlier not in seen:
        seen.add(earlier)
        found = session.get(ProposalIssue, earlier)
        if found is not None:
            session.execute(
                update(ProposalIssue)
                .where(ProposalIssue.proposal_id == earlier)
                .values(proposal_id=proposal.id)
                .execution_options(synchronize_session=False)
            )
            session.expunge(found)
            return session.get(ProposalIssue, proposal.id)
        previous = session.get(Proposal, earlier)
        earlier = previous.supersedes_id if previous is not None else None
    return None


def issue_view(
    session: Session, proposal: Proposal, source: Source, impact: ImpactResult | None
) -> render.ProposalIssueView:
    """What the issue shows: the teams asked (mentioned) and informed, and for each the
    declared usages that break (from the impact, when known)."""
    team_ids = sorted(set(proposal.required) | set(proposal.informed))
    slugs = {
        row.id: row.github_team
        for row in session.scalars(select(Team).where(Team.id.in_(team_ids)))
    }
    usages: dict[str, list[render.BrokenUsage]] = {}
    if impact is not None:
        for consumer in impact.consumers:
            for match in consumer.matches:
                if match.needs_acknowledgement:
                    usages.setdefault(consumer.team, []).append(
                        render.BrokenUsage(
                            consumer.consumer,
                            match.usage or "everything (no declared uses)",
                            f"{match.finding.path}: {match.finding.message}",
                        )
                    )
    teams = [
        render.AffectedTeam(team, slugs.get(team), usages.get(team, []), required=True)
        for team in sorted(proposal.required)
    ] + [
        render.AffectedTeam(team, slugs.get(team), (), required=False)
        for team in sorted(proposal.informed)
    ]
    return render.ProposalIssueView(
        proposal_id=proposal.id,
        contract_id=proposal.contract_id,
        producer_repo=source.repo,
        pull_request=source.number,
        pull_request_title=source.title,
        breaking=len(proposal.breaking),
        teams=teams,
        current_version=proposal.current_version,
        proposed_version=proposal.published_version or proposal.proposed_version,
        state=proposal.state,
    )
