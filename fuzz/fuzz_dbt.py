"""Fuzz target: the full diff of two dbt manifests (models, sources, columns, contracts,
tests, freshness, versions), with the lineage graph and every renderer. Input: a pair (see
``harness.PAIR_SEPARATOR``)."""

from __future__ import annotations

from pathlib import Path

from diffing import run_diff
from harness import fuzz
from mutate import pair, tree

KEYS = (
    "metadata",
    "dbt_schema_version",
    "nodes",
    "sources",
    "exposures",
    "resource_type",
    "package_name",
    "unique_id",
    "database",
    "schema",
    "alias",
    "identifier",
    "columns",
    "data_type",
    "constraints",
    "config",
    "contract",
    "enforced",
    "materialized",
    "access",
    "group",
    "version",
    "latest_version",
    "deprecation_date",
    "depends_on",
    "attached_node",
    "column_name",
    "test_metadata",
    "kwargs",
    "freshness",
    "error_after",
    "warn_after",
    "period",
    "count",
    "loaded_at_field",
    "severity",
    "where",
    "tags",
    "meta",
)
VALUES = (
    "https://schemas.getdbt.com/dbt/manifest/v12.json",
    "https://schemas.getdbt.com/dbt/manifest/v6.json",
    "model",
    "source",
    "seed",
    "snapshot",
    "test",
    "table",
    "view",
    "incremental",
    "ephemeral",
    "public",
    "protected",
    "private",
    "minute",
    "hour",
    "day",
    "not_null",
    "unique",
    "accepted_values",
    "relationships",
    "integer",
    "text",
    "varchar(10)",
    "numeric(38, 2)",
    "primary_key",
    "foreign_key",
    "check",
    "warn",
    "error",
    "model.shop.orders",
    "source.shop.raw.orders",
    ["hour"],
)


def test(data: bytes) -> None:
    run_diff(data, "dbt", ("old/manifest.json", "new/manifest.json"))


if __name__ == "__main__":
    fuzz(
        Path(__file__).stem.removeprefix("fuzz_"),
        test,
        mutator=pair(tree(KEYS, VALUES, yaml_keys=False)),
        modules=("tessera_engine.formats.dbt",),
    )
