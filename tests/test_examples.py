"""Every example pair under ``examples/`` diffs cleanly (the README and docs quote them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera_engine import diff

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PAIRS = {
    "orders (OpenAPI)": ("orders/v1.yaml", "orders/v2.yaml", "openapi"),
    "events (JSON Schema)": ("events/order-placed-v1.json", "events/order-placed-v2.json", None),
    "catalog (GraphQL)": ("catalog-graphql/v1.graphql", "catalog-graphql/v2.graphql", "graphql"),
    "inventory (protobuf)": ("inventory-proto/v1", "inventory-proto/v2", "protobuf"),
    "payments (Avro)": ("payments-avro/v1.avsc", "payments-avro/v2.avsc", "avro"),
    "shop (dbt)": ("dbt-shop/v1", "dbt-shop/v2", "dbt"),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_example_pair_diffs_and_breaks(name: str) -> None:
    old, new, fmt = PAIRS[name]
    result = diff(str(EXAMPLES / old), str(EXAMPLES / new))
    if fmt is not None:
        assert result.format == fmt
    assert result.verdict == "breaking"  # each example shows at least one breaking change
    assert all(f.location is not None for f in result.findings if f.severity.value != "safe")
