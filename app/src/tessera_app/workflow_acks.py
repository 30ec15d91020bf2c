"""The decisions on a proposal: acknowledgements (approved, migrating, blocked), their
cancellation, holds, waivers and force-publish. Each checks the proposal's state, records who
decided, as which team and on what evidence, appends to the audit log and moves the proposal
between ``open`` and ``approved``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .db.base import utcnow
from .db.workflow_models import ACK_KINDS, Acknowledgement, Hold, Proposal, Waiver
from .workflow_state import (
    BadRequest,
    InvalidTransition,
    NotAConsumer,
    active_acks,
    active_holds,
    active_waivers,
    audit_proposal,
    aware,
    end,
    live,
    not_asked,
    refresh,
    status,
)


def acknowledge(
    session: Session,
    proposal_id: int,
    team: str,
    actor: str,
    kind: str,
    reason: str | None = None,
    until: datetime | None = None,
    evidence: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> Acknowledgement:
    """Record ``team``'s acknowledgement: ``approved``; ``migrating`` (counts as approval, with
    the target date ``until``); or ``blocked`` with a ``reason`` (holds the proposal until the
    same team cancels it or acknowledges otherwise). It replaces the team's previous one."""
    now = now or utcnow()
    proposal = live(session, proposal_id, "acknowledge")
    if kind not in ACK_KINDS:
        raise BadRequest(f"unknown acknowledgement {kind!r}: one of {', '.join(ACK_KINDS)}")
    if kind == "blocked" and not (reason and reason.strip()):
        raise BadRequest("a block needs a reason")
    if kind == "migrating" and until is None:
        raise BadRequest("migrating needs the target date of the migration")
    if kind != "migrating" and until is not None:
        raise BadRequest("only a migrating acknowledgement takes a target date")
    prints = proposal.required.get(team)
    if prints is None:
        raise NotAConsumer(not_asked(proposal, team))
    previous = active_acks(proposal).get(team)
    if previous is not None:
        end(previous, actor, f"replaced by a new acknowledgement ({kind})", now)
    ack = Acknowledgement(
        proposal=proposal,
        team=team,
        actor=actor,
        kind=kind,
        reason=reason,
        target_date=aware(until),
        fingerprints=list(prints),
        evidence=dict(evidence or {}),
        created_at=now,
    )
    session.add(ack)
    session.flush()
    details: dict[str, Any] = {"kind": kind, "fingerprints": prints, "evidence": ack.evidence}
    if reason:
        details["reason"] = reason
    if until is not None:
        details["target_date"] = ack.target_date
    if previous is not None:
        details["replaces"] = previous.kind
    audit_proposal(session, proposal, f"ack.{kind}", actor, details, team)
    refresh(session, proposal, actor, now)
    return ack


