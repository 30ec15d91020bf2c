"""``impact``: the contract's reviewed settings drive the diff; consumers are selected by their
declared usage, followed through lineage; version ranges and pre-releases are judged."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera_engine.errors import UsageError
from tessera_engine.model import Severity
from tessera_engine.registry.impact import impact
from tessera_engine.registry.model import (
    Consumer,
    Contract,
    ContractSource,
    Dependency,
    PrereleasePolicy,
    Registry,
    Settings,
    Team,
    Usage,
)

HERE = Path(__file__).parent / "impact"
OPENAPI = (str(HERE / "openapi/v1.yaml"), str(HERE / "openapi/v2.yaml"))
JSONSCHEMA = (str(HERE / "jsonschema/v1.json"), str(HERE / "jsonschema/v2.json"))


def contract(id: str, format: str = "openapi", **settings: object) -> Contract:
    source = ContractSource(repo=f"acme/{id}", paths=("spec",))
    return Contract(id=id, owner="orders", format=format, source=source, **settings)  # type: ignore[arg-type]


def consumer(id: str, team: str, *dependencies: Dependency) -> Consumer:
    return Consumer(id=id, team=team, service=f"{id}-svc", dependencies=dependencies)


def dep(
    contract: str, versions: str = "^1", republishes: tuple[str, ...] = (), **uses: tuple[str, ...]
) -> Dependency:
    return Dependency(contract, versions, Usage(**uses), republishes)


def registry(
    contracts: list[Contract], consumers: list[Consumer], settings: Settings | None = None
) -> Registry:
    teams = {c.team: Team(c.team, f"acme/{c.team}") for c in consumers}
    teams["orders"] = Team("orders", "acme/orders")
    return Registry(
        root="registry",
        settings=settings or Settings(),
        teams=teams,
        contracts={c.id: c for c in contracts},
        consumers={c.id: c for c in consumers},
    )


def test_consumers_are_selected_by_declared_usage() -> None:
    reg = registry(
        [contract("orders-api")],
        [
            consumer("everything", "web", dep("orders-api")),
            consumer("emails", "crm", dep("orders-api", fields=("Order.email",))),
            consumer("ids", "search", dep("orders-api", fields=("Order.id",))),
            consumer("other", "search", dep("payments-api")),
        ],
    )
    result = impact(reg, "orders-api", *OPENAPI, current_version="1.4.0")
    by_id = {c.consumer: c for c in result.consumers}
    assert set(by_id) == {"everything", "emails"}
    emails = by_id["emails"]
    assert [(m.finding.rule, m.usage, m.relation) for m in emails.matches] == [
        ("schema.property.removed", "Order.email", "exact")
    ]
    assert emails.must_acknowledge and emails.severity is Severity.BREAKING
    breaking = [f for f in result.diff.findings if f.severity is Severity.BREAKING]
    assert [m.finding for m in by_id["everything"].matches] == breaking
    assert result.acknowledgement.required and result.exit_code == 1
    assert result.acknowledgement.teams == ("web", "crm")


def test_version_ranges_are_judged_and_an_outside_range_is_shown() -> None:
    reg = registry(
        [contract("orders-api")],
        [
            consumer("pinned", "web", dep("orders-api", "^1")),
            consumer("ready", "crm", dep("orders-api", ">=1.0.0 <3.0.0")),
        ],
    )
    result = impact(reg, "orders-api", *OPENAPI, current_version="1.4.0")
    assert result.versions.proposed == "2.0.0"  # auto: the next major version
    ranges = {c.consumer: c.in_range for c in result.consumers}
    assert ranges == {"pinned": False, "ready": True}
    assert all(c.must_acknowledge for c in result.consumers)  # outside the range: still asked
    assert any("outside the declared range of 1 consumer" in note for note in result.notes)


def test_without_a_published_version_ranges_are_unknown() -> None:
    reg = registry([contract("orders-api")], [consumer("c", "web", dep("orders-api"))])
    result = impact(reg, "orders-api", *OPENAPI)
    assert result.versions.proposed is None and result.consumers[0].in_range is None


def test_a_break_no_consumer_uses_needs_no_acknowledgement() -> None:
    reg = registry(
        [contract("orders-api")],
        [consumer("ids", "search", dep("orders-api", fields=("Order.id",)))],
    )
    result = impact(reg, "orders-api", *OPENAPI, current_version="1.0.0")
    assert result.diff.breaking and not result.consumers
    assert not result.acknowledgement.required and result.exit_code == 0
    assert "no declared consumer uses" in result.acknowledgement.reason


def test_the_contracts_mode_drives_the_diff() -> None:
    usage = {"fields": ("customer.email",)}
    consumers = [consumer("mailer", "crm", dep("events", **usage))]
    backward = registry([contract("events", "jsonschema")], consumers)
    forward = registry([contract("events", "jsonschema", mode="forward")], consumers)
    assert impact(backward, "events", *JSONSCHEMA).consumers == ()
    (found,) = impact(forward, "events", *JSONSCHEMA).consumers
    assert [m.finding.path for m in found.matches] == ["$.customer.email"]


def test_the_registry_default_mode_applies_when_the_contract_has_none() -> None:
    consumers = [consumer("mailer", "crm", dep("events", fields=("customer.email",)))]
    reg = registry([contract("events", "jsonschema")], consumers, Settings(mode="forward"))
    assert impact(reg, "events", *JSONSCHEMA).consumers


def test_prerelease_still_needs_acknowledgement_by_default() -> None:
    reg = registry(
        [contract("orders-api", versioning="enforce")],
        [consumer("c", "web", dep("orders-api"))],
    )
    result = impact(
        reg, "orders-api", *OPENAPI, current_version="1.4.0", proposed_version="2.0.0-rc.1"
    )
    assert result.versions.prerelease and result.acknowledgement.required
    assert "pre-release, which still needs acknowledgement" in result.acknowledgement.reason
    assert result.consumers[0].in_range is False  # ^1 does not admit 2.0.0-rc.1


def test_prerelease_skips_acknowledgement_only_when_the_policy_says_so() -> None:
    policy = PrereleasePolicy(skip_acknowledgement=True)
    reg = registry(
        [contract("orders-api", versioning="enforce", prerelease=policy)],
        [consumer("c", "web", dep("orders-api"))],
    )
    result = impact(
        reg, "orders-api", *OPENAPI, current_version="1.4.0", proposed_version="2.0.0-rc.1"
    )
    assert not result.acknowledgement.required and result.exit_code == 0
    assert "skip_acknowledgement" in result.acknowledgement.reason
    assert not result.consumers[0].must_acknowledge
    released = impact(
        reg, "orders-api", *OPENAPI, current_version="1.4.0", proposed_version="2.0.0"
    )
    assert released.acknowledgement.required  # the policy is about pre-releases only


def test_prerelease_refused_when_not_allowed() -> None:
    policy = PrereleasePolicy(allowed=False)
    reg = registry([contract("orders-api", versioning="enforce")], [], Settings(prerelease=policy))
    with pytest.raises(UsageError, match="does not allow pre-release"):
        impact(reg, "orders-api", *OPENAPI, current_version="1.4.0", proposed_version="2.0.0-rc.1")


def test_enforce_checks_the_producers_version_and_auto_refuses_one() -> None:
    enforce = registry([contract("orders-api", versioning="enforce")], [])
    result = impact(
        enforce, "orders-api", *OPENAPI, current_version="1.4.0", proposed_version="1.5.0"
    )
    rules = [f.rule for f in result.diff.findings]
    assert "lifecycle.version.bump-insufficient" in rules
    auto = registry([contract("orders-api")], [])
    with pytest.raises(UsageError, match="versioning: auto"):
        impact(auto, "orders-api", *OPENAPI, current_version="1.4.0", proposed_version="2.0.0")


def test_the_producers_version_finding_selects_no_consumer() -> None:
    reg = registry(
        [contract("orders-api", versioning="enforce")],
        [consumer("ids", "search", dep("orders-api", fields=("Order.id",)))],
    )
    result = impact(reg, "orders-api", *OPENAPI, current_version="1.4.0", proposed_version="1.5.0")
    assert result.consumers == ()


def test_unknown_contract_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no contract 'nope'"):
        impact(registry([], []), "nope", *OPENAPI)


# ------------------------------------------------------------------------- lineage


def lineage(depth: int = 3) -> Registry:
    """orders-api -> etl (republishes into warehouse) -> bi (republishes into reports) ->
    exec (republishes back into orders-api: a cycle) ... and a reader of reports."""
    return registry(
        [contract(c) for c in ("orders-api", "warehouse", "reports")],
        [
            consumer("etl", "data", dep("orders-api", republishes=("warehouse",))),
            consumer("bi", "analytics", dep("warehouse", republishes=("reports",))),
            consumer("exec", "board", dep("reports", republishes=("orders-api",))),
            consumer("loop", "orders-fans", dep("orders-api", fields=("Order.id",))),
        ],
        Settings(transitive_depth=depth),
    )


def test_republished_contracts_carry_the_impact_with_the_chain() -> None:
    result = impact(lineage(), "orders-api", *OPENAPI, current_version="1.0.0")
    chains = {
        c.consumer: [(link.consumer, link.contract) for link in c.chain] for c in result.consumers
    }
    assert chains == {
        "etl": [],
        "bi": [("etl", "warehouse")],
        "exec": [("etl", "warehouse"), ("bi", "reports")],
    }  # exec republishes into orders-api, already visited: the cycle ends there
    transitive = [c for c in result.consumers if c.transitive]
    assert all(not c.must_acknowledge and c.in_range is None for c in transitive)
    assert [m.usage for m in transitive[0].matches] == [""] * len(transitive[0].matches)
    assert result.acknowledgement.teams == ("data",)


def test_transitive_depth_limits_the_chain() -> None:
    result = impact(lineage(depth=1), "orders-api", *OPENAPI, current_version="1.0.0")
    assert [c.consumer for c in result.consumers] == ["etl", "bi"]
    none = impact(lineage(depth=0), "orders-api", *OPENAPI, current_version="1.0.0")
    assert [c.consumer for c in none.consumers] == ["etl"]


def test_an_unaffected_republisher_carries_nothing() -> None:
    reg = registry(
        [contract("orders-api"), contract("warehouse")],
        [
            consumer(
                "etl", "data", dep("orders-api", republishes=("warehouse",), fields=("Order.id",))
            ),
            consumer("bi", "analytics", dep("warehouse")),
        ],
    )
    assert impact(reg, "orders-api", *OPENAPI, current_version="1.0.0").consumers == ()
