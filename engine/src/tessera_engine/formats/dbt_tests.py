"""dbt tests as guarantees: each generic test node of a manifest becomes a ``Guarantee`` on
the column (``column_name``) or relation it tests.

The built-in tests keep their meaning (not_null, unique, accepted_values with its values,
relationships with the target relation and field); a generic test from a package
(``dbt_utils.expression_is_true``) is a custom guarantee identified by its name and arguments.
Singular tests (a SQL file with no ``test_metadata``) promise nothing Tessera can name and are
left out, as are disabled tests.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..documents import Document
from ..documents.pointer import join
from .dbt_model import Guarantee, Manifest, Relation
from .dbt_read import names

BUILT_IN = ("not_null", "unique", "accepted_values", "relationships")
_CALL = re.compile(r"""\b(ref|source)\(\s*(['"])([^'"]*)\2\s*(?:,\s*(['"])([^'"]*)\4\s*)?""")
_IGNORED_KWARGS = ("model", "column_name")


def attach_tests(manifest: Manifest) -> None:
    nodes = manifest.document.data.get("nodes") or {}
    by_id = {relation.unique_id: relation for relation in manifest.relations.values()}
    for unique_id, node in nodes.items():
        if not isinstance(node, dict) or node.get("resource_type") != "test":
            continue
        metadata = node.get("test_metadata")
        config = _dict(node.get("config"))
        if not isinstance(metadata, dict) or config.get("enabled") is False:
            continue
        pointer = join("/nodes", unique_id)
        relation = _tested(manifest.document, pointer, node, metadata, by_id)
        if relation is None:
            continue
        kwargs = _dict(metadata.get("kwargs"))
        column = node.get("column_name") or kwargs.get("column_name")
        guarantee = _guarantee(str(metadata.get("name", "")), metadata.get("namespace"), kwargs)
        guarantee = Guarantee(
            guarantee.kind,
            ident=guarantee.ident,
            args=guarantee.args,
            pointer=pointer,
            warn_only=str(config.get("severity", "error")).lower() == "warn",
            where=str(config["where"]) if config.get("where") else None,
        )
        relation.add_guarantee(str(column) if column else None, guarantee)


def _tested(
    doc: Document,
    pointer: str,
    node: dict[str, Any],
    metadata: dict[str, Any],
    by_id: dict[str, Relation],
) -> Relation | None:
    """The relation a test is attached to (``attached_node`` since dbt 1.5; before, the
    ``model`` argument's ref among the test's dependencies)."""
    attached = node.get("attached_node")
    if isinstance(attached, str):
        return by_id.get(attached)
    kwargs = _dict(metadata.get("kwargs"))
    target = target_name(str(kwargs.get("model", "")))
    depends = names(
        doc, join(pointer, "depends_on", "nodes"), _dict(node.get("depends_on")).get("nodes")
    )
    candidates = [by_id[d] for d in depends if d in by_id]
    for relation in candidates:
        if relation.name == target:
            return relation
    return candidates[0] if len(candidates) == 1 else None


def target_name(text: str) -> str:
    """The relation a ``ref('orders')``/``ref('pkg', 'orders')``/``source('s', 't')``
    names: ``orders`` or ``s.t``; the text itself when it holds no call."""
    found = _CALL.search(text)
    if found is None:
        return text.strip()
    function, first, second = found.group(1), found.group(3), found.group(5)
    if function == "source":
        return f"{first}.{second}" if second is not None else first
    return second if second is not None else first


def _guarantee(name: str, namespace: Any, kwargs: dict[str, Any]) -> Guarantee:
    if namespace is None and name in ("not_null", "unique"):
        return Guarantee(name)
    if namespace is None and name == "accepted_values":
        values = kwargs.get("values")
        listed = values if isinstance(values, list) else [values]
        return Guarantee(name, args={"values": sorted(listed, key=_canonical)})
    if namespace is None and name == "relationships":
        to, field = target_name(str(kwargs.get("to", ""))), str(kwargs.get("field", ""))
        return Guarantee(name, ident=f"{to}.{field}", args={"to": to, "field": field})
    kind = f"{namespace}.{name}" if namespace else name
    args = {k: v for k, v in kwargs.items() if k not in _IGNORED_KWARGS}
    return Guarantee(kind, ident=_canonical(args) if args else "", args=args)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
