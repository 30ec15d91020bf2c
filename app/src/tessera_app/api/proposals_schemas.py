"""Request and response bodies of the proposals API (``api/proposals.py``).

A request never says who decides: the actor is the API key's principal. Request bodies accept
only their own fields (an ``actor``, or any other unknown field, is 422).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..db.base import utcnow
from ..db.workflow_models import Acknowledgement, Hold, Proposal, Publication, Waiver
from ..workflow import ProposalStatus
from .text_inputs import FREE_TEXT, STATED_TEXT

State = Literal["open", "approved", "published", "withdrawn", "superseded", "expired"]
Kind = Literal["approved", "migrating", "blocked"]
TeamId: Any = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
Evidence: Any = Field(
    default_factory=dict,
    description="what the caller adds for the record (a ticket, a link); it is recorded under "
    "`stated_by_caller`, next to the API key that made the decision (`api_key`)",
)
NO_ACTOR = (
    "`actor` is not accepted: a decision is recorded as the API key's principal (its team, or "
    "the owner of an admin key)"
)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError) as err:
        raise ValueError("the date is out of range") from err


MAX_EVIDENCE = 8_000  # characters of the caller's evidence, as JSON


class Decision(BaseModel):
    """A request body of a decision: only its own fields, and never an ``actor``."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_actor(cls, data: Any) -> Any:
        if isinstance(data, dict) and "actor" in data:
            raise ValueError(NO_ACTOR)
        return data

    @field_validator("evidence", mode="after", check_fields=False)
    @classmethod
    def _recordable(cls, value: dict[str, Any]) -> dict[str, Any]:
        """The evidence goes into the audit log as canonical JSON: plain JSON data (no NaN or
        infinity, no NUL), of a bounded size."""
        try:
            text = json.dumps(value, allow_nan=False, separators=(",", ":"))
        except ValueError:
            raise ValueError("evidence must be plain JSON data (no NaN or infinity)") from None
        if len(text) > MAX_EVIDENCE:
            raise ValueError(f"evidence is over {MAX_EVIDENCE:,} characters as JSON")
        if _holds_nul(value):
            raise ValueError("evidence must not hold NUL characters")
        return value


