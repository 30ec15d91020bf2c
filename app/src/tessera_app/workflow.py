"""The proposal workflow: the state machine that holds a breaking pull request until every
affected consumer team has acknowledged, and publishes the new version on merge.

    open_or_update(session, contract_id, pull_request, head_sha, impact) -> Proposal
    acknowledge / cancel_ack / hold / unhold / waive / revoke_waiver / force_publish
    close(session, proposal_id, merged, merge_commit, spec=None) -> Proposal
    expire_due(session, now) -> list[Proposal]
    status(proposal, now) -> ProposalStatus

This module holds the transitions driven by the pull request (opening, pushes, closing) and by
the clock; ``workflow_acks`` the decisions of teams and admins; ``workflow_state`` the errors,
each team's standing and the ``open``/``approved`` rule; ``workflow_versions`` the version a
merge publishes. Everything public is importable from here.

States (docs/workflow.md has the diagram): ``open`` until every required team has approved,
is migrating or is waived, with no block and no hold; then ``approved`` (and back to ``open``
when that stops being true); ``published`` on merge, once per merge commit; ``withdrawn`` when
the pull request closes unmerged (a push after reopening opens it again); ``superseded`` when a
push changes the breaking findings (a new proposal replaces it, carrying the acknowledgements of
the teams whose findings did not change); ``expired`` when an open proposal outlives its timeout.

Every change goes through ``audit.record`` in the caller's transaction; an invalid transition
raises a ``WorkflowError`` subclass that says why. Authority (is this login a member of the
team, a registry maintainer, an admin) is the caller's to check: the functions record the
evidence the caller passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db.base import utcnow
from .db.workflow_models import (
    Acknowledgement,
    Hold,
    Proposal,
    ProposalTeam,
    Publication,
    Waiver,
)
from .workflow_acks import (
    acknowledge,
    cancel_ack,
    force_publish,
    hold,
    revoke_waiver,
    unhold,
    waive,
)
from .workflow_state import (
    DEFAULT_TIMEOUT_DAYS,
    LIVE,
    NO_CONSUMERS_NOTE,
    SYSTEM,
    AckKind,
    BadRequest,
    ImpactSummary,
    InvalidTransition,
    NotAConsumer,
    NotFound,
    ProposalStatus,
    TeamStatus,
    WorkflowError,
    active_acks,
    active_holds,
    active_waivers,
    audit_proposal,
    end,
    find,
    get,
    live_key,
    refresh,
    status,
)
from .workflow_versions import latest_version, publish_version

if TYPE_CHECKING:
    from tessera_engine.registry.impact_result import ImpactResult

__all__ = [
    "DEFAULT_TIMEOUT_DAYS",
    "SYSTEM",
    "AckKind",
    "BadRequest",
    "ImpactSummary",
    "InvalidTransition",
    "NotAConsumer",
    "NotFound",
    "ProposalStatus",
    "PublishedSpec",
    "TeamStatus",
    "WorkflowError",
    "acknowledge",
    "cancel_ack",
    "close",
    "expire_due",
    "find",
    "force_publish",
    "get",
    "hold",
    "open_or_update",
    "revoke_waiver",
    "status",
    "unhold",
    "waive",
]

_D = TypeVar("_D", Acknowledgement, Hold, Waiver)

# --- opening and pushes ---------------------------------------------------------------------


def open_or_update(
    session: Session,
    contract_id: str,
    pull_request: int,
    head_sha: str,
    impact: ImpactResult | ImpactSummary,
    *,
    actor: str = SYSTEM,
    timeout_days: int | None = None,
    now: datetime | None = None,
) -> Proposal:
    """The proposal of ``pull_request`` after a push of ``head_sha`` with this ``impact``.

    No proposal yet: one is opened. The same breaking findings for the same teams: the proposal
    is updated in place and keeps every decision. Different ones: it is superseded by a new
    proposal that carries the acknowledgements of the teams whose findings are unchanged and
    invalidates the others, saying why. A withdrawn proposal (the pull request was reopened) is
    opened again; an expired one is replaced by a new proposal. ``timeout_days``: the
    contract's own timeout when it has one, else ``TESSERA_PROPOSAL_TIMEOUT_DAYS``."""
    summary = impact if isinstance(impact, ImpactSummary) else ImpactSummary.from_impact(impact)
    if summary.contract != contract_id:
        raise BadRequest(f"the impact is for contract {summary.contract}, not {contract_id}")
    if timeout_days is None:
        from .settings import Settings

        timeout_days = Settings().proposal_timeout_days  # TESSERA_PROPOSAL_TIMEOUT_DAYS
    if timeout_days < 1:
        raise BadRequest("the proposal timeout must be at least one day")
    now = now or utcnow()
    current = find(session, contract_id, pull_request)
    if current is None:
        proposal = _open(
            session, contract_id, pull_request, head_sha, summary, actor, timeout_days, now
        )
        refresh(session, proposal, actor, now)
        return proposal
    if current.state == "published":
        raise InvalidTransition(
            f"proposal {current.id} was published at merge commit {current.merge_commit}: "
            "a merged pull request takes no more pushes"
        )
    if current.state == "withdrawn":
        current.state = "open"
        current.closed_at = None
        current.expires_at = now + timedelta(days=timeout_days)
        audit_proposal(session, current, "proposal.reopened", actor, {"head_sha": head_sha})
    unchanged = (
        current.state != "expired"
        and set(current.breaking) == summary.breaking
        and current.required == summary.required_json()
    )
    if unchanged:
        previous = current.head_sha
        _apply(current, head_sha, summary, now)
        audit_proposal(
            session,
            current,
            "proposal.updated",
            actor,
            {"head_sha": head_sha, "previous_head_sha": previous, "acks": "all kept"},
        )
        refresh(session, current, actor, now)
        return current
    return _replace(session, current, head_sha, summary, actor, timeout_days, now)


