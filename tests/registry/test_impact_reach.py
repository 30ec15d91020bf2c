"""Impact through references: an operation, field or type a consumer declares reaches the types
it returns or takes (GraphQL, protobuf), the named types it holds (Avro), the components its
``$ref``s lead to (OpenAPI), and for dbt the models it is built from (lineage, informational).
The fixtures are under ``impact/`` (``*_reach``, ``openapi_refs``, ``dbt_lineage``); each has
an unrelated change that no declared entry may reach."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tessera_engine.engine import DiffOptions, diff
from tessera_engine.model import DiffResult, Severity
from tessera_engine.registry.impact import assess, consumer_matches, impact
from tessera_engine.registry.impact_index import FindingIndex
from tessera_engine.registry.impact_keys import finding_keys
from tessera_engine.registry.impact_reach import reacher
from tessera_engine.registry.model import Settings, Usage
from tessera_engine.render.impact import render_impact

from .test_impact import consumer, contract, dep, registry

HERE = Path(__file__).parent / "impact"
PAIRS = {
    "graphql": ("graphql_reach/v1.graphql", "graphql_reach/v2.graphql"),
    "protobuf": ("protobuf_reach/v1", "protobuf_reach/v2"),
    "avro": ("avro/v1.avsc", "avro/v2.avsc"),
    "openapi": ("openapi_refs/v1/openapi.yaml", "openapi_refs/v2/openapi.yaml"),
    "dbt": ("dbt_lineage/v1/manifest.json", "dbt_lineage/v2/manifest.json"),
}
_DIFFS: dict[str, tuple[DiffResult, tuple[Sequence[Any], Any]]] = {}


def diffed(format_name: str) -> tuple[DiffResult, tuple[Sequence[Any], Any]]:
    if format_name not in _DIFFS:
        old, new = PAIRS[format_name]
        loaded: list[tuple[Sequence[Any], Any]] = []
        result = diff(
            str(HERE / old),
            str(HERE / new),
            DiffOptions(format=format_name),
            loaded=lambda olds, version: loaded.append((olds, version)),
        )
        _DIFFS[format_name] = (result, loaded[0])
    return _DIFFS[format_name]


def reached(
    format_name: str, depth: int = 3, **uses: list[str]
) -> dict[str, tuple[str, str, str, str]]:
    """finding path -> (entry, relation, chain, severity) for one declared usage."""
    result, loaded = diffed(format_name)
    index = FindingIndex(result.findings, lambda f: finding_keys(format_name, f))
    reach = reacher(format_name, result.mode, loaded, index, depth)
    usage = Usage(**{kind: tuple(entries) for kind, entries in uses.items()})
    return {
        m.finding.path: (m.usage, m.relation, " -> ".join(m.via), m.severity.value)
        for m in consumer_matches(format_name, usage, index, reach)
    }


# ------------------------------------------------------------------------------ GraphQL


def test_graphql_root_field_reaches_the_types_it_returns_through_fields() -> None:
    found = reached("graphql", operations=["Query.order"])
    assert {path: (relation, chain) for path, (_, relation, chain, _) in found.items()} == {
        "Order.email": ("reaches", "Query.order -> Order.email"),
        "Customer.name": ("reaches", "Query.order -> Order.customer -> Customer.name"),
        "Line.qty": ("reaches", "Query.order -> Order.lines -> Line.qty"),
    }  # not Product.title (Order implements Node, but Node's other types are not Order's)


def test_graphql_interfaces_reach_their_implementations() -> None:
    found = reached("graphql", operations=["Query.node"])
    assert found["Product.title"][2] == "Query.node -> Node -> Product.title"
    assert set(found) == {"Order.email", "Customer.name", "Line.qty", "Product.title"}


def test_graphql_unions_and_input_types_are_followed() -> None:
    found = reached("graphql", operations=["Query.search"])
    assert found["Product.title"][2] == "Query.search -> SearchResult -> Product.title"
    assert found["FilterInput.region"][2] == (
        "Query.search -> SearchInput.filter -> FilterInput.region"
    )
    assert "Unrelated.x" not in found


def test_graphql_unrelated_types_are_not_reached() -> None:
    assert reached("graphql", operations=["Query.stats", "Mutation.place"]) == {}
    everything_but = reached("graphql", messages=["Order", "Customer", "Line"])
    assert "Unrelated.x" not in everything_but and "Product.title" not in everything_but


def test_graphql_a_name_match_wins_over_a_reached_one() -> None:
    found = reached("graphql", operations=["Query.order"], fields=["Line.qty"])
    assert found["Line.qty"] == ("Line.qty", "exact", "", "breaking")
    assert found["Order.email"][1] == "reaches"


def test_graphql_a_field_usage_reaches_its_type() -> None:
    found = reached("graphql", fields=["Order.customer"])
    assert found == {
        "Customer.name": (
            "Order.customer",
            "reaches",
            "Order.customer -> Customer.name",
            "breaking",
        )
    }
    assert reached("graphql", fields=["Order.id"]) == {}  # a scalar reaches nothing


# ------------------------------------------------------------------------------ protobuf


def test_protobuf_rpc_reaches_its_messages_nested_types_maps_and_enums() -> None:
    found = reached("protobuf", operations=["shop.v1.Orders/Get"])
    chains = {path: chain for path, (_, _, chain, _) in found.items()}
    assert chains == {
        "shop.v1.Order.email": "shop.v1.Orders/Get -> shop.v1.Order.email",
        "shop.v1.Order.Note.text": "shop.v1.Orders/Get -> shop.v1.Order.Note.text",
        "shop.v1.Line.qty": "shop.v1.Orders/Get -> shop.v1.Order.lines -> "
        "shop.v1.Order.LinesEntry.value -> shop.v1.Line.qty",
        "shop.v1.Address.city": "shop.v1.Orders/Get -> shop.v1.Order.customer -> "
        "shop.v1.Customer.address -> shop.v1.Address.city",
        "shop.v1.Status.STATUS_CLOSED": "shop.v1.Orders/Get -> shop.v1.GetOrderRequest.filter "
        "-> shop.v1.Filter.status -> shop.v1.Status.STATUS_CLOSED",
    }  # across files (Address and Status are in common.proto); never shop.v1.Unrelated


def test_protobuf_unrelated_rpc_reaches_nothing() -> None:
    assert reached("protobuf", operations=["shop.v1.Orders/Stats"]) == {}
    assert reached("protobuf", messages=["shop.v1.Customer"]) == {
        "shop.v1.Address.city": (
            "shop.v1.Customer",
            "reaches",
            "shop.v1.Customer.address -> shop.v1.Address.city",
            "breaking",
        )
    }


def test_protobuf_removed_rpc_reaches_through_the_old_version() -> None:
    reg = registry(
        [contract("c", "protobuf")],
        [consumer("lister", "web", dep("c", operations=("shop.v1.Orders/List",)))],
    )  # the small pair: shop.v1.Orders/List exists in the old version only
    out = impact(reg, "c", str(HERE / "protobuf/v1"), str(HERE / "protobuf/v2"))
    paths = {m.finding.path: m.relation for m in out.consumers[0].matches}
    assert paths["shop.v1.Orders/List"] == "exact"
    assert paths["shop.v1.Order.email"] == "reaches"  # List returned Order in the old version


# ------------------------------------------------------------------------------ Avro


def test_avro_a_record_or_field_reaches_its_nested_named_types() -> None:
    by_record = reached("avro", messages=["shop.Order"])
    assert by_record["shop.Address.city"][1:3] == (
        "reaches",
        "shop.Order.address -> shop.Address.city",
    )
    assert by_record["shop.Line.qty"][2] == "shop.Order.lines -> shop.Line.qty"  # array items
    assert by_record["shop.Status"][2] == "shop.Order.status -> shop.Status"
    by_field = reached("avro", fields=["shop.Order.address"])
    assert set(by_field) == {"shop.Address.city", "shop.Address.country"}


def test_avro_unrelated_named_types_are_not_reached() -> None:
    assert reached("avro", fields=["shop.Order.id"]) == {}
    assert reached("avro", messages=["shop.Line"]) == {
        "shop.Line.qty": ("shop.Line", "inside", "", "breaking")
    }


# ------------------------------------------------------------------------------ OpenAPI


def test_openapi_property_path_follows_refs_through_allof_items_and_files() -> None:
    found = reached(
        "openapi", fields=["Order.customer.address.city", "Order.lines.qty", "Order.id"]
    )
    assert {path: (entry, chain) for path, (entry, _, chain, _) in found.items()} == {
        "GET /orders/{id} → 200 → body.customer.address.city": (
            "Order.customer.address.city",
            "Order.customer.address -> Address.city",
        ),
        "GET /orders/{id} → 200 → body.lines[].qty": ("Order.lines.qty", "Order.lines -> Line.qty"),
        "GET /orders/{id} → 200 → body.id": ("Order.id", "Order -> Base.id"),
    }


def test_openapi_a_property_holding_a_ref_reaches_the_component() -> None:
    found = reached("openapi", fields=["Order.customer"])
    assert set(found) == {"GET /orders/{id} → 200 → body.customer.address.city"}
    assert found["GET /orders/{id} → 200 → body.customer.address.city"][2] == (
        "Order.customer -> Customer.address -> Address.city"
    )
    whole = reached("openapi", messages=["Order"])
    assert {path: chain for path, (_, _, chain, _) in whole.items()} == {
        "GET /orders/{id} → 200 → body.customer.address.city": (
            "Order.customer -> Customer.address -> Address.city"
        ),
        "GET /orders/{id} → 200 → body.lines[].qty": "Order.lines -> Line.qty",
        "GET /orders/{id} → 200 → body.id": "Order -> Base.id",
    }
    assert reached("openapi", messages=["Stats"]) == {}


def test_openapi_unrelated_paths_reach_nothing() -> None:
    assert reached("openapi", fields=["Order.customer.name", "Stats.count", "Order.nope.x"]) == {}
    assert reached("openapi", fields=["Order.customer.address.zip"]) == {}


# ------------------------------------------------------------------------------ dbt lineage


def test_dbt_lineage_reaches_downstream_models_up_to_the_depth() -> None:
    found = reached("dbt", depth=2, columns=["orders_weekly.total", "revenue.total"])
    assert found == {
        "model.shop.orders → amount": (
            "orders_weekly.total",
            "downstream",
            "model.shop.orders -> model.shop.orders_daily -> model.shop.orders_weekly",
            "breaking",
        )
    }  # revenue is three hops from orders: beyond a depth of 2
    deeper = reached("dbt", depth=3, columns=["revenue.*"])
    assert deeper["model.shop.orders → amount"][2].endswith("-> model.shop.revenue")


def test_dbt_lineage_is_cycle_safe_and_ignores_unrelated_models() -> None:
    found = reached("dbt", columns=["loop_b.x"])
    assert found["model.shop.orders → amount"][2] == (
        "model.shop.orders -> model.shop.loop_a -> model.shop.loop_b"
    )
    assert reached("dbt", columns=["customer_summary.orders"]) == {
        "model.shop.customers → email": (
            "customer_summary.orders",
            "downstream",
            "model.shop.customers -> model.shop.customer_summary",
            "breaking",
        )
    }
    assert reached("dbt", columns=["orders.id"]) == {}  # upstream of nothing that changed


def test_dbt_downstream_consumers_are_informed_not_asked() -> None:
    reg = registry(
        [contract("warehouse", "dbt")],
        [
            consumer("finance", "fin", dep("warehouse", columns=("orders_daily.total",))),
            consumer("billing", "bill", dep("warehouse", columns=("orders.amount",))),
        ],
        Settings(transitive_depth=3),
    )
    old, new = (str(HERE / p) for p in PAIRS["dbt"])
    result = impact(reg, "warehouse", old, new, current_version="1.0.0")
    by_id = {c.consumer: c for c in result.consumers}
    finance = by_id["finance"]
    assert finance.severity is Severity.BREAKING and not finance.must_acknowledge
    assert by_id["billing"].must_acknowledge
    assert result.acknowledgement.teams == ("bill",)
    text = render_impact(result, "text")
    assert (
        "uses columns orders_daily.total (downstream: model.shop.orders -> "
        "model.shop.orders_daily)" in text
    )


# ------------------------------------------------------------------------------ the whole path


def test_impact_uses_the_versions_the_diff_loaded_and_shows_the_chain() -> None:
    reg = registry(
        [contract("shop-graph", "graphql")],
        [
            consumer("storefront", "web", dep("shop-graph", operations=("Query.order",))),
            consumer("reports", "data", dep("shop-graph", operations=("Query.stats",))),
        ],
    )
    old, new = (str(HERE / p) for p in PAIRS["graphql"])
    result = impact(reg, "shop-graph", old, new, current_version="1.0.0")
    assert [c.consumer for c in result.consumers] == ["storefront"]
    assert result.consumers[0].must_acknowledge
    payload = json.loads(render_impact(result, "json"))
    usages = [m["usage"] for m in payload["consumers"][0]["matches"]]
    assert {
        "kind": "operations",
        "entry": "Query.order",
        "relation": "reaches",
        "via": ["Query.order", "Order.email"],
    } in usages
    text = render_impact(result, "text")
    assert (
        "uses operations Query.order (reaches: Query.order -> Order.customer -> Customer.name)"
        in text
    )
    markdown = render_impact(result, "markdown")
    assert "uses operations Query.order (reaches: Query.order -&gt; Order.email)" in markdown


def test_fingerprints_and_findings_do_not_change() -> None:
    old, new = (str(HERE / p) for p in PAIRS["graphql"])
    plain = diff(old, new, DiffOptions(format="graphql"))
    assert plain.to_dict() == diffed("graphql")[0].to_dict()


@pytest.mark.parametrize("format_name", sorted(PAIRS))
def test_without_the_loaded_versions_names_alone_match(format_name: str) -> None:
    result, _ = diffed(format_name)
    reg = registry([contract("c", format_name)], [])
    assert assess(reg, reg.contracts["c"], result).consumers == ()
