"""The values the engine produces: positions, effects, severities, findings and the diff result.

These are plain, immutable data. Everything that decides *what* they hold lives elsewhere
(``diff`` pairs and compares, ``catalog`` describes the rules, ``modes`` turns an effect and a
position into a severity, ``semver`` into a version bump).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Position(StrEnum):
    """Who reads an element. Inputs are read by the provider (request bodies, parameters),
    outputs by consumers (responses). ``both`` when an element is used both ways."""

    INPUT = "input"
    OUTPUT = "output"
    BOTH = "both"
    NONE = "none"  # structural elements (an operation, a status code) that are not values

    def merge(self, other: Position) -> Position:
        if self is other:
            return self
        if self is Position.NONE:
            return other
        if other is Position.NONE:
            return self
        return Position.BOTH

    def flipped(self) -> Position:
        if self is Position.INPUT:
            return Position.OUTPUT
        if self is Position.OUTPUT:
            return Position.INPUT
        return self


class Effect(StrEnum):
    """What a change does to the set of values a schema (or an API element) accepts."""

    WIDEN = "widen"  # old values stay valid, new ones appear (breaks readers of outputs)
    NARROW = "narrow"  # some old values become invalid (breaks writers of inputs)
    REPLACE = "replace"  # neither set contains the other
    IDENTITY = "identity"  # the element's identity changed or it vanished: unrelated to readers
    EXTENSION = "extension"  # something new that existing, tolerant users never see
    ANNOTATION = "annotation"  # no effect on validity (docs, titles, examples)

    def inverted(self) -> Effect:
        """The effect seen through a negation (``not``): widening becomes narrowing."""
        if self is Effect.WIDEN:
            return Effect.NARROW
        if self is Effect.NARROW:
            return Effect.WIDEN
        return self


class Severity(StrEnum):
    """How bad a finding is, in increasing order."""

    ANNOTATION = "annotation"
    SAFE = "safe"
    DANGEROUS = "dangerous"
    BREAKING = "breaking"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank


_SEVERITY_RANK = {
    Severity.ANNOTATION: 0,
    Severity.SAFE: 1,
    Severity.DANGEROUS: 2,
    Severity.BREAKING: 3,
}


class Bump(StrEnum):
    """The semantic-version increment a set of findings requires."""

    NONE = "none"
    PATCH = "patch"
    MINOR = "minor"
    MAJOR = "major"

    @property
    def rank(self) -> int:
        return _BUMP_RANK[self]

    @classmethod
    def highest(cls, bumps: list[Bump]) -> Bump:
        return max(bumps, key=lambda b: b.rank, default=cls.NONE)


_BUMP_RANK = {Bump.NONE: 0, Bump.PATCH: 1, Bump.MINOR: 2, Bump.MAJOR: 3}


@dataclass(frozen=True, slots=True)
class Location:
    """A position in a source file. ``line`` and ``column`` are 1-based."""

    file: str
    line: int
    column: int

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column}

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Finding:
    """One change between two versions of a contract, classified.

    ``path`` is for people (``GET /orders/{id} → 200 → body.email``), ``pointer`` is the JSON
    pointer of the element in the version where it exists (the new one, or the old one when it
    was removed), ``location`` points into the *new* file (for removed elements: the nearest
    surviving parent), so a pull-request annotation lands on a line that exists.
    """

    rule: str
    severity: Severity
    position: Position
    effect: Effect
    path: str
    pointer: str
    location: Location | None
    message: str
    fingerprint: str
    args: Mapping[str, Any] = field(default_factory=dict)
    operations: tuple[str, ...] = ()
    old_location: Location | None = None
    against: str | None = None
    promoted_from: Severity | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity.value,
            "position": self.position.value,
            "effect": self.effect.value,
            "path": self.path,
            "pointer": self.pointer,
            "location": self.location.to_dict() if self.location else None,
            "message": self.message,
            "fingerprint": self.fingerprint,
            "args": dict(self.args),
            "operations": list(self.operations),
        }
        if self.old_location:
            data["old_location"] = self.old_location.to_dict()
        if self.against:
            data["against"] = self.against
        if self.promoted_from:
            data["promoted_from"] = self.promoted_from.value
        return data


@dataclass(frozen=True, slots=True)
class VersionCheck:
    """The outcome of checking a proposed version number against the required bump."""

    current: str
    proposed: str
    required: Bump
    actual: Bump
    ok: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "proposed": self.proposed,
            "required": self.required.value,
            "actual": self.actual.value,
            "ok": self.ok,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class DiffResult:
    """Everything one ``diff`` produced. ``verdict`` is ``breaking`` when any finding is."""

    format: str
    mode: str
    policy: str
    old: tuple[str, ...]
    new: str
    findings: tuple[Finding, ...]
    bump: Bump
    version_check: VersionCheck | None = None

    @property
    def breaking(self) -> bool:
        return any(f.severity is Severity.BREAKING for f in self.findings)

    @property
    def verdict(self) -> str:
        return "breaking" if self.breaking else "compatible"

    @property
    def exit_code(self) -> int:
        return 1 if self.breaking else 0

    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Severity}
        for f in self.findings:
            counts[f.severity.value] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "verdict": self.verdict,
            "bump": self.bump.value,
            "format": self.format,
            "mode": self.mode,
            "policy": self.policy,
            "old": list(self.old) if len(self.old) > 1 else self.old[0],
            "new": self.new,
            "counts": self.counts(),
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.version_check:
            data["version_check"] = self.version_check.to_dict()
        return data


MAX_ARG_NESTING = 64
"""Deepest nesting of a document value kept in a finding's ``args`` (an enum member, a const):
deeper parts read ``…``. Documents nest up to ``limits.MAX_NESTING`` levels, more than JSON
encoders downstream accept (pydantic's stops at 255); the message and the fingerprint still
see the whole value."""


def bounded_args(args: dict[str, Any]) -> dict[str, Any]:
    """A finding's arguments as it carries them: values nested more than ``MAX_ARG_NESTING``
    levels deep are cut (JSON encoders and renderers recurse once per level); its message and
    fingerprint are made from the whole values."""
    return {key: _bounded(value, MAX_ARG_NESTING) for key, value in args.items()}


def _bounded(value: Any, depth: int) -> Any:
    """``value`` with what is nested more than ``depth`` levels deep replaced by ``"…"``."""
    if isinstance(value, dict):
        return {k: _bounded(v, depth - 1) for k, v in value.items()} if depth > 0 else "…"
    if isinstance(value, list):
        return [_bounded(v, depth - 1) for v in value] if depth > 0 else "…"
    return value
