"""The workflow at scale: proposal creation and one acknowledgement, on the loaded registry of
``app_bench`` (10,000 contracts, 50,000 consumer declarations in PostgreSQL).

    proposal creation   ``workflow.open_or_update`` in its own transaction for a random
                        contract and pull request: the teams that must acknowledge are the
                        mirror's consumer teams of that contract (each with its own breaking
                        fingerprint), the proposal, its team index and the audit event written
                        and committed (the impact analysis itself is ``bench/impact.py``'s)
    acknowledgement     ``POST /proposals/{id}/acknowledgements`` through the ASGI app with the
                        team's write key: authentication, the key's team, validation, the state
                        machine, the audit event, the commit and the JSON answer

``app_bench.measure`` runs ``SCENARIOS`` after its own. Run alone:
``.venv/bin/python bench/workflow_bench.py [--database URL] [--contracts N] [--declarations N]``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from app_bench import REQUESTS, Context, Latency
from sqlalchemy import select

from tessera_app import workflow
from tessera_app.auth import create_key
from tessera_app.db.base import transaction
from tessera_app.db.registry_models import Consumer, Dependency

WARMUPS = 3


def _impact(ctx: Context, contract: str) -> workflow.ImpactSummary:
    with ctx.sessions() as session:
        teams = sorted(
            set(
                session.scalars(
                    select(Consumer.team_id)
                    .join(Dependency, Dependency.consumer_id == Consumer.id)
                    .where(Dependency.contract_id == contract)
                )
            )
        )
    required = {team: frozenset({f"fp-{contract}-{team}"}) for team in teams}
    return workflow.ImpactSummary(
        contract=contract,
        required=required,
        breaking=frozenset().union(*required.values()) if required else frozenset({"fp-x"}),
        bump="major",
        current_version="1.0.0",
        version_origin="the next major version (auto)",
    )


def _proposals(ctx: Context) -> list[tuple[int, str]]:
    """(proposal id, a team it asks) for the acknowledgement scenario."""
    found: list[tuple[int, str]] = getattr(ctx, "_workflow_proposals", [])
    return found


def proposal_creation(ctx: Context) -> Latency:
    created: list[tuple[int, str]] = []
    millis: list[float] = []
    asked: list[int] = []
    for number in range(WARMUPS + REQUESTS):
        contract = ctx.rng.choice(ctx.contracts)
        impact = _impact(ctx, contract)  # the engine's answer: not part of the timing
        start = time.perf_counter()
        with transaction(ctx.sessions) as session:
            proposal = workflow.open_or_update(
                session, contract, 100_000 + number, f"sha{number}", impact
            )
            pid, required = proposal.id, sorted(proposal.required)
        elapsed = (time.perf_counter() - start) * 1000
        if number >= WARMUPS:
            millis.append(elapsed)
            asked.append(len(required))
        if required:
            created.append((pid, required[0]))
    ctx._workflow_proposals = created  # type: ignore[attr-defined]
    teams = sorted(asked)[len(asked) // 2]
    return Latency(
        "proposal creation",
        "`workflow.open_or_update` for a random contract, committed (proposal, team index, "
        "audit event)",
        tuple(millis),
        f"{teams} teams asked (median)",
    )


def acknowledgement(ctx: Context) -> Latency:
    proposals = list(_proposals(ctx))
    number = 0
    while len(proposals) < WARMUPS + REQUESTS:  # untimed: contracts that have consumers
        number += 1
        if number > 100 * (WARMUPS + REQUESTS):
            raise RuntimeError("too few contracts with consumers to acknowledge")
        contract = ctx.rng.choice(ctx.contracts)
        impact = _impact(ctx, contract)
        if impact.required:
            with transaction(ctx.sessions) as session:
                made = workflow.open_or_update(session, contract, 200_000 + number, "s", impact)
                proposals.append((made.id, sorted(made.required)[0]))
    settings = ctx.client.app.state.settings  # type: ignore[attr-defined]
    chosen = proposals[: WARMUPS + REQUESTS]
    headers: dict[str, dict[str, str]] = {}
    with transaction(ctx.sessions) as session:  # untimed: one write key per team, bound to it
        for team in sorted({team for _pid, team in chosen}):
            key, _ = create_key(
                session, f"bench-{team}"[:50], ["write"], team=team, pepper=settings.secret_key
            )
            headers[team] = {"Authorization": f"Bearer {key}"}
    millis: list[float] = []
    for number, (pid, team) in enumerate(chosen):
        body: dict[str, Any] = {"team": team, "kind": "approved"}
        start = time.perf_counter()
        response = ctx.client.post(
            f"/api/v1/proposals/{pid}/acknowledgements", json=body, headers=headers[team]
        )
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 201:
            raise RuntimeError(f"acknowledgement: {response.status_code} {response.text}")
        if number >= WARMUPS:
            millis.append(elapsed)
    return Latency(
        "an acknowledgement",
        "`POST /proposals/{id}/acknowledgements` with a write key (auth, workflow, audit, commit)",
        tuple(millis),
    )


SCENARIOS: list[Callable[[Context], Latency]] = [proposal_creation, acknowledgement]
"""Run by ``app_bench.measure`` after its own scenarios, in this order."""


def main(argv: list[str] | None = None) -> int:
    import app_bench

    return app_bench.main(argv)


if __name__ == "__main__":
    sys.exit(main())
