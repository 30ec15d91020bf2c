"""A change judged with the producer's version, by the contract's versioning policy.

    judge_change(session, contract_id, spec, found, ask)    -> VersionedImpact
    summary_of(judged)                                      -> ImpactSummary (for proposals)

What the policy does with the producer's version (``found``: the version and where it was
given, or the reports about values that cannot be used):

    auto     never used: the registry picks the next version the findings need
    suggest  used when it is a semantic version the contract allows and big enough for the
             findings; otherwise the check shows the suggestion (the next version the findings
             need) and says why the producer's was not used. Never a failure.
    enforce  used, and checked by the engine: a version whose bump is smaller than the
             findings require is the breaking finding ``lifecycle.version.bump-insufficient``
             and the check fails, saying which version is needed and what to write (``ask``);
             no version, or one that cannot be used, fails the same way.

A pre-release (``3.0.0-rc.1``) is refused when the contract's ``prerelease.allowed`` is false;
when its ``prerelease.skip_acknowledgement`` is true the engine asks no team, and a note says
why. The notes also say which version merging publishes now (``workflow_versions``): the one
the check shows, or the smallest one the findings allow when that cannot be published.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from tessera_engine.model import Bump, DiffResult, Severity
from tessera_engine.registry.impact import assess
from tessera_engine.registry.impact_keys import NOT_A_CONSUMER_CHANGE
from tessera_engine.registry.impact_result import ImpactResult
from tessera_engine.semver import next_version, parse

from .api.registry_engine import Judging, ProposedSpec, judging, proposed_diff
from .workflow_state import ImpactSummary
from .workflow_versions import PRODUCER_GIVEN, latest_version, version_to_publish

NEEDS = {
    Bump.MAJOR: "breaking changes need",
    Bump.MINOR: "additions and dangerous changes need",
    Bump.PATCH: "these changes need",
    Bump.NONE: "the new version needs to be",
}
"""How a failure names what the findings require, per bump."""


@dataclass(frozen=True, slots=True)
class ProducerVersion:
    """A semantic version the producer gave for a change (normalized), and where."""

    version: str
    where: str  # "info.version in api/openapi.yaml:3", "`/tessera version` by @alice", ...
    source: str = ""  # spec | command | title


@dataclass(frozen=True, slots=True)
class Found:
    """What the producer gave: the version to use (None: none usable) and reports about values
    that were not used (not a semantic version, no authority, overridden)."""

    version: ProducerVersion | None = None
    reports: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VersionedImpact:
    """The judgement of one change with its version. ``impact`` is None when the contract has
    no published version yet (the first version publishes as it is)."""

    contract: str
    versioning: str
    impact: ImpactResult | None
    used: ProducerVersion | None  # the producer's version, when it is the one judged
    failure: str | None  # why the version fails the check (enforce), else None
    notes: tuple[str, ...]  # what the check says about the version
    publishes: str  # the version merging publishes now


Ask = Callable[[str], str]
"""How to tell the producer to give a version (``ask("3.0.0")`` -> "write 3.0.0 in ...")."""


def judge_change(
    session: Session,
    contract_id: str,
    spec: ProposedSpec,
    found: Found,
    ask: Ask,
) -> VersionedImpact:
    """Diff and assess ``spec`` with the producer's version as the contract's policy says.
    Raises what ``impact_of`` raises on a spec that does not load (``InputError``,
    ``TesseraError``)."""
    from .api.registry_engine import NothingToCompare, registry_for

    try:
        judged = judging(session, contract_id)
    except NothingToCompare:
        registry = registry_for(session, contract_id)
        contract = registry.contracts[contract_id]
        return _first(
            session,
            contract_id,
            registry.versioning_of(contract),
            registry.prerelease_of(contract).allowed,
            found,
            ask,
        )
    return _judged(session, judged, spec, found, ask)


def _judged(
    session: Session, judged: Judging, spec: ProposedSpec, found: Found, ask: Ask
) -> VersionedImpact:
    registry, contract = judged.registry, judged.contract
    versioning = registry.versioning_of(contract)
    current = judged.active.version
    notes = list(found.reports) if versioning != "auto" else []
    given = found.version if versioning != "auto" else None
    refused = _refused(given, registry.prerelease_of(contract).allowed, contract.id)
    if refused is not None:
        notes.append(refused)
        given = None
    result, loaded = proposed_diff(judged, spec, given.version if given else None)
    failure: str | None = None
    used = given
    check = result.version_check
    if given is not None and check is not None and not check.ok:
        needed = next_version(current, result.bump)
        too_small = f"{NEEDS[result.bump]} {needed} or later; {given.where} says {given.version}"
        if versioning == "enforce":
            failure = f"{too_small}: {ask(needed)}"
        else:  # suggest: the suggestion instead, and the check says why
            notes.append(f"{too_small}: Tessera suggests {needed} (versioning: suggest)")
            result, used = _without_version_check(result), None
    proposed = used.version if used is not None else None
    impact = assess(
        registry,
        contract,
        result,
        current_version=current,
        proposed_version=proposed,
        loaded=loaded,
    )
    if versioning == "enforce" and used is None and failure is None:
        failure = _missing(result.bump, current, notes, ask)
    if impact.versions.prerelease:
        notes.append(impact.acknowledgement.reason)
    publishes, why = version_to_publish(
        contract.id,
        result.bump,
        current,
        impact.versions.proposed,
        latest_version(session, contract.id),
    )
    notes.append(f"merging publishes {contract.id} {publishes}" + (f": {why}" if why else ""))
    return VersionedImpact(contract.id, versioning, impact, used, failure, tuple(notes), publishes)


def _first(
    session: Session,
    contract_id: str,
    versioning: str,
    prerelease_allowed: bool,
    found: Found,
    ask: Ask,
) -> VersionedImpact:
    """Nothing published yet: the producer's version (or ``1.0.0``) is the first version."""
    notes = list(found.reports) if versioning != "auto" else []
    given = found.version if versioning != "auto" else None
    refused = _refused(given, prerelease_allowed, contract_id)
    if refused is not None:
        notes.append(refused)
        given = None
    failure = None
    if versioning == "enforce" and given is None:
        failure = _missing(Bump.NONE, None, notes, ask)
    publishes, why = version_to_publish(
        contract_id,
        Bump.NONE,
        None,
        given.version if given else None,
        latest_version(session, contract_id),
    )
    notes.append(f"merging publishes {contract_id} {publishes}" + (f": {why}" if why else ""))
    return VersionedImpact(contract_id, versioning, None, given, failure, tuple(notes), publishes)


