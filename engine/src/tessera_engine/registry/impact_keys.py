"""Elements as keys: what a finding changed and what a consumer declared it uses, per format.

A key is a tuple: a namespace, then the element's names from the outside in
(``("schema", "Order", "email")``, ``("proto", "shop", "v1", "Order", "Line", "qty")``). A
usage and a finding concern each other when one key is the other or encloses it (see
``impact_index``). Operation keys (``("op", "GET /orders/{}")``) have one name, so they only
ever match exactly.

    format            operations          fields / messages                     columns
    openapi, swagger  GET /orders/{id}    Order.email, /components/.../email    -
    jsonschema        -                   customer.email, $.lines[].qty, /...   -
    graphql           Query.order         Order.email, Query.order(id:), Order  -
    protobuf          shop.v1.Orders/Get  shop.v1.Order.email, shop.v1.Order    -
    avro              -                   shop.Order.id, shop.Address           -
    dbt               -                   -                                     orders.email,
                                                                          orders.*

Entries of a kind a format does not have produce no keys (they match nothing).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..model import Finding

Key = tuple[str, ...]

NOT_A_CONSUMER_CHANGE = frozenset({"lifecycle.version.bump-insufficient"})
"""Findings about the producer's own bookkeeping: they fail the check, but no consumer reads
them, so they never select a consumer."""

_SCHEMA_ROOTS = (("components", "schemas"), ("definitions",))  # OpenAPI 3, Swagger 2
_SKIP_ONE = frozenset(
    {"items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"}
    | {"unevaluatedProperties", "unevaluatedItems", "additionalItems"}
)
_SKIP_TWO = frozenset(
    {"allOf", "oneOf", "anyOf", "prefixItems", "patternProperties", "dependentSchemas"}
    | {"$defs", "definitions"}
)
_METHOD_PATH = re.compile(r"^\s*([A-Za-z]+)\s+(\S+)\s*$")
_TEMPLATE = re.compile(r"\{[^/]*\}")
_JSON_PATH_NAME = re.compile(r"\.([^.\[\s|(]+)|\[[^\]]*\]")


def finding_keys(format_name: str, finding: Finding) -> list[Key]:
    """Every key under which ``finding`` is known in ``format_name``."""
    if finding.rule in NOT_A_CONSUMER_CHANGE:
        return []
    return _FINDING_KEYS.get(format_name, _generic_finding_keys)(finding)


def usage_keys(format_name: str, kind: str, entry: str) -> list[Key]:
    """The keys of one declared usage entry (``kind``: operations, fields, messages, columns)."""
    reader = _USAGE_KEYS.get(format_name, {}).get(kind)
    return reader(entry) if reader else []


def operation_key(text: str) -> Key:
    """``GET /orders/{id}`` as a key: method upper-cased, path templates compared by position
    (``{id}`` and ``{orderId}`` are the same), a trailing slash ignored."""
    match = _METHOD_PATH.match(text)
    if match is None:
        return ("op", text.strip())
    method, path = match.groups()
    path = _TEMPLATE.sub("{}", path)
    if len(path) > 1:
        path = path.rstrip("/")
    return ("op", f"{method.upper()} {path}")


def pointer_segments(pointer: str) -> tuple[str, ...]:
    if not pointer.startswith("/"):
        return ()
    return tuple(s.replace("~1", "/").replace("~0", "~") for s in pointer[1:].split("/"))


def schema_element(segments: tuple[str, ...]) -> Key | None:
    """The component property a pointer leads into: ``/components/schemas/Order/allOf/1/
    properties/email/maxLength`` is ``("schema", "Order", "email")``; ``None`` outside the
    named schemas."""
    for root in _SCHEMA_ROOTS:
        if segments[: len(root)] == root and len(segments) > len(root):
            return ("schema", segments[len(root)], *_property_names(segments[len(root) + 1 :]))
    return None


def _property_names(segments: tuple[str, ...]) -> list[str]:
    names: list[str] = []
    i = 0
    while i < len(segments):
        segment = segments[i]
        if segment == "properties" and i + 1 < len(segments):
            names.append(segments[i + 1])
            i += 2
        elif segment in _SKIP_ONE:
            i += 1
        elif segment in _SKIP_TWO:
            i += 2
        else:  # a keyword (type, maxLength, enum, required, ...): the element ends here
            break
    return names


def json_path_names(path: str) -> tuple[str, ...]:
    """``$.lines[].qty`` (a JSON Schema finding's path, or a usage) as ``("lines", "qty")``;
    ``[]`` and other bracketed steps are items of the same element."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    if text and not text.startswith((".", "[")):
        text = "." + text
    names: list[str] = []
    position = 0
    while position < len(text):
        match = _JSON_PATH_NAME.match(text, position)
        if match is None:  # " (oneOf 1)", "|keyword": annotations after the element
            break
        if match.group(1):
            names.append(match.group(1))
        position = match.end()
    return tuple(names)


def _dotted(namespace: str) -> Callable[[str], list[Key]]:
    def keys(entry: str) -> list[Key]:
        names = tuple(part for part in re.split(r"[./]", entry.strip()) if part)
        return [(namespace, *names)] if names else []

    return keys


# --- OpenAPI and Swagger


def _api_finding_keys(finding: Finding) -> list[Key]:
    keys: list[Key] = [operation_key(op) for op in finding.operations]
    segments = pointer_segments(finding.pointer)
    if segments:
        keys.append(("ptr", *segments))
        element = schema_element(segments)
        if element is not None:
            if segments[-1] == "required" and "name" in finding.args:
                element = (*element, str(finding.args["name"]))  # a property made required
            keys.append(element)
    return keys


def _api_field_keys(entry: str) -> list[Key]:
    if entry.startswith("/"):
        segments = pointer_segments(entry)
        element = schema_element(segments)
        return [("ptr", *segments)] + ([element] if element else [])
    return _dotted("schema")(entry)


# --- JSON Schema


def _jsonschema_finding_keys(finding: Finding) -> list[Key]:
    keys: list[Key] = [("prop", *json_path_names(finding.path))]
    if finding.pointer:
        keys.append(("ptr", *pointer_segments(finding.pointer)))
    return keys


def _jsonschema_field_keys(entry: str) -> list[Key]:
    if entry.startswith("/"):
        return [("ptr", *pointer_segments(entry))]
    return [("prop", *json_path_names(entry))]


# --- GraphQL

_GRAPHQL_PATH = re.compile(r"^(@?[A-Za-z_][\w]*)(?:\.([A-Za-z_]\w*))?(?:\(([A-Za-z_]\w*):?\))?$")


def graphql_names(path: str) -> tuple[str, ...] | None:
    """``Type.field(arg:)`` as ``("Type", "field", "arg:")``; ``schema`` (the schema
    definition) as ``()``: it encloses everything."""
    text = path.strip()
    if text == "schema":
        return ()
    match = _GRAPHQL_PATH.match(text)
    if match is None:
        return None
    owner, member, argument = match.groups()
    names = [owner] + ([member] if member else []) + ([f"{argument}:"] if argument else [])
    return tuple(names)


def _graphql_finding_keys(finding: Finding) -> list[Key]:
    keys: list[Key] = [("op", op) for op in finding.operations]
    names = graphql_names(finding.path)
    if names is not None:
        keys.append(("gql", *names))
    return keys


def _graphql_element_keys(entry: str) -> list[Key]:
    names = graphql_names(entry)
    return [("gql", *names)] if names else []


def _graphql_operation_keys(entry: str) -> list[Key]:
    return [("op", entry.strip()), *_graphql_element_keys(entry)]


# --- protobuf and Avro: fully-qualified dotted names


def _protobuf_finding_keys(finding: Finding) -> list[Key]:
    if finding.rule.startswith("meta.proto-file."):  # keyed by file path, not by a name
        return []
    return _dotted("proto")(finding.path)


def _avro_finding_keys(finding: Finding) -> list[Key]:
    return _dotted("avro")(finding.path)


# --- dbt


def _dbt_finding_keys(finding: Finding) -> list[Key]:
    """dbt findings name the relation as consumers do (``args.model``: ``orders``,
    ``raw.orders`` for a source) and the column when there is one."""
    relation, column = finding.args.get("model"), finding.args.get("column")
    if not isinstance(relation, str):
        return []
    relation = relation.lower()
    return [("dbt", relation, column.lower()) if isinstance(column, str) else ("dbt", relation)]


def dbt_column_keys(entry: str) -> list[Key]:
    """``orders.email``, ``raw.orders.id`` (a source), ``orders.*`` (every column), compared
    without case as dbt compares column names."""
    text = entry.strip().lower()
    relation, _, column = text.rpartition(".")
    if not relation:
        return [("dbt", text)] if text else []
    if column == "*":
        return [("dbt", relation)]
    return [("dbt", relation, column)]


# --- references (impact_reach): element names as the format's ElementGraph spells them


def node_key(format_name: str, name: str) -> Key | None:
    """The key of an element of a format's reference graph (``Order.customer``,
    ``shop.v1.Orders/Get``, ``shop.Order.address``; a dbt relation ``raw.orders``)."""
    if format_name == "dbt":
        return ("dbt", name.lower())
    reader = _USAGE_KEYS.get(format_name, {}).get("messages")
    keys = reader(name) if reader else []
    return keys[0] if keys else None


def root_keys(format_name: str, kind: str, entry: str) -> list[Key]:
    """The graph elements a declared usage entry starts from: the entry's own element (for dbt,
    the relation of a column: lineage is known per relation, not per column)."""
    keys = [k for k in usage_keys(format_name, kind, entry) if k[0] != "op"]
    if format_name == "dbt":
        return list(dict.fromkeys(k[:2] for k in keys))
    return keys


def _generic_finding_keys(finding: Finding) -> list[Key]:
    return [operation_key(op) for op in finding.operations]


_FINDING_KEYS: dict[str, Callable[[Finding], list[Key]]] = {
    "openapi": _api_finding_keys,
    "swagger": _api_finding_keys,
    "jsonschema": _jsonschema_finding_keys,
    "graphql": _graphql_finding_keys,
    "protobuf": _protobuf_finding_keys,
    "avro": _avro_finding_keys,
    "dbt": _dbt_finding_keys,
}

_USAGE_KEYS: dict[str, dict[str, Callable[[str], list[Key]]]] = {
    "openapi": {
        "operations": lambda entry: [operation_key(entry)],
        "fields": _api_field_keys,
        "messages": _dotted("schema"),
    },
    "jsonschema": {"fields": _jsonschema_field_keys},
    "graphql": {
        "operations": _graphql_operation_keys,
        "fields": _graphql_element_keys,
        "messages": _graphql_element_keys,
    },
    "protobuf": {
        "operations": _dotted("proto"),
        "fields": _dotted("proto"),
        "messages": _dotted("proto"),
    },
    "avro": {"fields": _dotted("avro"), "messages": _dotted("avro")},
    "dbt": {"columns": dbt_column_keys},
}
_USAGE_KEYS["swagger"] = _USAGE_KEYS["openapi"]
