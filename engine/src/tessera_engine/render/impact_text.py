"""An ``ImpactResult`` for a terminal:

orders-api (owner orders): breaking — 2 breaking; requires a major bump
version 1.4.0 → 2.0.0: the next major version (auto)
acknowledgement required: breaking changes affect 1 consumer(s) of 1 team(s)

checkout (team payments, service checkout-api) · range ^1 (2.0.0 outside) · must acknowledge
  BREAKING   GET /orders/{id} → 200 → body.email (schema.property.removed)
             uses fields Order.email (exact)
"""

from __future__ import annotations

from ..registry.impact_result import AffectedConsumer, ImpactResult
from .impact import (
    acknowledgement_line,
    chain_phrase,
    headline,
    range_phrase,
    usage_phrase,
    version_line,
)
from .text import one_line

_WIDTH = len("DANGEROUS") + 1


def render_impact_text(result: ImpactResult) -> str:
    lines = [one_line(headline(result)), one_line(version_line(result))]
    lines.append(one_line(acknowledgement_line(result)))
    direct, transitive = result.direct, result.transitive
    if direct:
        lines += ["", "affected consumers:"]
        for consumer in direct:
            lines += _consumer_lines(consumer, result)
    if transitive:
        lines += ["", "affected through declared lineage (informed, no acknowledgement):"]
        for consumer in transitive:
            lines += _consumer_lines(consumer, result)
    if not result.consumers:
        lines += ["", "no declared consumer is affected"]
    if result.notes:
        lines += ["", *(f"note: {one_line(note)}" for note in result.notes)]
    return "\n".join(lines) + "\n"


def _consumer_lines(consumer: AffectedConsumer, result: ImpactResult) -> list[str]:
    head = [
        f"{consumer.consumer} (team {consumer.team}, service {consumer.service})",
        f"range {range_phrase(consumer, result.versions.proposed)}",
    ]
    if consumer.must_acknowledge:
        head.append("must acknowledge")
    lines = ["", "  " + one_line(" · ".join(head))]
    if consumer.chain:
        lines.append("  via " + one_line(chain_phrase(consumer, result.contract)))
    for match in consumer.matches:
        word = match.severity.value.upper().ljust(_WIDTH)
        finding = match.finding
        lines.append(f"    {word}{one_line(finding.path)} ({finding.rule})")
        lines.append(f"    {' ' * _WIDTH}{one_line(usage_phrase(match, consumer))}")
    return lines
