"""From a registry file's data (already valid against its JSON Schema) to model values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from ..model import Location
from .model import (
    Channel,
    Consumer,
    Contract,
    ContractSource,
    Dependency,
    Guarantee,
    PrereleasePolicy,
    Settings,
    Team,
    Usage,
)

Locate = Callable[[tuple[str | int, ...]], Location]
"""The location of the element at a path in the file being built."""


def settings(data: Mapping[str, Any], locate: Locate) -> Settings:
    defaults = data.get("defaults", {})
    versioning = defaults.get("versioning", {})
    return Settings(
        rules_version=data.get("rules_version", 1),
        mode=defaults.get("compatibility", {}).get("mode"),
        versioning=versioning.get("policy", "auto"),
        prerelease=prerelease(versioning.get("prerelease", {})),
        guarantees=defaults.get("guarantees", {}).get("policy", "strict"),
        transitive_depth=data.get("impact", {}).get("transitive_depth", 3),
        location=locate(()),
    )


def prerelease(data: Mapping[str, Any]) -> PrereleasePolicy:
    return PrereleasePolicy(
        allowed=data.get("allowed", True),
        skip_acknowledgement=data.get("skip_acknowledgement", False),
    )


def team(data: Mapping[str, Any], locate: Locate) -> Team:
    return Team(
        id=data["id"],
        github_team=data["github_team"],
        name=data.get("name", ""),
        maintainers=tuple(data.get("maintainers", ())),
        channels=tuple(
            Channel(kind, target)
            for item in data.get("channels", ())
            for kind, target in item.items()
        ),
        location=locate(("id",)),
    )


def contract(data: Mapping[str, Any], locate: Locate) -> Contract:
    source = data["source"]
    paths = source.get("paths") or ([source["path"]] if "path" in source else [])
    compatibility = data.get("compatibility", {})
    versioning = data.get("versioning", {})
    guarantees = data.get("guarantees", {})
    return Contract(
        id=data["id"],
        owner=data["owner"],
        format=data["format"],
        source=ContractSource(source["repo"], tuple(paths), source.get("branch", "main")),
        mode=compatibility.get("mode"),
        versioning=versioning.get("policy"),
        prerelease=prerelease(versioning["prerelease"]) if "prerelease" in versioning else None,
        proto_level=compatibility.get("proto_level"),
        policy=compatibility.get("policy"),
        guarantee_policy=guarantees.get("policy"),
        guarantees=tuple(guarantee(item) for item in guarantees.get("declared", ())),
        tags=tuple(data.get("tags", ())),
        annotations=MappingProxyType(
            {element: tuple(tags) for element, tags in data.get("annotations", {}).items()}
        ),
        description=data.get("description", ""),
        location=locate(("id",)),
    )


def guarantee(data: Mapping[str, Any]) -> Guarantee:
    args = {key: value for key, value in data.items() if key not in ("kind", "element")}
    return Guarantee(data["kind"], data.get("element", ""), MappingProxyType(args))


def consumer(data: Mapping[str, Any], stem: str, locate: Locate) -> Consumer:
    return Consumer(
        id=data.get("id", stem),
        team=data["team"],
        service=data["service"],
        repo=data.get("repo", ""),
        dependencies=tuple(
            dependency(item, locate(("consumes", index)))
            for index, item in enumerate(data.get("consumes", ()))
        ),
        location=locate(("team",)),
    )


def dependency(data: Mapping[str, Any], location: Location) -> Dependency:
    uses = data.get("uses", {})
    return Dependency(
        contract=data["contract"],
        versions=data.get("versions", "*"),
        uses=Usage(
            operations=tuple(uses.get("operations", ())),
            fields=tuple(uses.get("fields", ())),
            messages=tuple(uses.get("messages", ())),
            columns=tuple(uses.get("columns", ())),
        ),
        republishes=tuple(data.get("republishes", ())),
        location=location,
    )
