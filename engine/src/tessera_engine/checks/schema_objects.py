"""Objects: properties, required, the content model (additionalProperties, patternProperties,
unevaluatedProperties), propertyNames and dependencies.

A property that appears or disappears is judged against the schema that governed its name on
the other side: in an open object any value was allowed under that name, in a closed one none,
in a partially open one (``patternProperties``, a typed ``additionalProperties``) the matching
schema, which is then compared with the property's own. Whether adding an optional property to
an open object matters depends on the policy: under ``strict`` (JSON Schema's default) old data
may already carry the name with another type; under ``lenient`` (tolerant readers, the API
default) it never did.

Properties that a position never sees are skipped: ``readOnly`` ones in requests and
``writeOnly`` ones in responses. A property becoming read-only in a request is therefore
reported as removed from the request.
"""

from __future__ import annotations

from typing import Any

from ..diff.core import At, Pair
from ..diff.nodes import Node
from ..diff.pairing import paired
from ..model import Effect, Position
from .patterns import PatternIndex
from .schema_composition import layout
from .shape import accepts_anything, accepts_nothing, allows_type, type_set


def check(pair: Pair) -> None:
    if layout(pair) != "keywords":
        return
    if not isinstance(pair.o.value, dict) or not isinstance(pair.n.value, dict):
        return
    if not (allows_type(type_set(pair.o), "object") and allows_type(type_set(pair.n), "object")):
        return
    _properties(pair)
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        content_model(pair, keyword, lenient_allowed=True, seg=".*")
    _pattern_properties(pair)
    pair.subschema("propertyNames", " (property names)")
    _dependencies(pair)


# -- properties -------------------------------------------------------------------------------


def visible(node: Node, position: Position, api: bool) -> bool:
    """Whether a property exists for readers at ``position``: in an API, clients do not send
    ``readOnly`` properties and servers do not return ``writeOnly`` ones. In a plain JSON
    Schema the two are annotations."""
    value = node.value
    if not api or not isinstance(value, dict):
        return True
    if position is Position.INPUT and value.get("readOnly") is True:
        return False
    return not (position is Position.OUTPUT and value.get("writeOnly") is True)


def _required(node: Node) -> list[str]:
    value = node.get("required")
    return [name for name in value if isinstance(name, str)] if isinstance(value, list) else []


def _properties(pair: Pair) -> None:
    o_props = pair.o.kw("properties")
    n_props = pair.n.kw("properties")
    old = o_props.members() if o_props is not None else {}
    new = n_props.members() if n_props is not None else {}
    o_req, n_req = set(_required(pair.o)), set(_required(pair.n))
    # resolve once: visibility and defaults live in the resolved property schemas
    o_res = {k: pair.differ.old.resolve(v) for k, v in old.items()}
    n_res = {k: pair.differ.new.resolve(v) for k, v in new.items()}
    api = pair.options.api
    for name, o_declared, n_declared in paired(old, new):
        # a property the position never sees (readOnly in a request) counts as absent
        o_prop = o_declared if o_declared and visible(o_res[name], pair.position, api) else None
        n_prop = n_declared if n_declared and visible(n_res[name], pair.position, api) else None
        if o_prop is not None and n_prop is not None:
            pair.child("." + name, o_prop, n_prop)
            _requiredness(pair, name, name in o_req, name in n_req, n_res[name])
        elif n_prop is not None:
            _added(pair, name, n_prop, name in n_req, n_res[name])
        elif o_prop is not None:
            _removed(pair, name, o_prop, name in o_req, o_res[name])
    # required names without a property schema of their own still constrain the object
    declared = set(old) | set(new)
    for name in sorted((n_req - o_req) - declared):
        pair.emit(
            "schema.property.required-added",
            new=pair.n.kw("required"),
            seg="." + name,
            args={"name": name},
        )
    for name in sorted((o_req - n_req) - declared):
        pair.emit(
            "schema.property.required-removed",
            old=pair.o.kw("required"),
            new=pair.n.kw("required") or pair.n,
            seg="." + name,
            args={"name": name},
        )


def _requiredness(pair: Pair, name: str, was: bool, now: bool, new_prop: Node) -> None:
    if was == now:
        return
    at: At = {"old": pair.o.kw("required"), "new": pair.n.kw("required") or pair.n}
    if now:
        effect = None
        if pair.options.honour_defaults and new_prop.has("default"):
            effect = Effect.EXTENSION
        pair.emit(
            "schema.property.required-added",
            **at,
            seg="." + name,
            args={"name": name},
            effect=effect,
        )
    else:
        pair.emit("schema.property.required-removed", **at, seg="." + name, args={"name": name})


