"""The workflow fed by the engine's real impact result, publishing into the registry mirror."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tessera_app import mirror, workflow
from tessera_app.db.base import transaction
from tessera_app.db.registry_models import ContractVersion
from tessera_engine.registry.impact import impact
from tessera_engine.registry.loader import load_registry

HERE = Path(__file__).parents[1] / "registry" / "impact"
REGISTRY = HERE / "registry"
V1, V2 = HERE / "openapi" / "v1.yaml", HERE / "openapi" / "v2.yaml"


def test_engine_impact_opens_a_proposal_and_publishes_into_the_mirror(
    sessions: sessionmaker[Session],
) -> None:
    registry = load_registry(REGISTRY)
    result = impact(registry, "orders-api", str(V1), str(V2), current_version="1.4.0")
    summary = workflow.ImpactSummary.from_impact(result)
    assert set(summary.required) == {"data", "web"}
    assert all(summary.required[team] <= summary.breaking for team in summary.required)
    with transaction(sessions) as session:
        mirror.resync(session, REGISTRY)
        proposal = workflow.open_or_update(session, "orders-api", 12, "abc", result)
        assert proposal.required == summary.required_json()
        assert proposal.proposed_version == "2.0.0"
        for team in ("data", "web"):
            workflow.acknowledge(session, proposal.id, team, f"{team}-lead", "approved")
        assert proposal.state == "approved"
        spec = workflow.PublishedSpec(
            files={"openapi.yaml": V2.read_text()}, repo="acme/orders", paths=("openapi.yaml",)
        )
        workflow.close(session, proposal.id, merged=True, merge_commit="f00d", spec=spec)
    with sessions() as session:
        row = session.scalars(select(ContractVersion)).one()
        assert (row.contract_id, row.version, row.source_commit) == ("orders-api", "2.0.0", "f00d")
        assert sorted(row.fingerprints) == sorted(summary.breaking)
