"""Queries over the mirror and the rows as response bodies (for ``api/registry.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from tessera_engine.registry import model as engine
from tessera_engine.registry.ranges import parse_version

from ..db.registry_models import (
    Consumer,
    Contract,
    ContractTag,
    ContractVersion,
    Dependency,
    RegistrySettings,
    Team,
)
from ..mirror import USAGE_KINDS
from . import registry_schemas as out
from .registry_engine import contract_of, settings_of


def registry_settings(session: Session) -> engine.Settings:
    return settings_of(session.get(RegistrySettings, 1))


def count(session: Session, statement: Select[Any]) -> int:
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    return int(total or 0)


def tagged(tag: str) -> Any:
    return select(ContractTag.contract_id).where(ContractTag.tag == tag)


def contracts_query(team: str | None, format_: str | None, tag: str | None) -> Select[Any]:
    statement = select(Contract).order_by(Contract.id)
    if team is not None:
        statement = statement.where(Contract.owner_id == team)
    if format_ is not None:
        statement = statement.where(Contract.format == format_)
    if tag is not None:
        statement = statement.where(Contract.id.in_(tagged(tag)))
    return statement


def active_versions(
    session: Session, rows: Sequence[Contract], settings: engine.Settings
) -> dict[str, str | None]:
    """Each contract's active version (the engine's rule: the highest by precedence, skipping
    pre-releases while they are not allowed unless nothing else was published)."""
    found: dict[str, list[str]] = {row.id: [] for row in rows}
    if rows:
        statement = select(ContractVersion.contract_id, ContractVersion.version).where(
            ContractVersion.contract_id.in_(list(found))
        )
        for contract_id, version in session.execute(statement):
            found[contract_id].append(version)
    result: dict[str, str | None] = {}
    for row in rows:
        ordered = sorted(found[row.id], key=parse_version, reverse=True)
        allowed = (
            row.prerelease_allowed
            if row.prerelease_allowed is not None
            else settings.prerelease.allowed
        )
        releases = [v for v in ordered if not parse_version(v).prerelease]
        pick = ordered if allowed or not releases else releases
        result[row.id] = pick[0] if pick else None
    return result


def contract_out(row: Contract, active: str | None) -> out.ContractOut:
    return out.ContractOut(
        id=row.id,
        owner=row.owner_id,
        format=row.format,
        description=row.description,
        tags=list(row.tags),
        source=out.Source(repo=row.source_repo, paths=row.source_paths, branch=row.source_branch),
        active_version=active,
    )


def contract_detail(
    session: Session, row: Contract, settings: engine.Settings
) -> out.ContractDetail:
    registry = engine.Registry(".", settings, {}, {}, {})
    contract = contract_of(row)
    prerelease = registry.prerelease_of(contract)
    versions = sorted(
        session.scalars(
            select(ContractVersion.version).where(ContractVersion.contract_id == row.id)
        ),
        key=parse_version,
    )
    consumers = session.scalar(
        select(func.count()).select_from(Dependency).where(Dependency.contract_id == row.id)
    )
    summary = contract_out(row, active_versions(session, [row], settings)[row.id])
    return out.ContractDetail(
        **summary.model_dump(),
        declared=out.ContractSettings(
            mode=row.mode,
            versioning=row.versioning,
            prerelease_allowed=row.prerelease_allowed,
            prerelease_skip_acknowledgement=row.prerelease_skip_acknowledgement,
            proto_level=row.proto_level,
            policy=row.policy,
            guarantee_policy=row.guarantee_policy,
        ),
        effective=out.ContractSettings(
            mode=registry.mode_of(contract),
            versioning=registry.versioning_of(contract),
            prerelease_allowed=prerelease.allowed,
            prerelease_skip_acknowledgement=prerelease.skip_acknowledgement,
            proto_level=row.proto_level,
            policy=row.policy,
            guarantee_policy=registry.guarantee_policy_of(contract),
        ),
        guarantees=[out.Guarantee(**g) for g in row.guarantees],
        annotations=row.annotations,
        versions=versions,
        consumers=int(consumers or 0),
    )


def version_out(row: ContractVersion) -> out.VersionOut:
    return out.VersionOut(
        contract=row.contract_id,
        version=row.version,
        format=row.format,
        repo=row.source_repo,
        paths=row.source_paths,
        commit=row.source_commit,
        published_at=row.published_at,
        pull_request=row.pull_request,
        fingerprints=row.fingerprints,
    )


def team_out(row: Team) -> out.TeamOut:
    return out.TeamOut(
        id=row.id,
        github_team=row.github_team,
        name=row.name,
        maintainers=row.maintainers,
        channels=[out.Channel(**c) for c in row.channels],
    )


def consumers_query(team: str | None, contract: str | None) -> Select[Any]:
    statement = select(Consumer).order_by(Consumer.id)
    if team is not None:
        statement = statement.where(Consumer.team_id == team)
    if contract is not None:
        statement = statement.where(
            Consumer.id.in_(
                select(Dependency.consumer_id).where(Dependency.contract_id == contract)
            )
        )
    return statement


def consumers_out(session: Session, rows: Sequence[Consumer]) -> list[out.ConsumerOut]:
    declared: dict[str, list[Dependency]] = {row.id: [] for row in rows}
    if rows:
        statement = (
            select(Dependency)
            .where(Dependency.consumer_id.in_(list(declared)))
            .order_by(Dependency.consumer_id, Dependency.position)
        )
        for dependency in session.scalars(statement):
            declared[dependency.consumer_id].append(dependency)
    return [
        out.ConsumerOut(
            id=row.id,
            team=row.team_id,
            service=row.service,
            repo=row.repo,
            dependencies=[
                out.DependencyOut(
                    contract=d.contract_id,
                    versions=d.versions,
                    uses=out.Usage(**{k: d.uses.get(k, []) for k in USAGE_KINDS})
                    if d.uses
                    else None,
                    republishes=d.republishes,
                )
                for d in declared[row.id]
            ],
        )
        for row in rows
    ]


def search(
    session: Session,
    q: str,
    kind: str | None,
    team: str | None,
    tag: str | None,
    limit: int,
) -> list[out.SearchHit]:
    """Contracts, teams and consumers whose ids or text contain ``q`` (any case); ``team``
    and ``tag`` narrow each kind (a team or consumer matches a tag through the contracts it
    owns or consumes). Exact id matches first, then by kind and id."""
    hits: list[out.SearchHit] = []
    if kind in (None, "contract"):
        hits += _search_contracts(session, q, team, tag, limit)
    if kind in (None, "team"):
        hits += _search_teams(session, q, team, tag, limit)
    if kind in (None, "consumer"):
        hits += _search_consumers(session, q, team, tag, limit)
    order = {"contract": 0, "team": 1, "consumer": 2}
    hits.sort(key=lambda h: (h.id.lower() != q.lower(), order[h.type], h.id))
    return hits[:limit]


def _containing(q: str, *columns: Any) -> Any:
    return or_(*(column.icontains(q, autoescape=True) for column in columns))


def _search_contracts(
    session: Session, q: str, team: str | None, tag: str | None, limit: int
) -> list[out.SearchHit]:
    statement = select(Contract).order_by(Contract.id).limit(limit)
    if q:
        statement = statement.where(_containing(q, Contract.id, Contract.description))
    if team is not None:
        statement = statement.where(Contract.owner_id == team)
    if tag is not None:
        statement = statement.where(Contract.id.in_(tagged(tag)))
    return [
        out.SearchHit(
            type="contract", id=r.id, title=r.id, team=r.owner_id, description=r.description
        )
        for r in session.scalars(statement)
    ]


def _search_teams(
    session: Session, q: str, team: str | None, tag: str | None, limit: int
) -> list[out.SearchHit]:
    statement = select(Team).order_by(Team.id).limit(limit)
    if q:
        statement = statement.where(_containing(q, Team.id, Team.name, Team.github_team))
    if team is not None:
        statement = statement.where(Team.id == team)
    if tag is not None:
        owners = select(Contract.owner_id).where(Contract.id.in_(tagged(tag)))
        statement = statement.where(Team.id.in_(owners))
    return [
        out.SearchHit(
            type="team", id=r.id, title=r.name or r.id, team=r.id, description=r.github_team
        )
        for r in session.scalars(statement)
    ]


def _search_consumers(
    session: Session, q: str, team: str | None, tag: str | None, limit: int
) -> list[out.SearchHit]:
    statement = select(Consumer).order_by(Consumer.id).limit(limit)
    if q:
        statement = statement.where(_containing(q, Consumer.id, Consumer.service, Consumer.repo))
    if team is not None:
        statement = statement.where(Consumer.team_id == team)
    if tag is not None:
        readers = select(Dependency.consumer_id).where(Dependency.contract_id.in_(tagged(tag)))
        statement = statement.where(Consumer.id.in_(readers))
    return [
        out.SearchHit(type="consumer", id=r.id, title=r.service, team=r.team_id, description=r.repo)
        for r in session.scalars(statement)
    ]
