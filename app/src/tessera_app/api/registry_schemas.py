"""Request and response bodies of the registry API (so ``/openapi.json`` is precise)."""

from __future__ import annotations

import posixpath
import re
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .text_inputs import ONE_LINE

T = TypeVar("T")
MAX_SPEC_FILES = 200
MAX_PATH = 1024  # characters of a proposed spec's file path


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="how many match, over all pages")
    limit: int
    offset: int


class Channel(BaseModel):
    kind: str = Field(examples=["slack"])
    target: str = Field(examples=["#payments"])


class TeamOut(BaseModel):
    id: str
    github_team: str = Field(description="org/slug: membership is the authority to acknowledge")
    name: str
    maintainers: list[str]
    channels: list[Channel]


class TeamDetail(TeamOut):
    contracts: list[str] = Field(description="ids of the contracts the team owns")
    consumers: list[str] = Field(description="ids of the team's consuming services")


class Source(BaseModel):
    repo: str
    paths: list[str]
    branch: str


class ContractSettings(BaseModel):
    """The reviewed settings: as declared (None: the registry default) or in effect."""

    mode: str | None = Field(description="None in effect: the format's default mode")
    versioning: str | None
    prerelease_allowed: bool | None
    prerelease_skip_acknowledgement: bool | None
    proto_level: str | None
    policy: str | None
    guarantee_policy: str | None


class Guarantee(BaseModel):
    kind: str
    element: str
    args: dict[str, Any]


class ContractOut(BaseModel):
    id: str
    owner: str
    format: str
    description: str
    tags: list[str]
    source: Source
    active_version: str | None = Field(description="the version changes are judged against")


class ContractDetail(ContractOut):
    declared: ContractSettings
    effective: ContractSettings
    guarantees: list[Guarantee]
    annotations: dict[str, list[str]]
    versions: list[str] = Field(description="published versions, lowest to highest")
    consumers: int = Field(description="how many consumer declarations name this contract")


class VersionOut(BaseModel):
    contract: str
    version: str
    format: str
    repo: str
    paths: list[str]
    commit: str
    published_at: datetime
    pull_request: int | None
    fingerprints: list[str] = Field(description="the breaking findings acknowledged")


class VersionDetail(VersionOut):
    files: dict[str, str] = Field(description="path -> text: the spec as published")


class Location(BaseModel):
    file: str
    line: int | None
    column: int | None


class Finding(BaseModel):
    """One finding, as in ``tessera diff --output json``."""

    model_config = ConfigDict(extra="allow")

    rule: str
    severity: Literal["breaking", "dangerous", "safe", "annotation"]
    position: str
    effect: str
    path: str
    pointer: str
    location: Location | None
    message: str
    fingerprint: str
    args: dict[str, Any]
    operations: list[str]
    old_location: Location | None = None
    against: str | None = None
    promoted_from: str | None = None


class VersionCheck(BaseModel):
    current: str
    proposed: str
    required: str
    actual: str
    ok: bool
    reason: str


class Diff(BaseModel):
    """``tessera diff --output json``."""

    verdict: Literal["breaking", "compatible"]
    bump: Literal["none", "patch", "minor", "major"]
    format: str
    mode: str
    policy: str
    old: str | list[str]
    new: str
    counts: dict[str, int]
    findings: list[Finding]
    version_check: VersionCheck | None = None


class SpecIn(BaseModel):
    """A proposed spec: ``files`` (path -> text) or one ``spec`` text (at ``path``, by default
    the contract's source path)."""

    model_config = ConfigDict(extra="forbid")

    files: dict[str, str] | None = Field(
        default=None,
        max_length=MAX_SPEC_FILES,
        description=f"path -> text, at most {MAX_SPEC_FILES} files; a path is relative, at "
        f"most {MAX_PATH} characters",
    )
    spec: str | None = None
    path: str | None = Field(default=None, max_length=MAX_PATH, pattern=ONE_LINE)
    proposed_version: str | None = Field(
        default=None,
        max_length=255,
        pattern=ONE_LINE,
        description="versioning suggest or enforce: the version the change takes",
    )

    @model_validator(mode="after")
    def _one_form(self) -> SpecIn:
        if (self.files is None) == (self.spec is None):
            raise ValueError("give either files (path -> text) or spec (one file's text)")
        if self.files is not None and not self.files:
            raise ValueError("files is empty: give at least one file")
        for path in [*(self.files or {}), *([self.path] if self.path else [])]:
            clean = posixpath.normpath(path.replace("\\", "/"))
            if not path.strip() or clean.startswith(("../", "/")) or clean in ("..", "."):
                raise ValueError(f"{path!r} is not a relative file path")
            if len(path) > MAX_PATH or not re.fullmatch(ONE_LINE, path):
                raise ValueError(
                    f"{path[:80]!r} is not a file path: at most {MAX_PATH} characters, no "
                    f"control characters"
                )
        return self


class CheckOut(BaseModel):
    contract: str
    against: str = Field(description="the active published version the spec was diffed against")
    verdict: Literal["breaking", "compatible"]
    bump: Literal["none", "patch", "minor", "major"]
    next_version: str = Field(description="the smallest version carrying the required bump")
    diff: Diff


class Match(BaseModel):
    fingerprint: str
    rule: str
    element: str
    severity: str
    usage: dict[str, Any] = Field(description="{kind, entry, relation[, via]}")


class Link(BaseModel):
    consumer: str
    team: str
    service: str
    republishes: str


class AffectedConsumer(BaseModel):
    consumer: str
    team: str
    service: str
    repo: str
    contract: str
    versions: str
    in_range: bool | None
    severity: str
    must_acknowledge: bool
    chain: list[Link]
    matches: list[Match]
    location: Location | None


class Acknowledgement(BaseModel):
    required: bool
    reason: str
    teams: list[str]


class VersionInfo(BaseModel):
    versioning: str
    current: str | None
    proposed: str | None
    prerelease: bool
    origin: str


class ImpactOut(BaseModel):
    """``tessera impact --output json``."""

    contract: str
    owner: str
    verdict: Literal["breaking", "compatible"]
    bump: Literal["none", "patch", "minor", "major"]
    versions: VersionInfo
    acknowledgement: Acknowledgement
    consumers: list[AffectedConsumer]
    notes: list[str]
    diff: Diff


class Usage(BaseModel):
    operations: list[str] = []
    fields: list[str] = []
    messages: list[str] = []
    columns: list[str] = []


class DependencyOut(BaseModel):
    contract: str
    versions: str
    uses: Usage | None = Field(description="None: everything is used")
    republishes: list[str]


class ConsumerOut(BaseModel):
    id: str
    team: str
    service: str
    repo: str
    dependencies: list[DependencyOut]


class Node(BaseModel):
    id: str = Field(examples=["contract:orders-api"])
    kind: Literal["team", "service", "contract"]
    label: str
    team: str | None
    format: str | None = None


class Edge(BaseModel):
    source: str
    target: str
    kind: Literal["owns", "consumes", "republishes"]
    versions: str | None = None


class GraphOut(BaseModel):
    nodes: list[Node]
    edges: list[Edge]
    truncated: bool = Field(description="max_nodes was reached: some nodes are left out")


class SearchHit(BaseModel):
    type: Literal["contract", "team", "consumer"]
    id: str
    title: str
    team: str | None
    description: str


class SearchOut(BaseModel):
    items: list[SearchHit]
    limit: int


class Changes(BaseModel):
    inserted: int
    updated: int
    deleted: int


class ResyncOut(BaseModel):
    registry: str
    changes: int
    tables: dict[str, Changes]
    counts: dict[str, int]
