"""Proposals and acknowledgements: read them (``read``, open or keyed per
``TESSERA_READ_ACCESS``), decide on them (``write``: a team key for its own team, or an admin
key for any team), waive teams and force-publish (``admin``). Every write goes through
``tessera_app.workflow``, which records it in the audit log as the key's principal
(``principals.Principal.actor_for``), with the key (id, name, prefix, team or owner) as evidence.
Who decides is never taken from the request: an ``actor`` in a body or query is 422.

Errors are JSON ``{"detail": "..."}``: 403 the key acts for another team, 404 no such proposal,
409 the proposal's state does not allow it (it is published, superseded...; no such ack, hold or
waiver), 422 a bad request (a team the proposal does not concern, a missing reason, a date in
the past).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import workflow
from ..auth import Principal, acting_for, require
from ..db.base import transaction, utcnow
from ..db.workflow_models import Acknowledgement, Proposal, ProposalTeam, Publication
from .proposals_schemas import (
    NO_ACTOR,
    AckOut,
    AckPage,
    AckRequest,
    ForceRequest,
    HoldOut,
    HoldRequest,
    MigratingAck,
    ProposalDetail,
    ProposalOut,
    ProposalPage,
    State,
    WaiverOut,
    WaiverRequest,
)
from .text_inputs import ONE_LINE

router = APIRouter(tags=["proposals"])
Reader = Annotated[Principal, Depends(require("read"))]
Writer = Annotated[Principal, Depends(require("write"))]
Admin = Annotated[Principal, Depends(require("admin"))]
ProposalId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the proposal's id")]
TeamPath = Annotated[str, Path(min_length=1, max_length=200, pattern=ONE_LINE)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=10**9)]
T = TypeVar("T")

ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "the API key lacks the scope, or acts for another team"},
    404: {"description": "no such proposal"},
    409: {"description": "the proposal's state does not allow it"},
    422: {"description": "a bad request"},
}
STATUS = {
    workflow.NotFound: 404,
    workflow.InvalidTransition: 409,
    workflow.NotAConsumer: 422,
    workflow.BadRequest: 422,
}


def _session(request: Request) -> Iterator[Session]:
    with transaction(request.app.state.sessions) as session:
        yield session


SessionDep = Annotated[Session, Depends(_session)]


def _decide(action: Callable[[], T]) -> T:
    try:
        return action()
    except workflow.WorkflowError as err:
        raise HTTPException(STATUS.get(type(err), 422), str(err)) from None


def _no_actor_query(request: Request) -> None:
    """Refuse ``?actor=``: who decides is the API key's principal, never a parameter."""
    if "actor" in request.query_params:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, NO_ACTOR)


DECISION = [Depends(_no_actor_query)]


def _evidence(principal: Principal, given: dict[str, Any] | None = None) -> dict[str, Any]:
    """The evidence recorded with a decision: the key that made it, and what the caller added."""
    found: dict[str, Any] = {"via": "api", "api_key": principal.evidence()}
    if given:
        found["stated_by_caller"] = given
    return found


