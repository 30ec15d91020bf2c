"""The registry mirror: the database made to follow the registry repository.

    resync(session, path, ...)   load the registry (validated) and its published versions,
                                 then insert, update and delete rows until every mirror table
                                 matches it, except that published versions are append-only
                                 (``mirror_append_only``); a second resync changes nothing
    record_version(session, ...) add one newly published version (the workflow, on publish)
    published_version(row)       a mirrored version as the engine's ``PublishedVersion``

Rows are compared by the registry's natural ids (team, contract, consumer ids; (contract,
version); (consumer, contract)), column by column, so only what changed is written. Parents are
written before children and children deleted before parents, so foreign keys hold throughout.
A resync that changed something is recorded in the audit log. Each resync records what it
applied (``mirror_syncs``: the source, its commit, when) and settles what it found
inconsistent (``mirror_findings``: a published version the source lacks or holds with other
files, a contract with published versions it no longer declares): reported, never applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from tessera_engine.registry.loader import load_registry
from tessera_engine.registry.model import Contract as EngineContract
from tessera_engine.registry.model import PublishedVersion
from tessera_engine.registry.model import Registry as EngineRegistry
from tessera_engine.registry.model import Team as EngineTeam
from tessera_engine.registry.ranges import parse_version
from tessera_engine.registry.versions import list_versions

from . import audit, mirror_findings, mirror_syncs
from .db.base import Base, utcnow
from .db.registry_models import (
    Consumer,
    Contract,
    ContractTag,
    ContractVersion,
    Dependency,
    RegistrySettings,
    Republication,
    Team,
)
from .mirror_append_only import keep_published
from .mirror_findings import CONTENT_KINDS, REFUSAL_KINDS, Finding

USAGE_KINDS = ("operations", "fields", "messages", "columns")
CHUNK = 500  # keys per DELETE ... WHERE (...) IN (...)

Row = dict[str, Any]


@dataclass(frozen=True)
class Changes:
    """What a resync did to one table."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.deleted


@dataclass(frozen=True)
class ResyncReport:
    """Per table, what changed; how many rows each table holds afterwards; and what the
    source lacks or holds differently from what was published (kept, reported)."""

    registry: str
    tables: Mapping[str, Changes]
    counts: Mapping[str, int] = field(default_factory=dict)
    commit: str | None = None
    findings: tuple[Finding, ...] = ()

    @property
    def changes(self) -> int:
        return sum(changes.total for changes in self.tables.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "registry": self.registry,
            "commit": self.commit,
            "changes": self.changes,
            "tables": {
                name: {"inserted": c.inserted, "updated": c.updated, "deleted": c.deleted}
                for name, c in self.tables.items()
            },
            "counts": dict(self.counts),
            "findings": [finding.to_dict() for finding in self.findings],
        }


class UnknownContract(LookupError):
    """``record_version`` for a contract the mirror does not hold."""


class VersionConflict(ValueError):
    """``record_version`` for a version already recorded from another commit."""


@dataclass(frozen=True)
class _Table:
    """How one table is synchronised: its model, natural key columns, and (for tables with a
    surrogate primary key) that key's column."""

    model: type[Base]
    key: tuple[str, ...]
    surrogate: str | None = None
    append_only: bool = False


TABLES = (  # parents first
    _Table(RegistrySettings, ("id",)),
    _Table(Team, ("id",)),
    _Table(Contract, ("id",)),
    _Table(ContractTag, ("contract_id", "tag")),
    _Table(ContractVersion, ("contract_id", "version"), surrogate="id", append_only=True),
    _Table(Consumer, ("id",)),
    _Table(Dependency, ("consumer_id", "contract_id")),
    _Table(Republication, ("consumer_id", "contract_id", "target_id")),
)


