"""Generated documentation: the rule reference (``tessera rules``, ``docs/rules.md``)."""

from __future__ import annotations

from .catalog import Catalog, Rule


def _severity_line(rule: Rule) -> str:
    if rule.severity:
        overrides = ", ".join(f"{p.value}: {s.value}" for p, s in rule.severity.items())
        return f"derived from the effect, except {overrides}"
    return "derived from the effect"


def rules_text(catalog: Catalog) -> str:
    lines = [f"Tessera rule catalog, version {catalog.version} ({len(catalog)} rules)", ""]
    for rule in catalog:
        effect = (
            rule.effect.value
            if rule.effect
            else "conditional (" + ", ".join(e.value for e in rule.effects) + ")"
        )
        lines.append(rule.id)
        lines.append(f"  {rule.summary}")
        lines.append(f"  effect: {effect}; severity: {_severity_line(rule)}")
        lines.append(f"  why: {rule.why}")
        lines.append("")
    return "\n".join(lines)


def rules_markdown(catalog: Catalog) -> str:
    lines = [f"# Rule reference ({len(catalog)} rules, catalog version {catalog.version})", ""]
    for rule in catalog:
        lines.append(f"## `{rule.id}`")
        lines.append("")
        lines.append(rule.summary)
        lines.append("")
        lines.append(f"- effect: {rule.effect.value if rule.effect else 'conditional'}")
        lines.append(f"- severity: {_severity_line(rule)}")
        lines.append("")
        lines.append(rule.why)
        lines.append("")
    return "\n".join(lines)