def _apply(proposal: Proposal, head_sha: str, summary: ImpactSummary, now: datetime) -> None:
    proposal.head_sha = head_sha
    proposal.required = summary.required_json()
    proposal.informed = sorted(summary.informed)
    proposal.breaking = sorted(summary.breaking)
    proposal.bump = summary.bump
    proposal.versioning = summary.versioning
    proposal.current_version = summary.current_version
    proposal.proposed_version = summary.proposed_version
    proposal.version_origin = summary.version_origin
    notes = list(summary.notes)
    if not summary.required and summary.breaking:
        notes.append(NO_CONSUMERS_NOTE)
    proposal.notes = notes
    proposal.updated_at = now
    concerned = dict.fromkeys(summary.required, True)
    concerned.update({team: False for team in summary.informed if team not in concerned})
    for row in list(proposal.teams):
        if row.team in concerned:
            row.required = concerned.pop(row.team)
        else:
            proposal.teams.remove(row)
    proposal.teams.extend(ProposalTeam(team=t, required=r) for t, r in sorted(concerned.items()))


def _open(
    session: Session,
    contract_id: str,
    pull_request: int,
    head_sha: str,
    summary: ImpactSummary,
    actor: str,
    timeout_days: int,
    now: datetime,
    supersedes: Proposal | None = None,
) -> Proposal:
    """A new open proposal; the caller moves it to ``approved`` when the decisions allow."""
    proposal = Proposal(
        contract_id=contract_id,
        pull_request=pull_request,
        state="open",
        live_key=live_key(contract_id, pull_request),
        opened_at=now,
        expires_at=now + timedelta(days=timeout_days),
        supersedes_id=supersedes.id if supersedes else None,
        acknowledgements=[],
        holds=[],
        waivers=[],
        teams=[],
    )
    _apply(proposal, head_sha, summary, now)
    session.add(proposal)
    session.flush()
    audit_proposal(
        session,
        proposal,
        "proposal.opened",
        actor,
        {
            "pull_request": pull_request,
            "head_sha": head_sha,
            "required": proposal.required,
            "informed": proposal.informed,
            "supersedes": proposal.supersedes_id,
            "expires_at": proposal.expires_at,
            "notes": proposal.notes,
        },
    )
    return proposal