def _holds_nul(value: Any) -> bool:
    """Whether a NUL character is in any string (key or value) of JSON data: PostgreSQL
    refuses it in text."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class _Ack(Decision):
    team: str = TeamId
    evidence: dict[str, Any] = Evidence


class ApproveAck(_Ack):
    kind: Literal["approved"]
    reason: str | None = Field(default=None, max_length=5000, pattern=FREE_TEXT)


class MigratingAck(_Ack):
    """Counts as approval; records when the team expects to have migrated."""

    kind: Literal["migrating"]
    until: datetime = Field(description="the target date of the migration")
    reason: str | None = Field(default=None, max_length=5000, pattern=FREE_TEXT)

    @field_validator("until")
    @classmethod
    def _until_future(cls, value: datetime) -> datetime:
        utc = _utc(value)
        assert utc is not None
        if utc <= utcnow():
            raise ValueError(
                f"the migration's target date {utc.isoformat()} is in the past: give a date "
                "in the future"
            )
        return utc


class BlockAck(_Ack):
    """Holds the proposal until the same team cancels it or acknowledges otherwise."""

    kind: Literal["blocked"]
    reason: str = Field(min_length=1, max_length=5000, pattern=STATED_TEXT)


AckRequest = Annotated[ApproveAck | MigratingAck | BlockAck, Field(discriminator="kind")]


class HoldRequest(Decision):
    team: str = TeamId
    reason: str | None = Field(default=None, max_length=5000, pattern=FREE_TEXT)
    evidence: dict[str, Any] = Evidence


class WaiverRequest(Decision):
    team: str = TeamId
    reason: str = Field(min_length=1, max_length=5000, pattern=STATED_TEXT)
    until: datetime = Field(description="the waiver ends then (in the future)")
    evidence: dict[str, Any] = Evidence

    @field_validator("until")
    @classmethod
    def _until_utc(cls, value: datetime) -> datetime:
        utc = _utc(value)
        assert utc is not None
        return utc


class ForceRequest(Decision):
    reason: str = Field(min_length=1, max_length=5000, pattern=STATED_TEXT)
    evidence: dict[str, Any] = Evidence


class DecisionOut(BaseModel):
    id: int
    team: str
    actor: str
    reason: str | None
    evidence: dict[str, Any]
    created_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None
    active: bool


class AckOut(DecisionOut):
    proposal_id: int
    kind: Kind
    target_date: datetime | None
    fingerprints: list[str] = Field(description="the breaking findings it acknowledged")
    carried_from_id: int | None

    @classmethod
    def of(cls, ack: Acknowledgement) -> AckOut:
        return cls(
            **_decision(ack),
            proposal_id=ack.proposal_id,
            kind=ack.kind,  # type: ignore[arg-type]
            target_date=ack.target_date,
            fingerprints=list(ack.fingerprints),
            carried_from_id=ack.carried_from_id,
        )


class HoldOut(DecisionOut):
    @classmethod
    def of(cls, hold: Hold) -> HoldOut:
        return cls(**_decision(hold))


class WaiverOut(DecisionOut):
    until: datetime

    @classmethod
    def of(cls, waiver: Waiver, now: datetime) -> WaiverOut:
        data = _decision(waiver)
        data["active"] = data["active"] and waiver.until > now
        return cls(**data, until=waiver.until)


def _decision(row: Acknowledgement | Hold | Waiver) -> dict[str, Any]:
    return {
        "id": row.id,
        "team": row.team,
        "actor": row.actor,
        "reason": row.reason,
        "evidence": dict(row.evidence),
        "created_at": row.created_at,
        "ended_at": row.ended_at,
        "ended_by": row.ended_by,
        "end_reason": row.end_reason,
        "active": row.ended_at is None,
    }


class TeamStatusOut(BaseModel):
    team: str
    state: Literal["pending", "approved", "migrating", "blocked", "waived"]
    fingerprints: list[str]


class PublicationOut(BaseModel):
    version: str
    merge_commit: str
    bump: str
    notes: list[str]
    published_at: datetime


class ProposalOut(BaseModel):
    id: int
    contract: str
    pull_request: int
    head_sha: str
    state: State
    required: dict[str, list[str]] = Field(
        description="team -> fingerprints of the breaking findings it must acknowledge"
    )
    informed: list[str]
    bump: str
    versioning: str
    current_version: str | None
    proposed_version: str | None
    published_version: str | None
    merge_commit: str | None
    notes: list[str]
    supersedes: int | None
    forced_by: str | None
    force_reason: str | None
    opened_at: datetime
    updated_at: datetime
    expires_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, p: Proposal) -> ProposalOut:
        return cls(
            id=p.id,
            contract=p.contract_id,
            pull_request=p.pull_request,
            head_sha=p.head_sha,
            state=p.state,  # type: ignore[arg-type]
            required=dict(p.required),
            informed=list(p.informed),
            bump=p.bump,
            versioning=p.versioning,
            current_version=p.current_version,
            proposed_version=p.proposed_version,
            published_version=p.published_version,
            merge_commit=p.merge_commit,
            notes=list(p.notes),
            supersedes=p.supersedes_id,
            forced_by=p.forced_by,
            force_reason=p.force_reason,
            opened_at=p.opened_at,
            updated_at=p.updated_at,
            expires_at=p.expires_at,
            closed_at=p.closed_at,
        )


class ProposalDetail(ProposalOut):
    teams: list[TeamStatusOut] = Field(description="each required team's standing")
    waiting_on: list[str] = Field(description="why it is not approved, one line each")
    acknowledgements: list[AckOut] = Field(description="every acknowledgement, ended ones too")
    holds: list[HoldOut]
    waivers: list[WaiverOut]
    publication: PublicationOut | None

    @classmethod
    def build(
        cls, p: Proposal, status: ProposalStatus, publication: Publication | None, now: datetime
    ) -> ProposalDetail:
        return cls(
            **ProposalOut.of(p).model_dump(),
            teams=[
                TeamStatusOut(
                    team=t.team,
                    state=t.state,  # type: ignore[arg-type]
                    fingerprints=list(t.fingerprints),
                )
                for t in status.teams
            ],
            waiting_on=[] if status.forced else list(status.waiting_on),
            acknowledgements=[AckOut.of(a) for a in p.acknowledgements],
            holds=[HoldOut.of(h) for h in p.holds],
            waivers=[WaiverOut.of(w, now) for w in p.waivers],
            publication=None
            if publication is None
            else PublicationOut(
                version=publication.version,
                merge_commit=publication.merge_commit,
                bump=publication.bump,
                notes=list(publication.notes),
                published_at=publication.published_at,
            ),
        )


class ProposalPage(BaseModel):
    items: list[ProposalOut]
    total: int
    limit: int
    offset: int


class AckPage(BaseModel):
    items: list[AckOut]
    total: int
    limit: int
    offset: int
