"""Usage checks read entries exactly as impact analysis does: on every fixture pair under
``impact/``, each element a finding names, spelled as a consumer would declare it, is known
to the version that holds it, and so is every entry the impact tests match with something;
entries impact can never match are unknown."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tessera_engine.engine import DiffOptions, diff
from tessera_engine.formats.native import NATIVE_NAMES
from tessera_engine.model import Finding
from tessera_engine.registry.impact_keys import (
    NOT_A_CONSUMER_CHANGE,
    pointer_segments,
    schema_element,
)
from tessera_engine.registry.usage_documents import DocumentElements
from tessera_engine.registry.usage_elements import Elements, KeyedElements, native_elements

HERE = Path(__file__).parent / "impact"
PAIRS = {
    "openapi": ("openapi", "openapi/v1.yaml", "openapi/v2.yaml"),
    "openapi_refs": ("openapi", "openapi_refs/v1/openapi.yaml", "openapi_refs/v2/openapi.yaml"),
    "jsonschema": ("jsonschema", "jsonschema/v1.json", "jsonschema/v2.json"),
    "graphql": ("graphql", "graphql/v1.graphql", "graphql/v2.graphql"),
    "graphql_reach": ("graphql", "graphql_reach/v1.graphql", "graphql_reach/v2.graphql"),
    "protobuf": ("protobuf", "protobuf/v1", "protobuf/v2"),
    "protobuf_reach": ("protobuf", "protobuf_reach/v1", "protobuf_reach/v2"),
    "avro": ("avro", "avro/v1.avsc", "avro/v2.avsc"),
    "dbt": ("dbt", "dbt/v1/manifest.json", "dbt/v2/manifest.json"),
    "dbt_lineage": ("dbt", "dbt_lineage/v1/manifest.json", "dbt_lineage/v2/manifest.json"),
}
_VERSIONS: dict[str, tuple[Elements, Elements]] = {}


def versions(fixture: str) -> tuple[Elements, Elements]:
    """The elements of v1 and v2 of a fixture, loaded as ``tessera diff`` loads them."""
    if fixture not in _VERSIONS:
        format_name, old, new = PAIRS[fixture]
        loaded: list[tuple[Sequence[Any], Any]] = []
        diff(
            str(HERE / old),
            str(HERE / new),
            DiffOptions(format=format_name),
            loaded=lambda olds, version: loaded.append((olds, version)),
        )
        (olds, version), = loaded  # fmt: skip
        _VERSIONS[fixture] = (_elements(format_name, olds[-1]), _elements(format_name, version))
    return _VERSIONS[fixture]


def _elements(format_name: str, loaded: Any) -> Elements:
    if format_name in NATIVE_NAMES:
        return native_elements(format_name, loaded)
    return DocumentElements(format_name, loaded)


def declared(format_name: str, finding: Finding) -> list[tuple[str, str]]:
    """(kind, entry): the element ``finding`` is about, as a consumer declares it."""
    if format_name == "openapi":
        entries = [("operations", op) for op in finding.operations]
        element = schema_element(pointer_segments(finding.pointer))
        if element is not None:
            entries.append(("fields", ".".join(element[1:])))
        return entries
    if format_name == "jsonschema":
        return [("fields", finding.path)] + (
            [("fields", finding.pointer)] if finding.pointer else []
        )
    if format_name == "dbt":
        model, column = finding.args.get("model"), finding.args.get("column")
        assert isinstance(model, str)
        return [("columns", f"{model}.{column}" if isinstance(column, str) else f"{model}.*")]
    if finding.rule.startswith("meta.proto-file."):
        return []  # about a file, not an element: no usage names it
    return [("fields", finding.path)]


@pytest.mark.parametrize("fixture", sorted(PAIRS))
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_what_every_finding_names_is_known_to_a_version(fixture: str, direction: str) -> None:
    format_name, old, new = PAIRS[fixture]
    if direction == "backward":
        old, new = new, old
    result = diff(str(HERE / old), str(HERE / new), DiffOptions(format=format_name))
    both = versions(fixture)
    checked = 0
    for finding in result.findings:
        if finding.rule in NOT_A_CONSUMER_CHANGE:
            continue
        for kind, entry in declared(format_name, finding):
            checked += 1
            assert any(v.knows(kind, entry) for v in both), (finding.rule, kind, entry)
    assert checked >= 2


MATCHED = [
    ("openapi", "operations", "delete /orders/{id}"),
    ("openapi", "operations", "GET /orders/{orderId}"),
    ("openapi", "fields", "Order.email"),
    ("openapi", "fields", "Address.city"),
    ("openapi", "fields", "NewOrder.qty"),
    ("openapi", "fields", "/paths/~1orders~1{id}/post/responses/200"),
    ("openapi", "fields", "/components/schemas/Order/properties/email"),
    ("jsonschema", "fields", "lines[].qty"),
    ("jsonschema", "fields", "$.customer.email"),
    ("jsonschema", "fields", "meta"),
    ("jsonschema", "fields", "/properties/id"),
    ("jsonschema", "fields", "lines.qty"),
    ("graphql", "operations", "Query.order"),
    ("graphql", "operations", "Query.orders"),
    ("graphql", "fields", "Order.email"),
    ("graphql", "fields", "Order.total"),
    ("graphql", "fields", "Order.total(currency:)"),
    ("graphql", "fields", "Legacy.x"),
    ("graphql", "messages", "OrderInput"),
    ("graphql_reach", "operations", "Query.node"),
    ("graphql_reach", "operations", "Query.search"),
    ("graphql_reach", "messages", "Customer"),
    ("graphql_reach", "fields", "Order.customer"),
    ("protobuf", "operations", "shop.v1.Orders/List"),
    ("protobuf", "operations", "shop.v1.Old/X"),
    ("protobuf", "messages", "shop.v1.Order"),
    ("protobuf", "fields", "shop.v1.GetRequest.id"),
    ("protobuf", "fields", "shop.v1.Gone.a"),
    ("protobuf_reach", "operations", "shop.v1.Orders/Get"),
    ("protobuf_reach", "messages", "shop.v1.Customer"),
    ("avro", "messages", "shop.Address"),
    ("avro", "messages", "shop.Status"),
    ("avro", "fields", "shop.Line.qty"),
    ("avro", "fields", "shop.Order.address"),
    ("openapi_refs", "fields", "Order.customer.address.city"),
    ("openapi_refs", "fields", "Order.lines.qty"),
    ("openapi_refs", "fields", "Order.customer"),
    ("openapi_refs", "fields", "Line.qty"),
    ("openapi_refs", "messages", "Order"),
    ("dbt", "columns", "orders.amount"),
    ("dbt", "columns", "RAW.ORDERS.ID"),
    ("dbt", "columns", "orders.status"),
    ("dbt", "columns", "orders.*"),
    ("dbt", "columns", "customers.email"),
    ("dbt_lineage", "columns", "orders_weekly.total"),
    ("dbt_lineage", "columns", "revenue.*"),
    ("dbt_lineage", "columns", "customer_summary.orders"),
]
"""Entries that ``test_impact_matching`` and ``test_impact_reach`` see matched (exact, inside,
parent, reaches, downstream)."""


@pytest.mark.parametrize(("fixture", "kind", "entry"), MATCHED)
def test_entries_impact_matches_are_known(fixture: str, kind: str, entry: str) -> None:
    assert any(v.knows(kind, entry) for v in versions(fixture))


THROUGH_A_REF = "/paths/~1orders~1{orderId}/get/responses/200/content/application~1json/schema"
THROUGH_A_REF += "/properties/email"  # the schema is a $ref: findings point where it is written
NOTHING = [
    ("openapi", "operations", "GET /orders"),
    ("openapi", "fields", "Order.nonexistent"),
    ("openapi", "fields", "/components/schemas/Order/properties/nope"),
    ("openapi", "fields", THROUGH_A_REF),
    ("openapi", "fields", "."),  # no component: no key
    ("openapi_refs", "fields", "Order.nope.x"),
    ("openapi_refs", "fields", "Order.customer.address.country"),
    ("jsonschema", "fields", "lines.sku"),
    ("graphql", "fields", "Order.customer.name"),  # not a GraphQL element
    ("graphql", "operations", "Query.ordr"),
    ("protobuf", "messages", "shop.v2.Order"),
    ("protobuf", "operations", "shop.v1.Orders/Delete"),
    ("avro", "fields", "shop.Order.nope"),
    ("dbt", "columns", "orders.nope"),
    ("dbt", "columns", "raw.orders"),  # the relation raw, column orders: a source needs .*
]


@pytest.mark.parametrize(("fixture", "kind", "entry"), NOTHING)
def test_entries_that_name_nothing_are_unknown(fixture: str, kind: str, entry: str) -> None:
    assert not any(v.knows(kind, entry) for v in versions(fixture))
    for elements in versions(fixture):
        suggestion = elements.suggest(kind, entry)
        assert suggestion is None or elements.knows(kind, suggestion)


@pytest.mark.parametrize("fixture", sorted(PAIRS))
def test_every_suggestion_is_itself_known(fixture: str) -> None:
    for elements in versions(fixture):
        if isinstance(elements, KeyedElements):
            for kind, names in elements.names.items():
                assert names
                assert all(elements.knows(kind, name) for name in names)
        else:
            assert isinstance(elements, DocumentElements)
            for label in elements.operations().values():
                assert elements.knows("operations", label)
