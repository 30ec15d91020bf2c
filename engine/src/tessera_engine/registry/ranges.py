"""Version ranges as consumers write them, with npm's meaning.

    *  x  ""            any release
    1.2.3  =1.2.3       exactly that version
    1.x  1.2.*  1  1.2  every version with that prefix (an X-range)
    ^1.2.3  ^0.2  ^1    compatible: up to the next change of the first non-zero part
    ~1.2.3  ~1.2  ~1    patch updates (minor updates when only the major is given)
    >=1.0.0 <2.0.0      comparators separated by spaces all hold (partial versions allowed)
    1.2 - 2.3.4         an inclusive hyphen range
    A || B              either

Versions are parsed by ``semver`` (a leading ``v`` is accepted). As in npm, a pre-release
version (``2.0.0-rc.1``) is in a range only when a comparator of the same alternative names a
pre-release of the same ``major.minor.patch``: ``^2.0.0-rc.0`` admits ``2.0.0-rc.1``, ``^1.0``
does not admit ``1.5.0-beta``. Whether a consumer accepts pre-releases at all is the
contract's pre-release policy, not the range's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import semver

_OPERATOR = re.compile(r"(<=|>=|<|>|=|\^|~>?)\s*")
_PARTIAL = re.compile(
    r"^v?(?P<major>0|[1-9]\d*|[xX*])"
    r"(?:\.(?P<minor>0|[1-9]\d*|[xX*])"
    r"(?:\.(?P<patch>0|[1-9]\d*|[xX*])"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<build>[0-9A-Za-z.-]+))?)?)?$"
)
_WILD = ("x", "X", "*")


class RangeError(ValueError):
    """A version range that cannot be parsed; the message says why."""


@dataclass(frozen=True)
class Comparator:
    operator: str  # one of < <= > >= =
    version: semver.Version

    def test(self, version: semver.Version) -> bool:
        order = version.compare(self.version)
        if self.operator == "<":
            return order < 0
        if self.operator == "<=":
            return order <= 0
        if self.operator == ">":
            return order > 0
        if self.operator == ">=":
            return order >= 0
        return order == 0

    def __str__(self) -> str:
        return f"{self.operator}{self.version}"


@dataclass(frozen=True)
class Range:
    """A parsed range: any of ``alternatives`` holds when all its comparators hold."""

    text: str
    alternatives: tuple[tuple[Comparator, ...], ...]

    def contains(self, version: str | semver.Version) -> bool:
        """Whether ``version`` (a semver string or value) is in the range."""
        if isinstance(version, str):
            version = parse_version(version)
        return any(_holds(comparators, version) for comparators in self.alternatives)

    def __str__(self) -> str:
        return " || ".join(
            " ".join(str(c) for c in comparators) or "*" for comparators in self.alternatives
        )


def parse_version(text: str) -> semver.Version:
    """A full semver version (``1.2.3``, ``v2.0.0-rc.1``); ``RangeError`` otherwise."""
    try:
        return semver.Version.parse(text.strip().removeprefix("v"))
    except (ValueError, TypeError):
        raise RangeError(f"{text!r} is not a semantic version (major.minor.patch)") from None


def parse_range(text: str) -> Range:
    """The range ``text`` means; ``RangeError`` with the reason when it means nothing."""
    if not isinstance(text, str):
        raise RangeError(f"a version range must be a string, not {type(text).__name__}")
    alternatives = tuple(_alternative(part.strip(), text) for part in text.split("||"))
    return Range(text, alternatives)


def _holds(comparators: tuple[Comparator, ...], version: semver.Version) -> bool:
    if not all(c.test(version) for c in comparators):
        return False
    if not version.prerelease:
        return True
    core = (version.major, version.minor, version.patch)
    return any(
        c.version.prerelease and (c.version.major, c.version.minor, c.version.patch) == core
        for c in comparators
    )


def _alternative(part: str, whole: str) -> tuple[Comparator, ...]:
    if not part:
        if whole.strip():
            raise RangeError(f"empty alternative in {whole!r}")
        return ()
    hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", part)
    if hyphen:
        low, high = _partial(hyphen.group(1)), _partial(hyphen.group(2))
        return (*_at_least(low), *_at_most(high))
    tokens = _OPERATOR.sub(lambda m: m.group(1), part).split()
    comparators: list[Comparator] = []
    for token in tokens:
        comparators.extend(_token(token))
    return tuple(comparators)


Partial = tuple[int | None, int | None, int | None, str | None]


def _partial(text: str) -> Partial:
    match = _PARTIAL.match(text)
    if match is None:
        raise RangeError(f"{text!r} is not a version or version range")
    parts: list[int | None] = []
    for name in ("major", "minor", "patch"):
        value = match.group(name)
        if value is None or value in _WILD or (parts and parts[-1] is None):
            parts.append(None)
        else:
            parts.append(int(value))
    pre = match.group("pre") if parts[2] is not None else None
    return parts[0], parts[1], parts[2], pre


def _version(major: int, minor: int, patch: int, pre: str | None = None) -> semver.Version:
    return semver.Version(major, minor, patch, pre)


def _token(token: str) -> list[Comparator]:
    match = _OPERATOR.match(token)
    operator = match.group(1) if match else ""
    version = _partial(token[len(operator) :])
    if operator == "^":
        return _caret(version)
    if operator in ("~", "~>"):
        return _tilde(version)
    if operator in ("", "="):
        return _x_range(version)
    if operator == ">=":
        return _at_least(version)
    if operator == "<=":
        return _at_most(version)
    if operator == ">":
        return _above(version)
    return _below(version)


def _x_range(v: Partial) -> list[Comparator]:
    major, minor, patch, pre = v
    if major is None:
        return []
    if minor is None:
        return [Comparator(">=", _version(major, 0, 0)), Comparator("<", _version(major + 1, 0, 0))]
    if patch is None:
        return [
            Comparator(">=", _version(major, minor, 0)),
            Comparator("<", _version(major, minor + 1, 0)),
        ]
    return [Comparator("=", _version(major, minor, patch, pre))]


def _caret(v: Partial) -> list[Comparator]:
    major, minor, patch, pre = v
    if major is None:
        return []
    low = _version(major, minor or 0, patch or 0, pre)
    if major > 0 or minor is None:
        high = _version(major + 1, 0, 0)
    elif minor > 0 or patch is None:
        high = _version(0, minor + 1, 0)
    else:
        high = _version(0, 0, patch + 1)
    return [Comparator(">=", low), Comparator("<", high)]


def _tilde(v: Partial) -> list[Comparator]:
    major, minor, patch, pre = v
    if major is None:
        return []
    low = _version(major, minor or 0, patch or 0, pre)
    high = _version(major + 1, 0, 0) if minor is None else _version(major, minor + 1, 0)
    return [Comparator(">=", low), Comparator("<", high)]


def _at_least(v: Partial) -> list[Comparator]:
    major, minor, patch, pre = v
    if major is None:
        return []
    return [Comparator(">=", _version(major, minor or 0, patch or 0, pre))]


def _at_most(v: Partial) -> list[Comparator]:
    major, minor, patch, pre = v
    if major is None:
        return []
    if minor is None:
        return [Comparator("<", _version(major + 1, 0, 0))]
    if patch is None:
        return [Comparator("<", _version(major, minor + 1, 0))]
    return [Comparator("<=", _version(major, minor, patch, pre))]


def _above(v: Partial) -> list[Comparator]:
    major, minor, patch, pre = v
    if major is None:
        return [Comparator("<", _version(0, 0, 0))]  # ">*": nothing is above everything
    if minor is None:
        return [Comparator(">=", _version(major + 1, 0, 0))]
    if patch is None:
        return [Comparator(">=", _version(major, minor + 1, 0))]
    return [Comparator(">", _version(major, minor, patch, pre))]


def _below(v: Partial) -> list[Comparator]:
    major, minor, patch, pre = v
    if major is None:
        return [Comparator("<", _version(0, 0, 0))]  # "<*": nothing
    return [Comparator("<", _version(major, minor or 0, patch or 0, pre))]
