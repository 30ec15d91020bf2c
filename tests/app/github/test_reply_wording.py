"""Refusals read as a person would say them: internal proposal ids become the contract's
proposal, and a decision on a proposal that ended says how it ended."""

from __future__ import annotations

from tessera_app.db.workflow_models import Proposal
from tessera_app.github.acks import ended, humane


def _proposal(proposal_id: int, contract: str, state: str, version: str | None = None) -> Proposal:
    return Proposal(id=proposal_id, contract_id=contract, state=state, published_version=version)


def test_internal_ids_become_the_contracts_proposal() -> None:
    proposals = [_proposal(9, "orders-api", "open")]
    said = humane(
        "team web is not a consumer this proposal concerns (proposal 9 asks: x)", proposals
    )
    assert (
        said
        == "team web is not a consumer this proposal concerns (the orders-api proposal asks: x)"
    )
    assert humane("cannot hold proposal 12: it is expired", proposals) == (
        "cannot hold this proposal: it is expired"
    )


def test_a_decision_on_proposals_that_ended_says_how_they_ended() -> None:
    said = ended(
        [
            _proposal(1, "orders-api", "published", "3.0.0"),
            _proposal(2, "events", "withdrawn"),
            _proposal(3, "mart", "expired"),
        ]
    )
    assert said == (
        "nothing to decide: the orders-api proposal was published as 3.0.0; the events "
        "proposal was withdrawn; the mart proposal is expired, and it takes no more decisions"
    )
