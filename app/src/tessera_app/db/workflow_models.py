"""Proposals and the decisions on them: acknowledgements, holds, waivers and publications.

A proposal is one (contract, pull request) change that breaks declared consumers; its rules live
in ``tessera_app.workflow``. Decisions are never updated away: a replaced, cancelled or
invalidated acknowledgement, a lifted hold and a revoked or lapsed waiver keep their row with
``ended_at``/``ended_by``/``end_reason``, so the history is in the database as well as in the
audit log. ``contract_id`` is the registry's contract id (the mirror's key), not a foreign key:
a proposal outlives a resync of the mirror.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UtcDateTime, utcnow

PROPOSAL_STATES = ("open", "approved", "published", "withdrawn", "superseded", "expired")
ACK_KINDS = ("approved", "migrating", "blocked")


class Proposal(Base):
    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[str] = mapped_column(String(200), index=True)
    pull_request: Mapped[int] = mapped_column(Integer)
    head_sha: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), index=True, default="open")
    # "<contract>#<pr>" while this is the proposal of that pull request; NULL once superseded
    # or replaced after expiry (NULLs never collide, so one live proposal per pull request)
    live_key: Mapped[str | None] = mapped_column(String(220), unique=True, nullable=True)
    # team -> sorted fingerprints of the breaking findings that concern it (acks bind to them)
    required: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    informed: Mapped[list[str]] = mapped_column(JSON, default=list)  # concerned, not asked
    breaking: Mapped[list[str]] = mapped_column(JSON, default=list)  # every breaking fingerprint
    bump: Mapped[str] = mapped_column(String(10), default="none")
    versioning: Mapped[str] = mapped_column(String(10), default="auto")
    current_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    proposed_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    version_origin: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("proposals.id"), nullable=True, index=True
    )
    forced_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    force_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    forced_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    merge_commit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    published_version: Mapped[str | None] = mapped_column(String(100), nullable=True)

    acknowledgements: Mapped[list[Acknowledgement]] = relationship(
        back_populates="proposal", order_by="Acknowledgement.id", lazy="selectin"
    )
    holds: Mapped[list[Hold]] = relationship(
        back_populates="proposal", order_by="Hold.id", lazy="selectin"
    )
    waivers: Mapped[list[Waiver]] = relationship(
        back_populates="proposal", order_by="Waiver.id", lazy="selectin"
    )
    teams: Mapped[list[ProposalTeam]] = relationship(
        back_populates="proposal", lazy="selectin", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_proposals_contract_pr", "contract_id", "pull_request"),)


class ProposalTeam(Base):
    """The teams a proposal concerns (asked to acknowledge, or only informed): an index for
    "the proposals of team X", kept in step with ``Proposal.required`` and ``informed``."""

    __tablename__ = "proposal_teams"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), primary_key=True)
    team: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    required: Mapped[bool] = mapped_column(Boolean, default=True)

    proposal: Mapped[Proposal] = relationship(back_populates="teams")


class _Decision:
    """Who decided, as which team, on what evidence, and when it stopped counting."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team: Mapped[str] = mapped_column(String(200), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class Acknowledgement(_Decision, Base):
    __tablename__ = "acknowledgements"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # approved | migrating | blocked
    target_date: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    fingerprints: Mapped[list[str]] = mapped_column(JSON, default=list)  # what it acknowledged
    carried_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("acknowledgements.id"), nullable=True
    )

    proposal: Mapped[Proposal] = relationship(back_populates="acknowledgements")


class Hold(_Decision, Base):
    __tablename__ = "holds"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)

    proposal: Mapped[Proposal] = relationship(back_populates="holds")


class Waiver(_Decision, Base):
    __tablename__ = "waivers"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    until: Mapped[datetime] = mapped_column(UtcDateTime)

    proposal: Mapped[Proposal] = relationship(back_populates="waivers")


class Publication(Base):
    """One published version: exactly one per (contract, merge commit) and per proposal."""

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), unique=True)
    contract_id: Mapped[str] = mapped_column(String(200), index=True)
    pull_request: Mapped[int] = mapped_column(Integer)
    merge_commit: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(100))
    bump: Mapped[str] = mapped_column(String(10))
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("contract_id", "merge_commit", name="uq_publications_contract_commit"),
    )
