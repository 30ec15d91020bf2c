"""The pipeline: load both versions, compare them with the format's adapter, classify.

    load (documents) -> adapter.compare (diff + checks) -> collect (findings) -> severities
    (modes) -> semver

``diff`` is the one entry point the CLI, the GitHub App and tests use.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from . import semver
from .catalog import load_catalog
from .checks import SCHEMA_CHECKS
from .diff.collect import collect
from .diff.core import Differ
from .documents import FileSource, Source
from .documents.refs import Workspace
from .errors import LimitError, UsageError
from .fingerprint import fingerprint
from .formats import Adapter, detect, get_adapter
from .model import Bump, DiffResult, Effect, Finding, Position, Severity
from .modes import Mode, bump, effective_position

RECURSION_LIMIT = 20_000


@dataclass(frozen=True)
class DiffOptions:
    format: str | None = None
    mode: Mode | None = None
    policy: str | None = None  # "strict" | "lenient"
    fail_on: Severity = Severity.BREAKING
    current_version: str | None = None
    proposed_version: str | None = None
    today: date | None = None  # the date sunset dates are judged against (default: today)


def diff(
    old: str | Sequence[str],
    new: str,
    options: DiffOptions | None = None,
    *,
    source: Source | None = None,
    old_source: Source | None = None,
) -> DiffResult:
    """Compare ``new`` against ``old`` (one path, or several older versions, oldest first)."""
    options = options or DiffOptions()
    olds = [old] if isinstance(old, str) else list(old)
    if not olds:
        raise UsageError("give at least one older version to compare against")
    source = source or FileSource()
    old_source = old_source or source
    # Parse first, under the caller's recursion limit: the C JSON decoder's nesting limit
    # follows it, so a document nested thousands of levels deep is refused here.
    new_ws = Workspace(source, new)
    old_wss = [Workspace(old_source, path) for path in olds]
    return diff_workspaces(old_wss, new_ws, options)


def diff_workspaces(olds: Sequence[Workspace], new: Workspace, options: DiffOptions) -> DiffResult:
    # Comparing nests a few frames per schema level (MAX_DEPTH bounds the levels). The limit
    # is restored afterwards: the JSON decoder's nesting limit follows it, and a long-running
    # process must keep refusing documents nested thousands of levels deep.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
    try:
        return _diff_workspaces(olds, new, options)
    finally:
        sys.setrecursionlimit(limit)


def _diff_workspaces(olds: Sequence[Workspace], new: Workspace, options: DiffOptions) -> DiffResult:
    adapter = _adapter(options.format, new, olds)
    mode = options.mode or adapter.default_mode
    policy = options.policy or adapter.default_policy
    if policy not in ("strict", "lenient"):
        raise UsageError(f"unknown policy {policy!r} (choose strict or lenient)")
    against = list(olds) if mode.transitive else [olds[-1]]
    findings: list[Finding] = []
    seen: set[str] = set()
    for old in reversed(against):  # newest first, as Confluent checks transitive modes
        label = old.root.name if len(against) > 1 else None
        for finding in _compare(adapter, old, new, mode, policy == "strict", options.today):
            if finding.fingerprint in seen:
                continue
            seen.add(finding.fingerprint)
            findings.append(replace(finding, against=label) if label else finding)
    findings = _promote(findings, options.fail_on)
    catalog = load_catalog()
    required = Bump.highest([bump(catalog[f.rule], f.severity) for f in findings])
    version_check = None
    if options.current_version and options.proposed_version:
        version_check = semver.check(options.current_version, options.proposed_version, required)
        if not version_check.ok:
            findings.append(_version_finding(new, version_check.reason, version_check.to_dict()))
    elif options.current_version or options.proposed_version:
        raise UsageError("--current-version and --proposed-version go together")
    findings.sort(key=_order)
    return DiffResult(
        format=adapter.name,
        mode=mode.value,
        policy=policy,
        old=tuple(o.root.name for o in olds),
        new=new.root.name,
        findings=tuple(findings),
        bump=required,
        version_check=version_check,
    )


def _adapter(name: str | None, new: Workspace, olds: Sequence[Workspace]) -> Adapter:
    adapter = get_adapter(name) if name else detect(new)
    for ws in (*olds, new):
        adapter.validate(ws)
    new.check_refs()  # the version being published must not hold a dangling $ref
    return adapter


def _compare(
    adapter: Adapter,
    old: Workspace,
    new: Workspace,
    mode: Mode,
    strict: bool,
    today: date | None,
) -> list[Finding]:
    differ = Differ(old, new, replace(adapter.options(strict), today=today), SCHEMA_CHECKS)
    subject_position = effective_position(mode, Position.INPUT)
    try:
        adapter.compare(differ, old, new, subject_position)
    except RecursionError:
        raise LimitError(
            "the documents are nested too deeply to compare", file=new.root.name
        ) from None
    return collect(differ, load_catalog(), mode)


def _promote(findings: list[Finding], fail_on: Severity) -> list[Finding]:
    if fail_on is not Severity.DANGEROUS:
        return findings
    return [
        replace(f, severity=Severity.BREAKING, promoted_from=Severity.DANGEROUS)
        if f.severity is Severity.DANGEROUS
        else f
        for f in findings
    ]


def _version_finding(new: Workspace, reason: str, args: dict[str, object]) -> Finding:
    rule = load_catalog()["lifecycle.version.bump-insufficient"]
    data = new.root.data
    pointer = "/info/version" if isinstance(data, dict) and "info" in data else ""
    return Finding(
        rule=rule.id,
        severity=Severity.BREAKING,
        position=Position.NONE,
        effect=Effect.REPLACE,
        path="version",
        pointer=pointer,
        location=new.root.locate(pointer),
        message=rule.render({"reason": reason}),
        fingerprint=fingerprint(rule.id, "version", args),
        args={"reason": reason, **args},
    )


def _order(finding: Finding) -> tuple[int, str, int, str]:
    loc = finding.location
    return (-finding.severity.rank, loc.file if loc else "", loc.line if loc else 0, finding.rule)
