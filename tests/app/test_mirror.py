"""The registry mirror: resync makes the tables match the registry, and only what changed is
written, except that published versions are append-only (what a source lacks or holds
differently is kept and reported, once); record_version adds a published version. On SQLite
and PostgreSQL."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tessera_app import audit, mirror_findings, mirror_syncs
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.base import transaction
from tessera_app.db.mirror_models import MirrorFinding, RegistrySync
from tessera_app.db.registry_models import (
    Consumer,
    Contract,
    ContractVersion,
    Dependency,
    Republication,
    Team,
)
from tessera_app.mirror import (
    TABLES,
    Changes,
    UnknownContract,
    VersionConflict,
    desired_rows,
    record_version,
    resync,
)
from tessera_engine.errors import InputError
from tessera_engine.registry.loader import load_registry
from tessera_engine.registry.model import PublishedVersion
from tessera_engine.registry.versions import list_versions, read_version, write_version

TEMPLATE = Path(__file__).resolve().parents[2] / "registry-template"
SPEC = "api/openapi.yaml"


def make_registry(root: Path) -> Path:
    """A copy of the registry template with a second published version of orders-api
    (2.2.0 drops ``Order.email``: breaking for consumers that read it)."""
    target = root / "registry"
    shutil.copytree(TEMPLATE, target)
    first = read_version(target / "contracts/orders-api/versions/2.1.0.json")
    text = first.files[SPEC].replace(
        "        email:\n          type: string\n          format: email\n", "", 2
    )
    assert text.count("email") == 1  # removed from Order; still required in NewOrder
    write_version(
        target,
        PublishedVersion(
            contract="orders-api",
            version="2.2.0",
            format="openapi",
            repo="acme/orders-service",
            paths=(SPEC,),
            commit="a" * 40,
            published_at="2025-06-01T12:00:00+02:00",
            files=MappingProxyType({SPEC: text.replace("version: 2.1.0", "version: 2.2.0")}),
            pull_request=150,
            findings=("f" * 16,),
        ),
    )
    return target


def mirrored(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Every mirror table's rows (without surrogate keys), sorted."""
    found: dict[str, list[dict[str, Any]]] = {}
    for table in TABLES:
        columns = [c.name for c in table.model.__table__.columns if c.name != table.surrogate]
        rows = session.execute(select(*(getattr(table.model, c) for c in columns))).mappings()
        found[table.model.__tablename__] = sorted((dict(r) for r in rows), key=repr)
    return found


def expected(root: Path) -> dict[str, list[dict[str, Any]]]:
    registry = load_registry(root)
    versions = {cid: list_versions(root, cid) for cid in registry.contracts}
    return {name: sorted(rows, key=repr) for name, rows in desired_rows(registry, versions).items()}


