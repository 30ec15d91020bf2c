"""The engine over the mirror: diff, pre-publish check and impact without the registry checkout.

The mirror rows are turned back into the engine's values (``Contract``, ``Consumer``,
``PublishedVersion``, a ``Registry`` holding only what one contract's impact can reach), and
published files are read through ``VersionSource``, so the API judges a change exactly as
``tessera diff`` and ``tessera impact`` would on the registry itself.

Every function here reads only; errors are the engine's (``InputError``: one line naming
file:line:col; ``UsageError``), for the router to answer as 422.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tessera_engine import diff
from tessera_engine.documents import Document
from tessera_engine.documents.loader import load_document
from tessera_engine.documents.refs import Workspace
from tessera_engine.engine import diff_workspaces
from tessera_engine.formats.native import NATIVE_NAMES
from tessera_engine.model import DiffResult
from tessera_engine.registry import model as engine
from tessera_engine.registry.impact import assess, diff_options
from tessera_engine.registry.impact_result import ImpactResult
from tessera_engine.registry.impact_versions import checked_versions
from tessera_engine.registry.ranges import parse_version
from tessera_engine.registry.versions import VersionSource, active
from tessera_engine.semver import next_version

from ..db.registry_models import (
    Consumer,
    Contract,
    ContractVersion,
    Dependency,
    RegistrySettings,
    Team,
)
from ..mirror import USAGE_KINDS, published_version

PROPOSED = "proposed"  # the version label of a proposed spec in error messages


class NothingToCompare(LookupError):
    """The contract has no published version to judge a change against."""


def settings_of(row: RegistrySettings | None) -> engine.Settings:
    if row is None:  # never resynced: the engine's defaults
        return engine.Settings()
    return engine.Settings(
        rules_version=row.rules_version,
        mode=row.mode,
        versioning=row.versioning,
        prerelease=engine.PrereleasePolicy(
            row.prerelease_allowed, row.prerelease_skip_acknowledgement
        ),
        guarantees=row.guarantee_policy,
        transitive_depth=row.transitive_depth,
    )


def contract_of(row: Contract) -> engine.Contract:
    prerelease = None
    if row.prerelease_allowed is not None or row.prerelease_skip_acknowledgement is not None:
        prerelease = engine.PrereleasePolicy(
            bool(row.prerelease_allowed if row.prerelease_allowed is not None else True),
            bool(row.prerelease_skip_acknowledgement),
        )
    return engine.Contract(
        id=row.id,
        owner=row.owner_id,
        format=row.format,
        source=engine.ContractSource(row.source_repo, tuple(row.source_paths), row.source_branch),
        mode=row.mode,
        versioning=row.versioning,
        prerelease=prerelease,
        proto_level=row.proto_level,
        policy=row.policy,
        guarantee_policy=row.guarantee_policy,
        guarantees=tuple(
            engine.Guarantee(g["kind"], g.get("element", ""), MappingProxyType(g.get("args", {})))
            for g in row.guarantees
        ),
        tags=tuple(row.tags),
        annotations=MappingProxyType({k: tuple(v) for k, v in row.annotations.items()}),
        description=row.description,
    )


def dependency_of(row: Dependency) -> engine.Dependency:
    uses = engine.Usage(**{kind: tuple(row.uses.get(kind, ())) for kind in USAGE_KINDS})
    return engine.Dependency(
        contract=row.contract_id,
        versions=row.versions,
        uses=uses,
        republishes=tuple(row.republishes),
    )


def registry_for(session: Session, contract_id: str) -> engine.Registry:
    """A ``Registry`` with what the impact of a change to ``contract_id`` can reach: the
    contract, its consumers, and those of the contracts they republish into, up to the
    registry's transitive depth."""
    settings = settings_of(session.get(RegistrySettings, 1))
    contract_ids = {contract_id}
    frontier = {contract_id}
    found: list[tuple[Dependency, Consumer]] = []
    for _ in range(settings.transitive_depth + 1):
        rows = session.execute(
            select(Dependency, Consumer)
            .join(Consumer, Consumer.id == Dependency.consumer_id)
            .where(Dependency.contract_id.in_(sorted(frontier)))
        )
        following: set[str] = set()
        for dependency, consumer in rows:
            found.append((dependency, consumer))
            following.update(set(dependency.republishes) - contract_ids)
        contract_ids |= following
        frontier = following
        if not frontier:
            break
    contracts = {
        row.id: contract_of(row)
        for row in session.scalars(select(Contract).where(Contract.id.in_(sorted(contract_ids))))
    }
    owners = {c.owner for c in contracts.values()} | {consumer.team_id for _, consumer in found}
    teams = {
        row.id: engine.Team(row.id, row.github_team, row.name, tuple(row.maintainers))
        for row in session.scalars(select(Team).where(Team.id.in_(sorted(owners))))
    }
    by_consumer: dict[str, tuple[Consumer, list[Dependency]]] = {}
    for dependency, consumer in found:
        by_consumer.setdefault(consumer.id, (consumer, []))[1].append(dependency)
    consumers = {}
    for cid in sorted(by_consumer):
        consumer, dependencies = by_consumer[cid]
        dependencies.sort(key=lambda d: d.position)
        consumers[cid] = engine.Consumer(
            id=consumer.id,
            team=consumer.team_id,
            service=consumer.service,
            repo=consumer.repo,
            dependencies=tuple(dependency_of(d) for d in dependencies),
        )
    return engine.Registry(".", settings, teams, contracts, consumers)


def versions_of(session: Session, contract_id: str) -> list[engine.PublishedVersion]:
    """The published versions of ``contract_id``, lowest to highest precedence."""
    rows = session.scalars(
        select(ContractVersion).where(ContractVersion.contract_id == contract_id)
    )
    return sorted((published_version(row) for row in rows), key=lambda p: parse_version(p.version))


