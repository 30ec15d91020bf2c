"""The GitHub App's speed: webhook ingress, and a pull request's check on a big spec.

``measure(shared)`` times, on this machine, in-process (``TestClient``: the ASGI app, routing,
signature check, the database write and the job, no network), with SQLite in a temporary
directory:

1. ingress: ``DELIVERIES`` signed ``pull_request`` deliveries posted one after the other to
   ``POST /webhooks/github`` (verify, store, enqueue, 202), deliveries per second and p50/p99
   latency, next to a bare FastAPI endpoint that only answers 202 (the floor of the stack);
2. a pull request's check: the time from posting the ``pull_request`` webhook to the finished
   check run on the fake GitHub (ingress, then the worker's job: the pull request and its spec
   read through the gateway, diffed against the published version, impact, the proposal, the
   check run with its annotations, the proposal issue, the sticky comment) for the GitHub REST
   description (``corpus/openapi/github-rest``, 2021-01-31 -> 2021-10-10, 3.6 MB) with 10 and
   with 10,000 contracts in the registry mirror: it must not grow with the registry;
3. a burst of 200 deliveries at once against the real ``tessera-app serve`` over HTTP, on
   SQLite and on PostgreSQL (``burst_bench.py``): p99 must stay well inside GitHub's 10 s.

``markdown(result)`` renders the section ``make bench`` writes. Run alone:
``.venv/bin/python bench/github_bench.py [--shared ../shared]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import burst_bench
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from tessera_app.db.base import make_engine, session_factory, transaction, utcnow
from tessera_app.db.models import load_all
from tessera_app.db.registry_models import (
    Consumer,
    Contract,
    ContractVersion,
    Dependency,
    RegistrySettings,
    Team,
)
from tessera_app.github import handlers
from tessera_app.github.fake import FakeState, SyncASGITransport, create_app
from tessera_app.github.gateway import GitHubApp, GitHubSettings
from tessera_app.github.ingress import signature_of
from tessera_app.settings import Settings
from tessera_app.web import create_app as create_web_app
from tessera_app.worker import Worker

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests/app/github/fixtures/pull_request/opened.payload.json"
SECRET = "bench-webhook-secret-0123456789"
DELIVERIES = 1000
BLOCKS = 10  # alternating blocks of deliveries to each endpoint
REGISTRY_SIZES = (10, 10_000)
RUNS = 2  # pull requests timed per registry size (the median is reported)
REPO, SPEC, CONTRACT = "acme/github", "api.github.com.json", "github-rest"
OLD, NEW = "2021-01-31", "2021-10-10"


@dataclass(frozen=True)
class Latency:
    label: str
    count: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


@dataclass(frozen=True)
class CheckTiming:
    contracts: int
    seconds: list[float]
    conclusion: str
    annotations: int

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass(frozen=True)
class Result:
    ingress: list[Latency]
    checks: list[CheckTiming]
    spec_bytes: int
    bursts: list[burst_bench.Burst]


def _post_block(client: TestClient, body: bytes, count: int) -> list[float]:
    """``count`` signed deliveries posted one after the other: each one's latency."""
    times = []
    for _ in range(count):
        headers = {
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": signature_of(SECRET, body),
            "Content-Type": "application/json",
        }
        began = time.perf_counter()
        response = client.post("/webhooks/github", content=body, headers=headers)
        times.append(time.perf_counter() - began)
        assert response.status_code == 202, response.text
    return times


