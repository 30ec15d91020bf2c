"""Reading a dbt ``manifest.json`` into ``Relation``s: the schema version, models, seeds,
snapshots and sources with their columns, constraints, contract, access, versions and the
guarantees declared under ``meta.tessera`` and in sources' ``freshness``.

Tests become guarantees in ``dbt_tests``; column types from a ``catalog.json`` are merged by
``dbt_catalog``.
"""

from __future__ import annotations

import re
from typing import Any

from ..documents import Document
from ..documents.pointer import join
from ..errors import FormatError
from .dbt_durations import NotAWindow, freshness_window, kind_of, parse_duration
from .dbt_model import Column, Guarantee, Manifest, Relation

SUPPORTED = range(10, 13)
"""Manifest schema versions read fully (dbt 1.6 to 1.11)."""
BEST_EFFORT = range(5, 10)
"""Older versions (dbt 1.1 to 1.5) are read best effort: what they lack (contracts, access,
model versions, constraints) reads as dbt's defaults, so it is never reported as changed."""
_VERSION = re.compile(r"/manifest/v(\d+)\.json$")
RELATION_KINDS = ("model", "seed", "snapshot")
ACCESS_LEVELS = ("private", "protected", "public")


def read_manifest(document: Document) -> Manifest:
    data = document.data
    version = schema_version(document)
    manifest = Manifest(document.name, document, version)
    nodes = data.get("nodes")
    sources = data.get("sources")
    if not isinstance(nodes, dict) or not isinstance(sources, dict):
        raise FormatError(
            "not a dbt manifest: 'nodes' and 'sources' must be objects", file=document.name
        )
    for unique_id, node in nodes.items():
        if isinstance(node, dict) and node.get("resource_type") in RELATION_KINDS:
            _add(manifest, _relation(node, unique_id, join("/nodes", unique_id), document))
    for unique_id, node in sources.items():
        if isinstance(node, dict):
            _add(manifest, _source(node, unique_id, join("/sources", unique_id), document))
    return manifest


def schema_version(document: Document) -> int:
    """The manifest schema version (``metadata.dbt_schema_version``), refused when unknown."""
    data = document.data
    metadata = data.get("metadata") if isinstance(data, dict) else None
    url = metadata.get("dbt_schema_version") if isinstance(metadata, dict) else None
    if not isinstance(url, str):
        raise FormatError("not a dbt manifest (no metadata.dbt_schema_version)", file=document.name)
    found = _VERSION.search(url)
    if found is None:
        raise FormatError(
            f"not a dbt manifest: dbt_schema_version is {url!r}",
            file=document.name,
            **_line(document, "/metadata/dbt_schema_version"),
        )
    version = int(found.group(1))
    if version not in SUPPORTED and version not in BEST_EFFORT:
        raise FormatError(
            f"unsupported dbt manifest schema v{version} (Tessera reads v{SUPPORTED[0]} to "
            f"v{SUPPORTED[-1]}, and v{BEST_EFFORT[0]} to v{BEST_EFFORT[-1]} best effort)",
            file=document.name,
            **_line(document, "/metadata/dbt_schema_version"),
        )
    return version


def _line(document: Document, pointer: str) -> dict[str, int]:
    location = document.locate(pointer)
    return {"line": location.line, "column": location.column}


def _add(manifest: Manifest, relation: Relation) -> None:
    # Two nodes with one key (the same model in two packages of one name cannot happen; a
    # disabled duplicate lives under "disabled"): the first wins, as dbt resolves refs.
    manifest.relations.setdefault(relation.key, relation)


def _relation(node: dict[str, Any], unique_id: str, pointer: str, doc: Document) -> Relation:
    config = _dict(node.get("config"))
    contract = _dict(config.get("contract")) or _dict(node.get("contract"))
    relation = Relation(
        kind=str(node["resource_type"]),
        package=str(node.get("package_name", "")),
        name=str(node.get("name", unique_id)),
        unique_id=unique_id,
        pointer=pointer,
        version=version_text(node.get("version")),
        latest_version=version_text(node.get("latest_version")),
        materialized=_text(config.get("materialized")),
        access=_text(node.get("access") or config.get("access")),
        contract_enforced=contract.get("enforced") is True,
        deprecation_date=_text(node.get("deprecation_date")),
        description=str(node.get("description") or ""),
        depends_on=_depends_on(node),
    )
    _columns(relation, node, pointer, doc)
    _constraints(relation, node.get("constraints"), join(pointer, "constraints"), None, doc)
    _meta_guarantees(relation, node, pointer, doc)
    return relation


def _source(node: dict[str, Any], unique_id: str, pointer: str, doc: Document) -> Relation:
    name = f"{node.get('source_name', '')}.{node.get('name', '')}"
    relation = Relation(
        kind="source",
        package=str(node.get("package_name", "")),
        name=name,
        unique_id=unique_id,
        pointer=pointer,
        description=str(node.get("description") or ""),
    )
    _columns(relation, node, pointer, doc)
    try:
        window = freshness_window(node.get("freshness"))
    except NotAWindow as err:
        at = join(pointer, "freshness") + (f"/{err.at}" if err.at else "")
        raise bad_value(doc, at, err.message) from None
    if window is not None:
        seconds, text = window
        relation.add_guarantee(
            None,
            Guarantee(
                "freshness",
                args={"within": text, "seconds": seconds},
                origin="freshness",
                pointer=join(pointer, "freshness"),
            ),
        )
    _meta_guarantees(relation, node, pointer, doc)
    return relation


