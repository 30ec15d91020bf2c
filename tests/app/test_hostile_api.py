"""The management API under hostile requests: a body over ``TESSERA_MAX_REQUEST_BYTES`` is
413 before it is read; an engine run over its CPU time or memory is stopped in its own process
(422 naming the setting) while ``/healthz`` keeps answering; one run more than the workers is
503 with ``Retry-After``; callers over their rate are 429 with ``Retry-After``, per API key and
per client address; NUL characters in parameters and bodies are 422 on SQLite and PostgreSQL.

The engine runs are real: a big but legal spec (tens of thousands of added properties) that
costs seconds of CPU, against a CPU limit of 1 s. The server is a real uvicorn on a loopback
port, in a thread of this process, so ``/healthz`` is asked while the run goes on.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from tessera_app.api import audit as audit_api
from tessera_app.api import registry_runs as runs
from tessera_app.api.registry_engine import Judging
from tessera_app.auth import create_key
from tessera_app.db.base import make_engine, session_factory, transaction
from tessera_app.db.models import load_all
from tessera_app.db.registry_models import Team
from tessera_app.engine_sandbox import Bounds, Busy, EngineSandbox
from tessera_app.mirror import resync
from tessera_app.settings import Settings
from tessera_app.web import create_app
from tessera_app.workflow import ImpactSummary, open_or_update
from tessera_engine.registry.loader import load_registry
from tessera_engine.registry.versions import read_version

from .polling import wait_until
from .test_mirror import SPEC, make_registry

PEPPER = "h" * 32
API = "/api/v1"
CHECK = f"{API}/contracts/orders-api/check"
ORDER = "    Order:\n      type: object\n      required: [id, status, total]\n      properties:\n"
COSTLY_PROPERTIES = 60_000  # several seconds of CPU to compare (1.7 s per 20,000 measured)
BACKSTOP = 120.0  # seconds: only a hang would reach it


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_registry(tmp_path_factory.mktemp("hostile"))


def active_spec(registry: Path) -> str:
    text: str = read_version(registry / "contracts/orders-api/versions/2.2.0.json").files[SPEC]
    assert ORDER in text
    return text


def with_properties(registry: Path, count: int) -> str:
    """The active spec of orders-api with ``count`` more (optional) properties on Order: a
    compatible change whose comparison costs CPU in proportion."""
    added = "".join(f"        extra{i}:\n          type: string\n" for i in range(count))
    return active_spec(registry).replace(ORDER, ORDER + added, 1)


@pytest.fixture(scope="module")
def mirror(registry: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SQLite database holding the registry's mirror (for the tests that need no
    PostgreSQL: what they bound is the engine's run and the body, not the database)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('mirror') / 'tessera.db'}"
    engine = make_engine(url)
    load_all().metadata.create_all(engine)
    with transaction(session_factory(engine)) as session:
        resync(session, registry)
    engine.dispose()
    yield url


def app_on(url: str, **settings: Any) -> FastAPI:
    return create_app(Settings(database_url=url, secret_key=PEPPER, **settings))


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port, in a thread; its base URL. Stopped
    (lifespan shutdown included) on exit."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        wait_until("the server to start", lambda: server.started, timeout=BACKSTOP)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(BACKSTOP)
        listener.close()
        app.state.engine.dispose()
    assert not thread.is_alive()


@pytest.fixture(scope="module")
def served(mirror: str) -> Iterator[tuple[str, FastAPI]]:
    """A real server whose engine runs may use 1 s of CPU, one at a time."""
    app = app_on(mirror, check_cpu_seconds=1, check_workers=1)
    with serving(app) as base:
        yield base, app


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


class Costly:
    """A costly check posted from a thread: its response, and when it came."""

    def __init__(self, base: str, body: dict[str, Any]) -> None:
        self.response: httpx.Response | None = None
        self.answered_at = float("inf")
        self.thread = threading.Thread(target=self._post, args=(base, body), daemon=True)
        self.thread.start()

    def _post(self, base: str, body: dict[str, Any]) -> None:
        self.response = httpx.post(base + CHECK, json=body, timeout=BACKSTOP)
        self.answered_at = time.monotonic()

    def join(self) -> httpx.Response:
        self.thread.join(BACKSTOP)
        assert self.response is not None, "the costly check did not answer"
        return self.response


def test_a_costly_check_is_stopped_by_its_cpu_limit_while_healthz_answers(
    served: tuple[str, FastAPI], registry: Path
) -> None:
    base, app = served
    costly = Costly(base, {"spec": with_properties(registry, COSTLY_PROPERTIES)})
    wait_until("the engine run to start", lambda: app.state.sandbox.running, timeout=BACKSTOP)
    child = app.state.sandbox.running[0]
    assert child != os.getpid()
    healthz: list[tuple[int, float]] = []
    while costly.thread.is_alive():
        answer = httpx.get(base + "/healthz", timeout=BACKSTOP)
        healthz.append((answer.status_code, time.monotonic()))
    response = costly.join()

    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "more than 1 s of CPU" in detail and "TESSERA_CHECK_CPU_SECONDS" in detail
    assert any(code == 200 and at < costly.answered_at for code, at in healthz), healthz
    assert not app.state.sandbox.running
    wait_until("the engine's process to be gone", lambda: process_gone(child), timeout=BACKSTOP)


def test_one_run_more_than_the_workers_is_503_with_retry_after(
    served: tuple[str, FastAPI], registry: Path
) -> None:
    base, app = served
    costly = Costly(base, {"spec": with_properties(registry, COSTLY_PROPERTIES)})
    wait_until("the engine run to start", lambda: app.state.sandbox.running, timeout=BACKSTOP)
    refused = httpx.post(base + CHECK, json={"spec": active_spec(registry)}, timeout=BACKSTOP)
    first = costly.join()

    assert refused.status_code == 503, refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    assert "TESSERA_CHECK_WORKERS" in refused.json()["detail"]
    assert first.status_code == 422
    after = httpx.post(base + CHECK, json={"spec": active_spec(registry)}, timeout=BACKSTOP)
    assert after.status_code == 200, after.text  # the worker is free again
    assert after.json()["verdict"] == "compatible"


def read_response(connection: socket.socket) -> bytes:
    """One HTTP/1.1 response with a Content-Length, head and body."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += connection.recv(65536) or b"\r\n\r\n"
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        more = connection.recv(65536)
        if not more:
            break
        body += more
    return head + b"\r\n\r\n" + body


