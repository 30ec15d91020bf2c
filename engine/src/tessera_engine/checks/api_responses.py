"""Responses: status codes, their headers and content."""

from __future__ import annotations

from ..diff.core import Differ, Scope
from ..diff.pairing import paired
from ..formats.api_model import Header, Operation, Response
from ..model import Effect, Position
from . import api_annotations, api_bodies


def compare(
    differ: Differ, root: Scope, old: Operation, new: Operation, position: Position
) -> None:
    for status, o, n in paired(old.responses, new.responses):
        seg = f" → {status}"
        if n is None:
            if o is not None:
                differ.emit(
                    root,
                    "api.response.removed",
                    old=o.node,
                    seg=seg,
                    lseg=f"|{status}",
                    args={"status": status},
                    position=position,
                    effect=Effect.IDENTITY if o.success else Effect.ANNOTATION,
                )
        elif o is None:
            differ.emit(
                root,
                "api.response.added",
                new=n.node,
                seg=seg,
                lseg=f"|{status}",
                args={"status": status},
                position=position,
            )
        else:
            _pair(differ, root, o, n, position)


def _pair(differ: Differ, root: Scope, old: Response, new: Response, position: Position) -> None:
    if differ.same(old.node, new.node):
        return
    scope = differ.scope(root, f" → {new.status}", f"|{new.status}", old.node, new.node, position)
    api_annotations.compare(differ, scope, old.node, new.node)
    for _, o_header, n_header in paired(old.headers, new.headers):
        _header(differ, scope, o_header, n_header, position)
    body = differ.scope(scope, " → body", "|body", old.node, new.node, position)
    api_bodies.content(differ, body, old.content, new.content, position)


def _header(
    differ: Differ, scope: Scope, old: Header | None, new: Header | None, position: Position
) -> None:
    if new is None:
        if old is not None:
            differ.emit(
                scope,
                "api.response-header.removed",
                old=old.node,
                seg=f" → header {old.name}",
                lseg=f"|header:{old.name.lower()}",
                args={"name": old.name, "required_word": _required_word(old.required)},
                dangerous=not old.required,
            )
        return
    seg, lseg = f" → header {new.name}", f"|header:{new.name.lower()}"
    if old is None:
        differ.emit(
            scope,
            "api.response-header.added",
            new=new.node,
            seg=seg,
            lseg=lseg,
            args={"name": new.name, "required_word": _required_word(new.required)},
            effect=Effect.NARROW if new.required else Effect.EXTENSION,
        )
        return
    if differ.same(old.node, new.node):
        return
    child = differ.scope(scope, seg, lseg, old.node, new.node, position)
    if old.required != new.required:
        rule = (
            "api.response-header.required-added"
            if new.required
            else "api.response-header.required-removed"
        )
        differ.emit(
            child,
            rule,
            old=old.node.kw("required"),
            new=new.node.kw("required") or new.node,
            args={"name": new.name},
        )
    if old.schema is not None and new.schema is not None:
        differ.schema(child, "", "", old.schema, new.schema, position)
    api_annotations.compare(differ, child, old.node, new.node)


def _required_word(required: bool) -> str:
    return "required" if required else "optional"
