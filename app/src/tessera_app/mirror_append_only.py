"""Published versions are append-only: what a source declares, merged with what was published.

    keep_published(session, desired, source) -> findings

``desired`` is the rows a registry source calls for, by table (``mirror.desired_rows``); it is
changed in place so that no resync can remove or replace a published version:

- a version the mirror has and the source lacks stays (a ``version-missing`` finding);
- a version the source holds with other files or metadata than the mirror's stays as published
  (a ``version-differs`` finding naming the columns that differ);
- a contract the source no longer declares while it has published versions stays, with its
  tags, its settings as last declared and, when the source dropped it too, its owner team
  (a ``contract-kept`` finding listing the versions): removing a contract from the registry
  never takes its versions with it;
- a version only the source has is added (publishing appends).

Since the active version is the highest published one (by semver precedence, per the
contract's pre-release policy), it never moves backwards either. Everything else (teams,
contracts' settings, consumers) follows the source.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tessera_engine.registry.ranges import parse_version

from .db.registry_models import Contract, ContractTag, ContractVersion, Team
from .mirror_findings import CONTRACT_KEPT, VERSION_DIFFERS, VERSION_MISSING, Finding

Row = dict[str, Any]
VERSION_COLUMNS = tuple(c.name for c in ContractVersion.__table__.columns if c.name != "id")


def keep_published(session: Session, desired: dict[str, list[Row]], source: str) -> list[Finding]:
    """Merge the mirror's published versions (and the contracts and teams they need) into
    ``desired``; what the source lacks or holds differently is returned as findings."""
    published = _published(session)
    declared = {row["id"] for row in desired["contracts"]}
    kept = sorted({contract for contract, _ in published} - declared)
    owners = _owners(session)
    findings: list[Finding] = []
    merged: list[Row] = []
    offered = {(row["contract_id"], row["version"]): row for row in desired["contract_versions"]}
    for key, row in offered.items():
        current = published.get(key)
        if current is None:
            merged.append(row)
            continue
        merged.append(current)
        differing = [column for column in VERSION_COLUMNS if current[column] != row[column]]
        if differing:
            findings.append(_differs(current, differing, source, owners))
    for key, current in published.items():
        if key not in offered:
            merged.append(current)
            if key[0] not in kept:
                findings.append(_missing(current, source, owners))
    desired["contract_versions"] = merged
    for contract_id in kept:
        versions = sorted((v for c, v in published if c == contract_id), key=parse_version)
        findings.append(_keep_contract(session, desired, contract_id, versions, source))
    return findings


def _published(session: Session) -> dict[tuple[str, str], Row]:
    columns = [getattr(ContractVersion, c) for c in VERSION_COLUMNS]
    return {
        (row["contract_id"], row["version"]): dict(row)
        for row in session.execute(select(*columns)).mappings()
    }


def _owners(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Contract.id, Contract.owner_id)).all())


def _row(instance: Any) -> Row:
    return {c.name: getattr(instance, c.name) for c in type(instance).__table__.columns}


def _missing(current: Row, source: str, owners: dict[str, str]) -> Finding:
    contract, version = current["contract_id"], current["version"]
    origin = f"{current['source_repo']}@{str(current['source_commit'])[:12]}"
    if current["pull_request"]:
        origin += f", pull request #{current['pull_request']}"
    return Finding(
        kind=VERSION_MISSING,
        subject=f"contract:{contract}@{version}",
        message=f"{source} lacks {contract} {version} (published from {origin}): the mirror "
        "keeps it",
        details={
            "contract": contract,
            "version": version,
            "source_commit": current["source_commit"],
            "pull_request": current["pull_request"],
        },
        team=owners.get(contract),
    )


def _differs(current: Row, columns: list[str], source: str, owners: dict[str, str]) -> Finding:
    contract, version = current["contract_id"], current["version"]
    what = ", ".join(columns)
    return Finding(
        kind=VERSION_DIFFERS,
        subject=f"contract:{contract}@{version}",
        message=f"{source} holds {contract} {version} with other {what} than published: the "
        "published version is kept",
        details={"contract": contract, "version": version, "differs": columns},
        team=owners.get(contract),
    )


def _keep_contract(
    session: Session,
    desired: dict[str, list[Row]],
    contract_id: str,
    versions: list[str],
    source: str,
) -> Finding:
    """Keep ``contract_id`` as it is in the mirror (with its tags, and its owner team when the
    source dropped that too)."""
    contract = session.get(Contract, contract_id)
    if contract is None:  # versions cascade with their contract: cannot happen
        raise LookupError(f"published versions of {contract_id!r} without a contract row")
    desired["contracts"].append(_row(contract))
    tags = select(ContractTag).where(ContractTag.contract_id == contract_id)
    desired["contract_tags"].extend(_row(tag) for tag in session.scalars(tags))
    kept_team = contract.owner_id not in {row["id"] for row in desired["teams"]}
    if kept_team:
        team = session.get(Team, contract.owner_id)
        if team is None:
            raise LookupError(f"contract {contract_id!r} is owned by a missing team")
        desired["teams"].append(_row(team))
    also = f" and its owner team {contract.owner_id}" if kept_team else ""
    return Finding(
        kind=CONTRACT_KEPT,
        subject=f"contract:{contract_id}",
        message=f"{source} no longer declares {contract_id}, which has published versions "
        f"{', '.join(versions)}: the mirror keeps the contract{also} and its versions",
        details={"contract": contract_id, "versions": versions, "team_kept": kept_team},
        team=contract.owner_id,
    )
