"""Comparing two API models: operations, and what is shared by all of them (servers,
security schemes). Each operation that changed becomes a root scope named after it, so every
finding below it knows which operation it concerns."""

from __future__ import annotations

from ..diff.core import Differ, Scope
from ..diff.nodes import Node
from ..diff.pairing import paired
from ..formats.api_model import ApiModel, Operation
from ..model import Position
from . import (
    api_annotations,
    api_bodies,
    api_lifecycle,
    api_parameters,
    api_responses,
    api_security,
)


def compare_api(differ: Differ, old: ApiModel, new: ApiModel) -> None:
    _servers(differ, old, new)
    api_security.schemes(differ, old, new)
    serving = _path_items_by_template(new)
    for _, o, n in paired(old.operations, new.operations):
        if n is None:
            if o is not None:
                _removed(differ, o, new, serving)
        elif o is None:
            root = differ.root(n.label, n.key, None, n.node, Position.NONE, operation=n.label)
            differ.emit(root, "api.operation.added", new=n.node, args={"operation": n.label})
        else:
            _operation(differ, o, n)


def _removed(differ: Differ, old: Operation, new: ApiModel, serving: dict[str, Node]) -> None:
    anchor = serving.get(_template(old)) or new.root.kw("paths") or new.root
    root = differ.root(old.label, old.key, old.node, anchor, Position.NONE, operation=old.label)
    note = ""
    if old.node.get("deprecated") is True:
        raw, _ = api_lifecycle.sunset(old.node)
        note = f" (it was deprecated{', sunset ' + raw if raw else ''})"
    differ.emit(
        root, "api.operation.removed", old=old.node, args={"operation": old.label, "note": note}
    )


def _path_items_by_template(model: ApiModel) -> dict[str, Node]:
    """Where a removed operation's annotation goes in the new file: the path item that still
    serves its path template (other methods, or the same path with renamed parameters); the
    first one for each template. Without one, it goes to ``paths``, else the top."""
    found: dict[str, Node] = {}
    for operation in model.operations.values():
        if operation.path_item is not None:
            found.setdefault(_template(operation), operation.path_item)
    return found


def _template(operation: Operation) -> str:
    return operation.key.split(" ", 1)[-1]


def _operation(differ: Differ, old: Operation, new: Operation) -> None:
    if len(old.parts) == len(new.parts) and all(
        differ.same(a, b) for a, b in zip(old.parts, new.parts, strict=True)
    ):
        return
    root = differ.root(new.label, new.key, old.node, new.node, Position.NONE, operation=new.label)
    api_lifecycle.compare(differ, root, old.node, new.node, "operation")
    _meta(differ, root, old, new)
    api_parameters.compare(differ, root, old, new, new.request_position)
    api_bodies.request(differ, root, old, new, new.request_position)
    api_responses.compare(differ, root, old, new, new.response_position)
    api_security.compare(differ, root, old, new, new.request_position)


def _meta(differ: Differ, root: Scope, old: Operation, new: Operation) -> None:
    o, n = old.node, new.node
    if o.get("operationId") != n.get("operationId"):
        differ.emit(
            root,
            "api.operation.id-changed",
            old=o.kw("operationId"),
            new=n.kw("operationId") or n,
            lseg="|operationId",
            args={"old": o.get("operationId", "(none)"), "new": n.get("operationId", "(none)")},
        )
    api_annotations.compare(differ, root, o, n)
    o_tags, n_tags = o.get("tags") or [], n.get("tags") or []
    if (
        isinstance(o_tags, list)
        and isinstance(n_tags, list)
        and sorted(map(str, o_tags)) != sorted(map(str, n_tags))
    ):
        differ.emit(
            root,
            "meta.tags.changed",
            old=o.kw("tags"),
            new=n.kw("tags") or n,
            lseg="|tags",
            args={"old": o_tags or "(none)", "new": n_tags or "(none)"},
        )


def _servers(differ: Differ, old: ApiModel, new: ApiModel) -> None:
    if old.servers.keys() == new.servers.keys():
        return
    root = differ.root(
        "servers",
        "servers",
        old.root.kw("servers"),
        new.root.kw("servers") or new.root,
        Position.NONE,
    )
    for url in old.servers.keys() - new.servers.keys():
        differ.emit(
            root, "api.server.removed", old=old.servers[url], lseg=f"|{url}", args={"url": url}
        )
    for url in new.servers.keys() - old.servers.keys():
        differ.emit(
            root, "api.server.added", new=new.servers[url], lseg=f"|{url}", args={"url": url}
        )
