"""A burst of webhooks against the real service: ``tessera-app serve`` (uvicorn, the API and its
worker in their own processes) on a free loopback port, with SQLite and with PostgreSQL.

``measure()`` starts the service once per database, then posts ``BURST`` signed
``pull_request`` deliveries at the same moment (one connection each, over HTTP) and records each
delivery's latency, the slowest, p50 and p99 (GitHub gives a delivery 10 s), how many were not
answered 202, and how long the worker took to drain the queue they made. The deliveries concern
a repository without contracts, so the worker's share is the service's own database work (no
GitHub calls): what competes with ingress for the database is real. Run alone:
``.venv/bin/python bench/burst_bench.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from app_bench import throwaway_database
from sqlalchemy import text

from tessera_app.db.base import make_engine
from tessera_app.github.ingress import signature_of
from tessera_app.migrations import upgrade

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests/app/github/fixtures/pull_request/opened.payload.json"
SECRET = "bench-burst-webhook-secret-0123456789"
BURST = 200
GITHUB_TIMEOUT_SECONDS = 10.0
POSTGRES_ADMIN = os.environ.get(
    "TESSERA_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass(frozen=True)
class Burst:
    database: str
    deliveries: int
    latencies: list[float]
    refused: int  # answers other than 202
    drained_seconds: float | None  # until every job was done (None: not within the bound)

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000

    @property
    def slowest_ms(self) -> float:
        return max(self.latencies) * 1000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds:g} s")


async def _post(client: httpx.AsyncClient, url: str, body: bytes, go: asyncio.Event) -> float:
    headers = {
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": signature_of(SECRET, body),
        "Content-Type": "application/json",
    }
    await go.wait()
    began = time.perf_counter()
    response = await client.post(url, content=body, headers=headers)
    elapsed = time.perf_counter() - began
    return elapsed if response.status_code == 202 else -elapsed


async def _burst(url: str, body: bytes, count: int) -> list[float]:
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    timeout = httpx.Timeout(GITHUB_TIMEOUT_SECONDS * 3)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        go = asyncio.Event()
        tasks = [asyncio.create_task(_post(client, url, body, go)) for _ in range(count)]
        await asyncio.sleep(0.2)  # every task waiting at the start line
        go.set()
        return list(await asyncio.gather(*tasks))


def _body() -> bytes:
    data = json.loads(FIXTURE.read_text())
    data["repository"]["full_name"] = "acme/no-contracts-here"
    data["installation"] = {"id": 1}
    return json.dumps(data).encode()


def _pending(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def measure_one(database: str, url: str, count: int = BURST) -> Burst:
    upgrade(url)
    port = _free_port()
    env = dict(
        os.environ,
        TESSERA_DATABASE_URL=url,
        TESSERA_WEBHOOK_SECRETS=SECRET,
        TESSERA_WORKER_POLL_SECONDS="0.2",
    )
    env.pop("TESSERA_REGISTRY_PATH", None)
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [str(bin_dir / "tessera-app"), "serve", "--no-migrate", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(f"{base}/readyz")
            asyncio.run(_burst(f"{base}/webhooks/github", _body(), 10))  # warm-up
            began = time.perf_counter()
            results = asyncio.run(_burst(f"{base}/webhooks/github", _body(), count))
            drained: float | None = None
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                if _pending(url) == 0:
                    drained = time.perf_counter() - began
                    break
                time.sleep(0.1)
        finally:
            server.terminate()
            server.wait(90)
    return Burst(
        database,
        count,
        [abs(r) for r in results],
        sum(1 for r in results if r < 0),
        drained,
    )


def measure(count: int = BURST) -> list[Burst]:
    found = []
    with throwaway_database("sqlite://") as url:
        found.append(measure_one("SQLite", url, count))
    with throwaway_database(POSTGRES_ADMIN) as url:
        found.append(measure_one("PostgreSQL", url, count))
    return found


def markdown(bursts: list[Burst]) -> str:
    lines = [
        f"### A burst of {bursts[0].deliveries} deliveries at once",
        "",
        "`tessera-app serve` (uvicorn, one worker process beside it) on loopback; "
        f"{bursts[0].deliveries} signed `pull_request` deliveries posted at the same moment, "
        "one connection each; the worker drains the jobs they make meanwhile. GitHub gives a "
        "delivery 10 s.",
        "",
        "| database | answered 202 | p50 | p99 | slowest | queue drained after |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for burst in bursts:
        drained = f"{burst.drained_seconds:.1f} s" if burst.drained_seconds else "over 300 s"
        lines.append(
            f"| {burst.database} | {burst.deliveries - burst.refused}/{burst.deliveries} "
            f"| {burst.p50_ms:,.0f} ms | {burst.p99_ms:,.0f} ms | {burst.slowest_ms:,.0f} ms "
            f"| {drained} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deliveries", type=int, default=BURST)
    args = parser.parse_args(argv)
    print(markdown(measure(args.deliveries)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
