"""Renderers for an ``ImpactResult``: text for a terminal, JSON, and Markdown for a proposal
issue. The wording they share (the headline, the version line, how a match is named) is here."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import UsageError
from ..registry.impact_result import AffectedConsumer, ImpactResult, Match
from .summary import bump_phrase, counts_phrase

IMPACT_OUTPUTS = ("text", "json", "markdown")


def render_impact(result: ImpactResult, output: str) -> str:
    return _renderer(output)(result)


def _renderer(output: str) -> Callable[[ImpactResult], str]:
    if output == "text":
        from .impact_text import render_impact_text

        return render_impact_text
    if output == "json":
        from .impact_json import render_impact_json

        return render_impact_json
    if output == "markdown":
        from .impact_markdown import render_impact_markdown

        return render_impact_markdown
    raise UsageError(f"unknown output {output!r} (choose from {', '.join(IMPACT_OUTPUTS)})")


def headline(result: ImpactResult) -> str:
    """``orders-api (owner payments): breaking — 2 breaking, 1 safe; requires a major bump``."""
    diff = result.diff
    return (
        f"{result.contract} (owner {result.owner}): {diff.verdict} — "
        f"{counts_phrase(diff)}; {bump_phrase(diff.bump)}"
    )


def version_line(result: ImpactResult) -> str:
    versions = result.versions
    current = versions.current or "unpublished"
    proposed = versions.proposed or "?"
    tail = " (pre-release)" if versions.prerelease else ""
    return f"version {current} → {proposed}{tail}: {versions.origin}"


def acknowledgement_line(result: ImpactResult) -> str:
    ack = result.acknowledgement
    word = "required" if ack.required else "not required"
    return f"acknowledgement {word}: {ack.reason}"


def range_phrase(consumer: AffectedConsumer, proposed: str | None) -> str:
    if consumer.chain:  # a range on the contract it reads, not on this one
        return f"{consumer.versions} of {consumer.contract}"
    if consumer.in_range is None:
        return consumer.versions
    where = "inside" if consumer.in_range else "outside"
    return f"{consumer.versions} ({proposed} {where})"


def usage_phrase(match: Match, consumer: AffectedConsumer) -> str:
    """How the consumer met the change: ``uses fields Order.email (exact)``, ``uses operations
    Query.order (reaches: Query.order -> Order.email)``; for a consumer reached through
    lineage, how the first republisher did: ``etl uses ...``."""
    who = f"{consumer.chain[0].consumer} uses" if consumer.chain else "uses"
    if match.kind == "everything":
        return f"{who} everything (no uses declared)"
    if match.via:
        return f"{who} {match.kind} {match.usage} ({match.relation}: {' -> '.join(match.via)})"
    return f"{who} {match.kind} {match.usage} ({match.relation})"


def chain_phrase(consumer: AffectedConsumer, contract: str) -> str:
    """``orders-api → checkout (payments) → payment-events``."""
    steps = [contract]
    for link in consumer.chain:
        steps += [f"{link.consumer} ({link.team})", link.contract]
    return " → ".join(steps)
