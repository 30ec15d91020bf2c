"""How every renderer words a result: findings grouped by severity, the counts, the bump and
the version check, so the text, Markdown and GitHub outputs say the same thing."""

from __future__ import annotations

from collections.abc import Iterable

from ..model import Bump, DiffResult, Finding, Severity, VersionCheck

SEVERITIES_MOST_SEVERE_FIRST = tuple(sorted(Severity, reverse=True))


def grouped_by_severity(findings: Iterable[Finding]) -> list[list[Finding]]:
    """The non-empty groups of ``findings`` with one severity, most severe first, each in the
    order given."""
    groups: dict[Severity, list[Finding]] = {s: [] for s in SEVERITIES_MOST_SEVERE_FIRST}
    for finding in findings:
        groups[finding.severity].append(finding)
    return [group for group in groups.values() if group]


def summary_parts(result: DiffResult) -> list[str]:
    """What the summary says after the verdict: counts, the required bump, the version check."""
    parts = [counts_phrase(result), bump_phrase(result.bump)]
    if result.version_check:
        parts.append(version_check_phrase(result.version_check))
    return parts


def counts_phrase(result: DiffResult) -> str:
    """``2 breaking, 1 safe, 3 annotations`` (zero counts left out), or ``no changes found``."""
    counts = result.counts()
    phrases = [
        count_phrase(counts[severity.value], severity) for severity in SEVERITIES_MOST_SEVERE_FIRST
    ]
    return ", ".join(p for p in phrases if p) or "no changes found"


def count_phrase(count: int, severity: Severity) -> str:
    """``3 breaking`` or ``2 annotations``; empty for a count of zero."""
    if count == 0:
        return ""
    plural = "s" if severity is Severity.ANNOTATION and count != 1 else ""
    return f"{count} {severity.value}{plural}"


def bump_phrase(bump: Bump) -> str:
    if bump is Bump.NONE:
        return "requires no version bump"
    return f"requires a {bump.value} bump"


def version_check_phrase(check: VersionCheck) -> str:
    outcome = "ok" if check.ok else "insufficient"
    return f"version {check.current} → {check.proposed} {outcome}"
