"""The service at scale: the registry mirror and the management API on PostgreSQL.

``measure(database_url)`` makes a throwaway database on the server ``database_url`` names
(PostgreSQL; a ``sqlite:`` URL uses a temporary file), generates a registry of 10,000
contracts and 50,000 consumer declarations (``registry.generate``), mirrors it with
``tessera_app.mirror.resync`` (timed, then timed again with nothing to change), and times API
requests through the ASGI app in-process (``TestClient``: routing, validation, the queries
and JSON encoding, no network): p50/p95/max of ``REQUESTS`` requests per scenario.
``markdown(results)`` renders the section ``make bench`` writes.

Scenarios are functions of a ``Context`` in ``SCENARIOS``; the workflow adds its own
(proposal creation, an acknowledgement) by appending to that list (see "seam" below).

Run alone: ``.venv/bin/python bench/app_bench.py [--database URL] [--contracts N]
[--declarations N]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from registry import generate
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from tessera_app.db.base import make_engine, session_factory, transaction
from tessera_app.db.models import load_all
from tessera_app.db.registry_models import Consumer, Contract, Team
from tessera_app.mirror import resync
from tessera_app.settings import Settings
from tessera_app.web import create_app

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CONTRACTS = 10_000
DECLARATIONS = 50_000
REQUESTS = 100
TARGET_MS = 100.0  # p95, per request
SEED = 5


@dataclass
class Context:
    """What a scenario may use: the app's client, the database, the generated ids."""

    client: TestClient
    sessions: sessionmaker[Session]
    registry: Path
    teams: list[str]
    contracts: list[str]
    consumers: list[str]
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))


@dataclass(frozen=True)
class Latency:
    """Wall times of repeated requests of one scenario, in milliseconds."""

    name: str
    description: str
    millis: tuple[float, ...]
    size: str = ""  # what one answer held, e.g. "42 nodes, 61 edges (median)"

    @property
    def p50(self) -> float:
        return statistics.median(self.millis)

    @property
    def p95(self) -> float:
        ordered = sorted(self.millis)
        return ordered[max(0, round(0.95 * len(ordered)) - 1)]

    @property
    def worst(self) -> float:
        return max(self.millis)


def timed_requests(
    ctx: Context, name: str, description: str, request: Callable[[Context], Any]
) -> Latency:
    """``REQUESTS`` calls of ``request`` (after three warm-ups), each checked for a 200."""
    for _ in range(3):
        _ok(request(ctx))
    millis, sizes = [], []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        response = request(ctx)
        millis.append((time.perf_counter() - start) * 1000)
        sizes.append(_size(_ok(response)))
    nodes = statistics.median(n for n, _ in sizes)
    edges = statistics.median(e for _, e in sizes)
    size = f"{nodes:.0f} nodes, {edges:.0f} edges" if nodes or edges else ""
    return Latency(name, description, tuple(millis), size)


def _ok(response: Any) -> Any:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
    return response.json()


def _size(body: Any) -> tuple[int, int]:
    if isinstance(body, dict) and "nodes" in body:
        return len(body["nodes"]), len(body["edges"])
    return 0, 0


def graph_of_team(ctx: Context) -> Latency:
    return timed_requests(
        ctx,
        "graph, team filter",
        "`GET /graph?team=T`, T a random team (20 contracts, their consumers)",
        lambda c: c.client.get("/api/v1/graph", params={"team": c.rng.choice(c.teams)}),
    )


def graph_around_contract(ctx: Context) -> Latency:
    return timed_requests(
        ctx,
        "graph, neighbourhood depth 1",
        "`GET /graph?around=contract:C&depth=1`, C a random contract",
        lambda c: c.client.get(
            "/api/v1/graph", params={"around": f"contract:{c.rng.choice(c.contracts)}"}
        ),
    )


def graph_around_service(ctx: Context) -> Latency:
    return timed_requests(
        ctx,
        "graph, neighbourhood depth 2",
        "`GET /graph?around=service:S&depth=2`, S a random consumer",
        lambda c: c.client.get(
            "/api/v1/graph",
            params={"around": f"service:{c.rng.choice(c.consumers)}", "depth": 2},
        ),
    )


def contract_list(ctx: Context) -> Latency:
    return timed_requests(
        ctx,
        "contracts by tag, a page",
        "`GET /contracts?tag=tier-1&offset=O` (50 per page, the total counted)",
        lambda c: c.client.get(
            "/api/v1/contracts", params={"tag": "tier-1", "offset": c.rng.randrange(3000)}
        ),
    )


