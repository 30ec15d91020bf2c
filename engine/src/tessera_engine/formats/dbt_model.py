"""What Tessera keeps of a dbt manifest: relations (models, seeds, snapshots, sources), their
columns and the guarantees declared on them.

Every element is keyed by names a build does not change: a relation by its resource type,
package and name (and version), never by the database, schema or relation name of the target
it was built for, so a CI build and a production build of one project line up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..documents import Document


@dataclass(frozen=True)
class Guarantee:
    """One promise about the values of a relation or column.

    ``kind``: not_null, unique, accepted_values, relationships, primary_key, foreign_key,
    check, freshness, volume, or a generic test's name (``dbt_utils.expression_is_true``).
    ``ident`` tells two guarantees of one kind apart (a relationship's target, a custom test's
    arguments); ``args`` are what may loosen or tighten (accepted values, a freshness window).
    ``warn_only`` is a test at severity ``warn`` (it no longer fails the build); ``where`` a
    test restricted to some rows.
    """

    kind: str
    ident: str = ""
    args: Mapping[str, Any] = field(default_factory=dict)
    origin: str = "test"  # test | constraint | meta | freshness
    pointer: str = ""
    warn_only: bool = False
    where: str | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}({self.ident})" if self.ident else self.kind


@dataclass
class Column:
    name: str
    data_type: str | None = None  # lower-cased, spaces collapsed
    type_origin: str = ""  # manifest | catalog
    description: str = ""
    pointer: str = ""


@dataclass
class Relation:
    """A model, seed, snapshot or source."""

    kind: str  # model | seed | snapshot | source
    package: str
    name: str  # a source's is ``<source_name>.<table>``
    unique_id: str
    pointer: str
    version: str | None = None
    latest_version: str | None = None
    materialized: str | None = None
    access: str | None = None
    contract_enforced: bool = False
    deprecation_date: str | None = None
    description: str = ""
    columns: dict[str, Column] = field(default_factory=dict)  # by lower-cased name
    guarantees: dict[str, Guarantee] = field(default_factory=dict)  # relation-level, by key
    column_guarantees: dict[str, dict[str, Guarantee]] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()  # the unique ids it is built from (impact lineage only)

    @property
    def key(self) -> str:
        """``model.<package>.<name>[.v<version>]``: the path people read, and the key."""
        suffix = f".v{self.version}" if self.version is not None else ""
        return f"{self.kind}.{self.package}.{self.name}{suffix}"

    @property
    def label(self) -> str:
        """The name consumers use in ``uses.columns`` (``orders``, ``orders.v2``)."""
        return self.name if self.version is None else f"{self.name}.v{self.version}"

    def column_label(self, column: str) -> str:
        found = self.columns.get(column)
        return found.name if found else column

    def add_guarantee(self, column: str | None, guarantee: Guarantee) -> None:
        where = (
            self.guarantees
            if column is None
            else self.column_guarantees.setdefault(column.lower(), {})
        )
        existing = where.get(guarantee.key)
        if existing is None or (existing.warn_only and not guarantee.warn_only):
            where[guarantee.key] = guarantee  # two declarations of one promise: the strongest


@dataclass
class Manifest:
    """One version: the relations of a manifest (and its catalog), with the documents their
    pointers refer to (``document`` for the manifest, ``catalog`` when one was read)."""

    display: str
    document: Document
    schema_version: int
    relations: dict[str, Relation] = field(default_factory=dict)  # by key
    catalog: Document | None = None
