"""The registry mirror: what the registry repository declares, as tables.

    registry_settings   tessera.yaml (one row): defaults, rules version, transitive depth
    teams               teams/<id>.yaml
    contracts           contracts/<id>.yaml with the reviewed settings as declared (None: the
                        registry default applies, as in the engine's ``Registry.*_of``)
    contract_tags       (contract, tag): the tags again, one row each, for filters and search
    contract_versions   contracts/<id>/versions/<v>.json: the published files as JSON
    consumers           consumers/<id>.yaml
    dependencies        one consumer's declaration about one contract (``uses`` as JSON)
    republications      (consumer, contract, target): a dependency's ``republishes``, one row
                        each, so the graph finds who feeds a contract by index
    installations       GitHub App installations (filled by the GitHub issue)
    repositories        the repositories an installation covers

The registry repository is the source of truth: ``mirror.resync`` makes these tables match it
exactly, keyed by the registry's own ids (natural keys), so a resync is idempotent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime

ID = 64  # registry ids: ^[a-z0-9][a-z0-9-]*$, at most 64 characters
NAME = 255


class RegistrySettings(Base):
    """``tessera.yaml``: a single row (``id`` 1)."""

    __tablename__ = "registry_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rules_version: Mapped[int] = mapped_column(Integer, default=1)
    mode: Mapped[str | None] = mapped_column(String(32))
    versioning: Mapped[str] = mapped_column(String(16), default="auto")
    prerelease_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    prerelease_skip_acknowledgement: Mapped[bool] = mapped_column(Boolean, default=False)
    guarantee_policy: Mapped[str] = mapped_column(String(16), default="strict")
    transitive_depth: Mapped[int] = mapped_column(Integer, default=3)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    github_team: Mapped[str] = mapped_column(String(NAME))  # "org/slug"
    name: Mapped[str] = mapped_column(String(NAME), default="")
    maintainers: Mapped[list[str]] = mapped_column(JSON, default=list)  # GitHub logins
    channels: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)  # {kind, target}


class Contract(Base):
    __tablename__ = "contracts"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("teams.id"), index=True)
    format: Mapped[str] = mapped_column(String(32), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    source_repo: Mapped[str] = mapped_column(String(NAME), index=True)  # "owner/name"
    source_paths: Mapped[list[str]] = mapped_column(JSON)
    source_branch: Mapped[str] = mapped_column(String(NAME), default="main")
    # The reviewed settings as declared; None: the registry default (RegistrySettings).
    mode: Mapped[str | None] = mapped_column(String(32))
    versioning: Mapped[str | None] = mapped_column(String(16))
    prerelease_allowed: Mapped[bool | None] = mapped_column(Boolean)
    prerelease_skip_acknowledgement: Mapped[bool | None] = mapped_column(Boolean)
    proto_level: Mapped[str | None] = mapped_column(String(16))
    policy: Mapped[str | None] = mapped_column(String(16))
    guarantee_policy: Mapped[str | None] = mapped_column(String(16))
    guarantees: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)  # in declared order
    annotations: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)


class ContractTag(Base):
    __tablename__ = "contract_tags"

    contract_id: Mapped[str] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(NAME), primary_key=True)

    __table_args__ = (Index("ix_contract_tags_tag", "tag", "contract_id"),)


class ContractVersion(Base):
    """One published version: the spec files as published, and where they came from."""

    __tablename__ = "contract_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(NAME))
    format: Mapped[str] = mapped_column(String(32))
    source_repo: Mapped[str] = mapped_column(String(NAME))
    source_paths: Mapped[list[str]] = mapped_column(JSON)
    source_commit: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    pull_request: Mapped[int | None] = mapped_column(Integer)
    fingerprints: Mapped[list[str]] = mapped_column(JSON, default=list)  # acknowledged
    files: Mapped[dict[str, str]] = mapped_column(JSON)  # path -> text: the normalized snapshot

    __table_args__ = (UniqueConstraint("contract_id", "version"),)


class Consumer(Base):
    __tablename__ = "consumers"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id"), index=True)
    service: Mapped[str] = mapped_column(String(NAME), index=True)
    repo: Mapped[str] = mapped_column(String(NAME), default="")


class Dependency(Base):
    """One consumer's declaration about one contract (a consumer declares a contract once)."""

    __tablename__ = "dependencies"

    consumer_id: Mapped[str] = mapped_column(
        ForeignKey("consumers.id", ondelete="CASCADE"), primary_key=True
    )
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # order in the consumer's file
    versions: Mapped[str] = mapped_column(String(NAME), default="*")
    uses: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)  # {}: everything
    republishes: Mapped[list[str]] = mapped_column(JSON, default=list)  # contract ids

    __table_args__ = (Index("ix_dependencies_contract_id", "contract_id", "consumer_id"),)


class Republication(Base):
    """A dependency's ``republishes`` entry: the consumer feeds ``target_id`` with what it
    reads of ``contract_id`` (also kept, in order, in ``Dependency.republishes``)."""

    __tablename__ = "republications"

    consumer_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    contract_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    target_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), primary_key=True)

    __table_args__ = (
        ForeignKeyConstraint(
            ["consumer_id", "contract_id"],
            ["dependencies.consumer_id", "dependencies.contract_id"],
            ondelete="CASCADE",
        ),
        Index("ix_republications_target_id", "target_id"),
    )


class Installation(Base):
    """A GitHub App installation (its GitHub id)."""

    __tablename__ = "installations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account: Mapped[str] = mapped_column(String(NAME), index=True)  # the org or user login
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Repository(Base):
    """A repository an installation covers (its GitHub id)."""

    __tablename__ = "repositories"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    installation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("installations.id", ondelete="CASCADE"), index=True
    )
    full_name: Mapped[str] = mapped_column(String(NAME), unique=True)  # "owner/name"
    default_branch: Mapped[str] = mapped_column(String(NAME), default="main")
