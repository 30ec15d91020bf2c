"""Inconsistencies between a registry source and the mirror: reported, never applied silently.

    Finding(kind, subject, message, details)        one inconsistency a resync found
    settle(session, found, kinds=..., source=...)   the open findings of those kinds become
                                                    exactly ``found``: a new one is stored,
                                                    logged and audited
                                                    (``registry.inconsistency_found``), one no
                                                    longer found is deleted and audited
                                                    (``registry.inconsistency_resolved``), one
                                                    still there only has its ``last_seen``
                                                    moved (no audit event every period)
    health(session)                                 what ``GET /readyz`` says of the mirror

The kinds:

    version-missing    the source lacks a version the mirror published (the mirror keeps it)
    version-differs    the source holds a published version with other files or metadata (the
                       published one is kept)
    contract-kept      the source no longer declares a contract that has published versions
                       (the mirror keeps the contract, its versions and, if need be, its owner)
    not-descendant     the registry branch's head is not a descendant of the commit the mirror
                       applied last (a force-push, a reset): that commit is not applied
    invalid-registry   the registry at the head commit does not validate: not applied
    registry-unreachable  no installation of the GitHub App can read the registry repository

The first three describe what a source holds, whichever source it is (``CONTENT_KINDS``): a
completed resync settles them. The others say why a source was not applied
(``REFUSAL_KINDS``): they are settled per source, and cleared once that source is read again
and found fine.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit
from .db.base import utcnow
from .db.mirror_models import MirrorFinding, RegistrySync

log = logging.getLogger(__name__)

VERSION_MISSING = "version-missing"
VERSION_DIFFERS = "version-differs"
CONTRACT_KEPT = "contract-kept"
NOT_DESCENDANT = "not-descendant"
INVALID_REGISTRY = "invalid-registry"
REGISTRY_UNREACHABLE = "registry-unreachable"
CONTENT_KINDS = (VERSION_MISSING, VERSION_DIFFERS, CONTRACT_KEPT)
REFUSAL_KINDS = (NOT_DESCENDANT, INVALID_REGISTRY, REGISTRY_UNREACHABLE)
HEALTH_LIMIT = 20  # findings listed by /readyz (the total is given too)


@dataclass(frozen=True)
class Finding:
    """One inconsistency: ``(kind, subject)`` identifies it across resyncs."""

    kind: str
    subject: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    team: str | None = None  # the team it concerns (the audit event's team)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "message": self.message,
            "details": self.details,
        }


@dataclass(frozen=True)
class Settled:
    """What ``settle`` did: the findings that appeared, stayed and were resolved."""

    found: tuple[Finding, ...] = ()
    persisting: tuple[str, ...] = ()  # "kind subject"
    resolved: tuple[str, ...] = ()


def settle(
    session: Session,
    found: Iterable[Finding],
    *,
    kinds: Collection[str],
    source: str,
    actor: str,
    per_source: bool = False,
) -> Settled:
    """Make the open findings of ``kinds`` (of ``source`` only, with ``per_source``) exactly
    ``found``, in the caller's transaction."""
    query = select(MirrorFinding).where(MirrorFinding.kind.in_(list(kinds)))
    if per_source:
        query = query.where(MirrorFinding.source == source)
    existing = {(row.kind, row.subject): row for row in session.scalars(query)}
    now = utcnow()
    new: list[Finding] = []
    persisting: list[str] = []
    for finding in {(f.kind, f.subject): f for f in found}.values():
        row = existing.pop((finding.kind, finding.subject), None)
        if row is None:
            session.add(
                MirrorFinding(
                    kind=finding.kind,
                    subject=finding.subject,
                    source=source,
                    message=finding.message,
                    details=audit.jsonable(finding.details),
                    first_seen=now,
                    last_seen=now,
                )
            )
            log.warning("registry mirror: %s", finding.message)
            audit.record(
                session,
                action="registry.inconsistency_found",
                actor=actor,
                subject=finding.subject,
                details={"kind": finding.kind, "source": source, "message": finding.message}
                | finding.details,
                team=finding.team,
            )
            new.append(finding)
        else:
            row.last_seen, row.source = now, source
            row.message, row.details = finding.message, audit.jsonable(finding.details)
            persisting.append(f"{finding.kind} {finding.subject}")
    if persisting:
        log.warning(
            "registry mirror: %d inconsistencies with %s persist (GET /readyz lists them)",
            len(persisting),
            source,
        )
    for row in existing.values():
        log.info("registry mirror: resolved: %s", row.message)
        audit.record(
            session,
            action="registry.inconsistency_resolved",
            actor=actor,
            subject=row.subject,
            details={"kind": row.kind, "source": source, "was": row.message},
        )
        session.delete(row)
    session.flush()
    resolved = tuple(f"{row.kind} {row.subject}" for row in existing.values())
    return Settled(tuple(new), tuple(persisting), resolved)


def health(session: Session, limit: int = HEALTH_LIMIT) -> dict[str, Any]:
    """The mirror's sources (what each applied, when) and its open findings (the oldest
    ``limit``, and how many there are): ``consistent`` is true when there is none."""
    total = session.scalar(select(func.count()).select_from(MirrorFinding)) or 0
    findings = session.scalars(
        select(MirrorFinding).order_by(MirrorFinding.first_seen, MirrorFinding.id).limit(limit)
    )
    sources = session.scalars(select(RegistrySync).order_by(RegistrySync.applied_at.desc()))
    return {
        "consistent": total == 0,
        "sources": [
            {
                "source": row.source,
                "commit": row.commit,
                "applied_at": _iso(row.applied_at),
                "checked_at": _iso(row.checked_at),
            }
            for row in sources
        ],
        "findings": [
            {
                "kind": row.kind,
                "subject": row.subject,
                "source": row.source,
                "message": row.message,
                "first_seen": _iso(row.first_seen),
            }
            for row in findings
        ],
        "findings_total": total,
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat()
