"""Annotations on API objects (operations, parameters, bodies, media types, responses,
headers): descriptions, summaries and examples. They never break anyone; they are reported so
the changelog and the semver bump (a patch) are complete."""

from __future__ import annotations

from ..diff.core import Differ, Scope
from ..diff.nodes import Node
from .shape import json_key

_TEXT = ("summary", "description")
_EXAMPLES = ("example", "examples")


def compare(differ: Differ, scope: Scope, old: Node, new: Node, lseg: str = "") -> None:
    for keyword in _TEXT:
        if old.get(keyword) != new.get(keyword):
            differ.emit(
                scope,
                "meta.description.changed",
                old=old.kw(keyword),
                new=new.kw(keyword) or new,
                lseg=f"{lseg}|{keyword}",
                args={"keyword": keyword},
            )
    for keyword in _EXAMPLES:
        before, after = old.get(keyword), new.get(keyword)
        if before is not after and json_key(before) != json_key(after):
            differ.emit(
                scope,
                "meta.example.changed",
                old=old.kw(keyword),
                new=new.kw(keyword) or new,
                lseg=f"{lseg}|{keyword}",
                args={"keyword": keyword},
            )
