"""Annotations: title, description, examples and deprecation. They never change which values
are valid; they are reported so the semver bump and the changelog are complete."""

from __future__ import annotations

from ..diff.core import Pair
from .shape import json_key


def check(pair: Pair) -> None:
    if not isinstance(pair.o.value, dict) or not isinstance(pair.n.value, dict):
        return
    o, n = pair.o, pair.n
    if o.get("title") != n.get("title") and (o.has("title") or n.has("title")):
        pair.emit(
            "meta.title.changed",
            old=o.kw("title"),
            new=n.kw("title"),
            lseg="|title",
            args={"old": o.get("title", "(none)"), "new": n.get("title", "(none)")},
        )
    if o.get("description") != n.get("description"):
        pair.emit(
            "meta.description.changed",
            old=o.kw("description"),
            new=n.kw("description"),
            lseg="|description",
            args={"keyword": "description"},
        )
    for keyword in ("example", "examples"):
        before, after = o.get(keyword), n.get(keyword)
        if before is not after and json_key(before) != json_key(after):
            pair.emit(
                "meta.example.changed",
                old=o.kw(keyword),
                new=n.kw(keyword),
                lseg=f"|{keyword}",
                args={"keyword": keyword},
            )
    was, now = o.get("deprecated") is True, n.get("deprecated") is True
    if was != now:
        rule = "lifecycle.deprecation.added" if now else "lifecycle.deprecation.removed"
        pair.emit(
            rule,
            old=o.kw("deprecated"),
            new=n.kw("deprecated") or n,
            lseg="|deprecated",
            args={"element": "schema", "note": ""},
        )
