"""The proposal issue in the registry repository (``settings.registry_repo``).

    sync(session, gh, outcome, settings)     create it once, then edit it when its text changes
    close(session, gh, proposal, ...)        the proposal ended: a closing comment, the issue's
                                             text says how it ended, and it is closed
    issue_of(session, proposal)              the issue row (it follows superseding proposals)

The issue @-mentions the GitHub teams that must acknowledge (their slugs from the mirror's
``teams``) while it waits on them, shows where each team stands (pending, acknowledged by whom,
migrating or waived until when, blocked and why, holds) and exactly which declared usages each
breaking finding meets, and lists the commands. It is created once per pull request (or direct
push) and contract: when a push supersedes the proposal the issue follows the new one (its
``proposal_issues`` row is re-pointed), so consumers keep one conversation and a comment on the
issue always finds the live proposal. A break that concerns no team opens no issue; an issue
that exists is still updated (a push that fixed the break says so there). The issue is edited
only when its text changes (a digest of the last text written), so a decision edits it once
and a repeated judgement not at all.

When a push invalidates a team's acknowledgement (the workflow's ``ack.invalidated``), the
issue gets a comment that mentions that team and lists the breaking findings that are new or
gone for it; it is posted once (a hidden marker naming the acknowledgement that ended, and
the ``ack.invalidation_notified`` audit event that records the team was told).

A closed issue asks nothing: no commands, no mentions, and it says how the proposal ended
(published as X, withdrawn and why, expired, replaced by a later push). A pull request closed
unmerged and reopened makes the proposal live again: its issue is reopened, and says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tessera_engine.errors import TesseraError
from tessera_engine.registry.impact_result import ImpactResult

from .. import audit
from ..db.audit_models import AuditEvent
from ..db.github_models import ProposalIssue
from ..db.registry_models import Contract, Team
from ..db.workflow_models import Acknowledgement, Proposal
from ..io_boundary import record_now
from ..settings import Settings
from ..workflow_state import LIVE
from . import lifecycle, links, render, standing
from .gateway import Installation
from .gateway_types import GitHubError

if TYPE_CHECKING:
    from .pull_requests import Outcome

LABELS = ("tessera", "contract-proposal")
ACTOR = "tessera-github"
NOTIFIED = "ack.invalidation_notified"


def closed_marker(proposal_id: int) -> str:
    """The hidden marker of the comment that closes a proposal's issue."""
    return f"<!-- tessera:closed:{proposal_id} -->"


def invalidation_marker(acknowledgement_id: int) -> str:
    """The hidden marker of the notice that tells a team its acknowledgement (the one that
    ended, a row of the superseded proposal: its id is stable) no longer holds."""
    return f"<!-- tessera:ack-invalidated:{acknowledgement_id} -->"


def sync(session: Session, gh: Installation, outcome: Outcome, settings: Settings) -> int | None:
    """The issue number of ``outcome``'s proposal, after creating or editing the issue; None
    when there is no registry repository configured or nobody to ask and no issue yet."""
    proposal = outcome.proposal
    if proposal is None:
        return None
    if outcome.number > 0:
        origin = render.Origin(
            outcome.repo,
            outcome.number,
            outcome.title,
            links.pull_request_url(gh, outcome.repo, outcome.number),
        )
    else:
        origin = lifecycle.origin_of(session, gh, proposal)
    return _sync(session, gh, proposal, settings, origin, outcome.impact)


def _sync(
    session: Session,
    gh: Installation,
    proposal: Proposal,
    settings: Settings,
    origin: render.Origin,
    impact: ImpactResult | None,
) -> int | None:
    registry = settings.registry_repo
    if not registry:
        return None
    row = issue_of(session, proposal)
    if row is None and not proposal.required:
        return None
    view = issue_view(session, proposal, origin, impact)
    title, body = render.proposal_issue_title(view), render.proposal_issue(view)
    written = digest(title, body)
    if row is None:
        number = gh.create_issue(registry, title, body, LABELS)
        session.add(
            ProposalIssue(proposal_id=proposal.id, repo=registry, issue=number, digest=written)
        )
        session.flush()
        record_now()  # a job cut short after this must not open a second issue
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
    if proposal.state in LIVE:
        notify_invalidations(session, gh, proposal, row, impact)
    return row.issue


