"""Impact analysis: which declared consumers a change to a registered contract concerns, and
whether they must acknowledge it.

    impact(registry, id, old, new)   diff with the contract's reviewed settings, then assess
    assess(registry, contract, diff) the matching alone (what ``bench/impact.py`` measures)

A consumer dependency with no ``uses`` is concerned by every breaking and dangerous finding;
one with ``uses`` by the findings whose element meets a declared entry (``impact_keys`` for
the keys per format, ``impact_index`` for how they meet). Breaking findings need the direct
consumers' acknowledgement unless the proposed version is a pre-release and the contract's
pre-release policy skips it; dangerous ones are listed only. Consumers reached through
``republishes`` are listed with their chain (``impact_lineage``) and are informed, not asked:
the republishing consumer acknowledges for its own pipeline, and a change it passes on to its
own contract goes through that contract's proposal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..documents import Source
from ..engine import DiffOptions, diff
from ..errors import UsageError
from ..model import DiffResult, Finding, Severity
from ..modes import Mode
from .impact_index import FindingIndex
from .impact_keys import NOT_A_CONSUMER_CHANGE, finding_keys, usage_keys
from .impact_lineage import transitive
from .impact_reach import Reacher, reacher
from .impact_result import (
    Acknowledgement,
    AffectedConsumer,
    ImpactResult,
    Link,
    Match,
    VersionInfo,
)
from .impact_versions import checked_versions, in_range, version_info
from .model import Consumer, Contract, Dependency, Registry, Usage

SELECT_STAR_RULES = frozenset({"schema.dbt-column.added"})
"""Safe changes that are dangerous for a consumer reading every column (``select *``): a
dependency with ``model.*`` in its ``columns``, or with no ``uses`` at all."""

USAGE_KINDS = ("operations", "fields", "messages", "columns")
EVERYTHING = "everything"


def impact(
    registry: Registry,
    contract_id: str,
    old: str | Sequence[str],
    new: str,
    *,
    current_version: str | None = None,
    proposed_version: str | None = None,
    source: Source | None = None,
    old_source: Source | None = None,
    root: str | None = None,
) -> ImpactResult:
    """Diff ``old`` and ``new`` as the registry says ``contract_id`` is compared, and assess
    (``root``: the folder files on disk are read under, as in ``engine.diff``)."""
    contract = contract_of(registry, contract_id)
    versioning = registry.versioning_of(contract)
    current, proposed = checked_versions(contract, versioning, current_version, proposed_version)
    options = diff_options(registry, contract, current, proposed)
    loaded: list[tuple[Sequence[Any], Any]] = []
    result = diff(
        old,
        new,
        options,
        source=source,
        old_source=old_source,
        loaded=lambda olds, version: loaded.append((olds, version)),
        root=root,
    )
    return assess(
        registry,
        contract,
        result,
        current_version=current_version,
        proposed_version=proposed,
        loaded=loaded[0] if loaded else None,
    )


def contract_of(registry: Registry, contract_id: str) -> Contract:
    contract = registry.contracts.get(contract_id)
    if contract is None:
        known = ", ".join(sorted(registry.contracts)[:10]) or "none"
        raise UsageError(f"no contract {contract_id!r} in the registry (known: {known})")
    return contract


def diff_options(
    registry: Registry, contract: Contract, current: str | None, proposed: str | None
) -> DiffOptions:
    """The diff settings of ``contract``, from the reviewed registry files only."""
    mode = registry.mode_of(contract)
    return DiffOptions(
        format=contract.format,
        mode=Mode.parse(mode) if mode else None,
        policy=contract.policy,
        proto_level=contract.proto_level,
        guarantees=registry.guarantee_policy_of(contract),
        current_version=current,
        proposed_version=proposed,
    )


def assess(
    registry: Registry,
    contract: Contract,
    result: DiffResult,
    *,
    current_version: str | None = None,
    proposed_version: str | None = None,
    loaded: tuple[Sequence[Any], Any] | None = None,
) -> ImpactResult:
    """The consumers ``result`` (a diff of ``contract``) concerns, and whether they must ack.
    ``loaded``: the versions the diff loaded (``engine.diff``'s ``loaded`` hook), to follow
    references from what consumers use to what changed; without it, names alone match."""
    policy = registry.prerelease_of(contract)
    versions = version_info(
        contract,
        registry.versioning_of(contract),
        policy,
        current_version,
        proposed_version,
        result.bump,
    )
    index = FindingIndex(result.findings, lambda f: finding_keys(result.format, f))
    depth = registry.settings.transitive_depth
    reach = reacher(result.format, result.mode, loaded, index, depth)
    direct: list[tuple[Consumer, Dependency, tuple[Match, ...]]] = []
    for consumer, dependency in registry.consumers_of(contract.id):
        matches = consumer_matches(result.format, dependency.uses, index, reach)
        if matches:
            direct.append((consumer, dependency, matches))
    skip = versions.prerelease and policy.skip_acknowledgement

    def affected(
        consumer: Consumer,
        dependency: Dependency,
        matches: tuple[Match, ...],
        chain: tuple[Link, ...],
    ) -> AffectedConsumer:
        breaking = any(m.needs_acknowledgement for m in matches)
        return AffectedConsumer(
            consumer=consumer.id,
            team=consumer.team,
            service=consumer.service,
            repo=consumer.repo,
            contract=dependency.contract,
            versions=dependency.versions,
            in_range=None if chain else in_range(dependency.versions, versions.proposed),
            matches=matches,
            chain=chain,
            must_acknowledge=breaking and not chain and not skip,
            location=dependency.location or consumer.location,
        )

    consumers = [affected(c, d, m, ()) for c, d, m in direct]
    carried = [(c, d, m) for c, d, m in direct if _carries(m)]
    consumers += transitive(registry, contract.id, carried, affected)
    acknowledgement = _acknowledgement(consumers, result, versions, skip)
    return ImpactResult(
        contract=contract.id,
        owner=contract.owner,
        diff=result,
        versions=versions,
        consumers=tuple(consumers),
        acknowledgement=acknowledgement,
        notes=_notes(result, consumers, versions.origin),
    )


def consumer_matches(
    format_name: str, usage: Usage, index: FindingIndex, reach: Reacher | None = None
) -> tuple[Match, ...]:
    """The findings that concern one dependency's declared ``usage``, in finding order: those
    its entries meet by name, then (``reach``) those inside the elements they reach."""
    findings = index.findings
    if usage.everything:
        return tuple(
            Match(f, EVERYTHING, "", EVERYTHING, severity)
            for f in findings
            if f.rule not in NOT_A_CONSUMER_CHANGE
            and (severity := _severity(f, select_star=True)) >= Severity.DANGEROUS
        )
    found: dict[int, Match] = {}
    for kind in USAGE_KINDS:
        for entry in getattr(usage, kind):
            star = kind == "columns" and entry.strip().endswith(".*")
            for key in usage_keys(format_name, kind, entry):
                for hit in index.lookup(key):
                    if hit.finding in found:
                        continue
                    finding = findings[hit.finding]
                    severity = _severity(finding, select_star=star)
                    if severity >= Severity.DANGEROUS:
                        found[hit.finding] = Match(finding, kind, entry, hit.relation, severity)
    if reach is not None:
        for kind in USAGE_KINDS:
            for entry in getattr(usage, kind):
                for through in reach.hits(kind, entry):
                    if through.finding in found:
                        continue
                    finding = findings[through.finding]
                    if finding.severity >= Severity.DANGEROUS:
                        found[through.finding] = Match(
                            finding, kind, entry, through.relation, finding.severity, through.via
                        )
    return tuple(found[number] for number in sorted(found))


def _severity(finding: Finding, *, select_star: bool) -> Severity:
    if select_star and finding.rule in SELECT_STAR_RULES:
        return max(finding.severity, Severity.DANGEROUS)
    return finding.severity


def _carries(matches: tuple[Match, ...]) -> bool:
    return any(m.needs_acknowledgement for m in matches)


def _acknowledgement(
    consumers: list[AffectedConsumer], result: DiffResult, versions: VersionInfo, skip: bool
) -> Acknowledgement:
    breaking = [c for c in consumers if not c.transitive and c.breaking_use]
    teams = tuple(dict.fromkeys(c.team for c in breaking))
    if not result.breaking:
        return Acknowledgement(False, "no breaking changes")
    if not breaking:
        return Acknowledgement(
            False, "breaking changes, but no declared consumer uses what they change"
        )
    if skip:
        return Acknowledgement(
            False,
            f"{versions.proposed} is a pre-release and the contract's pre-release policy skips "
            f"acknowledgement (prerelease.skip_acknowledgement); {len(teams)} team(s) are "
            "informed",
        )
    reason = f"breaking changes affect {len(breaking)} consumer(s) of {len(teams)} team(s)"
    if versions.prerelease:
        reason += (
            f"; {versions.proposed} is a pre-release, which still needs acknowledgement (the "
            "pre-release policy does not set skip_acknowledgement)"
        )
    return Acknowledgement(True, reason, teams)


def _notes(result: DiffResult, consumers: list[AffectedConsumer], origin: str) -> tuple[str, ...]:
    notes: list[str] = []
    if result.breaking and not consumers:
        notes.append("breaking changes with no affected consumers: publishing needs no ack")
    if origin.startswith("unknown"):
        notes.append(f"proposed version {origin}; version ranges are not judged")
    outside = [c.consumer for c in consumers if c.in_range is False]
    if outside:
        notes.append(
            f"the proposed version is outside the declared range of {len(outside)} "
            "consumer(s): they keep the old version until they move their range"
        )
    return tuple(notes)