def audit_events(session: Session) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def test_resync_mirrors_the_registry_and_is_idempotent(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    root = make_registry(tmp_path)
    with transaction(sessions) as session:
        first = resync(session, root, actor="admin")
    assert first.tables["teams"].inserted == 3
    assert first.tables["contracts"].inserted == 4
    assert first.tables["contract_versions"].inserted == 2
    assert first.tables["consumers"].inserted == 3
    assert first.tables["dependencies"].inserted == 5
    assert first.tables["republications"].inserted == 1
    assert first.changes == sum(first.counts.values())
    with transaction(sessions) as session:
        assert mirrored(session) == expected(root)
        again = resync(session, root)
    assert again.changes == 0
    with sessions() as session:
        events = audit_events(session)
        assert [(e.action, e.actor) for e in events] == [("registry.resync", "admin")]
        assert events[0].details["changes"] == first.changes
        assert audit.verify(session).ok


def test_resync_reads_every_declared_field(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    root = make_registry(tmp_path)
    with transaction(sessions) as session:
        resync(session, root)
    with sessions() as session:
        orders = session.get(Contract, "orders-api")
        assert orders is not None
        assert (orders.owner_id, orders.format, orders.mode, orders.versioning) == (
            "orders",
            "openapi",
            "auto",
            "enforce",
        )
        assert (orders.policy, orders.source_paths, orders.source_branch) == (
            "strict",
            [SPEC],
            "main",
        )
        assert orders.tags == ["pii", "tier-1"]
        assert orders.annotations == {"Order.email": ["pii"], "Order.shipping_address": ["pii"]}
        events = session.get(Contract, "checkout-events")
        assert events is not None
        assert (events.proto_level, events.prerelease_skip_acknowledgement) == ("wire_json", True)
        mart = session.get(Contract, "orders-mart")
        assert mart is not None
        assert {"kind": "freshness", "element": "fct_orders", "args": {"within": "24h"}} in (
            mart.guarantees
        )
        web = session.get(Dependency, ("checkout-web", "orders-api"))
        assert web is not None
        assert web.versions == "^2.0"
        assert web.uses == {
            "operations": ["POST /orders", "GET /orders/{orderId}"],
            "fields": ["Order.id", "Order.status", "Order.total"],
        }
        assert web.republishes == ["checkout-events"]
        everything = session.get(Dependency, ("analytics-ingest", "orders-api"))
        assert everything is not None and everything.uses == {}
        version = session.scalars(
            select(ContractVersion).where(ContractVersion.version == "2.2.0")
        ).one()
        assert version.published_at == datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
        assert (version.pull_request, version.fingerprints) == (150, ["f" * 16])
        assert "email" in version.files[SPEC]
        team = session.get(Team, "orders")
        assert team is not None
        assert team.channels[0] == {"kind": "slack", "target": "#orders-contracts"}


def test_resync_updates_and_deletes_only_what_changed(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    root = make_registry(tmp_path)
    with transaction(sessions) as session:
        resync(session, root)
    # a consumer leaves, a contract changes its tags, a team arrives
    (root / "consumers/orders-reporting.yaml").unlink()
    path = root / "contracts/storefront-graph.yaml"
    path.write_text(path.read_text().replace("tags: [tier-1]", "tags: [tier-2, pii]"))
    (root / "teams/search.yaml").write_text("id: search\ngithub_team: acme/search\n")
    with transaction(sessions) as session:
        report = resync(session, root)
        assert mirrored(session) == expected(root)
    changed = {name: c for name, c in report.tables.items() if c.total}
    assert {name: (c.inserted, c.updated, c.deleted) for name, c in changed.items()} == {
        "teams": (1, 0, 0),
        "contracts": (0, 1, 0),
        "contract_tags": (2, 0, 1),
        "consumers": (0, 0, 1),
        "dependencies": (0, 0, 2),
    }
    with sessions() as session:
        assert session.get(Consumer, "orders-reporting") is None
        assert len(audit_events(session)) == 2


def test_a_contract_can_move_to_a_new_team_and_lose_its_republisher(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    root = make_registry(tmp_path)
    with transaction(sessions) as session:
        resync(session, root)
    (root / "teams/checkout.yaml").unlink()  # checkout's contracts and consumer move
    (root / "teams/shop.yaml").write_text("id: shop\ngithub_team: acme/shop\n")
    for name in ("contracts/checkout-events.yaml", "contracts/storefront-graph.yaml"):
        path = root / name
        path.write_text(path.read_text().replace("owner: checkout", "owner: shop"))
    path = root / "consumers/checkout-web.yaml"
    path.write_text(
        path.read_text()
        .replace("team: checkout", "team: shop")
        .replace("    republishes: [checkout-events]\n", "")
    )
    with transaction(sessions) as session:
        report = resync(session, root)
        assert mirrored(session) == expected(root)
    assert report.tables["teams"].inserted == 1 and report.tables["teams"].deleted == 1
    assert report.tables["republications"].deleted == 1
    with sessions() as session:
        assert session.scalars(select(Republication)).all() == []


def test_an_invalid_registry_changes_nothing(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    root = make_registry(tmp_path)
    with transaction(sessions) as session:
        resync(session, root)
    (root / "consumers/checkout-web.yaml").write_text("team: nobody\nservice: x\nconsumes: []\n")
    with pytest.raises(InputError, match=r"checkout-web\.yaml"), transaction(sessions) as session:
        resync(session, root)
    with sessions() as session:
        consumer = session.get(Consumer, "checkout-web")
        assert consumer is not None and consumer.team_id == "checkout"


def test_record_version(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    root = make_registry(tmp_path)
    with transaction(sessions) as session:
        resync(session, root)
    files = {"schema/storefront.graphql": "type Query { cart: String }\n"}
    with transaction(sessions) as session:
        row = record_version(
            session,
            "storefront-graph",
            "1.0.0",
            files,
            "acme/storefront",
            "schema/storefront.graphql",
            "c" * 40,
            7,
            ["abc"],
            actor="octocat",
        )
        assert (row.format, row.source_paths, row.fingerprints) == (
            "graphql",
            ["schema/storefront.graphql"],
            ["abc"],
        )
    with transaction(sessions) as session:  # a retried publish of the same commit
        again = record_version(
            session, "storefront-graph", "1.0.0", files, "r/x", "p", "c" * 40, 7, []
        )
        assert again.id == row.id
        with pytest.raises(VersionConflict, match="already published from c"):
            record_version(session, "storefront-graph", "1.0.0", files, "r/x", "p", "d" * 40, 8, [])
        with pytest.raises(UnknownContract):
            record_version(session, "nope", "1.0.0", files, "r/x", "p", "d" * 40, 8, [])
        with pytest.raises(ValueError, match="not a semantic version"):
            record_version(session, "storefront-graph", "one", files, "r/x", "p", "d" * 40, 8, [])
    with sessions() as session:
        last = audit_events(session)[-1]
        assert (last.action, last.actor, last.team) == (
            "registry.version.recorded",
            "octocat",
            "checkout",
        )
        assert last.subject == "contract:storefront-graph@1.0.0"


# --- published versions are append-only -------------------------------------------------------


def version_numbers(session: Session, contract: str = "orders-api") -> list[str]:
    return sorted(
        session.scalars(
            select(ContractVersion.version).where(ContractVersion.contract_id == contract)
        )
    )


def actions(session: Session, prefix: str = "registry.inconsistency") -> list[tuple[str, str]]:
    return [(e.action, e.subject) for e in audit_events(session) if e.action.startswith(prefix)]


def test_a_version_the_source_lacks_is_kept_and_reported_once(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    root = make_registry(tmp_path)
    with transaction(sessions) as session:
        resync(session, root)
    kept = (root / "contracts/orders-api/versions/2.2.0.json").read_text()
    (root / "contracts/orders-api/versions/2.2.0.json").unlink()
    (root / "consumers/orders-reporting.yaml").unlink()  # the rest still follows the source
    for _ in range(2):  # the periodic resync: the same finding, audited once
        with transaction(sessions) as session:
            report = resync(session, root, actor="tessera-worker")
        assert report.tables["contract_versions"] == Changes()
        (finding,) = report.findings
        assert (finding.kind, finding.subject) == ("version-missing", "contract:orders-api@2.2.0")
        assert "lacks orders-api 2.2.0" in finding.message and "#150" in finding.message
    with sessions() as session:
        assert version_numbers(session) == ["2.1.0", "2.2.0"]
        assert session.get(Consumer, "orders-reporting") is None
        assert actions(session) == [("registry.inconsistency_found", "contract:orders-api@2.2.0")]
        event = next(e for e in audit_events(session) if e.action.endswith("_found"))
        assert event.team == "orders" and event.details["source"].startswith("path:")
        health = mirror_findings.health(session)
        assert health["consistent"] is False and health["findings_total"] == 1
        assert health["findings"][0]["kind"] == "version-missing"
        assert audit.verify(session).ok
    # the source has it again: resolved, audited once more
    (root / "contracts/orders-api/versions/2.2.0.json").write_text(kept)
    with transaction(sessions) as session:
        assert resync(session, root).findings == ()
    with sessions() as session:
        assert actions(session)[-1] == (
            "registry.inconsistency_resolved",
            "contract:orders-api@2.2.0",
        )
        assert mirror_findings.health(session)["consistent"] is True
        assert session.scalars(select(MirrorFinding)).all() == []


def test_the_same_version_with_other_files_is_not_applied(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    root = make_registry(tmp_path)
    with transaction(sessions) as session:
        resync(session, root)
        published = session.scalars(
            select(ContractVersion).where(ContractVersion.version == "2.2.0")
        ).one()
        before = (dict(published.files), published.source_commit)
    path = root / "contracts/orders-api/versions/2.2.0.json"
    rewritten = read_version(path)
    path.unlink()
    write_version(
        root,
        PublishedVersion(
            contract=rewritten.contract,
            version=rewritten.version,
            format=rewritten.format,
            repo=rewritten.repo,
            paths=rewritten.paths,
            commit="b" * 40,
            published_at=rewritten.published_at,
            files=MappingProxyType({SPEC: rewritten.files[SPEC] + "# rewritten\n"}),
            pull_request=rewritten.pull_request,
            findings=rewritten.findings,
        ),
    )
    with transaction(sessions) as session:
        report = resync(session, root)
    assert report.changes == 0
    (finding,) = report.findings
    assert finding.kind == "version-differs"
    assert finding.details["differs"] == ["source_commit", "files"]
    assert "other source_commit, files than published" in finding.message
    with sessions() as session:
        kept = session.scalars(
            select(ContractVersion).where(ContractVersion.version == "2.2.0")
        ).one()
        assert (dict(kept.files), kept.source_commit) == before
        assert actions(session) == [("registry.inconsistency_found", "contract:orders-api@2.2.0")]


def add_search_contract(root: Path) -> None:
    """A team ``search`` owning one contract, ``search-api``, published as 1.0.0."""
    (root / "teams/search.yaml").write_text("id: search\ngithub_team: acme/search\n")
    (root / "contracts/search-api.yaml").write_text(
        "id: search-api\nowner: search\nformat: graphql\ntags: [tier-3]\n"
        "source:\n  repo: acme/search\n  path: schema.graphql\n"
    )
    write_version(
        root,
        PublishedVersion(
            contract="search-api",
            version="1.0.0",
            format="graphql",
            repo="acme/search",
            paths=("schema.graphql",),
            commit="e" * 40,
            published_at="2025-07-01T00:00:00+00:00",
            files=MappingProxyType({"schema.graphql": "type Query { search: String }\n"}),
            pull_request=3,
            findings=(),
        ),
    )


def test_a_removed_contract_keeps_its_versions_and_owner(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    root = make_registry(tmp_path)
    add_search_contract(root)
    with transaction(sessions) as session:
        resync(session, root)
    # the contract, its versions and its team leave the registry; another contract too
    shutil.rmtree(root / "contracts/search-api")
    (root / "contracts/search-api.yaml").unlink()
    (root / "teams/search.yaml").unlink()
    (root / "consumers/orders-reporting.yaml").unlink()
    (root / "contracts/storefront-graph.yaml").unlink()  # never published: it goes
    with transaction(sessions) as session:
        report = resync(session, root)
    (finding,) = report.findings
    assert (finding.kind, finding.subject) == ("contract-kept", "contract:search-api")
    assert finding.details == {"contract": "search-api", "versions": ["1.0.0"], "team_kept": True}
    assert finding.message.endswith(
        "no longer declares search-api, which has published versions 1.0.0: the mirror keeps "
        "the contract and its owner team search and its versions"
    )
    with sessions() as session:
        kept = session.get(Contract, "search-api")
        assert kept is not None and kept.tags == ["tier-3"]
        assert session.get(Team, "search") is not None
        assert version_numbers(session, "search-api") == ["1.0.0"]
        assert session.get(Contract, "storefront-graph") is None
        assert mirror_findings.health(session)["findings_total"] == 1
    with transaction(sessions) as session:
        assert resync(session, root).changes == 0  # kept rows are not rewritten
    add_search_contract(root)  # declared again: resolved
    with transaction(sessions) as session:
        assert resync(session, root).findings == ()
    with sessions() as session:
        assert [a for a, _ in actions(session)] == [
            "registry.inconsistency_found",
            "registry.inconsistency_resolved",
        ]


def test_resync_records_what_it_applied(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    root = make_registry(tmp_path)
    with transaction(sessions) as session:
        resync(session, root)
        resync(session, root, source="github:acme/registry@main", commit="c" * 40)
    with sessions() as session:
        rows = {row.source: row for row in session.scalars(select(RegistrySync))}
        assert set(rows) == {mirror_syncs.path_source(root), "github:acme/registry@main"}
        assert rows[mirror_syncs.path_source(root)].commit is None
        github = rows["github:acme/registry@main"]
        assert github.commit == "c" * 40 and not github.published_since
        assert github.applied_at <= github.checked_at
    with transaction(sessions) as session:  # a publication: every source must be read again
        record_version(
            session,
            "storefront-graph",
            "1.0.0",
            {"s.graphql": "type Query { a: Int }\n"},
            "acme/storefront",
            "s.graphql",
            "d" * 40,
            1,
            [],
        )
    with sessions() as session:
        assert all(row.published_since for row in session.scalars(select(RegistrySync)))
