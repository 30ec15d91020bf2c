"""Declared ``uses`` checked against the contracts' active published versions: an entry that
names nothing is an error at its own line and column, with the closest real element; every
entry impact analysis would match is accepted."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tessera_engine.registry.impact import impact
from tessera_engine.registry.loader import load_registry
from tessera_engine.registry.validate import validate
from tessera_engine.registry.versions import read_version

from .registry_helpers import TEMPLATE, registry
from .usage_specs import EVENTS, MONEY, STOREFRONT, publish, publish_everything

IMPACT = Path(__file__).parent / "impact"


def _lines(root: Path, found: list[object]) -> list[str]:
    """Problems or notes as text, their file named from the registry's root (files are shown
    relative to the working directory when they are inside it)."""
    prefixes = (str(root) + "/", os.path.relpath(root) + "/")
    lines = []
    for item in found:
        text = str(item)
        for prefix in prefixes:
            text = text.removeprefix(prefix)
        lines.append(text)
    return lines


def _published(tmp_path: Path, files: dict[str, str | None] | None = None) -> Path:
    root = registry(tmp_path)
    publish_everything(root)
    for name, text in (files or {}).items():
        path = root / name
        if text is None:
            path.unlink()
        else:
            path.write_text(text, encoding="utf-8")
    return root


EVERYTHING = """\
team: data-platform
service: everything
consumes:
  - contract: orders-api
    uses:
      operations: [POST /orders, "get /orders/{id}/"]
      fields:
        - Order.status
        - NewOrder
        - /components/schemas/Order/properties/total
        - /paths/~1orders/post/requestBody
  - contract: storefront-graph
    uses:
      operations: [Query.cart, Mutation.checkout]
      fields: [Cart.items, CartItem.qty, "Query.orders(status:)", Status.PAID, OrderFilter.status,
               "@cached(ttl:)", "@cached", schema, schema.query]
  - contract: checkout-events
    uses:
      operations: [acme.checkout.v1.Events/Replay, acme.checkout.v1.Events]
      fields:
        - acme.checkout.v1.OrderPlaced.total
        - acme.checkout.v1.OrderPlaced.payer
        - acme.checkout.v1.OrderPlaced.Line.sku
        - acme.checkout.v1.Channel.CHANNEL_WEB
      messages: [acme.checkout.v1.Money, acme.checkout.v1.OrderPlaced.Line, acme.checkout.v1]
  - contract: shipments
    uses:
      fields:
        - acme.logistics.Shipment.address
        - acme.logistics.Address.city
        - acme.logistics.Shipment.parcels[]
        - acme.logistics.State.SENT
      messages: [acme.logistics.Shipment, acme.logistics.State, acme.logistics]
  - contract: order-feed
    uses:
      fields:
        - customer.email
        - $.lines[].qty
        - lines.qty
        - payment.iban
        - labels.*
        - /$defs/customer/properties/email
        - /$defs/line
        - $
"""
MART_USES = """\
team: orders
service: orders-reporting
consumes:
  - contract: orders-mart
    uses:
      columns: [fct_orders.order_id, FCT_ORDERS.Amount, dim_customers.*, raw.orders.id,
                raw.orders.*, fct_orders]
