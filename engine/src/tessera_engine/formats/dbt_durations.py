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


def freshness_window(freshness: Any) -> tuple[int, str] | None:
    """The window after which a source counts as stale: ``error_after`` (what fails a run),
    else ``warn_after``; None when neither is set."""
    if not isinstance(freshness, dict):
        return None
    for threshold in ("error_after", "warn_after"):
        after = freshness.get(threshold)
        if not isinstance(after, dict):
            continue
        count, period = after.get("count"), after.get("period")
        if isinstance(count, int) and not isinstance(count, bool) and period in _PERIODS:
            return count * _PERIODS[period], f"{count} {period}{'s' if count != 1 else ''}"
    return None