def close(
    session: Session,
    gh: Installation,
    proposal: Proposal,
    registry_commit: str | None = None,
    replaced_by: str | None = None,
) -> None:
    """The proposal ended (published, withdrawn, expired, replaced by a later push): one
    closing comment (found again by its marker: a retried job edits it instead of posting it
    twice), then the issue's text says how it ended, asks nothing more, and it is closed."""
    row = issue_of(session, proposal)
    if row is None or row.closed or proposal.state in (*LIVE, "superseded"):
        return
    ending = lifecycle.ending_of(session, proposal, replaced_by)
    if ending is None:
        return
    origin = lifecycle.origin_of(session, gh, proposal, _title_of(session, gh, proposal))
    impact = impact_of_proposal(session, gh, proposal)
    teams = standing.team_rows(proposal, standing.broken_usages(impact))
    if ending.state == "published" and proposal.published_version and proposal.merge_commit:
        comment = render.publish_summary(
            render.PublishView(
                contract_id=proposal.contract_id,
                version=proposal.published_version,
                bump=proposal.bump,
                origin=origin,
                merge_commit=proposal.merge_commit,
                previous_version=proposal.current_version,
                registry_commit=registry_commit,
                teams=teams,
                forced_by=proposal.forced_by,
                force_reason=proposal.force_reason,
            )
        )
    else:
        comment = render.closing_comment(
            render.ClosingView(proposal.contract_id, origin, ending, proposal.current_version)
        )
    marker = closed_marker(proposal.id)
    gh.upsert_comment(row.repo, row.issue, marker, marker + "\n" + comment)
    view = issue_view(session, proposal, origin, impact, ending)
    title, body = render.proposal_issue_title(view), render.proposal_issue(view)
    gh.update_issue(row.repo, row.issue, title=title, body=body, state="closed")
    row.closed = True
    row.digest = digest(title, body)
    session.flush()


def digest(title: str, body: str) -> str:
    """What identifies the text the App wrote into an issue."""
    return hashlib.sha256(f"{title}\0{body}".encode()).hexdigest()


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
    session: Session,
    proposal: Proposal,
    origin: render.Origin,
    impact: ImpactResult | None,
    ending: render.Ending | None = None,
) -> render.ProposalIssueView:
    """What the issue shows: the teams asked (mentioned while it waits) and informed, where
    each stands, the declared usages that break for each (from the impact, when known); and
    once it ended, how."""
    slugs = _slugs(session, sorted(set(proposal.required) | set(proposal.informed)))
    usages = standing.broken_usages(impact)
    rows = {row.team: row for row in standing.team_rows(proposal, usages, slugs)}
    teams = [
        render.AffectedTeam(team, slugs.get(team), usages.get(team, []), True, rows.get(team))
        for team in sorted(proposal.required)
    ] + [
        render.AffectedTeam(team, slugs.get(team), (), False, rows.get(team))
        for team in sorted(set(proposal.informed) - set(proposal.required))
    ]
    live = proposal.state in LIVE
    return render.ProposalIssueView(
        contract_id=proposal.contract_id,
        origin=origin,
        breaking=len(proposal.breaking),
        teams=teams,
        current_version=proposal.current_version,
        proposed_version=proposal.published_version or proposal.proposed_version,
        bump=proposal.bump,
        state=proposal.state,
        waiting_on=standing.waiting_on(proposal) if live else (),
        no_ack_reason=standing.no_ack_reason(proposal, impact) if live else None,
        forced_by=proposal.forced_by,
        force_reason=proposal.force_reason,
        reopened=lifecycle.was_reopened(session, proposal),
        ending=ending,
    )


def _slugs(session: Session, teams: list[str]) -> dict[str, str]:
    rows = session.scalars(select(Team).where(Team.id.in_(teams)))
    return {row.id: row.github_team for row in rows}


def _title_of(session: Session, gh: Installation, proposal: Proposal) -> str:
    """The title of ``proposal``'s pull request (an empty one for a direct push, or when
    GitHub cannot say)."""
    contract = session.get(Contract, proposal.contract_id)
    if proposal.pull_request <= 0 or contract is None:
        return ""
    try:
        return gh.pull_request(contract.source_repo, proposal.pull_request).title
    except GitHubError:
        return ""