"""


def test_the_template_is_valid_and_says_what_it_could_not_check() -> None:
    result = validate(TEMPLATE)
    assert result.problems == []
    assert result.counts["uses"] == 5  # checkout-web's, against orders-api 2.1.0
    assert _lines(TEMPLATE, list(result.notes)) == [
        "consumers/analytics-ingest.yaml:8:3: checkout-events has no published version "
        "yet: nothing to check the uses declared here against until one is published",
        "consumers/orders-reporting.yaml:6:3: orders-mart has no published version yet: "
        "nothing to check the uses declared here against until one is published",
        "consumers/orders-reporting.yaml:13:3: storefront-graph has no published version yet: "
        "nothing to check the uses declared here against until one is published",
    ]


def test_the_template_with_every_contract_published_is_valid(tmp_path: Path) -> None:
    result = validate(_published(tmp_path))
    assert result.problems == [] and result.notes == []
    assert result.counts["uses"] == 5 + 2 + 3 + 3  # every entry the template declares


def test_every_kind_of_entry_impact_reads_is_accepted(tmp_path: Path) -> None:
    root = _published(
        tmp_path,
        {"consumers/everything.yaml": EVERYTHING, "consumers/orders-reporting.yaml": MART_USES},
    )
    result = validate(root)
    assert _lines(root, list(result.problems)) == []
    # checkout-web and analytics-ingest, then each dependency above in order
    assert result.counts["uses"] == 5 + 2 + 6 + 11 + 9 + 7 + 8 + 6


TYPOS = """\
team: data-platform
service: typos
consumes:
  - contract: orders-api
    uses:
      operations: [GET /orderz, POST /orders]
      fields: [Order.stauts, Ordr.total, /components/schemas/Order/properties/totl]
  - contract: storefront-graph
    uses:
      operations: [Query.crat]
      fields: [Cart.itmes, "Query.orders(stauts:)", Cart.items.sku]
  - contract: checkout-events
    uses:
      operations: [acme.checkout.v1.Events/Replya]
      fields: [acme.checkout.v1.OrderPlaced.totl]
      messages: [acme.checkout.v1.OrderPlacd]
  - contract: shipments
    uses:
      fields: [acme.logistics.Shipment.adress]
      messages: [acme.logistcs.Shipment]
  - contract: order-feed
    uses:
      fields: [customer.emial, lines.qyt, /properties/custmer, /properties/customer/properties]
