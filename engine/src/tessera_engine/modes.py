"""Compatibility modes, and how an effect at a position becomes a severity.

A mode says which direction of compatibility is required:

- ``auto`` (the API default): per position. Inputs (read by the provider: request bodies,
  parameters) must stay *backward* compatible, outputs (read by consumers: responses) *forward*
  compatible, elements used both ways both.
- ``backward``: the new version reads everything written under the old one. Every element is
  judged as an input. (Confluent's BACKWARD: consumers upgrade first.)
- ``forward``: the old version reads everything written under the new one. Every element is
  judged as an output. (Producers upgrade first.)
- ``full``: both.
- ``none``: nothing is breaking; changes are still listed.
- ``*_transitive``: the same check against every older version given, not only the latest.

The severity of a finding follows from its effect on the set of valid values: on an input,
narrowing, replacing or removing breaks writers; on an output, widening, replacing or removing
breaks readers. A rule may override that per position (say, an enum value added to an output is
only *dangerous*).
"""

from __future__ import annotations

from enum import StrEnum

from .catalog import Rule
from .errors import UsageError
from .model import Bump, Effect, Position, Severity


class Mode(StrEnum):
    AUTO = "auto"
    BACKWARD = "backward"
    FORWARD = "forward"
    FULL = "full"
    NONE = "none"
    BACKWARD_TRANSITIVE = "backward_transitive"
    FORWARD_TRANSITIVE = "forward_transitive"
    FULL_TRANSITIVE = "full_transitive"

    @classmethod
    def parse(cls, text: str) -> Mode:
        try:
            return cls(text.strip().lower().replace("-", "_"))
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise UsageError(f"unknown mode {text!r} (choose from {choices})") from None

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_transitive")

    @property
    def base(self) -> Mode:
        return Mode(self.value.removesuffix("_transitive"))


def effective_position(mode: Mode, position: Position) -> Position:
    """The position an element is judged at under ``mode``."""
    if position is Position.NONE:
        return position
    base = mode.base
    if base is Mode.BACKWARD:
        return Position.INPUT
    if base is Mode.FORWARD:
        return Position.OUTPUT
    if base is Mode.FULL:
        return Position.BOTH
    return position


_BREAKS_WRITERS = {Effect.NARROW, Effect.REPLACE, Effect.IDENTITY}
_BREAKS_READERS = {Effect.WIDEN, Effect.REPLACE, Effect.IDENTITY}


def _derived(effect: Effect, position: Position) -> Severity:
    if effect is Effect.ANNOTATION:
        return Severity.ANNOTATION
    if position is Position.INPUT:
        breaks = effect in _BREAKS_WRITERS
    elif position is Position.OUTPUT:
        breaks = effect in _BREAKS_READERS
    elif position is Position.BOTH:
        breaks = effect in _BREAKS_WRITERS | _BREAKS_READERS
    else:  # structural elements: losing or replacing them breaks
        breaks = effect in (Effect.IDENTITY, Effect.REPLACE)
    return Severity.BREAKING if breaks else Severity.SAFE


def _at(rule: Rule, effect: Effect, position: Position) -> Severity:
    """A rule's severity overrides describe its own effect (or, for a conditional rule, all
    of them); a check that chose another effect for one finding gets the derived severity."""
    override = rule.severity.get(position)
    if override is not None and (rule.effect is None or effect is rule.effect):
        return override
    return _derived(effect, position)


def severity(
    rule: Rule, effect: Effect, position: Position, mode: Mode, *, dangerous: bool = False
) -> Severity:
    """The severity of a finding of ``rule`` with ``effect`` at ``position`` under ``mode``.

    ``dangerous`` marks a finding the check could not decide (an optional header removed):
    it caps the severity at dangerous.
    """
    where = effective_position(mode, position)
    if where is Position.BOTH and Position.BOTH not in rule.severity:
        result = max(_at(rule, effect, Position.INPUT), _at(rule, effect, Position.OUTPUT))
    else:
        result = _at(rule, effect, where)
    if dangerous and result is Severity.BREAKING:
        result = Severity.DANGEROUS
    if mode.base is Mode.NONE and result > Severity.SAFE:
        result = Severity.SAFE
    return result


def bump(rule: Rule, severity: Severity) -> Bump:
    """The semver bump one finding asks for."""
    if severity is Severity.BREAKING:
        return Bump.MAJOR
    if severity is Severity.DANGEROUS:
        return Bump.MINOR
    if rule.bump is not None:
        return rule.bump
    return Bump.PATCH if severity is Severity.ANNOTATION else Bump.MINOR
