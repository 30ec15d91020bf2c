"""Parameters: matched by location and name (path parameters by their place in the path
template, so a rename is not a removal), then compared: presence, requiredness,
serialization, schema, lifecycle."""

from __future__ import annotations

from ..catalog import show
from ..diff.core import Differ, Scope
from ..diff.pairing import paired
from ..formats.api_model import Operation, Parameter
from ..model import Effect, Position
from . import api_annotations, api_lifecycle


def compare(
    differ: Differ, root: Scope, old: Operation, new: Operation, position: Position
) -> None:
    for key, o, n in paired(old.parameters, new.parameters):
        if o is not None and n is not None:
            _pair(differ, root, o, n, position)
        elif n is not None:
            args = {
                "name": n.name,
                "location": n.location,
                "required_word": "required" if n.required else "optional",
            }
            differ.emit(
                root,
                "api.parameter.added",
                new=n.node,
                seg=f" → {_label(n)}",
                lseg=f"|{key}",
                args=args,
                position=position,
                effect=Effect.NARROW if n.required else Effect.EXTENSION,
            )
        elif o is not None:
            seg = f" → {_label(o)}"
            differ.emit(
                root,
                "api.parameter.removed",
                old=o.node,
                seg=seg,
                lseg=f"|{key}",
                args={"name": o.name, "location": o.location},
                position=position,
            )
            api_lifecycle.removed_early(
                differ, root, o.node, f"{o.location} parameter '{o.name}'", seg, position
            )


def _label(parameter: Parameter) -> str:
    return f"{parameter.location}.{parameter.name}"


def _pair(differ: Differ, root: Scope, old: Parameter, new: Parameter, position: Position) -> None:
    if differ.same(old.node, new.node):
        return
    scope = differ.scope(root, f" → {_label(new)}", f"|{new.key}", old.node, new.node, position)
    args = {"name": new.name, "location": new.location}
    if old.name != new.name and new.location == "path":
        differ.emit(
            scope,
            "api.parameter.renamed",
            old=old.node.kw("name"),
            new=new.node.kw("name"),
            args={"old": old.name, "new": new.name},
        )
    if old.required != new.required:
        rule = "api.parameter.required-added" if new.required else "api.parameter.required-removed"
        differ.emit(
            scope,
            rule,
            old=old.node.kw("required"),
            new=new.node.kw("required") or new.node,
            args=args,
        )
    changed = [
        f"{k} {show(old.serialization.get(k))} -> {show(new.serialization.get(k))}"
        for k in sorted(old.serialization.keys() | new.serialization.keys())
        if old.serialization.get(k) != new.serialization.get(k)
    ]
    if changed:
        differ.emit(
            scope,
            "api.parameter.serialization-changed",
            old=old.node,
            new=new.node,
            args={**args, "detail": "; ".join(changed)},
        )
    if old.schema is not None and new.schema is not None:
        differ.schema(scope, "", "", old.schema, new.schema, position)
    api_lifecycle.compare(
        differ, scope, old.node, new.node, f"{new.location} parameter '{new.name}'"
    )
    api_annotations.compare(differ, scope, old.node, new.node)