"""
MART_TYPOS = MART_USES.replace("fct_orders.order_id", "fct_orders.ordr_id").replace(
    "raw.orders.*,", "raw.orders,"
)


def test_unknown_entries_of_every_format_are_errors_with_the_closest_element(
    tmp_path: Path,
) -> None:
    root = _published(
        tmp_path,
        {"consumers/typos.yaml": TYPOS, "consumers/orders-reporting.yaml": MART_TYPOS},
    )
    result = validate(root)
    assert result.registry is None
    assert _lines(root, list(result.problems)) == [
        "consumers/orders-reporting.yaml:6:17: 'fct_orders.ordr_id' is not a column of "
        "orders-mart 1.4.2 (its active version): did you mean 'fct_orders.order_id'?",
        "consumers/orders-reporting.yaml:7:17: 'raw.orders' is not a column of orders-mart "
        "1.4.2 (its active version): did you mean 'raw.orders.*'?",
        "consumers/typos.yaml:6:20: 'GET /orderz' is not an operation of orders-api 2.1.0 "
        "(its active version): did you mean 'GET /orders/{orderId}'?",
        "consumers/typos.yaml:7:16: 'Order.stauts' is not a field of orders-api 2.1.0 (its "
        "active version): did you mean 'Order.status'?",
        "consumers/typos.yaml:7:30: 'Ordr.total' is not a field of orders-api 2.1.0 (its "
        "active version): did you mean 'Order.total'?",
        "consumers/typos.yaml:7:42: '/components/schemas/Order/properties/totl' is not a field "
        "of orders-api 2.1.0 (its active version): did you mean "
        "'/components/schemas/Order/properties/total'?",
        "consumers/typos.yaml:10:20: 'Query.crat' is not an operation of storefront-graph "
        "1.3.0 (its active version): did you mean 'Query.cart'?",
        "consumers/typos.yaml:11:16: 'Cart.itmes' is not a field of storefront-graph 1.3.0 "
        "(its active version): did you mean 'Cart.items'?",
        "consumers/typos.yaml:11:28: 'Query.orders(stauts:)' is not a field of storefront-graph "
        "1.3.0 (its active version): did you mean 'Query.orders(status:)'?",
        "consumers/typos.yaml:11:53: 'Cart.items.sku' is not a field of storefront-graph "
        "1.3.0 (its active version): did you mean 'CartItem.sku'?",
        "consumers/typos.yaml:14:20: 'acme.checkout.v1.Events/Replya' is not an operation of "
        "checkout-events 1.0.0 (its active version): did you mean "
        "'acme.checkout.v1.Events/Replay'?",
        "consumers/typos.yaml:15:16: 'acme.checkout.v1.OrderPlaced.totl' is not a field of "
        "checkout-events 1.0.0 (its active version): did you mean "
        "'acme.checkout.v1.OrderPlaced.total'?",
        "consumers/typos.yaml:16:18: 'acme.checkout.v1.OrderPlacd' is not a message or named "
        "type of checkout-events 1.0.0 (its active version): did you mean "
        "'acme.checkout.v1.OrderPlaced'?",
        "consumers/typos.yaml:19:16: 'acme.logistics.Shipment.adress' is not a field of "
        "shipments 1.0.0 (its active version): did you mean "
        "'acme.logistics.Shipment.address'?",
        "consumers/typos.yaml:20:18: 'acme.logistcs.Shipment' is not a message or named type "
        "of shipments 1.0.0 (its active version): did you mean 'acme.logistics.Shipment'?",
        "consumers/typos.yaml:23:16: 'customer.emial' is not a field of order-feed 1.0.0 (its "
        "active version): did you mean 'customer.email'?",
        "consumers/typos.yaml:23:32: 'lines.qyt' is not a field of order-feed 1.0.0 (its "
        "active version): did you mean 'lines.qty'?",
        "consumers/typos.yaml:23:43: '/properties/custmer' is not a field of order-feed 1.0.0 "
        "(its active version): did you mean '/properties/customer'?",
        # a pointer is read as written: findings never point through a $ref
        "consumers/typos.yaml:23:64: '/properties/customer/properties' is not a field of "
        "order-feed 1.0.0 (its active version)",
    ]


def test_an_entry_is_judged_once_and_reported_wherever_it_is_declared(tmp_path: Path) -> None:
    typo = "team: {team}\nservice: s\nconsumes:\n  - contract: orders-api\n    uses:\n"
    typo += "      fields: [Order.nope]\n"
    root = _published(
        tmp_path,
        {
            "consumers/one.yaml": typo.format(team="checkout"),
            "consumers/two.yaml": typo.format(team="data-platform"),
        },
    )
    problems = _lines(root, list(validate(root).problems))
    assert [p.split(": ", 1)[0] for p in problems] == [
        "consumers/one.yaml:6:16",
        "consumers/two.yaml:6:16",
    ]
    assert all("'Order.nope' is not a field of orders-api 2.1.0" in p for p in problems)
    assert all("did you mean" not in p for p in problems)  # nothing is close to "nope"


def test_kinds_that_do_not_fit_the_format_are_reported_once(tmp_path: Path) -> None:
    text = (
        "team: data-platform\nservice: s\nconsumes:\n  - contract: orders-api\n    uses:\n"
        "      columns: [orders.x]\n      fields: [Order.id]\n"
    )
    root = _published(tmp_path, {"consumers/s.yaml": text})
    assert _lines(root, list(validate(root).problems)) == [
        "consumers/s.yaml:6:7: uses.columns does not apply to a openapi contract (it takes "
        "operations, fields)"
    ]


def test_the_active_version_follows_precedence_and_the_prerelease_policy(tmp_path: Path) -> None:
    root = _published(tmp_path)
    newer = STOREFRONT.replace("  total: Float\n", "  total: Float\n  discount: Float\n")
    publish(root, "storefront-graph", "2.0.0-rc.1", "graphql", {"schema.graphql": newer})
    consumer = root / "consumers/orders-reporting.yaml"
    text = consumer.read_text(encoding="utf-8").replace("Cart.items]", "Cart.discount]")
    consumer.write_text(text, encoding="utf-8")
    assert validate(root).problems == []  # pre-releases are allowed: 2.0.0-rc.1 is active
    settings = root / "tessera.yaml"
    policy = settings.read_text(encoding="utf-8").replace(
        "allowed: true                # 2.0.0-rc.1 may be published", "allowed: false"
    )
    settings.write_text(policy, encoding="utf-8")
    result = validate(root)
    assert result.problems == []  # it names something real: a note, not an error
    assert _lines(root, list(result.notes)) == [
        "consumers/orders-reporting.yaml:17:28: 'Cart.discount' is not yet a field of "
        "storefront-graph 1.3.0 (its active version; 2.0.0-rc.1 has it): until the declaration "
        "names what the team reads in that version, changes to it ask this team nothing"
    ]
    text = consumer.read_text(encoding="utf-8").replace("Cart.discount]", "Cart.discont]")
    consumer.write_text(text, encoding="utf-8")
    assert _lines(root, list(validate(root).problems)) == [
        "consumers/orders-reporting.yaml:17:28: 'Cart.discont' is not a field of "
        "storefront-graph 1.3.0 (its active version): did you mean 'Cart.items'?"
    ]


def _without_total(root: Path) -> str:
    """orders-api 2.1.0's spec with ``Order.total`` renamed ``Order.amount``."""
    spec = read_version(root / "contracts/orders-api/versions/2.1.0.json").files["api/openapi.yaml"]
    renamed = spec.replace("        total:\n", "        amount:\n").replace(
        "status, total]", "status]"
    )
    assert renamed != spec
    return renamed