def _latency(label: str, times: list[float]) -> Latency:
    ordered = sorted(times)
    return Latency(
        label,
        len(ordered),
        sum(ordered),
        ordered[len(ordered) // 2] * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    )


def measure_ingress(workdir: Path, count: int = DELIVERIES) -> list[Latency]:
    """Both endpoints in alternating blocks (``BLOCKS`` of each), so whatever else the machine
    does weighs on both alike; per second = deliveries / the time spent answering them."""
    body = FIXTURE.read_bytes()
    bare = FastAPI()

    @bare.post("/webhooks/github", status_code=202)
    def accept() -> JSONResponse:
        return JSONResponse({"status": "queued"}, 202)

    url = f"sqlite:///{workdir / 'ingress.db'}"
    load_all().metadata.create_all(make_engine(url))
    settings = Settings(database_url=url, webhook_secrets=SECRET)  # type: ignore[call-arg]
    floor_times: list[float] = []
    app_times: list[float] = []
    with TestClient(bare) as floor, TestClient(create_web_app(settings)) as app:
        _post_block(floor, body, 20)  # warm-up
        _post_block(app, body, 20)
        for _ in range(BLOCKS):
            floor_times += _post_block(floor, body, count // BLOCKS)
            app_times += _post_block(app, body, count // BLOCKS)
    return [
        _latency("bare FastAPI endpoint (202)", floor_times),
        _latency("POST /webhooks/github", app_times),
    ]


def _key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def _mirror(sessions: sessionmaker[Session], contracts: int, old_spec: str) -> None:
    """A mirror with ``contracts`` contracts: the GitHub REST one (published, two consumers)
    and generated ones in other repositories."""
    with transaction(sessions) as session:
        session.add(RegistrySettings(id=1))
        session.add_all(
            [
                Team(id="platform", github_team="acme/platform"),
                Team(id="mobile", github_team="acme/mobile"),
                Team(id="web", github_team="acme/web"),
            ]
        )
        session.flush()
        rows: list[dict[str, Any]] = [
            {
                "id": CONTRACT,
                "owner_id": "platform",
                "format": "openapi",
                "source_repo": REPO,
                "source_paths": [SPEC],
                "source_branch": "main",
            }
        ]
        rows += [
            {
                "id": f"generated-{n:05d}",
                "owner_id": "platform",
                "format": "openapi",
                "source_repo": f"acme/service-{n % 500}",
                "source_paths": [f"api/{n}.yaml"],
                "source_branch": "main",
            }
            for n in range(contracts - 1)
        ]
        session.execute(insert(Contract), rows)
        session.add(
            ContractVersion(
                contract_id=CONTRACT,
                version="1.0.0",
                format="openapi",
                source_repo=REPO,
                source_paths=[SPEC],
                source_commit="0" * 40,
                published_at=utcnow(),
                files={SPEC: old_spec},
            )
        )
        session.add_all(
            [
                Consumer(id="mobile-app", team_id="mobile", service="mobile-app"),
                Consumer(id="web-app", team_id="web", service="web-app"),
            ]
        )
        session.flush()
        session.add_all(
            [
                Dependency(consumer_id="mobile-app", contract_id=CONTRACT, versions="*"),
                Dependency(
                    consumer_id="web-app",
                    contract_id=CONTRACT,
                    versions="*",
                    uses={"operations": ["GET /repos/{owner}/{repo}/pulls"]},
                ),
            ]
        )


def measure_check(workdir: Path, shared: Path, contracts: int, runs: int = RUNS) -> CheckTiming:
    corpus = shared / "corpus/openapi/github-rest"
    old_spec = (corpus / OLD / SPEC).read_text()
    new_spec = (corpus / NEW / SPEC).read_text()
    url = f"sqlite:///{workdir / f'check-{contracts}.db'}"
    engine = make_engine(url)
    load_all().metadata.create_all(engine)
    sessions = session_factory(engine)
    _mirror(sessions, contracts, old_spec)
    private, public = _key()
    fake = FakeState()
    fake.app.public_key = public
    fake.seed(
        {
            "installations": [{"id": 1, "account": "acme"}],
            "repos": [
                {"full_name": REPO, "installation": 1, "branches": {"main": {SPEC: old_spec}}}
            ],
        }
    )
    settings = Settings(  # type: ignore[call-arg]
        database_url=url, webhook_secrets=SECRET, registry_repo="acme/registry"
    )
    fake.add_repo("acme/registry", installation_id=1)
    fake.push("acme/registry", "main", {"tessera.yaml": "rules_version: 1\n"})
    transport = SyncASGITransport(create_app(fake))
    app = GitHubApp(
        GitHubSettings(
            app_id=1, private_key=private, base_url="http://fake/api/v3", content_pacing_seconds=0
        ),
        transport=transport,
    )
    handlers.configure(lambda _s: app, settings)
    worker = Worker(sessions, settings, periodic=False)
    seconds, conclusion, annotations = [], "", 0
    try:
        with TestClient(create_web_app(settings)) as client:
            for run in range(runs):
                branch = f"change-{run}"
                fake.push(REPO, branch, {SPEC: new_spec}, from_branch="main")
                pull = fake.open_pull_request(REPO, branch, "main", title="2021-10-10")
                body = json.dumps(_payload(pull)).encode()
                began = time.perf_counter()
                response = client.post(
                    "/webhooks/github",
                    content=body,
                    headers={
                        "X-GitHub-Event": "pull_request",
                        "X-GitHub-Delivery": str(uuid.uuid4()),
                        "X-Hub-Signature-256": signature_of(SECRET, body),
                    },
                )
                assert response.status_code == 202
                while worker.run_once():
                    pass
                seconds.append(time.perf_counter() - began)
                runs_made = [c for c in fake.check_runs.values() if c.head_sha == pull.head_sha]
                assert runs_made, "no check run was made"
                conclusion = str(runs_made[0].conclusion)
                annotations = len(runs_made[0].annotations)
    finally:
        handlers.configure(None)
        transport.close()  # its event-loop thread: left open, it keeps the process alive
        engine.dispose()
    return CheckTiming(contracts, seconds, conclusion, annotations)


def _payload(pull: Any) -> dict[str, Any]:
    data = dict(json.loads(FIXTURE.read_text()))
    data.update(action="opened", number=pull.number, installation={"id": 1})
    data["repository"]["full_name"] = REPO
    pr = data["pull_request"]
    pr["number"] = pull.number
    pr["head"].update(sha=pull.head_sha, ref=pull.head_ref)
    pr["base"].update(sha=pull.base_sha, ref=pull.base_ref)
    pr["head"]["repo"]["full_name"] = pr["base"]["repo"]["full_name"] = REPO
    return data


def measure(shared: Path) -> Result:
    with tempfile.TemporaryDirectory(prefix="tessera-github-bench-") as tmp:
        workdir = Path(tmp)
        ingress = measure_ingress(workdir)
        checks = [measure_check(workdir, shared, n) for n in REGISTRY_SIZES]
    size = (shared / "corpus/openapi/github-rest" / NEW / SPEC).stat().st_size
    return Result(ingress, checks, size, burst_bench.measure())


def markdown(result: Result) -> str:
    lines = [
        "## The GitHub App",
        "",
        "In-process (`TestClient`: the ASGI stack, no network), SQLite in a temporary "
        "directory, the fake GitHub reached through the gateway (githubkit over an in-process "
        "transport). Ingress: signed `pull_request` deliveries posted one after the other, in "
        "alternating blocks with a bare FastAPI endpoint answering 202 (the floor of the stack) "
        "on the same machine, so both see the same load.",
        "",
        "| endpoint | deliveries | per second | p50 | p99 |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in result.ingress:
        lines.append(
            f"| {row.label} | {row.count} | {row.per_second:,.0f} | {row.p50_ms:.2f} ms "
            f"| {row.p99_ms:.2f} ms |"
        )
    floor, ours = result.ingress[0], result.ingress[-1]
    lines += [
        "",
        f"Ingress runs at {ours.per_second / floor.per_second:.2f}x the bare endpoint in the same "
        "run (target: at least 0.6x): the signature check, the JSON parse, and one transaction "
        "with two prepared inserts (the delivery as received, its job) and a commit.",
    ]
    lines += [
        "",
        f"From the `pull_request` webhook to the finished check run, the GitHub REST "
        f"description ({OLD} -> {NEW}, {result.spec_bytes / 1e6:.1f} MB) with the registry "
        "mirror holding 10 or 10,000 contracts (median of "
        f"{RUNS} pull requests; the spec read through the gateway, diff, impact, proposal, "
        "check run with annotations, proposal issue, sticky comment):",
        "",
        "| contracts in the registry | webhook -> check run | conclusion | annotations |",
        "|---:|---:|---|---:|",
    ]
    for check in result.checks:
        lines.append(
            f"| {check.contracts:,} | {check.median:.2f} s | {check.conclusion} "
            f"| {check.annotations} |"
        )
    lines += ["", burst_bench.markdown(result.bursts)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args(argv)
    print(markdown(measure(args.shared)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