SCENARIOS: list[Callable[[Context], Latency]] = [
    graph_of_team,
    graph_around_contract,
    graph_around_service,
    contract_list,
]
"""The timed scenarios, in order. Seam: the workflow's benchmark (proposal creation, an
acknowledgement) appends its scenario functions here; each gets the loaded ``Context``."""


def all_scenarios() -> list[Callable[[Context], Latency]]:
    """``SCENARIOS`` and then the workflow's (``bench/workflow_bench.py``)."""
    from workflow_bench import SCENARIOS as WORKFLOW

    return [*SCENARIOS, *WORKFLOW]


@contextmanager
def throwaway_database(url: str) -> Iterator[str]:
    """A fresh, empty database: on the PostgreSQL server of ``url`` (dropped afterwards), or
    a temporary SQLite file."""
    if url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="tessera-bench-db-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"tessera_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def measure(
    database_url: str = DEFAULT_DATABASE,
    contracts: int = CONTRACTS,
    declarations: int = DECLARATIONS,
) -> dict[str, Any]:
    """Load a generated registry into a throwaway database and time every scenario."""
    with (
        tempfile.TemporaryDirectory(prefix="tessera-bench-app-") as tmp,
        throwaway_database(database_url) as url,
    ):
        root = generate(Path(tmp) / "registry", contracts, declarations)
        engine = make_engine(url)
        load_all().metadata.create_all(engine)
        sessions = session_factory(engine)
        start = time.perf_counter()
        with transaction(sessions) as session:
            report = resync(session, root, actor="bench")
        first = time.perf_counter() - start
        start = time.perf_counter()
        with transaction(sessions) as session:
            again = resync(session, root, actor="bench")
        second = time.perf_counter() - start
        if again.changes:
            raise RuntimeError(f"a second resync changed {again.changes} rows")
        with sessions() as session:
            ids = {
                name: list(session.scalars(select(model.id).order_by(model.id)))
                for name, model in (
                    ("teams", Team),
                    ("contracts", Contract),
                    ("consumers", Consumer),
                )
            }
            rows = session.scalar(select(func.count()).select_from(Contract))
        assert rows == contracts
        # the timed requests come back to back from one client: no rate limit applies
        unlimited = "1000000/second"
        app = create_app(
            Settings(
                database_url=url,
                rate_limit_per_key=unlimited,
                rate_limit_per_address=unlimited,
            )
        )
        try:
            with TestClient(app) as client:
                ctx = Context(client, app.state.sessions, root, **ids)
                latencies = [scenario(ctx) for scenario in all_scenarios()]
        finally:
            app.state.engine.dispose()
            engine.dispose()
    return {
        "database": engine.dialect.name,
        "contracts": contracts,
        "declarations": declarations,
        "rows": report.counts,
        "resync_seconds": first,
        "resync_unchanged_seconds": second,
        "requests": REQUESTS,
        "latencies": latencies,
    }


def markdown(results: dict[str, Any]) -> str:
    """The ``make bench`` section for ``results`` (from ``measure``)."""
    rows = results["rows"]
    lines = [
        "## The service at scale",
        "",
        f"A generated registry of {results['contracts']:,} contracts and "
        f"{results['declarations']:,} consumer declarations ({rows['teams']:,} teams, "
        f"{rows['consumers']:,} consumers) mirrored into {results['database']} by "
        f"`mirror.resync`: {results['resync_seconds']:.1f} s from empty, "
        f"{results['resync_unchanged_seconds']:.1f} s again with nothing to change. "
        f"Requests through the ASGI app in-process ({results['requests']} per scenario after "
        f"three warm-ups; wall time per request). Target: p95 under {TARGET_MS:.0f} ms.",
        "",
        "| scenario | request | answer | p50 (ms) | p95 (ms) | max (ms) | target |",
        "| --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    for latency in results["latencies"]:
        met = "met" if latency.p95 < TARGET_MS else "missed"
        lines.append(
            f"| {latency.name} | {latency.description} | {latency.size or '–'} | "
            f"{latency.p50:.1f} | {latency.p95:.1f} | {latency.worst:.1f} | {met} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/app_bench.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="a PostgreSQL server URL")
    parser.add_argument("--contracts", type=int, default=CONTRACTS)
    parser.add_argument("--declarations", type=int, default=DECLARATIONS)
    args = parser.parse_args(argv)
    sys.stdout.write(markdown(measure(args.database, args.contracts, args.declarations)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