def impact_of_proposal(
    session: Session, gh: Installation, proposal: Proposal
) -> ImpactResult | None:
    """What breaks (or broke) for whom in ``proposal``: for a publication, between the version
    it replaced and the one it published; else its pushed spec as it compares now."""
    if proposal.state == "published":
        return standing.published_impact(session, proposal)
    contract = session.get(Contract, proposal.contract_id)
    return _impact_at(session, gh, contract, proposal.head_sha) if contract else None


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


# --- acknowledgements a push invalidated ------------------------------------------------------


def notify_invalidations(
    session: Session,
    gh: Installation,
    proposal: Proposal,
    row: ProposalIssue,
    impact: ImpactResult | None,
) -> list[str]:
    """Tell each team whose acknowledgement a push invalidated (``ack.invalidated`` on
    ``proposal``) and that was not told yet: a comment on the issue mentioning it, with the
    breaking findings that are new or gone for it. The teams told now."""
    told = set(
        session.scalars(
            select(AuditEvent.team).where(
                AuditEvent.subject == f"proposal:{proposal.id}", AuditEvent.action == NOTIFIED
            )
        )
    )
    pending = [
        event
        for event in session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.subject == f"proposal:{proposal.id}",
                AuditEvent.action == "ack.invalidated",
            )
            .order_by(AuditEvent.seq)
        )
        if event.team and event.team not in told
    ]
    if not pending:
        return []
    contract = session.get(Contract, proposal.contract_id)
    now = _findings_by_print(impact)
    before: dict[str, str] | None = None
    slugs = _slugs(session, sorted({e.team for e in pending if e.team}))
    notified = []
    for event in pending:
        team = str(event.team)
        ack = _ended_ack(session, event.details.get("from"), team, event.details.get("why"))
        if ack is None:
            continue
        after = proposal.required.get(team)
        gained = sorted(set(after or ()) - set(ack.fingerprints))
        lost = sorted(set(ack.fingerprints) - set(after or ()))
        if lost and before is None:
            earlier = session.get(Proposal, event.details.get("from"))
            before = (
                _findings_by_print(_impact_at(session, gh, contract, earlier.head_sha))
                if earlier is not None and contract is not None
                else {}
            )
        notice = render.InvalidationView(
            contract_id=proposal.contract_id,
            team=team,
            github_team=slugs.get(team),
            kind=ack.kind,
            actor=ack.actor,
            commit=proposal.head_sha,
            new=_described(gained, now),
            gone=_described(lost, before or {}),
            still_asked=after is not None,
        )
        marker = invalidation_marker(ack.id)
        body = render.invalidation_notice(notice)
        gh.upsert_comment(row.repo, row.issue, marker, marker + "\n" + body)
        audit.record(
            session,
            action=NOTIFIED,
            actor=ACTOR,
            subject=f"proposal:{proposal.id}",
            details={
                "contract": proposal.contract_id,
                "issue": f"{row.repo}#{row.issue}",
                "acknowledgement": ack.id,
                "github_team": slugs.get(team),
                "new": len(gained),
                "gone": len(lost),
            },
            team=team,
        )
        notified.append(team)
    session.flush()
    return notified


def _ended_ack(
    session: Session, proposal_id: object, team: str, why: object
) -> Acknowledgement | None:
    """The acknowledgement of ``team`` on the superseded proposal that ended for ``why``."""
    if not isinstance(proposal_id, int):
        return None
    return session.scalars(
        select(Acknowledgement)
        .where(
            Acknowledgement.proposal_id == proposal_id,
            Acknowledgement.team == team,
            Acknowledgement.end_reason == why,
        )
        .order_by(Acknowledgement.id.desc())
        .limit(1)
    ).first()


def _findings_by_print(impact: ImpactResult | None) -> dict[str, str]:
    if impact is None:
        return {}
    return {f.fingerprint: f"{f.path}: {f.message}" for f in impact.diff.findings}


def _described(prints: list[str], known: Mapping[str, str]) -> list[str]:
    """The findings of ``prints`` for people; those no judgement describes now, counted."""
    found = [known[p] for p in prints if p in known]
    unknown = len(prints) - len(found)
    if unknown:
        plural = "s" if unknown != 1 else ""
        found.append(f"{unknown} breaking change{plural} no judgement of the spec reports now")
    return found
