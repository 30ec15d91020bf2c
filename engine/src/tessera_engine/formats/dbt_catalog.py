"""A dbt ``catalog.json`` (``dbt docs generate``): the columns each relation really has in the
warehouse, with their types.

A column's type is the manifest's ``data_type`` when the project declares one, else the
catalog's. Columns the catalog lists but the project does not document are added (they are
what ``select *`` returns). Catalog entries are keyed by unique id, which holds no database or
schema, so a catalog matches its manifest whatever target it was built for; a catalog that
shares no relation with its manifest is refused.
"""

from __future__ import annotations

from typing import Any

from ..documents import Document
from ..errors import FormatError
from .dbt_model import Column, Manifest
from .dbt_read import normal_type


def merge_catalog(manifest: Manifest, catalog: Document) -> None:
    data = catalog.data
    metadata = data.get("metadata") if isinstance(data, dict) else None
    version = metadata.get("dbt_schema_version") if isinstance(metadata, dict) else None
    if not isinstance(version, str) or "/catalog/" not in version:
        raise FormatError(
            "not a dbt catalog (no metadata.dbt_schema_version naming a catalog schema)",
            file=catalog.name,
        )
    entries: dict[str, Any] = {}
    for section in ("nodes", "sources"):
        found = data.get(section)
        if isinstance(found, dict):
            entries.update(found)
    by_id = {relation.unique_id: relation for relation in manifest.relations.values()}
    matched = [uid for uid in entries if uid in by_id]
    if entries and not matched:
        raise FormatError(
            f"this catalog does not match {manifest.display}: none of its "
            f"{len(entries)} relations is in the manifest",
            file=catalog.name,
        )
    for unique_id in matched:
        entry = entries[unique_id]
        columns = entry.get("columns") if isinstance(entry, dict) else None
        if not isinstance(columns, dict):
            continue
        relation = by_id[unique_id]
        for key, raw in columns.items():
            if not isinstance(raw, dict):
                continue
            name = str(raw.get("name") or key)
            data_type = normal_type(raw.get("type"))
            column = relation.columns.get(name.lower())
            if column is None:
                relation.columns[name.lower()] = Column(
                    name=name,
                    data_type=data_type,
                    type_origin="catalog" if data_type else "",
                    pointer=relation.pointer,
                )
            elif column.data_type is None and data_type is not None:
                column.data_type, column.type_origin = data_type, "catalog"
    manifest.catalog = catalog