def test_an_entry_a_newer_version_removed_says_which_version_had_it(tmp_path: Path) -> None:
    root = _published(tmp_path)
    publish(root, "orders-api", "2.2.0", "openapi", {"api/openapi.yaml": _without_total(root)})
    result = validate(root)
    assert result.problems == []  # out of date, not a mistake: it does not block the registry
    assert _lines(root, list(result.notes)) == [
        "consumers/checkout-web.yaml:16:11: 'Order.total' is no longer a field of orders-api "
        "2.2.0 (its active version; 2.1.0 has it): until the declaration names what the team "
        "reads in that version, changes to it ask this team nothing"
    ]


def test_a_range_that_leaves_the_active_version_out_is_read_against_its_newest(
    tmp_path: Path,
) -> None:
    """checkout-web reads ``^2.0``: 3.0.0 dropping ``Order.total`` is the breaking change the
    consumer has not moved to yet (the GitHub Action reports it), not a mistake in its
    declaration; a typo is still one, against 2.1.0."""
    root = _published(tmp_path)
    publish(root, "orders-api", "3.0.0", "openapi", {"api/openapi.yaml": _without_total(root)})
    assert validate(root).problems == []
    consumer = root / "consumers/checkout-web.yaml"
    consumer.write_text(consumer.read_text(encoding="utf-8").replace("Order.id", "Order.ids"))
    assert _lines(root, list(validate(root).problems)) == [
        "consumers/checkout-web.yaml:14:11: 'Order.ids' is not a field of orders-api 2.1.0 "
        "(the newest in its declared range): did you mean 'Order.id'?"
    ]
    wide = consumer.read_text(encoding="utf-8").replace('"^2.0"', '">=2.0.0"')
    consumer.write_text(wide.replace("Order.ids", "Order.id"), encoding="utf-8")
    result = validate(root)
    assert result.problems == []
    assert _lines(root, list(result.notes)) == [
        "consumers/checkout-web.yaml:16:11: 'Order.total' is no longer a field of orders-api "
        "3.0.0 (its active version; 2.1.0 has it): until the declaration names what the team "
        "reads in that version, changes to it ask this team nothing"
    ]


def test_a_contract_with_no_published_version_is_a_note_not_an_error(tmp_path: Path) -> None:
    root = _published(tmp_path)
    shutil.rmtree(root / "contracts/shipments")
    (root / "consumers/s.yaml").write_text(
        "team: checkout\nservice: s\nconsumes:\n  - contract: shipments\n    uses:\n"
        "      messages: [anything.At.All]\n",
        encoding="utf-8",
    )
    result = validate(root)
    assert result.problems == [] and result.registry is not None
    assert _lines(root, list(result.notes)) == [
        "consumers/s.yaml:4:3: shipments has no published version yet: nothing to check "
        "the uses declared here against until one is published"
    ]