def _replace(
    session: Session,
    old: Proposal,
    head_sha: str,
    summary: ImpactSummary,
    actor: str,
    timeout_days: int,
    now: datetime,
) -> Proposal:
    """Supersede ``old`` (or retire an expired one) with a new proposal for ``summary``."""
    old.live_key = None
    added = sorted(summary.breaking - set(old.breaking))
    removed = sorted(set(old.breaking) - summary.breaking)
    if old.state != "expired":
        old.state = "superseded"
        old.closed_at = now
    old.updated_at = now
    session.flush()  # free the live key
    new = _open(
        session, old.contract_id, old.pull_request, head_sha, summary, actor, timeout_days, now, old
    )
    audit_proposal(
        session,
        old,
        "proposal.superseded" if old.state == "superseded" else "proposal.replaced",
        actor,
        {"by": new.id, "head_sha": head_sha, "added": added, "removed": removed},
    )
    new_required = new.required
    for team, ack in active_acks(old).items():
        kept = new_required.get(team)
        if kept is not None and sorted(ack.fingerprints) == kept:
            end(ack, actor, f"carried to proposal {new.id}: its findings are unchanged", now)
            new.acknowledgements.append(_carry_ack(ack, new))
            audit_proposal(
                session, new, "ack.carried", actor, {"from": old.id, "kind": ack.kind}, team
            )
            continue
        why = _why_invalid(team, ack.fingerprints, kept)
        end(ack, actor, why, now)
        audit_proposal(session, new, "ack.invalidated", actor, {"from": old.id, "why": why}, team)
    for team, placed in active_holds(old).items():
        end(placed, actor, f"carried to proposal {new.id}", now)
        new.holds.append(_copy_decision(Hold, placed, new))
        audit_proposal(session, new, "hold.carried", actor, {"from": old.id}, team)
    for team, waiver in active_waivers(old, now).items():
        if team in new_required:
            end(waiver, actor, f"carried to proposal {new.id}", now)
            copy = _copy_decision(Waiver, waiver, new)
            copy.until = waiver.until
            new.waivers.append(copy)
            audit_proposal(session, new, "waiver.carried", actor, {"from": old.id}, team)
    session.flush()
    refresh(session, new, actor, now)
    return new


def _why_invalid(team: str, before: Iterable[str], after: list[str] | None) -> str:
    if after is None:
        return f"team {team} is no longer asked: no breaking finding concerns it any more"
    gained = sorted(set(after) - set(before))
    lost = sorted(set(before) - set(after))
    parts = []
    if gained:
        parts.append(f"new: {', '.join(gained)}")
    if lost:
        parts.append(f"gone: {', '.join(lost)}")
    return f"the breaking findings that concern team {team} changed ({'; '.join(parts)})"


def _carry_ack(ack: Acknowledgement, proposal: Proposal) -> Acknowledgement:
    copy = _copy_decision(Acknowledgement, ack, proposal)
    copy.kind = ack.kind
    copy.target_date = ack.target_date
    copy.fingerprints = list(ack.fingerprints)
    copy.carried_from_id = ack.id
    return copy


def _copy_decision(cls: type[_D], old: _D, proposal: Proposal) -> _D:
    return cls(
        proposal=proposal,
        team=old.team,
        actor=old.actor,
        reason=old.reason,
        evidence=dict(old.evidence),
        created_at=old.created_at,
    )


# --- closing and time -----------------------------------------------------------------------


def close(
    session: Session,
    proposal_id: int,
    merged: bool,
    merge_commit: str | None = None,
    *,
    spec: PublishedSpec | None = None,
    actor: str = SYSTEM,
    now: datetime | None = None,
) -> Proposal:
    """The pull request closed. Unmerged: the proposal is withdrawn. Merged: it is published,
    exactly once per merge commit (a duplicate merge event returns the proposal unchanged).
    A merge of a proposal that was not approved still publishes (the merge happened), with a
    note naming what it was waiting on. With ``spec`` (the files as merged), the version is
    also recorded in the registry mirror (``mirror.record_version``)."""
    now = now or utcnow()
    proposal = get(session, proposal_id, lock=True)
    if not merged:
        if proposal.state == "withdrawn":
            return proposal  # a duplicate "closed" event
        if proposal.state not in (*LIVE, "expired"):
            raise InvalidTransition(
                f"proposal {proposal.id} is {proposal.state}: it cannot be withdrawn"
            )
        proposal.state, proposal.closed_at, proposal.updated_at = "withdrawn", now, now
        audit_proposal(
            session, proposal, "proposal.withdrawn", actor, {"pull_request": proposal.pull_request}
        )
        return proposal
    if not merge_commit:
        raise BadRequest("a merge needs the merge commit")
    if proposal.state == "published":
        if proposal.merge_commit == merge_commit:
            return proposal  # a duplicate merge event
        raise InvalidTransition(
            f"proposal {proposal.id} was published at {proposal.merge_commit}, not {merge_commit}"
        )
    if proposal.state not in (*LIVE, "expired"):
        raise InvalidTransition(
            f"proposal {proposal.id} is {proposal.state}: only an open, approved or expired "
            "proposal can be published"
        )
    return _publish(session, proposal, merge_commit, spec, actor, now)


@dataclass(frozen=True, slots=True)
class PublishedSpec:
    """The spec as merged, for the registry mirror: path -> text, and where it lives."""

    files: Mapping[str, str]
    repo: str
    paths: tuple[str, ...]