def _columns(relation: Relation, node: dict[str, Any], pointer: str, doc: Document) -> None:
    columns = node.get("columns")
    if not isinstance(columns, dict):
        return
    for key, raw in columns.items():
        if not isinstance(raw, dict):
            continue
        name = str(raw.get("name") or key)
        at = join(pointer, "columns", key)
        data_type = normal_type(raw.get("data_type"))
        relation.columns[name.lower()] = Column(
            name=name,
            data_type=data_type,
            type_origin="manifest" if data_type else "",
            description=str(raw.get("description") or ""),
            pointer=at,
        )
        _constraints(relation, raw.get("constraints"), join(at, "constraints"), name, doc)


def _constraints(
    relation: Relation, raw: Any, pointer: str, column: str | None, doc: Document
) -> None:
    """Constraints (dbt 1.5+): column-level ones on their column; a model-level one on its
    single column, or on the relation when it spans several."""
    if not isinstance(raw, list):
        return
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            continue
        kind = str(item.get("type", ""))
        at = join(pointer, index)
        columns = names(doc, join(at, "columns"), item.get("columns"))
        target = column if column is not None else (columns[0] if len(columns) == 1 else None)
        ident = ", ".join(columns) if target is None and columns else ""
        if kind == "foreign_key":
            to = item.get("to") or item.get("expression") or ""
            to_columns = ", ".join(names(doc, join(at, "to_columns"), item.get("to_columns")))
            ident = " ".join(p for p in (ident, str(to), to_columns) if p)
        elif kind == "check":
            ident = " ".join(
                p for p in (ident, " ".join(str(item.get("expression", "")).split())) if p
            )
        elif kind not in ("not_null", "unique", "primary_key"):
            continue  # custom constraints: free SQL with no meaning Tessera can judge
        relation.add_guarantee(
            target, Guarantee(kind, ident=ident, origin="constraint", pointer=at)
        )


def _meta_guarantees(relation: Relation, node: dict[str, Any], pointer: str, doc: Document) -> None:
    """``meta: {tessera: {freshness: {within: 24h}, volume: {min_rows: 1000}}}`` on a model,
    seed, snapshot or source (in its ``config.meta`` or ``meta``)."""
    config_meta = _dict(_dict(node.get("config")).get("meta"))
    where = "config/meta" if "tessera" in config_meta else "meta"
    tessera = config_meta.get("tessera", _dict(node.get("meta")).get("tessera"))
    if tessera is None:
        return
    at = f"{pointer}/{where}/tessera"
    if not isinstance(tessera, dict):
        raise bad_value(doc, at, "meta.tessera must be a mapping")
    freshness = tessera.get("freshness")
    if freshness is not None:
        within = freshness.get("within") if isinstance(freshness, dict) else None
        seconds = parse_duration(within)
        if seconds is None:
            raise bad_value(
                doc, f"{at}/freshness", "meta.tessera.freshness.within must be a duration like 24h"
            )
        args = {"within": str(within), "seconds": seconds}
        relation.add_guarantee(
            None, Guarantee("freshness", args=args, origin="meta", pointer=f"{at}/freshness")
        )
    volume = tessera.get("volume")
    if volume is not None:
        bounds = _volume(volume)
        if bounds is None:
            raise bad_value(
                doc,
                f"{at}/volume",
                "meta.tessera.volume takes min_rows and/or max_rows (whole numbers)",
            )
        relation.add_guarantee(
            None, Guarantee("volume", args=bounds, origin="meta", pointer=f"{at}/volume")
        )


def _volume(raw: Any) -> dict[str, int] | None:
    if not isinstance(raw, dict) or not raw or set(raw) - {"min_rows", "max_rows"}:
        return None
    bounds = {k: v for k, v in raw.items() if v is not None}
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in bounds.values()):
        return None
    return bounds


def bad_value(doc: Document, pointer: str, message: str) -> FormatError:
    """The error for a value of the wrong type or form at ``pointer``, located there."""
    return FormatError(message, file=doc.name, **_line(doc, pointer))


def names(doc: Document, pointer: str, value: Any) -> list[str]:
    """A list of column or node names (absent: none); anything else is refused."""
    if value is None:
        return []
    if not isinstance(value, list):
        field = pointer.rsplit("/", 1)[-1]
        raise bad_value(doc, pointer, f"{field} must be a list of names, not {kind_of(value)}")
    return [str(name) for name in value]


def version_text(value: Any) -> str | None:
    """A model version as written in refs (``2``, ``1.5``, ``beta``)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def normal_type(value: Any) -> str | None:
    """A column type compared case- and space-insensitively (``VARCHAR(10)`` = ``varchar(10)``)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return " ".join(value.lower().split())


def _depends_on(node: dict[str, Any]) -> tuple[str, ...]:
    """``depends_on.nodes``: what a model or snapshot is built from (read for impact lineage;
    no finding uses it)."""
    nodes = _dict(node.get("depends_on")).get("nodes")
    return tuple(str(n) for n in nodes) if isinstance(nodes, list) else ()


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None
