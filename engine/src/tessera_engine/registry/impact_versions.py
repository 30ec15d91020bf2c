"""The current and proposed versions of a change, per the contract's versioning policy, and
whether a consumer's declared range admits the proposed one.

    auto     the proposed version is the next one the findings require; a version the producer
             gives is refused (the registry, not the producer, decides)
    suggest  the producer's version when given (the diff then checks the bump), else the
             suggestion
    enforce  the producer's version, checked by the diff (an insufficient bump breaks)

The current version is the latest published one (given by the caller, who reads it from the
registry's published versions).
"""

from __future__ import annotations

from functools import lru_cache

import semver

from ..errors import UsageError
from ..model import Bump
from ..semver import next_version, parse
from .impact_result import VersionInfo
from .model import Contract, PrereleasePolicy
from .ranges import Range, RangeError, parse_range, parse_version


def checked_versions(
    contract: Contract, versioning: str, current: str | None, proposed: str | None
) -> tuple[str | None, str | None]:
    """The (current, proposed) pair the diff should check the bump of, before diffing."""
    if proposed is not None and versioning == "auto":
        raise UsageError(
            f"contract {contract.id} is versioned automatically (versioning: auto): the "
            "registry picks the next version, so a proposed version cannot be given"
        )
    if current is not None:
        parse(current)
    if proposed is not None:
        parse(proposed)
        if current is None:
            raise UsageError("a proposed version needs the current one (--current-version)")
    return (current, proposed) if proposed is not None else (None, None)


def version_info(
    contract: Contract,
    versioning: str,
    policy: PrereleasePolicy,
    current: str | None,
    proposed: str | None,
    bump: Bump,
) -> VersionInfo:
    if proposed is not None:
        origin = "given by the producer, checked against the required bump"
    elif current is None:
        origin = "unknown: no published version to start from"
    elif versioning == "enforce":
        origin = "unknown: versioning is enforce, so the producer must give it"
    else:
        proposed = next_version(current, bump)
        origin = f"the next {bump.value} version ({versioning})" if bump is not Bump.NONE else ""
        origin = origin or "unchanged: no change needs a new version"
    prerelease = proposed is not None and bool(parse(proposed).prerelease)
    if prerelease and not policy.allowed:
        raise UsageError(
            f"contract {contract.id} does not allow pre-release versions "
            f"(prerelease.allowed is false), so {proposed} cannot be proposed"
        )
    return VersionInfo(versioning, current, proposed, prerelease, origin)


def in_range(versions: str, proposed: str | None) -> bool | None:
    """Whether ``proposed`` is in the declared range; ``None`` when either is unknown or the
    range does not parse (registry validation reports that)."""
    if proposed is None:
        return None
    declared = _range(versions)
    return None if declared is None else declared.contains(_version(proposed))


@lru_cache(maxsize=4096)
def _range(text: str) -> Range | None:
    try:
        return parse_range(text)
    except RangeError:
        return None


@lru_cache(maxsize=64)
def _version(text: str) -> semver.Version:
    return parse_version(text)
