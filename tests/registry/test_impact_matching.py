"""Declared usage against real findings, format by format: which entries select which findings,
and how (exact, inside, parent). The fixtures under ``impact/`` are small pairs whose findings
cover operations, fields, removed parents and nested elements."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera_engine.engine import DiffOptions, diff
from tessera_engine.model import DiffResult, Severity
from tessera_engine.registry.impact import consumer_matches
from tessera_engine.registry.impact_index import FindingIndex
from tessera_engine.registry.impact_keys import finding_keys, json_path_names, operation_key
from tessera_engine.registry.model import Usage

HERE = Path(__file__).parent / "impact"
PAIRS = {
    "openapi": ("openapi/v1.yaml", "openapi/v2.yaml"),
    "jsonschema": ("jsonschema/v1.json", "jsonschema/v2.json"),
    "graphql": ("graphql/v1.graphql", "graphql/v2.graphql"),
    "protobuf": ("protobuf/v1", "protobuf/v2"),
    "avro": ("avro/v1.avsc", "avro/v2.avsc"),
    "dbt": ("dbt/v1/manifest.json", "dbt/v2/manifest.json"),
}
_DIFFS: dict[str, DiffResult] = {}


def diffed(format_name: str) -> DiffResult:
    if format_name not in _DIFFS:
        old, new = PAIRS[format_name]
        options = DiffOptions(format=format_name)
        _DIFFS[format_name] = diff(str(HERE / old), str(HERE / new), options)
    return _DIFFS[format_name]


def selected(format_name: str, **uses: list[str]) -> dict[str, tuple[str, str, str]]:
    """finding path -> (usage kind, entry, relation) for one declared usage."""
    result = diffed(format_name)
    index = FindingIndex(result.findings, lambda f: finding_keys(format_name, f))
    usage = Usage(**{kind: tuple(entries) for kind, entries in uses.items()})
    return {
        m.finding.path: (m.kind, m.usage, m.relation)
        for m in consumer_matches(format_name, usage, index)
    }


# ------------------------------------------------------------------------------ OpenAPI


def test_openapi_operations_match_path_templates_by_position_and_methods_in_any_case() -> None:
    found = selected("openapi", operations=["delete /orders/{id}"])
    assert found == {"DELETE /orders/{orderId}": ("operations", "delete /orders/{id}", "exact")}


def test_openapi_operation_usage_selects_every_change_reaching_the_operation() -> None:
    found = selected("openapi", operations=["GET /orders/{orderId}"])
    assert set(found) == {
        "GET /orders/{id} → 200 → body.email",
        "GET /orders/{id} → 200 → body.address.city",
    }


def test_openapi_component_property_matches_where_it_is_defined() -> None:
    found = selected("openapi", fields=["Order.email", "Address.city"])
    assert found == {
        "GET /orders/{id} → 200 → body.email": ("fields", "Order.email", "exact"),
        "GET /orders/{id} → 200 → body.address.city": ("fields", "Address.city", "exact"),
    }


def test_openapi_property_made_required_is_the_property() -> None:
    found = selected("openapi", fields=["NewOrder.qty"])
    assert found == {"POST /orders/{id} → body.qty": ("fields", "NewOrder.qty", "exact")}
    assert selected("openapi", fields=["NewOrder.sku"]) == {}


def test_openapi_json_pointer_usage() -> None:
    pointer = "/paths/~1orders~1{id}/post/responses/200"
    found = selected("openapi", fields=[pointer, "/components/schemas/Order/properties/email"])
    assert found == {
        "POST /orders/{id} → 200 → body.ok": ("fields", pointer, "inside"),
        "GET /orders/{id} → 200 → body.email": (
            "fields",
            "/components/schemas/Order/properties/email",
            "exact",
        ),
    }


def test_openapi_unrelated_usage_selects_nothing() -> None:
    assert selected("openapi", fields=["Order.id"], operations=["GET /orders"]) == {}


def test_operation_keys() -> None:
    assert operation_key("get /a/{x}/b/") == operation_key("GET /a/{y}/b")
    assert operation_key("GET /a/{x}") != operation_key("GET /a/x")
    assert operation_key("GET /a") != operation_key("POST /a")


# ------------------------------------------------------------------------------ JSON Schema


def test_jsonschema_property_paths_in_every_spelling() -> None:
    found = selected("jsonschema", fields=["lines[].qty", "$.customer.email", "meta"])
    assert found == {
        "$.lines[].qty": ("fields", "lines[].qty", "exact"),
        "$.meta.src": ("fields", "meta", "inside"),
    }  # customer.email was removed, which is safe under backward: not listed


def test_jsonschema_pointer_usage_and_dotted_form() -> None:
    found = selected("jsonschema", fields=["/properties/id", "lines.qty"])
    assert set(found) == {"$.id", "$.lines[].qty"}


def test_json_path_names() -> None:
    assert json_path_names("$.lines[].qty") == ("lines", "qty")
    assert json_path_names("$") == ()
    assert json_path_names("a.b") == ("a", "b")
    assert json_path_names("$.a (oneOf 1)") == ("a",)


# ------------------------------------------------------------------------------ GraphQL


def test_graphql_root_fields_are_operations() -> None:
    found = selected("graphql", operations=["Query.order", "Query.orders"])
    assert found == {
        "Query.order": ("operations", "Query.order", "exact"),
        "Query.orders(region:)": ("operations", "Query.orders", "exact"),
    }


def test_graphql_fields_and_arguments() -> None:
    found = selected("graphql", fields=["Order.email", "Order.total", "Order.customer.name"])
    assert found == {
        "Order.email": ("fields", "Order.email", "exact"),
        "Order.total(currency:)": ("fields", "Order.total", "inside"),
    }  # Order.customer.name is not a GraphQL element: it matches nothing


def test_graphql_removed_type_affects_every_usage_inside_it() -> None:
    found = selected("graphql", fields=["Legacy.x"], messages=["OrderInput"])
    assert found == {
        "Legacy": ("fields", "Legacy.x", "parent"),
        "OrderInput.note": ("messages", "OrderInput", "inside"),
    }


def test_graphql_argument_usage() -> None:
    found = selected("graphql", fields=["Order.total(currency:)"])
    assert found == {"Order.total(currency:)": ("fields", "Order.total(currency:)", "exact")}


# ------------------------------------------------------------------------------ protobuf


def test_protobuf_rpcs_and_removed_services() -> None:
    found = selected("protobuf", operations=["shop.v1.Orders/List", "shop.v1.Old/X"])
    assert found == {
        "shop.v1.Orders/List": ("operations", "shop.v1.Orders/List", "exact"),
        "shop.v1.Old": ("operations", "shop.v1.Old/X", "parent"),
    }


def test_protobuf_message_covers_its_nested_messages() -> None:
    found = selected("protobuf", messages=["shop.v1.Order"])
    assert set(found) == {
        "shop.v1.Order.email",
        "shop.v1.Order.Line.sku",
        "shop.v1.Order.Line.qty",
    }
    assert {relation for _, _, relation in found.values()} == {"inside"}


def test_protobuf_fields_and_removed_messages() -> None:
    found = selected("protobuf", fields=["shop.v1.GetRequest.id", "shop.v1.Gone.a"])
    assert found == {
        "shop.v1.GetRequest.id": ("fields", "shop.v1.GetRequest.id", "exact"),
        "shop.v1.Gone": ("fields", "shop.v1.Gone.a", "parent"),
    }


# ------------------------------------------------------------------------------ Avro


def test_avro_named_types_and_fields() -> None:
    found = selected("avro", messages=["shop.Address"], fields=["shop.Line.qty", "shop.Order.id"])
    assert found == {
        "shop.Address.country": ("messages", "shop.Address", "inside"),
        "shop.Address.city": ("messages", "shop.Address", "inside"),
        "shop.Line.qty": ("fields", "shop.Line.qty", "exact"),
    }  # shop.Address.zip was removed, safe under backward


def test_avro_enum_change_is_the_named_type() -> None:
    assert selected("avro", messages=["shop.Status"]) == {
        "shop.Status": ("messages", "shop.Status", "exact")
    }


# ------------------------------------------------------------------------------ dbt


def test_dbt_columns_and_removed_models() -> None:
    found = selected("dbt", columns=["orders.amount", "orders.id", "customers.email"])
    assert found == {
        "model.shop.orders → amount": ("columns", "orders.amount", "exact"),
        "model.shop.customers": ("columns", "customers.email", "parent"),
    }


def test_dbt_sources_guarantees_and_case() -> None:
    found = selected("dbt", columns=["RAW.ORDERS.ID", "orders.status"])
    assert found == {
        "source.shop.raw.orders → id": ("columns", "RAW.ORDERS.ID", "exact"),
        "model.shop.orders → status": ("columns", "orders.status", "exact"),
        "model.shop.orders → status → accepted_values": ("columns", "orders.status", "exact"),
    }


def test_dbt_added_column_is_dangerous_for_select_star_readers_only() -> None:
    result = diffed("dbt")
    index = FindingIndex(result.findings, lambda f: finding_keys("dbt", f))
    star = consumer_matches("dbt", Usage(columns=("orders.*",)), index)
    added = [m for m in star if m.finding.rule == "schema.dbt-column.added"]
    assert [(m.usage, m.relation, m.severity) for m in added] == [
        ("orders.*", "inside", Severity.DANGEROUS)
    ]
    assert added[0].finding.severity is Severity.SAFE  # the finding itself stays safe
    assert len(star) == 4  # and every other change to orders
    named = consumer_matches("dbt", Usage(columns=("orders.id",)), index)
    assert named == ()
    everything = consumer_matches("dbt", Usage(), index)
    assert "schema.dbt-column.added" in [m.finding.rule for m in everything]


@pytest.mark.parametrize("format_name", sorted(PAIRS))
def test_no_uses_means_every_breaking_and_dangerous_finding(format_name: str) -> None:
    result = diffed(format_name)
    index = FindingIndex(result.findings, lambda f: finding_keys(format_name, f))
    matches = consumer_matches(format_name, Usage(), index)
    star = {"schema.dbt-column.added"}  # a reader of everything reads select *
    expected = [f for f in result.findings if f.severity >= Severity.DANGEROUS or f.rule in star]
    assert [m.finding for m in matches] == expected
    assert expected  # every fixture has something that concerns a consumer