def governing(pair: Pair, node: Node, name: str) -> Any:
    """The schema that applies to a property ``name`` not listed in ``properties``:
    the first matching ``patternProperties`` schema, else ``additionalProperties``
    (or ``unevaluatedProperties``); ``True`` when the object is open."""
    patterns = node.kw("patternProperties")
    if patterns is not None and isinstance(patterns.value, dict) and patterns.value:
        key = ("patterns", id(patterns.value))
        index = pair.differ.memo.get(key)
        if index is None:
            index = pair.differ.memo[key] = PatternIndex(list(patterns.value))
        found = index.first_match(name)
        if found is not None:
            return patterns.at(found)
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        extra = node.kw(keyword)
        if extra is not None:
            return extra if isinstance(extra.value, dict) else extra.value
    return True


def _added(pair: Pair, name: str, prop: Node, required: bool, resolved: Node) -> None:
    strict = pair.options.strict
    rule_args = {"name": name, "required_word": "required" if required else "optional", "note": ""}
    ruling = governing(pair, pair.o, name)
    if required and not (pair.options.honour_defaults and resolved.has("default")):
        effect = Effect.NARROW
    elif isinstance(ruling, Node):
        covered = not pair.narrows(pair.child("." + name, ruling, prop))
        rule_args["note"] = " (covered by the old schema for such names)" if covered else ""
        effect = (Effect.WIDEN if covered else Effect.NARROW) if strict else Effect.EXTENSION
    elif ruling is False or accepts_nothing(ruling):
        effect = Effect.WIDEN if strict else Effect.EXTENSION
    elif accepts_anything(resolved.value):
        effect = Effect.ANNOTATION
    else:
        effect = Effect.NARROW if strict else Effect.EXTENSION
    pair.emit("schema.property.added", new=prop, seg="." + name, args=rule_args, effect=effect)


def _removed(pair: Pair, name: str, prop: Node, required: bool, resolved: Node) -> None:
    strict = pair.options.strict
    rule_args = {"name": name, "required_word": "required" if required else "optional", "note": ""}
    ruling = governing(pair, pair.n, name)
    if isinstance(ruling, Node):
        covered = not pair.narrows(pair.child("." + name, prop, ruling))
        effect = Effect.WIDEN if covered or not strict else Effect.NARROW
    elif ruling is False or accepts_nothing(ruling):
        if accepts_nothing(resolved.value):
            effect = Effect.ANNOTATION
        else:
            effect = Effect.NARROW if strict else Effect.WIDEN
            rule_args["note"] = " from a closed object" if strict else ""
    else:
        effect = Effect.WIDEN
    pair.emit("schema.property.removed", old=prop, seg="." + name, args=rule_args, effect=effect)


# -- content model ----------------------------------------------------------------------------


def content_model(pair: Pair, keyword: str, *, lenient_allowed: bool, seg: str) -> None:
    """Compare a keyword that says what extra members are allowed (additionalProperties,
    unevaluatedProperties, additionalItems, unevaluatedItems): open, closed or a schema."""
    o_node, n_node = pair.o.kw(keyword), pair.n.kw(keyword)
    if o_node is None and n_node is None:
        return
    old = _state(o_node)
    new = _state(n_node)
    if o_node is not None and n_node is not None and old == new == "schema":
        pair.child(seg, o_node, n_node, lseg=f"|{keyword}")
        return
    if old == new:
        return
    opening = _OPENNESS[new] > _OPENNESS[old]
    detail = {
        "open": "now allows any extra member",
        "closed": "now forbids extra members",
        "schema": "now allows extra members of a schema"
        if opening
        else "now restricts extra members to a schema",
    }[new]
    lenient = lenient_allowed and not pair.options.strict
    if opening:
        # Tolerant readers ignore members they never saw declared: opening a closed object is
        # invisible to them. Dropping the schema of extra members (a typed dictionary) is not.
        rule = "schema.content-model.opened"
        effect = Effect.EXTENSION if lenient and old == "closed" else Effect.WIDEN
    else:
        # An API that starts rejecting members clients send breaks them whatever the policy;
        # Confluent's LENIENT policy assumes writers never sent undeclared members.
        rule = "schema.content-model.closed"
        effect = Effect.EXTENSION if lenient and not pair.options.api else Effect.NARROW
    pair.emit(
        rule,
        old=o_node,
        new=n_node,
        lseg=f"|{keyword}",
        args={"keyword": keyword, "detail": detail},
        effect=effect,
    )


