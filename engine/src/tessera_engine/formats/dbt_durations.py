"""Freshness windows: ``24h`` in ``meta.tessera``, ``{count: 12, period: hour}`` in a dbt
source's ``freshness``, both as seconds so two windows compare."""

from __future__ import annotations

import re
from typing import Any

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PERIODS = {"minute": 60, "hour": 3600, "day": 86400}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def parse_duration(text: Any) -> int | None:
    """Seconds in ``30m``, ``24h``, ``7d``, ``1w`` (``s`` for seconds); None if not one."""
    if not isinstance(text, str):
        return None
    found = _DURATION.match(text.lower())
    if found is None:
        return None
    return int(found.group(1)) * _UNITS[found.group(2)]


class NotAWindow(ValueError):
    """A freshness setting of the wrong type. ``at`` is where, below ``freshness``
    (``error_after/period``), and ``message`` what was expected there."""

    def __init__(self, at: str, message: str) -> None:
        super().__init__(message)
        self.at = at
        self.message = message


def freshness_window(freshness: Any) -> tuple[int, str] | None:
    """The window after which a source counts as stale: ``error_after`` (what fails a run),
    else ``warn_after``; None when neither is set. Raises ``NotAWindow`` when a threshold,
    its count or its period is of the wrong type (dbt writes nulls for unset ones)."""
    if freshness is None:
        return None
    if not isinstance(freshness, dict):
        raise NotAWindow("", f"freshness must be a mapping, not {kind_of(freshness)}")
    windows = [_window(freshness, threshold) for threshold in ("error_after", "warn_after")]
    return next((window for window in windows if window is not None), None)


def _window(freshness: dict[str, Any], threshold: str) -> tuple[int, str] | None:
    after = freshness.get(threshold)
    if after is None:
        return None
    if not isinstance(after, dict):
        raise NotAWindow(
            threshold, f"freshness.{threshold} must be a mapping, not {kind_of(after)}"
        )
    count, period = after.get("count"), after.get("period")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
        raise NotAWindow(
            f"{threshold}/count",
            f"freshness.{threshold}.count must be a whole number, not {kind_of(count)}",
        )
    if period is not None and not isinstance(period, str):
        raise NotAWindow(
            f"{threshold}/period",
            f"freshness.{threshold}.period must be minute, hour or day, not {kind_of(period)}",
        )
    if count is None or period not in _PERIODS:
        return None
    return count * _PERIODS[period], f"{count} {period}{'s' if count != 1 else ''}"


def kind_of(value: Any) -> str:
    """How a JSON value's type reads in a message: ``a list``, ``a number``."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else "null"