def test_a_spec_that_does_not_load_is_one_problem_at_its_version_file(tmp_path: Path) -> None:
    root = _published(tmp_path)
    publish(
        root,
        "checkout-events",
        "1.1.0",
        "protobuf",
        {"proto/events.proto": EVENTS.replace("message OrderPaid {", "message OrderPaid {{")},
    )
    publish(root, "storefront-graph", "1.4.0", "graphql", {"schema.graphql": "type Query {"})
    broken_yaml = "openapi: 3.0.3\npaths: [\n"
    publish(root, "orders-api", "2.2.0", "openapi", {"api/openapi.yaml": broken_yaml})
    lines = _lines(root, list(validate(root).problems))
    assert len(lines) == 3
    events, orders, storefront = lines
    assert events == (
        "contracts/checkout-events/versions/1.1.0.json:15:3: the spec of checkout-events 1.1.0 "
        "(its active version) does not load, so the uses declared on it cannot be checked: "
        "checkout-events@1.1.0:proto/events.proto:17:20: Expected type name."
    )
    assert orders == (
        "contracts/orders-api/versions/2.2.0.json:15:3: the spec of orders-api 2.2.0 (its "
        "active version) does not load, so the uses declared on it cannot be checked: "
        "orders-api@2.2.0:api/openapi.yaml:2:8: invalid YAML: unclosed bracket '['"
    )
    assert storefront.startswith(
        "contracts/storefront-graph/versions/1.4.0.json:15:3: the spec of storefront-graph "
        "1.4.0 (its active version) does not load, so the uses declared on it cannot be "
        "checked: storefront-graph@1.4.0:schema.graphql:1:"
    )


def test_a_protobuf_module_protoc_refuses_is_worded_with_its_line(tmp_path: Path) -> None:
    root = _published(tmp_path)
    bad = EVENTS.replace("  Money amount = 2;", "  Monee amount = 2;")
    files = {
        "proto/acme/checkout/v1/events.proto": bad,
        "proto/acme/checkout/v1/money.proto": MONEY,
    }
    publish(root, "checkout-events", "1.0.1", "protobuf", files)
    (problem,) = _lines(root, list(validate(root).problems))
    assert problem.startswith("contracts/checkout-events/versions/1.0.1.json:")
    assert "checkout-events@1.0.1:proto/acme/checkout/v1/events.proto:19:3: " in problem
    assert '"Monee" is not defined' in problem


def test_broken_version_files_are_reported_and_their_contract_not_checked(tmp_path: Path) -> None:
    typo = "team: checkout\nservice: s\nconsumes:\n  - contract: orders-api\n    uses:\n"
    root = _published(tmp_path, {"consumers/s.yaml": typo + "      fields: [Order.nope]\n"})
    assert any("'Order.nope'" in p for p in _lines(root, list(validate(root).problems)))
    path = root / "contracts/orders-api/versions/2.1.0.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"commit"', '"commmit"'))
    problems = _lines(root, list(validate(root).problems))
    assert problems == [
        "contracts/orders-api/versions/2.1.0.json:5:3: source: missing required key 'commit'",
        "contracts/orders-api/versions/2.1.0.json:10:5: source: unknown key 'commmit' "
        "(expected commit, paths, repo)",
    ]  # which version is active is not known: the uses of orders-api wait


def test_loading_a_registry_does_not_check_uses(tmp_path: Path) -> None:
    """A newer published version may drop what a consumer declared: the registry (and what
    was published into it) still loads; the consumer's own pull request shows the problem."""
    root = _published(tmp_path, {"consumers/typos.yaml": TYPOS})
    assert validate(root).problems
    loaded = load_registry(root)
    assert "typos" in loaded.consumers


def test_the_impact_registry_validates_and_its_uses_are_matched(tmp_path: Path) -> None:
    """The declarations of the impact fixtures' registry, against v1 of its specs: valid, and
    matched by impact as before (``mailer``'s ``NewOrder.sku`` is in v1, and unchanged)."""
    root = tmp_path / "registry"
    shutil.copytree(IMPACT / "registry", root)
    openapi = (IMPACT / "openapi/v1.yaml").read_text(encoding="utf-8")
    publish(root, "orders-api", "1.0.0", "openapi", {"openapi.yaml": openapi})
    manifest = (IMPACT / "dbt/v1/manifest.json").read_text(encoding="utf-8")
    publish(root, "warehouse", "2.0.0", "dbt", {"target/manifest.json": manifest})
    result = validate(root)
    assert result.problems == [] and result.notes == []
    assert result.counts["uses"] == 4
    found = impact(result.registry, "orders-api", str(IMPACT / "openapi/v1.yaml"),
                   str(IMPACT / "openapi/v2.yaml"))  # fmt: skip
    direct = {c.consumer for c in found.consumers if not c.transitive}
    assert direct == {"etl", "storefront"}
