"""The workflow's vocabulary and rules of standing: errors, the impact summary, each team's
status, and the move between ``open`` and ``approved`` (``refresh``). ``tessera_app.workflow``
is the state machine that uses them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tessera_engine.model import Severity

from . import audit
from .db.base import utcnow
from .db.workflow_models import Acknowledgement, Hold, Proposal, Waiver

if TYPE_CHECKING:
    from tessera_engine.registry.impact_result import ImpactResult

SYSTEM = "tessera"
"""The actor of the service's own decisions (expiry, lapsed waivers)."""
DEFAULT_TIMEOUT_DAYS = 30  # the settings' default (``proposal_timeout_days``)
LIVE = ("open", "approved")
AckKind = Literal["approved", "migrating", "blocked"]
NO_CONSUMERS_NOTE = (
    "breaking changes, but no consumer team must acknowledge them: approved at once, and "
    "published on merge"
)


class WorkflowError(Exception):
    """A request the workflow refuses; ``str(err)`` says why."""


class NotFound(WorkflowError):
    pass


class InvalidTransition(WorkflowError):
    """The proposal's state does not allow this (a merged proposal cannot be withdrawn...)."""


class NotAConsumer(WorkflowError):
    """The team is not one this proposal asks or informs."""


class BadRequest(WorkflowError):
    """A missing reason, a date in the past, an unknown kind."""


@dataclass(frozen=True, slots=True)
class ImpactSummary:
    """What the workflow needs from an impact result: the teams that must acknowledge, each with
    the fingerprints of the breaking findings that concern it, and the version facts."""

    contract: str
    required: Mapping[str, frozenset[str]]
    breaking: frozenset[str]
    informed: frozenset[str] = frozenset()
    bump: str = "none"
    versioning: str = "auto"
    current_version: str | None = None
    proposed_version: str | None = None
    version_origin: str = ""
    notes: tuple[str, ...] = ()

    @classmethod
    def from_impact(cls, result: ImpactResult) -> ImpactSummary:
        required: dict[str, set[str]] = {}
        if result.acknowledgement.required:
            for consumer in result.consumers:
                if consumer.must_acknowledge:
                    required.setdefault(consumer.team, set()).update(
                        m.finding.fingerprint for m in consumer.matches if m.needs_acknowledgement
                    )
        return cls(
            contract=result.contract,
            required={team: frozenset(prints) for team, prints in required.items()},
            breaking=frozenset(
                f.fingerprint for f in result.diff.findings if f.severity is Severity.BREAKING
            ),
            informed=frozenset(c.team for c in result.consumers) - set(required),
            bump=result.diff.bump.value,
            versioning=result.versions.versioning,
            current_version=result.versions.current,
            proposed_version=result.versions.proposed,
            version_origin=result.versions.origin,
            notes=result.notes,
        )

    def required_json(self) -> dict[str, list[str]]:
        return {team: sorted(self.required[team]) for team in sorted(self.required)}


@dataclass(frozen=True, slots=True)
class TeamStatus:
    team: str
    state: str  # pending | approved | migrating | blocked | waived
    fingerprints: tuple[str, ...]
    acknowledgement: Acknowledgement | None = None
    waiver: Waiver | None = None

    @property
    def satisfied(self) -> bool:
        return self.state in ("approved", "migrating", "waived")


@dataclass(frozen=True, slots=True)
class ProposalStatus:
    state: str
    teams: tuple[TeamStatus, ...]
    holds: tuple[Hold, ...]
    forced: bool
    waiting_on: tuple[str, ...] = field(default=())  # why it is not approved, one line each

    @property
    def ready(self) -> bool:
        return self.forced or not self.waiting_on


# --- reading --------------------------------------------------------------------------------


def get(session: Session, proposal_id: int, *, lock: bool = False) -> Proposal:
    query = select(Proposal).where(Proposal.id == proposal_id)
    if lock:  # read again, not from the session's memory: it is about to be decided on
        query = query.with_for_update().execution_options(populate_existing=True)
    proposal = session.scalars(query).first()
    if proposal is None:
        raise NotFound(f"no proposal {proposal_id}")
    return proposal