def test_a_body_over_the_limit_by_its_length_is_413_without_waiting_for_it(
    served: tuple[str, FastAPI],
) -> None:
    base, _ = served
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=BACKSTOP) as connection:
        connection.sendall(
            b"POST " + CHECK.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n"
        )  # and not one byte of the body
        answer = read_response(connection)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"TESSERA_MAX_REQUEST_BYTES" in answer


def test_a_check_over_its_memory_is_stopped(mirror: str, registry: Path) -> None:
    app = app_on(mirror, check_memory_mb=64, check_cpu_seconds=120)
    with TestClient(app) as client:
        response = client.post(CHECK, json={"spec": with_properties(registry, COSTLY_PROPERTIES)})
        assert not app.state.sandbox.running
    app.state.engine.dispose()
    assert response.status_code == 422, response.text
    assert "TESSERA_CHECK_MEMORY_MB" in response.json()["detail"]


def test_closing_the_sandbox_ends_the_runs_in_progress(registry: Path) -> None:
    loaded = load_registry(str(registry))
    contract = loaded.contracts["orders-api"]
    active = read_version(registry / "contracts/orders-api/versions/2.2.0.json")
    run = runs.ProposedRun(
        Judging(loaded, contract, active),
        {SPEC: with_properties(registry, COSTLY_PROPERTIES)},
        None,
    )
    sandbox = EngineSandbox(Bounds(cpu_seconds=600, memory_mb=4096, workers=1))
    outcome: list[BaseException] = []

    def check() -> None:
        try:
            sandbox.run(runs.check_body, run)
        except Busy as err:
            outcome.append(err)

    thread = threading.Thread(target=check, daemon=True)
    thread.start()
    wait_until("the engine run to start", lambda: sandbox.running, timeout=BACKSTOP)
    child = sandbox.running[0]
    sandbox.close()
    thread.join(BACKSTOP)
    assert [str(err) for err in outcome] == [
        "the check was stopped: the server is shutting down; try again in 5 s"
    ]
    assert not sandbox.running
    wait_until("the engine's process to be gone", lambda: process_gone(child), timeout=BACKSTOP)


def asgi_post(
    app: FastAPI, headers: dict[str, str], chunks: Iterator[bytes]
) -> tuple[int, bytes, int]:
    """POST ``chunks`` to the check at the ASGI level (no server, no client buffering): the
    status and body answered, and how many body bytes the app took."""
    consumed = 0
    status = 0
    answer = b""

    async def receive() -> dict[str, Any]:
        nonlocal consumed
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        consumed += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, answer
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            answer += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": CHECK,
        "raw_path": CHECK.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 4000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return status, answer, consumed


LIMIT = 1024 * 1024
CHUNK = 64 * 1024