def _refused(given: ProducerVersion | None, prerelease_allowed: bool, contract: str) -> str | None:
    if given is None or prerelease_allowed or not parse(given.version).prerelease:
        return None
    return (
        f"{contract} does not allow pre-release versions (prerelease.allowed is false), so "
        f"{given.version} ({given.where}) is not used"
    )


def _missing(bump: Bump, current: str | None, reports: Sequence[str], ask: Ask) -> str:
    needed = next_version(current, bump) if current is not None else "1.0.0"
    if current is not None and bump is Bump.NONE:
        needed = next_version(current, Bump.PATCH)
    why = "no usable version is given" if reports else "no version is given"
    return f"versioning is enforce and {why}: {ask(needed)}"


def _without_version_check(result: DiffResult) -> DiffResult:
    """The diff without the producer's version and the finding it made (suggest: the
    suggestion is judged instead)."""
    findings = tuple(f for f in result.findings if f.rule not in NOT_A_CONSUMER_CHANGE)
    return replace(result, findings=findings, version_check=None)


def summary_of(judged: VersionedImpact) -> ImpactSummary:
    """What the proposal records of the judgement: the breaking findings consumers can meet (a
    too-small version fails the check, it asks no team), and where the version came from. A
    first version (nothing to compare with) breaks nothing and carries the producer's version."""
    origin = f"{PRODUCER_GIVEN}: {judged.used.where}" if judged.used is not None else ""
    if judged.impact is None:
        return ImpactSummary(
            contract=judged.contract,
            required={},
            breaking=frozenset(),
            versioning=judged.versioning,
            proposed_version=judged.used.version if judged.used is not None else None,
            version_origin=origin or "the first version",
        )
    summary = ImpactSummary.from_impact(judged.impact)
    breaking = frozenset(
        f.fingerprint
        for f in judged.impact.diff.findings
        if f.severity is Severity.BREAKING and f.rule not in NOT_A_CONSUMER_CHANGE
    )
    return replace(summary, breaking=breaking, version_origin=origin or summary.version_origin)


def consumer_breaking(judged: VersionedImpact) -> bool:
    """A breaking finding a consumer can meet (not the producer's version bookkeeping)."""
    return bool(summary_of(judged).breaking)