def live_key(contract_id: str, pull_request: int) -> str:
    return f"{contract_id}#{pull_request}"


def find(session: Session, contract_id: str, pull_request: int) -> Proposal | None:
    """The current proposal of a pull request for a contract (not a superseded one)."""
    key = live_key(contract_id, pull_request)
    return session.scalars(
        select(Proposal)
        .where(Proposal.live_key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def active_acks(proposal: Proposal) -> dict[str, Acknowledgement]:
    return {a.team: a for a in proposal.acknowledgements if a.ended_at is None}


def active_holds(proposal: Proposal) -> dict[str, Hold]:
    return {h.team: h for h in proposal.holds if h.ended_at is None}


def active_waivers(proposal: Proposal, now: datetime | None = None) -> dict[str, Waiver]:
    now = now or utcnow()
    return {w.team: w for w in proposal.waivers if w.ended_at is None and w.until > now}


def status(proposal: Proposal, now: datetime | None = None) -> ProposalStatus:
    """Each required team's standing and what the proposal waits on."""
    now = now or utcnow()
    acks, waivers, holds = (
        active_acks(proposal),
        active_waivers(proposal, now),
        active_holds(proposal),
    )
    teams: list[TeamStatus] = []
    waiting: list[str] = []
    for team, prints in sorted(proposal.required.items()):
        ack, waiver = acks.get(team), waivers.get(team)
        if ack is not None and ack.kind == "blocked":
            state = "blocked"
            waiting.append(f"{team} blocked it: {ack.reason}")
        elif ack is not None:
            state = ack.kind
        elif waiver is not None:
            state = "waived"
        else:
            state = "pending"
            waiting.append(f"{team} has not acknowledged")
        teams.append(TeamStatus(team, state, tuple(prints), ack, waiver))
    for team, hold in sorted(holds.items()):
        waiting.append(f"{team} holds it: {hold.reason or 'no reason given'}")
    return ProposalStatus(
        state=proposal.state,
        teams=tuple(teams),
        holds=tuple(holds[t] for t in sorted(holds)),
        forced=proposal.forced_by is not None,
        waiting_on=tuple(waiting),
    )


def end(decision: Acknowledgement | Hold | Waiver, actor: str, why: str, now: datetime) -> None:
    decision.ended_at = now
    decision.ended_by = actor
    decision.end_reason = why


# --- internals ------------------------------------------------------------------------------


def live(session: Session, proposal_id: int, verb: str) -> Proposal:
    proposal = get(session, proposal_id, lock=True)
    if proposal.state not in LIVE:
        raise InvalidTransition(
            f"cannot {verb} proposal {proposal.id}: it is {proposal.state} "
            "(only open or approved proposals take decisions)"
        )
    return proposal


def refresh(session: Session, proposal: Proposal, actor: str, now: datetime) -> bool:
    """Move between ``open`` and ``approved`` as the decisions say; True when it moved."""
    if proposal.state not in LIVE:
        return False
    current = status(proposal, now)
    target = "approved" if current.ready else "open"
    if target == proposal.state:
        return False
    proposal.state, proposal.updated_at = target, now
    if target == "approved":
        why = "force-published" if current.forced else "every required team acknowledged"
        if not proposal.required:
            why = "no consumer team must acknowledge"
        audit_proposal(session, proposal, "proposal.approved", actor, {"why": why})
    else:
        audit_proposal(
            session, proposal, "proposal.reopened", actor, {"waiting_on": list(current.waiting_on)}
        )
    return True


def audit_proposal(
    session: Session,
    proposal: Proposal,
    action: str,
    actor: str,
    details: dict[str, Any],
    team: str | None = None,
) -> None:
    payload = {"contract": proposal.contract_id, "pull_request": proposal.pull_request, **details}
    audit.record(
        session,
        action=action,
        actor=actor,
        subject=f"proposal:{proposal.id}",
        details=payload,
        team=team,
    )


def not_asked(proposal: Proposal, team: str) -> str:
    asked = ", ".join(sorted(proposal.required)) or "none"
    return (
        f"team {team} is not a consumer this proposal concerns (proposal {proposal.id} asks: "
        f"{asked})"
    )


def aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
