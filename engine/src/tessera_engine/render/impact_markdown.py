"""An ``ImpactResult`` as Markdown for a proposal issue: the verdict, the version, whether
acknowledgement is required, then one table row per affected consumer, grouped by team: the
team, the consumer and its service, its declared range, what breaks for it with the element it
declared, and the chain for consumers reached through lineage.

User text is escaped (``render.markdown.escape``), so a path cannot break the table or mention
anyone. A row lists at most ``MAX_PER_ROW`` changes and the table at most ``MAX_ROWS`` rows,
keeping the issue well under GitHub's 65,536 characters.
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
from .markdown import escape

MAX_ROWS = 150
MAX_PER_ROW = 8
_HEADER = ["Team", "Consumer (service)", "Range", "What changes for them", "Through"]


def render_impact_markdown(result: ImpactResult) -> str:
    lines = [
        f"## Tessera impact: `{escape(result.contract)}`",
        "",
        f"**{escape(headline(result))}**",
        "",
        f"- {escape(version_line(result))}",
        f"- {escape(acknowledgement_line(result))}",
    ]
    if result.acknowledgement.teams:
        teams = ", ".join(escape(team) for team in result.acknowledgement.teams)
        lines.append(f"- teams that must acknowledge: {teams}")
    lines.append("")
    consumers = sorted(result.consumers, key=lambda c: (c.team, c.transitive, c.consumer))
    if consumers:
        lines += ["| " + " | ".join(_HEADER) + " |", "|" + "---|" * len(_HEADER)]
        lines += [_row(consumer, result) for consumer in consumers[:MAX_ROWS]]
        if len(consumers) > MAX_ROWS:
            lines += ["", f"…and {len(consumers) - MAX_ROWS} more consumers (see the JSON)."]
    else:
        lines.append("No declared consumer is affected.")
    if result.notes:
        lines += ["", *(f"> {escape(note)}" for note in result.notes)]
    return "\n".join(lines) + "\n"


def _row(consumer: AffectedConsumer, result: ImpactResult) -> str:
    who = f"{escape(consumer.consumer)} ({escape(consumer.service)})"
    if consumer.must_acknowledge:
        who += " — **must acknowledge**"
    changes = [
        f"{m.severity.value}: {escape(m.finding.path)} — {escape(m.finding.rule)}; "
        f"{escape(usage_phrase(m, consumer))}"
        for m in consumer.matches[:MAX_PER_ROW]
    ]
    if len(consumer.matches) > MAX_PER_ROW:
        changes.append(f"…and {len(consumer.matches) - MAX_PER_ROW} more")
    through = escape(chain_phrase(consumer, result.contract)) if consumer.chain else "direct"
    cells = [
        escape(consumer.team),
        who,
        escape(range_phrase(consumer, result.versions.proposed)),
        "<br>".join(changes),
        through,
    ]
    return "| " + " | ".join(cells) + " |"
