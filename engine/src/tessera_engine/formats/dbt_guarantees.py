"""How one guarantee changed between two versions: what got looser (``relaxed``: values that
were impossible may now come through) and what got stricter (``tightened``).

Each function returns ``(relaxed, tightened)`` details, texts for the finding's message; a
change of a test's ``where`` filter to another filter cannot be ordered and is returned as
relaxed with ``undecided`` set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..catalog import show
from .dbt_model import Guarantee


@dataclass
class Delta:
    relaxed: list[str] = field(default_factory=list)
    tightened: list[str] = field(default_factory=list)
    undecided: bool = False


def compare_guarantee(old: Guarantee, new: Guarantee) -> Delta:
    delta = Delta()
    if old.kind == "accepted_values" and new.kind == "accepted_values":
        _values(old.args.get("values") or [], new.args.get("values") or [], delta)
    elif old.kind == "freshness":
        _freshness(old.args, new.args, delta)
    elif old.kind == "volume":
        _volume(old.args, new.args, delta)
    if not old.warn_only and new.warn_only:
        delta.relaxed.append("the test only warns now (severity warn)")
    elif old.warn_only and not new.warn_only:
        delta.tightened.append("the test fails the build now (severity error)")
    if old.where != new.where:
        if old.where is None:
            delta.relaxed.append(f"the test only checks rows where {new.where}")
        elif new.where is None:
            delta.tightened.append(f"the test checks every row (was: where {old.where})")
        else:
            delta.relaxed.append(f"the test's filter changed from {old.where} to {new.where}")
            delta.undecided = True
    return delta


def _values(old: list[Any], new: list[Any], delta: Delta) -> None:
    before, after = {_k(v): v for v in old}, {_k(v): v for v in new}
    added = [after[k] for k in after if k not in before]
    removed = [before[k] for k in before if k not in after]
    if added:
        delta.relaxed.append(f"accepts {show(added)} now")
    if removed:
        delta.tightened.append(f"no longer accepts {show(removed)}")


def _k(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, default=str)


def _freshness(old: Any, new: Any, delta: Delta) -> None:
    before, after = int(old.get("seconds", 0)), int(new.get("seconds", 0))
    if after > before:
        delta.relaxed.append(f"data may be {new.get('within')} old (was {old.get('within')})")
    elif after < before:
        delta.tightened.append(f"data is at most {new.get('within')} old (was {old.get('within')})")


def _volume(old: Any, new: Any, delta: Delta) -> None:
    for bound, looser_when_lower in (("min_rows", True), ("max_rows", False)):
        before, after = old.get(bound), new.get(bound)
        if before == after:
            continue
        if after is None:
            delta.relaxed.append(f"{bound} {before} dropped")
        elif before is None:
            delta.tightened.append(f"{bound} {after} added")
        elif (after < before) == looser_when_lower:
            delta.relaxed.append(f"{bound} {before} -> {after}")
        else:
            delta.tightened.append(f"{bound} {before} -> {after}")
