"""Semantic versions: which bump a set of findings needs, and whether a proposed version has it.

Pre-releases are handled as semver says (item 9): a pre-release makes no compatibility promise,
so moving between pre-releases of the same version, or from a pre-release to its release, is
never reported as insufficient. Major version zero is treated like Cargo and npm do: anything
may change, so the minor number plays the role of the major one (0.3 -> 0.4 may break), and
in 0.0.z every patch may break (0.0.3 -> 0.0.4).
"""

from __future__ import annotations

import semver as _semver

from .errors import UsageError
from .model import Bump, VersionCheck


def parse(text: str) -> _semver.Version:
    candidate = text.strip().removeprefix("v")
    try:
        return _semver.Version.parse(candidate)
    except ValueError:
        raise UsageError(
            f"{text!r} is not a semantic version (expected MAJOR.MINOR.PATCH, e.g. 1.4.0)"
        ) from None


def next_version(current: str, bump: Bump) -> str:
    """The smallest version after ``current`` that carries ``bump``."""
    version = parse(current)
    if bump is Bump.NONE:
        return str(version)
    if version.major == 0 and bump is Bump.MAJOR:
        bump = Bump.PATCH if version.minor == 0 else Bump.MINOR
    if version.prerelease:
        return str(version.finalize_version())
    return str(version.next_version(part=bump.value))


def actual_bump(current: _semver.Version, proposed: _semver.Version) -> Bump:
    if proposed.major != current.major:
        return Bump.MAJOR
    if proposed.minor != current.minor:
        return Bump.MINOR
    if proposed.patch != current.patch:
        return Bump.PATCH
    return Bump.NONE


def check(current_text: str, proposed_text: str, required: Bump) -> VersionCheck:
    current, proposed = parse(current_text), parse(proposed_text)
    actual = actual_bump(current, proposed) if proposed.compare(current) > 0 else Bump.NONE
    effective = required
    if current.major == 0 and required is Bump.MAJOR:
        # 0.y.z: the minor number signals breaking changes, and in 0.0.z every patch does
        effective = Bump.PATCH if current.minor == 0 else Bump.MINOR

    def result(ok: bool, reason: str) -> VersionCheck:
        return VersionCheck(
            current=str(current),
            proposed=str(proposed),
            required=required,
            actual=actual,
            ok=ok,
            reason=reason,
        )

    if proposed.compare(current) <= 0:
        if required is Bump.NONE and proposed.compare(current) == 0:
            return result(True, "no changes and the version is unchanged")
        return result(False, f"proposed version {proposed} is not greater than {current}")
    if current.prerelease and proposed.finalize_version() == current.finalize_version():
        return result(True, f"{current} is a pre-release: no compatibility promise to keep")
    if proposed.prerelease and actual.rank >= effective.rank:
        return result(True, f"{proposed} is a pre-release of a {actual.value} version")
    if actual.rank >= effective.rank:
        return result(True, f"{actual.value} bump covers the required {required.value} bump")
    needed = next_version(str(current), required)
    return result(
        False,
        f"the changes need a {required.value} bump ({current} -> {needed} "
        f"or later), but {proposed} is a {actual.value} bump",
    )
