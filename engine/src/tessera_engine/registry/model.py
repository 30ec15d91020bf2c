"""The registry as data: what teams declare, in reviewed YAML, in the registry repository.

    tessera.yaml                     Settings: defaults and policy for every contract
    teams/<id>.yaml                  Team
    contracts/<id>.yaml              Contract (the producer side)
    contracts/<id>/versions/<v>.json PublishedVersion (written by the app on merge)
    consumers/<name>.yaml            Consumer with its Dependency list (the consumer side)

These classes are plain, immutable values built by ``registry.loader`` after validation; every
declaration keeps the ``Location`` it came from, so a later error (a cross-check, an impact
explanation) can name file:line:column. Policy (modes, versioning, pre-releases, guarantees)
lives only here, in reviewed files, never in a flag a producer passes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..model import Location

VERSIONING = ("auto", "suggest", "enforce")
"""auto: the app picks the next version from the findings; suggest: it proposes one in the
check run and the producer sets it; enforce: the producer sets it and an insufficient bump
breaks (``lifecycle.version.bump-insufficient``)."""
GUARANTEE_POLICIES = ("strict", "notify", "ignore")
"""For data-quality guarantees (dbt tests, freshness, volume): strict: a relaxed guarantee
breaks; notify: it is reported as dangerous; ignore: it is not reported."""


@dataclass(frozen=True)
class PrereleasePolicy:
    """How pre-release versions (``2.0.0-rc.1``) are treated. A pre-release never skips
    consumer acknowledgement unless ``skip_acknowledgement`` is set in a reviewed file."""

    allowed: bool = True
    skip_acknowledgement: bool = False


@dataclass(frozen=True)
class Settings:
    """``tessera.yaml``: defaults for every contract, and the rule-set version in force."""

    rules_version: int = 1
    mode: str | None = None  # None: each format's default mode
    versioning: str = "auto"
    prerelease: PrereleasePolicy = field(default_factory=PrereleasePolicy)
    guarantees: str = "strict"
    transitive_depth: int = 3  # how far impact follows declared lineage
    location: Location | None = None


@dataclass(frozen=True)
class Channel:
    """Where a team wants to hear about proposals: ``slack: '#payments'``, ``email: ...``."""

    kind: str
    target: str


@dataclass(frozen=True)
class Team:
    id: str
    github_team: str  # "org/slug": membership of this GitHub team is the authority to ack
    name: str = ""
    maintainers: tuple[str, ...] = ()  # GitHub logins
    channels: tuple[Channel, ...] = ()
    location: Location | None = None


@dataclass(frozen=True)
class ContractSource:
    """Where the producer keeps the spec: repository, path(s) in it, and the branch."""

    repo: str  # "owner/name"
    paths: tuple[str, ...]
    branch: str = "main"


@dataclass(frozen=True)
class Guarantee:
    """A data-quality promise declared on a contract (beyond what the spec itself holds):
    ``{column: orders.id, kind: unique}``, ``{kind: freshness, within: 24h}``."""

    kind: str
    element: str = ""
    args: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Contract:
    id: str
    owner: str  # a team id
    format: str  # a ``tessera diff --format`` name
    source: ContractSource
    mode: str | None = None  # None: the registry default, else the format's default
    versioning: str | None = None  # None: the registry default
    prerelease: PrereleasePolicy | None = None  # None: the registry default
    proto_level: str | None = None
    policy: str | None = None  # content-model policy: strict | lenient
    guarantee_policy: str | None = None  # None: the registry default
    guarantees: tuple[Guarantee, ...] = ()
    tags: tuple[str, ...] = ()  # e.g. pii, tier-1
    annotations: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )  # element -> tags, e.g. {"Customer.email": ("pii",)}
    description: str = ""
    location: Location | None = None


@dataclass(frozen=True)
class Usage:
    """What a consumer says it uses of a contract; an empty usage means "all of it".

    ``operations``: API operations (``GET /orders/{id}``) or GraphQL root fields
    (``Query.order``) or RPCs (``shop.v1.Orders/Get``); ``fields``: schema elements
    (``Order.email``, a GraphQL ``Type.field``, a protobuf ``package.Message.field``, an Avro
    ``namespace.Record.field``); ``messages``: protobuf messages or Avro named types;
    ``columns``: dbt ``model.column`` (``model.*`` for every column of a model, and a consumer
    reading ``select *`` is also told about added columns)."""

    operations: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        return not (self.operations or self.fields or self.messages or self.columns)


@dataclass(frozen=True)
class Dependency:
    """One consumer's declaration about one contract."""

    contract: str
    versions: str = "*"  # a version range: "^1.2", ">=1.0.0 <3.0.0", "1.x", "*"
    uses: Usage = field(default_factory=Usage)
    republishes: tuple[str, ...] = ()  # contract ids this consumer feeds with what it reads
    location: Location | None = None


@dataclass(frozen=True)
class Consumer:
    id: str  # the file's stem unless the file gives one
    team: str  # a team id
    service: str
    repo: str = ""  # "owner/name"
    dependencies: tuple[Dependency, ...] = ()
    location: Location | None = None


@dataclass(frozen=True)
class PublishedVersion:
    """``contracts/<id>/versions/<version>.json``: one published version of a contract, with
    the source files it was built from, so the registry alone can diff against it."""

    contract: str
    version: str
    format: str
    repo: str
    paths: tuple[str, ...]
    commit: str
    published_at: str  # ISO 8601, UTC
    files: Mapping[str, str]  # path -> text, the spec as published
    pull_request: int | None = None
    findings: tuple[str, ...] = ()  # fingerprints of the changes acknowledged at publish


@dataclass
class Registry:
    """A loaded, validated registry directory."""

    root: str
    settings: Settings
    teams: dict[str, Team]
    contracts: dict[str, Contract]
    consumers: dict[str, Consumer]
    _by_contract: dict[str, list[tuple[Consumer, Dependency]]] | None = field(
        default=None, repr=False
    )

    def consumers_of(self, contract_id: str) -> list[tuple[Consumer, Dependency]]:
        """Every (consumer, dependency) declared on ``contract_id``."""
        return self.index().get(contract_id, [])

    def index(self) -> dict[str, list[tuple[Consumer, Dependency]]]:
        """The dependencies by contract, built once (the loader builds it while loading, so
        a question asked after loading costs a lookup)."""
        if self._by_contract is None:
            index: dict[str, list[tuple[Consumer, Dependency]]] = {}
            for consumer in self.consumers.values():
                for dependency in consumer.dependencies:
                    index.setdefault(dependency.contract, []).append((consumer, dependency))
            self._by_contract = index
        return self._by_contract

    def dependencies(self) -> Iterator[tuple[Consumer, Dependency]]:
        for consumer in self.consumers.values():
            for dependency in consumer.dependencies:
                yield consumer, dependency

    def mode_of(self, contract: Contract) -> str | None:
        return contract.mode or self.settings.mode

    def versioning_of(self, contract: Contract) -> str:
        return contract.versioning or self.settings.versioning

    def prerelease_of(self, contract: Contract) -> PrereleasePolicy:
        return contract.prerelease or self.settings.prerelease

    def guarantee_policy_of(self, contract: Contract) -> str:
        return contract.guarantee_policy or self.settings.guarantees
