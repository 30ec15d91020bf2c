"""Where each team stands on a proposal, and what breaks for it: the rows that the check run,
the pull request comment, the proposal issue, ``/tessera status`` and the publish summary all
show, built in one place so that they always agree.

    broken_usages(impact)               team -> the declared usages a breaking finding meets
    team_rows(proposal, breaks, slugs)  each asked team's standing (and holds), then the
                                        informed teams
    no_ack_reason(proposal, impact)     why a breaking change asks nobody, or None
    published_impact(session, proposal) what a published proposal changed, between the
                                        version it replaced and the one it published
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from tessera_engine.errors import TesseraError
from tessera_engine.registry.impact import impact
from tessera_engine.registry.impact_result import ImpactResult
from tessera_engine.registry.versions import VersionSource

from ..db.workflow_models import Proposal
from ..workflow_state import active_holds, status
from .render import BrokenUsage, TeamRow

EVERYTHING = "everything (no declared uses)"
NOBODY_DECLARED = "no consumer team must acknowledge it"


def broken_usages(impact: ImpactResult | None) -> dict[str, list[BrokenUsage]]:
    """Per team, the declared usages that a breaking finding meets, as the proposal issue
    lists them (a consumer that declared no ``uses`` reads everything)."""
    found: dict[str, list[BrokenUsage]] = {}
    if impact is None:
        return found
    for consumer in impact.consumers:
        for match in consumer.matches:
            if match.needs_acknowledgement:
                found.setdefault(consumer.team, []).append(
                    BrokenUsage(
                        consumer.consumer,
                        match.usage or EVERYTHING,
                        f"{match.finding.path}: {match.finding.message}",
                        everything=not match.usage,
                    )
                )
    return found


def team_rows(
    proposal: Proposal,
    breaks: Mapping[str, Sequence[BrokenUsage]] | None = None,
    slugs: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> list[TeamRow]:
    """Each team the proposal asks, with its standing (acknowledged by whom, migrating or
    waived until when, blocked and why) and any hold it placed, then each team it informs."""
    breaks = breaks or {}
    slugs = slugs or {}
    holds = active_holds(proposal)
    rows: list[TeamRow] = []
    for team in status(proposal, now).teams:
        ack, waiver = team.acknowledgement, team.waiver
        reason = until = actor = None
        if ack is not None:
            actor = ack.actor
            if ack.kind == "blocked":
                reason = ack.reason
            elif ack.target_date is not None:
                until = ack.target_date.date().isoformat()
        elif waiver is not None:
            actor, reason = waiver.actor, waiver.reason
            until = waiver.until.date().isoformat()
        hold = holds.get(team.team)
        rows.append(
            TeamRow(
                team.team,
                team.state,
                slugs.get(team.team),
                tuple(breaks.get(team.team, ())),
                actor,
                reason,
                until,
                hold.actor if hold is not None else None,
                hold.reason if hold is not None else None,
            )
        )
    for informed in sorted(set(proposal.informed) - set(proposal.required)):
        hold = holds.get(informed)
        rows.append(
            TeamRow(
                informed,
                "informed",
                slugs.get(informed),
                held_by=hold.actor if hold is not None else None,
                hold_reason=hold.reason if hold is not None else None,
            )
        )
    return rows


def waiting_on(proposal: Proposal, now: datetime | None = None) -> tuple[str, ...]:
    """Why the proposal is not approved, one line each (empty when nothing holds it)."""
    return status(proposal, now).waiting_on


def no_ack_reason(proposal: Proposal, impact: ImpactResult | None = None) -> str | None:
    """Why a breaking change needs nobody's acknowledgement (the impact's own reason), or None
    when it does need some, or breaks nothing."""
    if not proposal.breaking or proposal.required:
        return None
    if impact is not None and not impact.acknowledgement.required:
        return impact.acknowledgement.reason
    return NOBODY_DECLARED


def published_impact(session: Session, proposal: Proposal) -> ImpactResult | None:
    """The impact of a published proposal, judged again between the two published versions
    (the one it replaced and the one it published) with the registry as it is now; None when
    it published nothing or either version is not in the mirror."""
    from ..api.registry_engine import registry_for, versions_of

    if proposal.state != "published" or not proposal.current_version:
        return None
    known = {v.version: v for v in versions_of(session, proposal.contract_id)}
    old = known.get(proposal.current_version)
    new = known.get(proposal.published_version or "")
    if old is None or new is None:
        return None
    old_source, new_source = VersionSource(old), VersionSource(new)
    try:
        return impact(
            registry_for(session, proposal.contract_id),
            proposal.contract_id,
            old_source.root,
            new_source.root,
            current_version=old.version,
            source=new_source,
            old_source=old_source,
        )
    except (TesseraError, LookupError):
        return None
