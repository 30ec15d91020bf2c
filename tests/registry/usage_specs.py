"""Published versions for the template's contracts, so that every format's ``uses`` are checked
against a real spec (the template itself publishes only ``orders-api``)."""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType

from tessera_engine.registry.model import PublishedVersion
from tessera_engine.registry.versions import write_version

STOREFRONT = """\
type Query {
  cart(id: ID!): Cart
  orders(first: Int, status: Status): [Order!]!
}
type Mutation {
  checkout(cartId: ID!): Order
}
type Cart {
  id: ID!
  total: Float
  items: [CartItem!]!
}
type CartItem {
  sku: String!
  qty: Int!
}
type Order {
  id: ID!
  status: Status
}
enum Status {
  PLACED
  PAID
}
input OrderFilter {
  status: Status
}
directive @cached(ttl: Int) on FIELD_DEFINITION
"""

EVENTS = """\
syntax = "proto3";
package acme.checkout.v1;
import "money.proto";

message OrderPlaced {
  string order_id = 1;
  Money total = 2;
  message Line {
    string sku = 1;
  }
  repeated Line lines = 3;
  oneof payer {
    string customer = 4;
    string guest = 5;
  }
}
message OrderPaid {
  string order_id = 1;
  Money amount = 2;
}
enum Channel {
  CHANNEL_UNSPECIFIED = 0;
  CHANNEL_WEB = 1;
}
service Events {
  rpc Replay(OrderPaid) returns (OrderPlaced);
}
"""

MONEY = """\
syntax = "proto3";
package acme.checkout.v1;

message Money {
  string currency = 1;
  int64 units = 2;
}
"""


def _relation(kind: str, name: str, columns: list[str], **extra: str) -> dict[str, object]:
    return {
        "resource_type": kind,
        "package_name": "shop",
        "name": name,
        "config": {"materialized": "table"},
        "columns": {c: {"name": c, "data_type": "text"} for c in columns},
        **extra,
    }


MART = json.dumps(
    {
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},
        "nodes": {
            "model.shop.fct_orders": _relation(
                "model", "fct_orders", ["order_id", "customer_id", "amount"]
            ),
            "model.shop.dim_customers": _relation(
                "model", "dim_customers", ["customer_id", "email"]
            ),
        },
        "sources": {
            "source.shop.raw.orders": _relation("source", "orders", ["id"], source_name="raw")
        },
    },
    indent=1,
)

AVRO = json.dumps(
    {
        "type": "record",
        "name": "Shipment",
        "namespace": "acme.logistics",
        "fields": [
            {"name": "id", "type": "string"},
            {
                "name": "address",
                "type": {
                    "type": "record",
                    "name": "Address",
                    "fields": [{"name": "city", "type": "string"}],
                },
            },
            {"name": "parcels", "type": {"type": "array", "items": "string"}},
            {
                "name": "state",
                "type": {"type": "enum", "name": "State", "symbols": ["NEW", "SENT"]},
            },
        ],
    }
)

JSON_SCHEMA = json.dumps(
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "customer": {"$ref": "#/$defs/customer"},
            "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}},
            "payment": {
                "oneOf": [
                    {"type": "object", "properties": {"card": {"type": "string"}}},
                    {"type": "object", "properties": {"iban": {"type": "string"}}},
                ]
            },
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "$defs": {
            "customer": {"type": "object", "properties": {"email": {"type": "string"}}},
            "line": {"type": "object", "properties": {"qty": {"type": "integer"}}},
        },
    }
)

CONTRACTS = {
    "shipments": ("avro", "acme/logistics", "schemas/shipment.avsc"),
    "order-feed": ("jsonschema", "acme/feed", "schemas/order.json"),
}
"""Contracts of formats the template lacks: id -> (format, repo, path)."""


def publish(
    root: Path, contract: str, version: str, format_name: str, files: dict[str, str]
) -> Path:
    """Write a published version of ``contract`` into the registry at ``root``."""
    return write_version(
        root,
        PublishedVersion(
            contract=contract,
            version=version,
            format=format_name,
            repo="acme/specs",
            paths=tuple(sorted(files)),
            commit="0" * 40,
            published_at="2025-06-01T12:00:00Z",
            files=MappingProxyType(dict(files)),
        ),
    )


def publish_everything(root: Path) -> None:
    """Publish a version of every template contract but ``orders-api`` (which has one), and
    add an Avro and a JSON Schema contract (owned by ``orders``) with a version each."""
    publish(root, "storefront-graph", "1.3.0", "graphql", {"schema/storefront.graphql": STOREFRONT})
    publish(
        root,
        "checkout-events",
        "1.0.0",
        "protobuf",
        {
            "proto/acme/checkout/v1/events.proto": EVENTS,
            "proto/acme/checkout/v1/money.proto": MONEY,
        },
    )
    publish(root, "orders-mart", "1.4.2", "dbt", {"target/manifest.json": MART})
    for contract, (format_name, repo, path) in CONTRACTS.items():
        (root / "contracts" / f"{contract}.yaml").write_text(
            f"id: {contract}\nowner: orders\nformat: {format_name}\n"
            f"source:\n  repo: {repo}\n  path: {path}\n",
            encoding="utf-8",
        )
        text = AVRO if format_name == "avro" else JSON_SCHEMA
        publish(root, contract, "1.0.0", format_name, {path: text})
