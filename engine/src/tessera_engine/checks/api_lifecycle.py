"""Deprecation, sunset dates (``x-sunset``) and stability levels (``x-stability-level``) of
operations and parameters."""

from __future__ import annotations

from datetime import date, datetime

from ..diff.core import Differ, Scope
from ..diff.nodes import Node
from ..model import Position

STABILITY = ("draft", "alpha", "beta", "stable")


def sunset(node: Node) -> tuple[str | None, date | None]:
    """The raw x-sunset value and the date it names (None when absent or unreadable)."""
    raw = node.get("x-sunset")
    if raw is None:
        return None, None
    text = str(raw).strip()
    for parse in (date.fromisoformat, lambda t: datetime.fromisoformat(t).date()):
        try:
            return text, parse(text)
        except ValueError:
            continue
    return text, None


def today(differ: Differ) -> date:
    return differ.options.today or date.today()


def compare(differ: Differ, scope: Scope, old: Node, new: Node, element: str) -> None:
    """Lifecycle changes of an element present in both versions."""
    was, now = old.get("deprecated") is True, new.get("deprecated") is True
    o_raw, _ = sunset(old)
    n_raw, n_date = sunset(new)
    if was != now:
        rule = "lifecycle.deprecation.added" if now else "lifecycle.deprecation.removed"
        note = f", sunset {n_raw}" if now and n_raw else ""
        differ.emit(
            scope,
            rule,
            old=old.kw("deprecated"),
            new=new.kw("deprecated") or new,
            lseg="|deprecated",
            args={"element": element, "note": note},
        )
    if o_raw != n_raw:
        if n_raw is not None and n_date is None:
            differ.emit(
                scope,
                "lifecycle.sunset.invalid",
                new=new.kw("x-sunset"),
                lseg="|x-sunset",
                args={"value": n_raw},
            )
        elif o_raw is not None and sunset(old)[1] is None:
            differ.emit(
                scope,
                "lifecycle.sunset.invalid",
                old=old.kw("x-sunset"),
                new=new,
                lseg="|x-sunset",
                args={"value": f"{o_raw} (in the old version)"},
            )
        elif n_raw is None and now:
            differ.emit(
                scope,
                "lifecycle.sunset.removed",
                old=old.kw("x-sunset"),
                new=new,
                lseg="|x-sunset",
                args={"element": element, "old": o_raw},
            )
    _stability(differ, scope, old, new)


def _stability(differ: Differ, scope: Scope, old: Node, new: Node) -> None:
    o_level, n_level = old.get("x-stability-level"), new.get("x-stability-level")
    if o_level == n_level:
        return
    for level, _node, side in ((n_level, new, "new"), (o_level, old, "old")):
        if level is not None and level not in STABILITY:
            value = f"{level!r}" + (" (in the old version)" if side == "old" else "")
            differ.emit(
                scope,
                "lifecycle.stability.invalid",
                new=new.kw("x-stability-level") or new,
                lseg="|x-stability-level",
                args={"value": value},
            )
            return
    if (
        o_level is not None
        and n_level is not None
        and STABILITY.index(n_level) < STABILITY.index(o_level)
    ):
        differ.emit(
            scope,
            "lifecycle.stability.decreased",
            new=new.kw("x-stability-level"),
            lseg="|x-stability-level",
            args={"old": o_level, "new": n_level},
        )


def removed_early(
    differ: Differ, scope: Scope, old: Node, element: str, seg: str, position: Position
) -> None:
    """An element removed while deprecated with a sunset date still in the future, or with an
    unreadable one: the deprecation promised it would stay until then."""
    if old.get("deprecated") is not True:
        return
    raw, when = sunset(old)
    if raw is None:
        return
    if when is None:
        differ.emit(
            scope,
            "lifecycle.sunset.invalid",
            old=old.kw("x-sunset"),
            seg=seg,
            lseg=seg + "|x-sunset",
            args={"value": f"{raw} (in the old version)"},
            position=position,
        )
    elif when > today(differ):
        differ.emit(
            scope,
            "lifecycle.sunset.not-reached",
            old=old,
            seg=seg,
            position=position,
            args={"element": element, "sunset": raw},
        )