def endless_body() -> Iterator[bytes]:
    """A JSON body that would go on for 256 MiB."""
    yield b'{"spec": "'
    for _ in range(256 * 1024 * 1024 // CHUNK):
        yield b"x" * CHUNK


def test_a_streamed_body_is_read_no_further_than_the_limit(mirror: str) -> None:
    app = app_on(mirror, max_request_bytes=LIMIT)
    status, answer, consumed = asgi_post(app, {"content-type": "application/json"}, endless_body())
    app.state.engine.dispose()
    assert status == 413
    assert b"TESSERA_MAX_REQUEST_BYTES" in answer
    assert consumed <= LIMIT + CHUNK


def test_a_body_over_the_limit_by_its_length_is_not_read_at_all(mirror: str) -> None:
    app = app_on(mirror, max_request_bytes=LIMIT)
    headers = {"content-type": "application/json", "content-length": str(10 * LIMIT)}
    status, answer, consumed = asgi_post(app, headers, endless_body())
    app.state.engine.dispose()
    assert (status, consumed) == (413, 0)
    assert b"TESSERA_MAX_REQUEST_BYTES" in answer


def test_a_body_under_the_limit_is_checked(mirror: str, registry: Path) -> None:
    app = app_on(mirror, max_request_bytes=LIMIT)
    with TestClient(app) as client:
        response = client.post(CHECK, json={"spec": active_spec(registry)})
    app.state.engine.dispose()
    assert response.status_code == 200, response.text


def _key(sessions: sessionmaker[Session], name: str) -> dict[str, str]:
    with transaction(sessions) as session:
        key, _ = create_key(session, name, ["read"], pepper=PEPPER)
    return {"Authorization": f"Bearer {key}"}


def test_callers_without_a_key_are_limited_per_address(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    app = app_on(database_url, rate_limit_per_address="3/minute")
    other = TestClient(app, client=("203.0.113.6", 1000))
    with TestClient(app, client=("203.0.113.5", 1000)) as client:
        remaining = [client.get(f"{API}/contracts").headers["RateLimit-Remaining"] for _ in "abc"]
        refused = client.get(f"{API}/contracts")
        spoofed = client.get(f"{API}/contracts", headers={"X-Forwarded-For": "198.51.100.7"})
        invalid_key = client.get(f"{API}/contracts", headers={"Authorization": "Bearer tsk_no"})
        probes = [client.get(path).status_code for path in ("/healthz", "/readyz")]
        elsewhere = other.get(f"{API}/contracts")
    app.state.engine.dispose()

    assert remaining == ["2", "1", "0"]
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit-Limit"] == "3"
    assert "TESSERA_RATE_LIMIT_PER_ADDRESS" in refused.json()["detail"]
    assert spoofed.status_code == 429  # X-Forwarded-For is not trusted by default
    assert invalid_key.status_code == 429  # an invalid key counts against the address
    assert probes == [200, 200]  # the probes are not counted
    assert elsewhere.status_code == 200


def test_callers_with_a_key_are_limited_per_key(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    app = app_on(database_url, rate_limit_per_key="3/minute", rate_limit_per_address="3/minute")
    first, second = _key(sessions, "first"), _key(sessions, "second")
    with TestClient(app) as client:
        statuses = [client.get(f"{API}/contracts", headers=first).status_code for _ in "abcd"]
        refused = client.get(f"{API}/contracts", headers=first)
        other_key = client.get(f"{API}/contracts", headers=second)
        anonymous = client.get(f"{API}/contracts")  # the same address
    app.state.engine.dispose()

    assert statuses == [200, 200, 200, 429]
    assert int(refused.headers["Retry-After"]) >= 1
    assert "TESSERA_RATE_LIMIT_PER_KEY" in refused.json()["detail"]
    assert other_key.status_code == 200
    assert anonymous.status_code == 200


def test_a_trusted_proxy_names_the_client(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    app = app_on(database_url, rate_limit_per_address="1/minute", trusted_proxies="203.0.113.5")
    with TestClient(app, client=("203.0.113.5", 1000)) as proxy:
        answers = [
            proxy.get(f"{API}/contracts", headers={"X-Forwarded-For": client}).status_code
            for client in ("198.51.100.1", "198.51.100.1", "198.51.100.2")
        ]
    app.state.engine.dispose()
    assert answers == [200, 429, 200]


def test_rates_and_proxies_are_validated() -> None:
    with pytest.raises(ValidationError, match="'lots' is not a rate"):
        Settings(rate_limit_per_key="lots")
    with pytest.raises(ValidationError, match=r"'proxy\.example' is not an address or network"):
        Settings(trusted_proxies="10.0.0.1, proxy.example")


NUL = "a\x00b"
NUL_IN_URL = "a%00b"


@pytest.fixture
def admin(database_url: str, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    """A client with an admin key, over a mirror that knows team web and a proposal (id 1
    on a fresh database) that asks web."""
    with transaction(sessions) as session:
        session.add(Team(id="web", github_team="acme/web"))
    with transaction(sessions) as session:
        key, _ = create_key(session, "ops", ["admin"], owner="alice", pepper=PEPPER)
        impact = ImpactSummary(
            contract="orders-api",
            required={"web": frozenset({"fp-a"})},
            breaking=frozenset({"fp-a"}),
            informed=frozenset(),
            bump="major",
            current_version="1.0.0",
            version_origin="the next major version (auto)",
        )
        proposal = open_or_update(session, "orders-api", 5, "sha", impact).id
    app = app_on(database_url)
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
        client.proposal = proposal  # type: ignore[attr-defined]
        yield client
    app.state.engine.dispose()


@pytest.mark.parametrize(
    "path",
    [
        f"{API}/audit/events?action={NUL_IN_URL}",
        f"{API}/audit/events?subject={NUL_IN_URL}",
        f"{API}/proposals?team={NUL_IN_URL}",
        f"{API}/proposals?contract={NUL_IN_URL}",
        f"{API}/acknowledgements?team={NUL_IN_URL}",
        f"{API}/contracts?tag={NUL_IN_URL}",
        f"{API}/consumers?contract={NUL_IN_URL}",
        f"{API}/jobs?kind={NUL_IN_URL}",
        f"{API}/search?q={NUL_IN_URL}",
    ],
)
def test_a_nul_in_a_filter_is_422(admin: TestClient, path: str) -> None:
    response = admin.get(path)
    assert response.status_code == 422, response.text


def test_a_nul_in_a_path_or_a_body_is_422(admin: TestClient) -> None:
    pid = admin.proposal  # type: ignore[attr-defined]
    proposal = f"{API}/proposals/{pid}"
    future = "2999-01-01T00:00:00Z"
    refused = [
        admin.delete(f"{proposal}/acknowledgements/{NUL_IN_URL}"),
        admin.delete(f"{proposal}/holds/{NUL_IN_URL}"),
        admin.delete(f"{proposal}/waivers/{NUL_IN_URL}"),
        admin.post(
            f"{proposal}/acknowledgements", json={"team": "web", "kind": "approved", "reason": NUL}
        ),
        admin.post(
            f"{proposal}/acknowledgements", json={"team": "web", "kind": "blocked", "reason": NUL}
        ),
        admin.post(f"{proposal}/holds", json={"team": "web", "reason": NUL}),
        admin.post(f"{proposal}/holds", json={"team": "web", "evidence": {"note": NUL}}),
        admin.post(f"{proposal}/holds", json={"team": "web", "evidence": {NUL: 1}}),
        admin.post(f"{proposal}/waivers", json={"team": "web", "reason": NUL, "until": future}),
        admin.post(f"{proposal}/force-publish", json={"reason": NUL}),
        admin.post(CHECK, json={"spec": "openapi: 3.0.3\n", "path": f"api/{NUL}.yaml"}),
        admin.post(CHECK, json={"files": {f"api/{NUL}.yaml": "x"}}),
        admin.post(CHECK, json={"spec": "openapi: 3.0.3\n", "proposed_version": NUL}),
        admin.post(f"{API}/keys", json={"name": "k", "scopes": ["read"], "owner": NUL}),
    ]
    assert [r.status_code for r in refused] == [422] * len(refused), [r.text for r in refused]
    # a reason on several lines is still free text
    accepted = admin.post(f"{proposal}/holds", json={"team": "web", "reason": "line 1\nline 2"})
    assert accepted.status_code == 201, accepted.text


def test_one_audit_verification_runs_at_a_time(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    app = app_on(database_url)
    with TestClient(app) as client:
        with audit_api.VERIFYING:  # a verification in progress
            busy = client.get(f"{API}/audit/verify")
        free = client.get(f"{API}/audit/verify")
    app.state.engine.dispose()
    assert busy.status_code == 503
    assert int(busy.headers["Retry-After"]) >= 1
    assert free.status_code == 200, free.text


def test_a_refusal_with_a_very_long_message_is_422_cut_to_fit(mirror: str) -> None:
    """A spec can make the engine's one-line error long (a 70 KB ``$ref`` to a file that is not
    there): the answer is the refusal, shortened, never a 500."""
    target = "missing-" + "x" * 70_000 + ".yaml"
    spec = (
        f"openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths:\n  /a:\n    $ref: '{target}'\n"
    )
    app = app_on(mirror)
    with TestClient(app) as client:
        response = client.post(CHECK, json={"spec": spec})
    app.state.engine.dispose()
    assert response.status_code == 422, response.text
    detail = str(response.json()["detail"])
    assert "…" in detail and len(detail) < 10_000