def resync(
    session: Session,
    registry_path: str | Path,
    *,
    actor: str = "tessera",
    source: str | None = None,
    commit: str | None = None,
) -> ResyncReport:
    """Make the mirror follow the registry at ``registry_path`` (in the caller's transaction).

    ``source`` names where the files came from (default: the folder, ``path:/abs/path``) and
    ``commit`` which commit of it they are; both are recorded as what the mirror applied. An
    invalid registry raises the engine's ``InputError`` (one line, file:line:col) and changes
    nothing."""
    registry = load_registry(registry_path)
    versions = {cid: list_versions(registry_path, cid) for cid in sorted(registry.contracts)}
    desired = desired_rows(registry, versions)
    label = source or mirror_syncs.path_source(registry_path)
    findings = keep_published(session, desired, label)
    plans = [(table, _plan(session, table, desired[table.model.__tablename__])) for table in TABLES]
    for table, (_, updates, deletes) in plans:
        if table.append_only and (updates or deletes):  # keep_published rules this out
            raise RuntimeError(f"a resync would rewrite published rows of {table.model}")
    for table, (inserts, updates, _) in plans:
        if inserts:
            session.execute(insert(table.model), inserts)
        if updates:
            session.execute(update(table.model), updates)
    for table, (_, _, deletes) in reversed(plans):
        _delete(session, table, deletes)
    session.flush()
    report = ResyncReport(
        registry=label,
        tables={
            table.model.__tablename__: Changes(len(ins), len(upd), len(dele))
            for table, (ins, upd, dele) in plans
        },
        counts={name: len(rows) for name, rows in desired.items()},
        commit=commit,
        findings=tuple(findings),
    )
    if report.changes:
        details = report.to_dict()
        details["findings"] = len(findings)
        audit.record(
            session,
            action="registry.resync",
            actor=actor,
            subject=f"registry:{label}",
            details=details,
        )
    mirror_syncs.record_applied(session, label, commit)
    mirror_findings.settle(session, findings, kinds=CONTENT_KINDS, source=label, actor=actor)
    mirror_findings.settle(
        session, (), kinds=REFUSAL_KINDS, source=label, actor=actor, per_source=True
    )
    return report


def desired_rows(
    registry: EngineRegistry, versions: Mapping[str, Sequence[PublishedVersion]]
) -> dict[str, list[Row]]:
    """Every mirror row the registry calls for, by table name."""
    settings = registry.settings
    rows: dict[str, list[Row]] = {
        "registry_settings": [
            {
                "id": 1,
                "rules_version": settings.rules_version,
                "mode": settings.mode,
                "versioning": settings.versioning,
                "prerelease_allowed": settings.prerelease.allowed,
                "prerelease_skip_acknowledgement": settings.prerelease.skip_acknowledgement,
                "guarantee_policy": settings.guarantees,
                "transitive_depth": settings.transitive_depth,
            }
        ],
        "teams": [team_row(team) for team in registry.teams.values()],
        "contracts": [contract_row(contract) for contract in registry.contracts.values()],
        "contract_tags": [
            {"contract_id": contract.id, "tag": tag}
            for contract in registry.contracts.values()
            for tag in dict.fromkeys(contract.tags)
        ],
        "contract_versions": [
            version_row(published) for found in versions.values() for published in found
        ],
        "consumers": [
            {"id": c.id, "team_id": c.team, "service": c.service, "repo": c.repo}
            for c in registry.consumers.values()
        ],
        "dependencies": [
            {
                "consumer_id": consumer.id,
                "contract_id": dependency.contract,
                "position": position,
                "versions": dependency.versions,
                "uses": {
                    kind: list(getattr(dependency.uses, kind))
                    for kind in USAGE_KINDS
                    if getattr(dependency.uses, kind)
                },
                "republishes": list(dependency.republishes),
            }
            for consumer in registry.consumers.values()
            for position, dependency in enumerate(consumer.dependencies)
        ],
        "republications": [
            {"consumer_id": consumer.id, "contract_id": dependency.contract, "target_id": target}
            for consumer, dependency in registry.dependencies()
            for target in dict.fromkeys(dependency.republishes)
        ],
    }
    return rows


def team_row(team: EngineTeam) -> Row:
    return {
        "id": team.id,
        "github_team": team.github_team,
        "name": team.name,
        "maintainers": list(team.maintainers),
        "channels": [{"kind": c.kind, "target": c.target} for c in team.channels],
    }


def contract_row(contract: EngineContract) -> Row:
    prerelease = contract.prerelease
    return {
        "id": contract.id,
        "owner_id": contract.owner,
        "format": contract.format,
        "description": contract.description,
        "source_repo": contract.source.repo,
        "source_paths": list(contract.source.paths),
        "source_branch": contract.source.branch,
        "mode": contract.mode,
        "versioning": contract.versioning,
        "prerelease_allowed": prerelease.allowed if prerelease else None,
        "prerelease_skip_acknowledgement": prerelease.skip_acknowledgement if prerelease else None,
        "proto_level": contract.proto_level,
        "policy": contract.policy,
        "guarantee_policy": contract.guarantee_policy,
        "guarantees": [
            {"kind": g.kind, "element": g.element, "args": dict(g.args)}
            for g in contract.guarantees
        ],
        "tags": list(contract.tags),
        "annotations": {element: list(tags) for element, tags in contract.annotations.items()},
    }


