"""GitHub bookkeeping: webhook deliveries, and the ids of what the App created on GitHub.

    deliveries        one row per ``X-GitHub-Delivery`` (a redelivery reuses the id, so a
                      duplicate is a no-op): the payload as received and its processing status
    check_runs        (repo, head sha, check name) -> GitHub check run id
    pr_comments       (repo, pull request) -> the id of the sticky summary comment
    proposal_issues   proposal -> its issue in the registry repository (and back), with a
                      digest of what the App last wrote there
    command_receipts  one row per command of a comment or review, as it was applied: a job
                      that runs again finds it and does not decide twice
    pull_request_versions
                      per (contract, pull request): the version its producer gave with
                      ``/tessera version``, and the version the last check said merging
                      publishes

Installations and their repositories are in ``registry_models`` (``installations``,
``repositories``). The ids GitHub gives are 64-bit (``BigInteger``). Every GitHub write the App
makes looks here first, so repeating a job finds and edits what it made instead of making it
twice; the gateway's own "find by name/marker" is the fallback when a row is missing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, utcnow

NAME = 255  # "owner/name", check names, logins
DELIVERY_STATES = ("queued", "processed", "failed", "ignored")


class Delivery(Base):
    """A webhook delivery: ``queued`` (a ``github.<event>`` job will process it),
    ``processed``/``failed`` (set by the handler), or ``ignored`` (an event the App does not
    handle: stored, acknowledged, never processed)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(f"status IN {DELIVERY_STATES!r}", name="status"),
        Index("ix_deliveries_status_received_at", "status", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # X-GitHub-Delivery
    event: Mapped[str] = mapped_column(String(100), index=True)  # X-GitHub-Event
    action: Mapped[str | None] = mapped_column(String(100))
    installation_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CheckRunRecord(Base):
    """The check run the App made for one (repository, head commit, check name)."""

    __tablename__ = "check_runs"

    repo: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    head_sha: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)  # "tessera/<contract>"
    check_run_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class PullRequestComment(Base):
    """The sticky summary comment of one pull request (edited in place, never re-posted)."""

    __tablename__ = "pr_comments"

    repo: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    pull_request: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    comment_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ProposalIssue(Base):
    """The proposal's issue in the registry repository: one per proposal, and a comment on
    that issue finds its proposal through (repo, issue number)."""

    __tablename__ = "proposal_issues"
    __table_args__ = (UniqueConstraint("repo", "issue"),)

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), primary_key=True)
    repo: Mapped[str] = mapped_column(String(NAME))  # the registry repository
    issue: Mapped[int] = mapped_column(BigInteger)
    closed: Mapped[bool] = mapped_column(default=False)
    # sha256 of the title and body last written: an unchanged issue is not edited again (every
    # edit costs GitHub's content budget and sends an ``issues.edited`` webhook back)
    digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class CommandReceipt(Base):
    """A ``/tessera`` command (or a review acting as one) as it was applied: the comment or
    review (``source``, ``source_id``), the command's place in it, and the outcome. Written in
    the transaction of the decision it records; a job that runs the same comment again (GitHub
    failed after the decision committed) answers from here instead of deciding twice."""

    __tablename__ = "command_receipts"

    repo: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    source: Mapped[str] = mapped_column(String(40), primary_key=True)  # issue_comment, ...
    source_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)  # the command's index
    command: Mapped[str] = mapped_column(Text)
    accepted: Mapped[bool]
    message: Mapped[str] = mapped_column(Text)
    proposal_ids: Mapped[list[int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PullRequestVersion(Base):
    """The version of one contract in one pull request: the one a member of the contract's
    owner team gave with ``/tessera version`` (who, checked in which GitHub team, in which
    comment, when), and the one the last judgement of the pull request showed as what merging
    publishes (at which head commit), so a merge that publishes another version says so."""

    __tablename__ = "pull_request_versions"

    contract_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    repo: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    pull_request: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    given_version: Mapped[str | None] = mapped_column(String(100))
    given_by: Mapped[str | None] = mapped_column(String(NAME))  # GitHub login
    given_team: Mapped[str | None] = mapped_column(String(NAME))  # "org/slug" checked
    given_comment_id: Mapped[int | None] = mapped_column(BigInteger)
    given_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    judged_head_sha: Mapped[str | None] = mapped_column(String(64))
    judged_version: Mapped[str | None] = mapped_column(String(100))
    judged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