_OPENNESS = {"closed": 0, "schema": 1, "open": 2}


def _state(node: Node | None) -> str:
    value = True if node is None else node.value
    if accepts_anything(value):
        return "open"
    if accepts_nothing(value):
        return "closed"
    return "schema"


def _pattern_properties(pair: Pair) -> None:
    o_node, n_node = pair.o.kw("patternProperties"), pair.n.kw("patternProperties")
    old = o_node.members() if o_node is not None else {}
    new = n_node.members() if n_node is not None else {}
    for pattern, o_schema, n_schema in paired(old, new):
        seg = f".<{pattern}>"
        if o_schema is not None and n_schema is not None:
            pair.child(seg, o_schema, n_schema)
        elif n_schema is not None:
            # names matching the pattern were governed by additionalProperties before
            ruling = governing_extra(pair.o)
            if isinstance(ruling, Node):
                pair.child(seg, ruling, n_schema)
            elif accepts_anything(ruling) and not accepts_anything(n_schema.value):
                pair.emit(
                    "schema.subschema.added",
                    new=n_schema,
                    seg=seg,
                    args={"keyword": f"patternProperties '{pattern}'"},
                )
        elif o_schema is not None:
            ruling = governing_extra(pair.n)
            if isinstance(ruling, Node):
                pair.child(seg, o_schema, ruling)
            elif accepts_anything(ruling) and not accepts_anything(o_schema.value):
                pair.emit(
                    "schema.subschema.removed",
                    old=o_schema,
                    seg=seg,
                    args={"keyword": f"patternProperties '{pattern}'"},
                )


def governing_extra(node: Node) -> Any:
    extra = node.kw("additionalProperties")
    if extra is None:
        return True
    return extra if isinstance(extra.value, dict) else extra.value


# -- dependencies -----------------------------------------------------------------------------


def _dependency_maps(node: Node) -> tuple[dict[str, Node], dict[str, Node]]:
    """(dependentRequired, dependentSchemas) entries, draft-4/7 ``dependencies`` included."""
    required: dict[str, Node] = {}
    schemas: dict[str, Node] = {}
    legacy = node.kw("dependencies")
    if legacy is not None:
        for name, entry in legacy.members().items():
            (required if isinstance(entry.value, list) else schemas)[name] = entry
    for keyword, target in (("dependentRequired", required), ("dependentSchemas", schemas)):
        entries = node.kw(keyword)
        if entries is not None:
            target.update(entries.members())
    # a dependency that is not a list of names constrains nothing
    required = {k: v for k, v in required.items() if _names(v.value) is not None}
    return required, schemas


def _names(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(name, str) for name in value):
        return value
    return None


def _dependencies(pair: Pair) -> None:
    o_req, o_schemas = _dependency_maps(pair.o)
    n_req, n_schemas = _dependency_maps(pair.n)
    for name, old, new in paired(o_req, n_req):
        lseg = f"|dependency:{name}"
        if old is None or new is None:
            rule = "schema.dependency.added" if old is None else "schema.dependency.removed"
            pair.emit(rule, old=old, new=new, lseg=lseg, args={"kind": "required", "name": name})
            continue
        before, after = set(old.value), set(new.value)
        if before == after:
            continue
        effect = (
            Effect.NARROW if after > before else Effect.WIDEN if after < before else Effect.REPLACE
        )
        pair.emit(
            "schema.dependency.changed",
            old=old,
            new=new,
            lseg=lseg,
            effect=effect,
            args={"name": name, "old": sorted(before), "new": sorted(after)},
        )
    for name, old, new in paired(o_schemas, n_schemas):
        if old is not None and new is not None:
            pair.child(f" (if '{name}' present)", old, new, lseg=f"|dependentSchema:{name}")
        else:
            rule = "schema.dependency.added" if old is None else "schema.dependency.removed"
            pair.emit(
                rule,
                old=old,
                new=new,
                lseg=f"|dependentSchema:{name}",
                args={"kind": "schema", "name": name},
            )