def version_row(published: PublishedVersion) -> Row:
    return {
        "contract_id": published.contract,
        "version": published.version,
        "format": published.format,
        "source_repo": published.repo,
        "source_paths": list(published.paths),
        "source_commit": published.commit,
        "published_at": parse_timestamp(published.published_at),
        "pull_request": published.pull_request,
        "fingerprints": list(published.findings),
        "files": dict(sorted(published.files.items())),
    }


def parse_timestamp(text: str) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime (no offset: UTC)."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _plan(
    session: Session, table: _Table, rows: list[Row]
) -> tuple[list[Row], list[Row], list[Any]]:
    """(rows to insert, rows to update with their primary key, keys to delete)."""
    model = table.model
    columns = list(rows[0]) if rows else list(table.key)
    fetched = [*columns, table.surrogate] if table.surrogate else columns
    existing: dict[tuple[Any, ...], Row] = {}
    for found in session.execute(select(*(getattr(model, c) for c in fetched))).mappings():
        existing[tuple(found[k] for k in table.key)] = dict(found)
    inserts: list[Row] = []
    updates: list[Row] = []
    for row in rows:
        key = tuple(row[k] for k in table.key)
        current = existing.pop(key, None)
        if current is None:
            inserts.append(row)
        elif any(current[c] != row[c] for c in columns):
            updates.append(
                {**row, table.surrogate: current[table.surrogate]} if table.surrogate else row
            )
    return inserts, updates, list(existing)


def _delete(session: Session, table: _Table, keys: list[tuple[Any, ...]]) -> None:
    model = table.model
    columns = [getattr(model, c) for c in table.key]
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        if len(columns) == 1:
            condition = columns[0].in_([key[0] for key in chunk])
        else:
            condition = tuple_(*columns).in_(chunk)
        session.execute(delete(model).where(condition).execution_options(synchronize_session=False))


def record_version(
    session: Session,
    contract_id: str,
    version: str,
    files: Mapping[str, str],
    repo: str,
    path: str | Sequence[str],
    commit: str,
    pull_request: int | None,
    fingerprints: Iterable[str],
    *,
    published_at: datetime | None = None,
    actor: str = "tessera",
) -> ContractVersion:
    """Mirror a newly published version of ``contract_id`` (in the caller's transaction).

    Recording the same version from the same commit again returns the row already there
    (publishing happens once per merge commit, and a retried job must not fail); the same
    version from another commit raises ``VersionConflict``."""
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise UnknownContract(f"no contract {contract_id!r} in the registry mirror")
    parse_version(version)  # a semantic version, or the engine's one-line error
    if not files:
        raise ValueError("a published version needs at least one file")
    existing = session.scalars(
        select(ContractVersion).where(
            ContractVersion.contract_id == contract_id, ContractVersion.version == version
        )
    ).one_or_none()
    if existing is not None:
        if existing.source_commit == commit:
            return existing
        raise VersionConflict(
            f"{contract_id} {version} was already published from {existing.source_commit}"
        )
    row = ContractVersion(
        contract_id=contract_id,
        version=version,
        format=contract.format,
        source_repo=repo,
        source_paths=[path] if isinstance(path, str) else list(path),
        source_commit=commit,
        published_at=published_at or utcnow(),
        pull_request=pull_request,
        fingerprints=list(fingerprints),
        files=dict(sorted(files.items())),
    )
    session.add(row)
    session.flush()
    mirror_syncs.mark_published(session)
    audit.record(
        session,
        action="registry.version.recorded",
        actor=actor,
        subject=f"contract:{contract_id}@{version}",
        details={"commit": commit, "pull_request": pull_request, "files": sorted(files)},
        team=contract.owner_id,
    )
    return row


def published_version(row: ContractVersion) -> PublishedVersion:
    """A mirrored version as the engine's value (for ``VersionSource``, ``write_version``)."""
    return PublishedVersion(
        contract=row.contract_id,
        version=row.version,
        format=row.format,
        repo=row.source_repo,
        paths=tuple(row.source_paths),
        commit=row.source_commit,
        published_at=row.published_at.isoformat(),
        files=MappingProxyType(dict(row.files)),
        pull_request=row.pull_request,
        findings=tuple(row.fingerprints),
    )