def active_of(
    session: Session, registry: engine.Registry, contract: engine.Contract
) -> engine.PublishedVersion:
    found = active(versions_of(session, contract.id), registry.prerelease_of(contract))
    if found is None:
        raise NothingToCompare(
            f"{contract.id} has no published version yet: there is nothing to compare against"
        )
    return found


def proposed_source(contract: engine.Contract, files: Mapping[str, str]) -> VersionSource:
    """A proposed spec (path -> text) as a source, labelled ``<contract>@proposed``."""
    return VersionSource(
        engine.PublishedVersion(
            contract=contract.id,
            version=PROPOSED,
            format=contract.format,
            repo=contract.source.repo,
            paths=tuple(sorted(files)),
            commit="",
            published_at="",
            files=MappingProxyType(dict(files)),
        )
    )


def diff_versions(
    registry: engine.Registry,
    contract: engine.Contract,
    old: engine.PublishedVersion,
    new: engine.PublishedVersion,
) -> DiffResult:
    """The engine's diff between two published versions, with the contract's settings."""
    old_source, new_source = VersionSource(old), VersionSource(new)
    options = diff_options(registry, contract, None, None)
    return diff(old_source.root, new_source.root, options, source=new_source, old_source=old_source)


@dataclass(frozen=True)
class Check:
    """The pre-publish check: the diff against the active version, and the version it needs."""

    against: str
    result: DiffResult
    next_version: str


def check(
    session: Session, contract_id: str, files: Mapping[str, str], proposed_version: str | None
) -> Check:
    return check_of(judging(session, contract_id), files, proposed_version)


def check_of(judged: Judging, files: Mapping[str, str], proposed_version: str | None) -> Check:
    """The pre-publish check of ``files`` against the active version (reads no database)."""
    contract, old = judged.contract, judged.active
    current, proposed = checked_versions(
        contract, judged.registry.versioning_of(contract), old.version, proposed_version
    )
    old_source, new_source = VersionSource(old), proposed_source(contract, files)
    options = diff_options(judged.registry, contract, current, proposed)
    result = diff(
        old_source.root, new_source.root, options, source=new_source, old_source=old_source
    )
    return Check(old.version, result, next_version(old.version, result.bump))


class ProposedSpec:
    """A proposed spec (repository path -> text) as the engine reads it, labelled
    ``<contract>@proposed``: each file is loaded (size and nesting limits) and parsed at most
    once, by whoever asks first (the version it declares, then the diff)."""

    def __init__(self, contract: engine.Contract, files: Mapping[str, str]) -> None:
        self.files: Mapping[str, str] = MappingProxyType(dict(files))
        self.source = proposed_source(contract, files)
        self._documents: dict[str, Document] = {}

    def document(self, path: str) -> Document:
        found = self._documents.get(path)
        if found is None:
            found = self._documents[path] = load_document(self.source, path)
        return found


@dataclass(frozen=True)
class Judging:
    """One contract ready to judge a proposed spec: what its impact can reach in the mirror,
    and its active version (what the proposal is compared with)."""

    registry: engine.Registry
    contract: engine.Contract
    active: engine.PublishedVersion


def judging(session: Session, contract_id: str) -> Judging:
    """The contract as the mirror has it, with its active version (``NothingToCompare`` when
    nothing is published yet)."""
    registry = registry_for(session, contract_id)
    contract = registry.contracts[contract_id]
    return Judging(registry, contract, active_of(session, registry, contract))


Loaded = tuple[Sequence[Any], Any]
"""The versions a diff loaded (the olds, the new one), for ``assess`` to follow references."""


def proposed_diff(
    judged: Judging, spec: ProposedSpec, proposed_version: str | None
) -> tuple[DiffResult, Loaded | None]:
    """The engine's diff of ``spec`` against the active version, with the contract's settings
    and ``proposed_version`` checked against the bump the findings require (as ``tessera
    impact`` does); also the loaded versions. A JSON-document spec's root is the document
    ``spec`` already parsed."""
    contract, old = judged.contract, judged.active
    current, proposed = checked_versions(
        contract, judged.registry.versioning_of(contract), old.version, proposed_version
    )
    old_source = VersionSource(old)
    options = diff_options(judged.registry, contract, current, proposed)
    if contract.format in NATIVE_NAMES:
        loaded: list[Loaded] = []
        result = diff(
            old_source.root,
            spec.source.root,
            options,
            source=spec.source,
            old_source=old_source,
            loaded=lambda olds, version: loaded.append((olds, version)),
        )
        return result, (loaded[0] if loaded else None)
    new = Workspace.of(spec.source, spec.document(spec.source.root))
    olds = [Workspace(old_source, old_source.root)]
    return diff_workspaces(olds, new, options), (olds, new)


def impact_of(
    session: Session, contract_id: str, files: Mapping[str, str], proposed_version: str | None
) -> ImpactResult:
    """The impact of ``files`` as ``tessera impact`` judges it, with ``proposed_version`` as
    given (refused when the contract is versioned ``auto``)."""
    return impact_of_judged(judging(session, contract_id), files, proposed_version)


def impact_of_judged(
    judged: Judging, files: Mapping[str, str], proposed_version: str | None
) -> ImpactResult:
    """The impact of ``files`` on the contract ``judged`` holds (reads no database)."""
    spec = ProposedSpec(judged.contract, files)
    result, loaded = proposed_diff(judged, spec, proposed_version)
    return assess(
        judged.registry,
        judged.contract,
        result,
        current_version=judged.active.version,
        proposed_version=proposed_version,
        loaded=loaded,
    )