def _publish(
    session: Session,
    proposal: Proposal,
    merge_commit: str,
    spec: PublishedSpec | None,
    actor: str,
    now: datetime,
) -> Proposal:
    notes = list(proposal.notes)
    if proposal.state != "approved":
        waiting = "; ".join(status(proposal, now).waiting_on) or proposal.state
        notes.append(f"merged before approval (was {proposal.state}: {waiting})")
    elif proposal.forced_by:
        notes.append(f"force-published by {proposal.forced_by}: {proposal.force_reason}")
    version, version_notes = publish_version(
        proposal, latest_version(session, proposal.contract_id)
    )
    notes += version_notes
    publication = Publication(
        proposal_id=proposal.id,
        contract_id=proposal.contract_id,
        pull_request=proposal.pull_request,
        merge_commit=merge_commit,
        version=version,
        bump=proposal.bump,
        notes=notes,
        published_at=now,
    )
    try:
        with session.begin_nested():
            session.add(publication)
    except IntegrityError:
        winner = session.scalars(
            select(Publication).where(
                Publication.contract_id == proposal.contract_id,
                Publication.merge_commit == merge_commit,
            )
        ).first()
        if winner is not None and winner.proposal_id == proposal.id:
            # the same merge, handled by a concurrent event that committed first (SQLite has
            # no row lock to make this one wait): a duplicate, like any other
            session.refresh(proposal)
            return proposal
        raise InvalidTransition(
            f"contract {proposal.contract_id} was already published at merge commit "
            f"{merge_commit} (by another proposal or a concurrent event)"
        ) from None
    if spec is not None:
        notes += _mirror(session, proposal, version, merge_commit, spec, actor, now)
        publication.notes = notes
    else:
        notes.append("published in the workflow only: no spec files given for the mirror")
        publication.notes = notes
    previous = proposal.state
    proposal.state, proposal.merge_commit, proposal.published_version = (
        "published",
        merge_commit,
        version,
    )
    proposal.closed_at = proposal.updated_at = now
    proposal.notes = notes
    audit_proposal(
        session,
        proposal,
        "proposal.published",
        actor,
        {
            "merge_commit": merge_commit,
            "version": version,
            "bump": proposal.bump,
            "from_state": previous,
            "notes": notes,
        },
    )
    return proposal


def _mirror(
    session: Session,
    proposal: Proposal,
    version: str,
    merge_commit: str,
    spec: PublishedSpec,
    actor: str,
    now: datetime,
) -> list[str]:
    from . import mirror

    try:
        with session.begin_nested():
            mirror.record_version(
                session,
                proposal.contract_id,
                version,
                spec.files,
                spec.repo,
                spec.paths,
                merge_commit,
                proposal.pull_request,
                proposal.breaking,
                published_at=now,
                actor=actor,
            )
    except mirror.UnknownContract as err:
        return [f"not mirrored: {err}"]
    except mirror.VersionConflict as err:
        raise InvalidTransition(str(err)) from None
    return []


def expire_due(session: Session, now: datetime | None = None) -> list[Proposal]:
    """Expire the open proposals past their timeout, end the waivers past their date (an
    approved proposal that relied on one opens again). Returns the proposals that changed."""
    now = now or utcnow()
    changed: list[Proposal] = []
    due = session.scalars(
        select(Proposal)
        .where(Proposal.state == "open", Proposal.expires_at <= now)
        .order_by(Proposal.id)
        .with_for_update()
    ).all()
    for proposal in due:
        proposal.state, proposal.closed_at, proposal.updated_at = "expired", now, now
        audit_proposal(
            session,
            proposal,
            "proposal.expired",
            SYSTEM,
            {
                "expires_at": proposal.expires_at,
                "waiting_on": list(status(proposal, now).waiting_on),
            },
        )
        changed.append(proposal)
    lapsed = session.scalars(
        select(Waiver)
        .join(Proposal)
        .where(Waiver.ended_at.is_(None), Waiver.until <= now, Proposal.state.in_(LIVE))
        .order_by(Waiver.id)
    ).all()
    for waiver in lapsed:
        end(waiver, SYSTEM, "lapsed", now)
        audit_proposal(
            session, waiver.proposal, "waiver.lapsed", SYSTEM, {"until": waiver.until}, waiver.team
        )
        if refresh(session, waiver.proposal, SYSTEM, now) and waiver.proposal not in changed:
            changed.append(waiver.proposal)
    return changed
