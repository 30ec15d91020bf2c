"""Request bodies and media types (request and response content)."""

from __future__ import annotations

from ..diff.core import Differ, Scope
from ..diff.pairing import paired
from ..formats.api_model import MediaType, Operation
from ..model import Effect, Position
from . import api_annotations

_JSON = ("application/json", "*/*")


def request(
    differ: Differ, root: Scope, old: Operation, new: Operation, position: Position
) -> None:
    o, n = old.body, new.body
    if o is None:
        if n is None:
            return
        differ.emit(
            root,
            "api.request-body.added",
            new=n.node,
            seg=" → body",
            lseg="|body",
            args={"required_word": "required" if n.required else "optional"},
            effect=Effect.NARROW if n.required else Effect.EXTENSION,
            position=position,
        )
        return
    if n is None:
        differ.emit(
            root,
            "api.request-body.removed",
            old=o.node,
            seg=" → body",
            lseg="|body",
            position=position,
        )
        return
    if differ.same(o.node, n.node):
        return
    scope = differ.scope(root, " → body", "|body", o.node, n.node, position)
    if o.required != n.required:
        rule = (
            "api.request-body.required-added" if n.required else "api.request-body.required-removed"
        )
        differ.emit(scope, rule, old=o.node.kw("required"), new=n.node.kw("required") or n.node)
    api_annotations.compare(differ, scope, o.node, n.node)
    content(differ, scope, o.content, n.content, position)


def content(
    differ: Differ,
    scope: Scope,
    old: dict[str, MediaType],
    new: dict[str, MediaType],
    position: Position,
) -> None:
    """Compare media types by name and the schemas of those in both."""
    several = len(new) > 1 or len(old) > 1
    for name, o, n in paired(old, new):
        if n is None:
            if o is not None:
                differ.emit(
                    scope,
                    "api.media-type.removed",
                    old=o.node,
                    lseg=f"|{name}",
                    args={"media_type": o.name},
                )
        elif o is None:
            differ.emit(
                scope,
                "api.media-type.added",
                new=n.node,
                lseg=f"|{name}",
                args={"media_type": n.name},
            )
        elif o.schema is not None and n.schema is not None:
            seg = f" ({n.name})" if several and name not in _JSON else ""
            differ.schema(scope, seg, f"|{name}", o.schema, n.schema, position)
            api_annotations.compare(differ, scope, o.node, n.node, f"|{name}")
        elif o.schema is not None or n.schema is not None:
            rule = "schema.subschema.added" if n.schema is not None else "schema.subschema.removed"
            differ.emit(
                scope,
                rule,
                old=o.schema,
                new=n.schema or n.node,
                lseg=f"|{name}",
                args={"keyword": f"schema of {n.name}"},
            )