def cancel_ack(
    session: Session,
    proposal_id: int,
    team: str,
    actor: str,
    evidence: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> Acknowledgement:
    """Withdraw ``team``'s acknowledgement (or lift its block)."""
    now = now or utcnow()
    proposal = live(session, proposal_id, "cancel an acknowledgement of")
    ack = active_acks(proposal).get(team)
    if ack is None:
        raise InvalidTransition(f"team {team} has no acknowledgement on proposal {proposal.id}")
    end(ack, actor, "cancelled", now)
    audit_proposal(
        session,
        proposal,
        "ack.cancelled",
        actor,
        {"kind": ack.kind, "evidence": evidence or {}},
        team,
    )
    refresh(session, proposal, actor, now)
    return ack


def hold(
    session: Session,
    proposal_id: int,
    team: str,
    actor: str,
    reason: str | None = None,
    evidence: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> Hold:
    """Any consumer team the change concerns may hold the proposal (one hold per team)."""
    now = now or utcnow()
    proposal = live(session, proposal_id, "hold")
    if team not in proposal.required and team not in proposal.informed:
        raise NotAConsumer(not_asked(proposal, team))
    if team in active_holds(proposal):
        raise InvalidTransition(f"team {team} already holds proposal {proposal.id}")
    placed = Hold(
        proposal=proposal,
        team=team,
        actor=actor,
        reason=reason,
        evidence=dict(evidence or {}),
        created_at=now,
    )
    session.add(placed)
    session.flush()
    audit_proposal(
        session,
        proposal,
        "hold.placed",
        actor,
        {"reason": reason, "evidence": placed.evidence},
        team,
    )
    refresh(session, proposal, actor, now)
    return placed


def unhold(
    session: Session,
    proposal_id: int,
    team: str,
    actor: str,
    evidence: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> Hold:
    """Lift ``team``'s hold (a hold is lifted by the team that placed it)."""
    now = now or utcnow()
    proposal = live(session, proposal_id, "lift a hold on")
    placed = active_holds(proposal).get(team)
    if placed is None:
        raise InvalidTransition(f"team {team} holds no hold on proposal {proposal.id}")
    end(placed, actor, "lifted", now)
    audit_proposal(session, proposal, "hold.lifted", actor, {"evidence": evidence or {}}, team)
    refresh(session, proposal, actor, now)
    return placed


def waive(
    session: Session,
    proposal_id: int,
    team: str,
    actor: str,
    reason: str,
    until: datetime,
    evidence: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> Waiver:
    """A registry maintainer excuses ``team`` from acknowledging until ``until`` (a block by that
    team still holds). It replaces the team's previous waiver."""
    now = now or utcnow()
    proposal = live(session, proposal_id, "waive a team of")
    if not (reason and reason.strip()):
        raise BadRequest("a waiver needs a reason")
    ends = aware(until)
    if ends is None or ends <= now:
        raise BadRequest("a waiver must end in the future")
    if team not in proposal.required:
        raise NotAConsumer(not_asked(proposal, team))
    previous = active_waivers(proposal, now).get(team)
    if previous is not None:
        end(previous, actor, "replaced by a new waiver", now)
    waiver = Waiver(
        proposal=proposal,
        team=team,
        actor=actor,
        reason=reason,
        until=ends,
        evidence=dict(evidence or {}),
        created_at=now,
    )
    session.add(waiver)
    session.flush()
    audit_proposal(
        session,
        proposal,
        "waiver.granted",
        actor,
        {"reason": reason, "until": ends, "evidence": waiver.evidence},
        team,
    )
    refresh(session, proposal, actor, now)
    return waiver


def revoke_waiver(
    session: Session,
    proposal_id: int,
    team: str,
    actor: str,
    evidence: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> Waiver:
    now = now or utcnow()
    proposal = live(session, proposal_id, "revoke a waiver on")
    waiver = active_waivers(proposal, now).get(team)
    if waiver is None:
        raise InvalidTransition(f"team {team} has no waiver on proposal {proposal.id}")
    end(waiver, actor, "revoked", now)
    audit_proposal(session, proposal, "waiver.revoked", actor, {"evidence": evidence or {}}, team)
    refresh(session, proposal, actor, now)
    return waiver


def force_publish(
    session: Session,
    proposal_id: int,
    actor: str,
    reason: str,
    evidence: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> Proposal:
    """An admin releases the proposal whatever the acknowledgements, blocks and holds say: it is
    approved at once and published on merge. The reason is required and audited."""
    now = now or utcnow()
    proposal = live(session, proposal_id, "force-publish")
    if not (reason and reason.strip()):
        raise BadRequest("force-publish needs a reason")
    if proposal.forced_by is not None:
        raise InvalidTransition(
            f"proposal {proposal.id} was already force-published by {proposal.forced_by}"
        )
    waiting = status(proposal, now).waiting_on
    proposal.forced_by, proposal.force_reason, proposal.forced_at = actor, reason, now
    audit_proposal(
        session,
        proposal,
        "proposal.force_published",
        actor,
        {"reason": reason, "overrode": list(waiting), "evidence": dict(evidence or {})},
    )
    refresh(session, proposal, actor, now)
    return proposal