@router.get("/proposals", response_model=ProposalPage)
def list_proposals(
    session: SessionDep,
    _: Reader,
    state: State | None = None,
    team: Annotated[
        str | None, Query(max_length=200, pattern=ONE_LINE, description="asked or informed")
    ] = None,
    contract: Annotated[str | None, Query(max_length=200, pattern=ONE_LINE)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ProposalPage:
    """Proposals, newest first, filtered by state, team (asked or informed) and contract."""
    query = select(Proposal)
    if state:
        query = query.where(Proposal.state == state)
    if contract:
        query = query.where(Proposal.contract_id == contract)
    if team:
        query = query.where(
            Proposal.id.in_(select(ProposalTeam.proposal_id).where(ProposalTeam.team == team))
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Proposal.id.desc()).limit(limit).offset(offset))
    return ProposalPage(
        items=[ProposalOut.of(p) for p in rows], total=total, limit=limit, offset=offset
    )


@router.get("/proposals/{proposal_id}", response_model=ProposalDetail, responses=ERRORS)
def get_proposal(session: SessionDep, _: Reader, proposal_id: ProposalId) -> ProposalDetail:
    """One proposal with every acknowledgement, hold and waiver, and each team's standing."""
    return _detail(session, _decide(lambda: workflow.get(session, proposal_id)))


def _detail(session: Session, proposal: Proposal) -> ProposalDetail:
    now = utcnow()
    publication = session.scalars(
        select(Publication).where(Publication.proposal_id == proposal.id)
    ).first()
    return ProposalDetail.build(proposal, workflow.status(proposal, now), publication, now)


@router.post(
    "/proposals/{proposal_id}/acknowledgements",
    response_model=AckOut,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    dependencies=DECISION,
)
def acknowledge(
    session: SessionDep, principal: Writer, proposal_id: ProposalId, body: AckRequest
) -> AckOut:
    """A team acknowledges: approved, migrating (with a target date in the future) or blocked
    (with a reason). It replaces the team's previous acknowledgement. A team key acts for its
    own team only; an admin key for any."""
    actor = acting_for(principal, body.team)
    ack = _decide(
        lambda: workflow.acknowledge(
            session,
            proposal_id,
            body.team,
            actor,
            body.kind,
            body.reason,
            body.until if isinstance(body, MigratingAck) else None,
            _evidence(principal, body.evidence),
        )
    )
    return AckOut.of(ack)


@router.delete(
    "/proposals/{proposal_id}/acknowledgements/{team}",
    response_model=AckOut,
    responses=ERRORS,
    dependencies=DECISION,
)
def cancel_ack(
    session: SessionDep, principal: Writer, proposal_id: ProposalId, team: TeamPath
) -> AckOut:
    """Cancel the team's acknowledgement (``ack cancel``; lifts its block)."""
    actor = acting_for(principal, team)
    ack = _decide(
        lambda: workflow.cancel_ack(session, proposal_id, team, actor, _evidence(principal))
    )
    return AckOut.of(ack)


@router.post(
    "/proposals/{proposal_id}/holds",
    response_model=HoldOut,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    dependencies=DECISION,
)
def place_hold(
    session: SessionDep, principal: Writer, proposal_id: ProposalId, body: HoldRequest
) -> HoldOut:
    """A consumer team the change concerns holds the proposal."""
    actor = acting_for(principal, body.team)
    placed = _decide(
        lambda: workflow.hold(
            session,
            proposal_id,
            body.team,
            actor,
            body.reason,
            _evidence(principal, body.evidence),
        )
    )
    return HoldOut.of(placed)


@router.delete(
    "/proposals/{proposal_id}/holds/{team}",
    response_model=HoldOut,
    responses=ERRORS,
    dependencies=DECISION,
)
def lift_hold(
    session: SessionDep, principal: Writer, proposal_id: ProposalId, team: TeamPath
) -> HoldOut:
    """The team lifts its hold."""
    actor = acting_for(principal, team)
    lifted = _decide(
        lambda: workflow.unhold(session, proposal_id, team, actor, _evidence(principal))
    )
    return HoldOut.of(lifted)


@router.post(
    "/proposals/{proposal_id}/waivers",
    response_model=WaiverOut,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    dependencies=DECISION,
)
def grant_waiver(
    session: SessionDep, principal: Admin, proposal_id: ProposalId, body: WaiverRequest
) -> WaiverOut:
    """A registry maintainer (admin key) excuses a team until a date, with a reason."""
    actor = acting_for(principal, body.team)
    waiver = _decide(
        lambda: workflow.waive(
            session,
            proposal_id,
            body.team,
            actor,
            body.reason,
            body.until,
            _evidence(principal, body.evidence),
        )
    )
    return WaiverOut.of(waiver, utcnow())


@router.delete(
    "/proposals/{proposal_id}/waivers/{team}",
    response_model=WaiverOut,
    responses=ERRORS,
    dependencies=DECISION,
)
def revoke_waiver(
    session: SessionDep, principal: Admin, proposal_id: ProposalId, team: TeamPath
) -> WaiverOut:
    """Revoke the team's waiver (admin)."""
    actor = acting_for(principal, team)
    waiver = _decide(
        lambda: workflow.revoke_waiver(session, proposal_id, team, actor, _evidence(principal))
    )
    return WaiverOut.of(waiver, utcnow())


@router.post(
    "/proposals/{proposal_id}/force-publish",
    response_model=ProposalDetail,
    responses=ERRORS,
    dependencies=DECISION,
)
def force_publish(
    session: SessionDep, principal: Admin, proposal_id: ProposalId, body: ForceRequest
) -> ProposalDetail:
    """Release the proposal whatever its acknowledgements, blocks and holds (admin, reason
    required): it is approved now and published on merge."""
    proposal = _decide(
        lambda: workflow.force_publish(
            session,
            proposal_id,
            principal.actor,
            body.reason,
            _evidence(principal, body.evidence),
        )
    )
    return _detail(session, proposal)


@router.get("/acknowledgements", response_model=AckPage)
def list_acknowledgements(
    session: SessionDep,
    _: Reader,
    team: Annotated[str | None, Query(max_length=200, pattern=ONE_LINE)] = None,
    proposal: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    active: Annotated[bool | None, Query(description="only active (true) or ended")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AckPage:
    """Acknowledgements, newest first, filtered by team, proposal and whether active."""
    query = select(Acknowledgement)
    if team:
        query = query.where(Acknowledgement.team == team)
    if proposal:
        query = query.where(Acknowledgement.proposal_id == proposal)
    if active is not None:
        query = query.where(
            Acknowledgement.ended_at.is_(None) if active else Acknowledgement.ended_at.is_not(None)
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Acknowledgement.id.desc()).limit(limit).offset(offset))
    return AckPage(items=[AckOut.of(a) for a in rows], total=total, limit=limit, offset=offset)
