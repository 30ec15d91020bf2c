"""The webhook ingress and the judging worker against hostile input (issue 12).

The ingress: a body over ``TESSERA_WEBHOOK_MAX_BYTES`` is 413 by its Content-Length before a
byte of it is read, and a chunked (or lying) one is read no further than the limit and a chunk
(counted by an ASGI body that records what the App took from it); an unsigned body is 401
before it is read; ``NaN``/``Infinity``, deep nesting and an ``installation.id`` beyond 64 bits
are 400 on both databases, with nothing stored; a form-encoded delivery (``payload=<JSON>``,
signed over the form body as GitHub signs it) is taken like a JSON one, also when the fake
GitHub delivers it. The worker: an id or number beyond its column's range is a payload error,
not a database error; a bug met while judging a spec (here the engine's diff replaced by one
that raises, which no real input can provoke once the engine is fixed) is a failing check
saying so, audited once, while a transient error is still retried.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.github_models import Delivery
from tessera_app.db.queue_models import Job
from tessera_app.github import crashes, payloads, render
from tessera_app.github.fake import SyncASGITransport
from tessera_app.github.gateway_types import GitHubError
from tessera_app.github.ingress import signature_of
from tessera_app.github.render import CheckRunView, SpecProblem
from tessera_app.github.webhook_body import MAX_NESTING, nested_deeper
from tessera_app.settings import Settings
from tessera_app.web import create_app
from tessera_engine import engine as tessera_engine

from .test_journey import PRODUCER, SECRET, Journey, app_key, journey
from .test_render import _golden

__all__ = ["app_key", "journey"]  # the fixtures, shared with test_journey

FIXTURES = Path(__file__).parent / "fixtures"
WEBHOOK_SECRET = "hostile-webhook-secret-0123456789"
DEFAULT_LIMIT = 25 * 1024 * 1024
CHUNK = 64 * 1024
WELL_FORMED_BUT_WRONG = "sha256=" + "0" * 64


# --- an ASGI request whose body counts what the App read of it --------------------------------


class CountingBody:
    """A body of ``size`` bytes handed to the App ``CHUNK`` bytes per ``receive()``; ``consumed``
    is how many bytes the App took."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.consumed = 0

    async def receive(self) -> dict[str, Any]:
        if self.consumed >= self.size:
            return {"type": "http.disconnect"}
        piece = min(CHUNK, self.size - self.consumed)
        self.consumed += piece
        return {
            "type": "http.request",
            "body": b"x" * piece,
            "more_body": self.consumed < self.size,
        }


def post_raw(app: FastAPI, headers: dict[str, str], body: CountingBody) -> tuple[int, str]:
    """POST ``body`` to the webhook straight through ASGI: the status and the response text."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/webhooks/github",
        "raw_path": b"/webhooks/github",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, body.receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    text = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, text.decode()


def _raw_headers(**extra: str) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": str(uuid.uuid4()),
    }
    headers.update(extra)
    return headers


@pytest.fixture
def bare_app() -> Iterator[FastAPI]:
    """The App on a database it never reaches: these requests end before storing."""
    app = create_app(Settings(database_url="sqlite://", webhook_secrets=WEBHOOK_SECRET))
    yield app
    app.state.engine.dispose()


def test_a_body_over_the_limit_by_content_length_is_413_before_a_byte_is_read(
    bare_app: FastAPI,
) -> None:
    body = CountingBody(100 * 1024 * 1024)
    headers = _raw_headers(
        **{"Content-Length": str(body.size), "X-Hub-Signature-256": WELL_FORMED_BUT_WRONG}
    )
    status, text = post_raw(bare_app, headers, body)
    assert status == 413
    assert "TESSERA_WEBHOOK_MAX_BYTES" in text and f"{DEFAULT_LIMIT:,}" in text
    assert body.consumed == 0


@pytest.mark.parametrize("signature", [None, "", "sha1=00", "sha256=" + "A" * 64, "sha256=0"])
def test_an_unsigned_body_is_401_before_a_byte_is_read(
    bare_app: FastAPI, signature: str | None
) -> None:
    body = CountingBody(100 * 1024 * 1024)  # no Content-Length: chunked
    headers = (
        _raw_headers() if signature is None else _raw_headers(**{"X-Hub-Signature-256": signature})
    )
    status, _ = post_raw(bare_app, headers, body)
    assert status == 401
    assert body.consumed == 0


@pytest.mark.parametrize("declared", [None, "10"], ids=["chunked", "lying-content-length"])
def test_a_body_past_the_limit_is_413_and_read_no_further(
    bare_app: FastAPI, declared: str | None
) -> None:
    body = CountingBody(100 * 1024 * 1024)
    headers = _raw_headers(**{"X-Hub-Signature-256": WELL_FORMED_BUT_WRONG})
    if declared is not None:
        headers["Content-Length"] = declared
    status, text = post_raw(bare_app, headers, body)
    assert status == 413, text
    assert DEFAULT_LIMIT < body.consumed <= DEFAULT_LIMIT + CHUNK


def test_the_limit_is_a_setting_and_a_body_of_exactly_the_limit_is_read_whole() -> None:
    limit = 256 * 1024
    app = create_app(
        Settings(database_url="sqlite://", webhook_secrets=WEBHOOK_SECRET, webhook_max_bytes=limit)
    )
    try:
        at_limit = CountingBody(limit)
        status, _ = post_raw(
            app, _raw_headers(**{"X-Hub-Signature-256": WELL_FORMED_BUT_WRONG}), at_limit
        )
        assert (status, at_limit.consumed) == (401, limit)  # read whole, then not verified
        over = CountingBody(limit + 1)
        status, _ = post_raw(
            app, _raw_headers(**{"X-Hub-Signature-256": WELL_FORMED_BUT_WRONG}), over
        )
        assert status == 413 and over.consumed <= limit + CHUNK
    finally:
        app.state.engine.dispose()


@pytest.mark.parametrize("value", ["", "abc", "-1", "1e9", "9" * 5000])
def test_a_malformed_or_huge_content_length_is_refused_unread(
    bare_app: FastAPI, value: str
) -> None:
    body = CountingBody(10)
    headers = _raw_headers(
        **{"Content-Length": value, "X-Hub-Signature-256": WELL_FORMED_BUT_WRONG}
    )
    status, _ = post_raw(bare_app, headers, body)
    assert status == (413 if value.isdigit() else 400)
    assert body.consumed == 0


# --- hostile JSON, on both databases -----------------------------------------------------------


@pytest.fixture
def client(database_url: str, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url, webhook_secrets=WEBHOOK_SECRET))
    with TestClient(app, raise_server_exceptions=False) as client:  # a 500 shows as a 500
        yield client
    app.state.engine.dispose()


def _send(
    client: TestClient, body: bytes, content_type: str = "application/json", event: str = "push"
) -> httpx.Response:
    return client.post(
        "/webhooks/github",
        content=body,
        headers={
            "Content-Type": content_type,
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": signature_of(WEBHOOK_SECRET, body),
        },
    )


def _stored(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as session:
        deliveries = session.scalar(select(func.count()).select_from(Delivery)) or 0
        jobs = session.scalar(select(func.count()).select_from(Job)) or 0
    return int(deliveries), int(jobs)


def _push(**installation: Any) -> str:
    data = json.loads((FIXTURES / "push/push.json").read_text())
    data["installation"] = installation
    return json.dumps(data)


HOSTILE = {
    "NaN": b'{"action": NaN}',
    "Infinity": b'{"action": Infinity}',
    "-Infinity": b'{"installation": {"id": -Infinity}}',
    "a number past a double": b'{"installation": {"id": 1e400}}',
    "10,000 nested arrays": b'{"a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    "10,000 nested objects": b'{"a": ' + b'{"a": ' * 10_000 + b"1" + b"}" * 10_001,
    "nested past MAX_NESTING": b'{"a": ' + b"[" * MAX_NESTING + b"]" * MAX_NESTING + b"}",
    "installation.id 2**63": _push(id=2**63).encode(),
    "installation.id 2**64-1": _push(id=2**64 - 1).encode(),
    "installation.id 2**64": _push(id=2**64).encode(),  # orjson: a float
    "installation.id -2**63-1": _push(id=-(2**63) - 1).encode(),
    "installation.id true": _push(id=True).encode(),
    "installation.id a string": _push(id="7").encode(),
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_json_is_400_and_stores_nothing(
    client: TestClient, sessions: sessionmaker[Session], body: bytes
) -> None:
    response = _send(client, body)
    assert response.status_code == 400, response.text
    assert _stored(sessions) == (0, 0)


def test_the_largest_ids_and_nesting_allowed_are_stored(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    largest = _send(client, _push(id=2**63 - 1).encode())
    assert largest.status_code == 202, largest.text
    deep = b'{"a": ' + b"[" * (MAX_NESTING - 1) + b"]" * (MAX_NESTING - 1) + b"}"
    assert _send(client, deep).status_code == 202
    with sessions() as session:
        ids = set(session.scalars(select(Delivery.installation_id)))
    assert ids == {2**63 - 1, None}


def test_nesting_is_measured_without_recursion() -> None:
    value: list[Any] = []
    for _ in range(100_000):  # deeper than any recursion limit
        value = [value]
    assert nested_deeper(value, MAX_NESTING)
    assert not nested_deeper({"a": [{"b": []}]}, 4) and nested_deeper({"a": [{"b": []}]}, 3)


# --- form-encoded deliveries ---------------------------------------------------------------------


def test_a_form_encoded_delivery_is_taken_like_json(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    text = (FIXTURES / "pull_request/opened.payload.json").read_text()
    form = urlencode({"payload": text}).encode()
    response = _send(
        client, form, "application/x-www-form-urlencoded; charset=utf-8", "pull_request"
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    with sessions() as session:
        (row,) = session.scalars(select(Delivery))
        (job,) = session.scalars(select(Job))
    assert row.payload == json.loads(text)
    assert row.installation_id == json.loads(text)["installation"]["id"]
    assert (job.kind, job.payload) == ("github.pull_request", {"delivery": row.id})


def test_a_form_delivery_is_verified_over_its_body_as_sent(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    text = (FIXTURES / "push/push.json").read_text()
    form = urlencode({"payload": text}).encode()
    response = client.post(
        "/webhooks/github",
        content=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": signature_of(WEBHOOK_SECRET, text.encode()),  # not the body
        },
    )
    assert response.status_code == 401
    assert _stored(sessions) == (0, 0)


MALFORMED_FORMS = {
    "no payload field": b"other=1",
    "two payload fields": b"payload=%7B%7D&payload=%7B%7D",
    "an empty body": b"",
    "not form-encoded": b"payload",
    "not UTF-8": b"payload=%7B%22a%22%3A%22%ff%22%7D",
    "JSON with NaN": ("payload=" + quote('{"a": NaN}')).encode(),
    "not an object": b"payload=%5B1%5D",
    "nested too deep": ("payload=" + quote("[" * 2000 + "]" * 2000)).encode(),
    "a huge installation id": ("payload=" + quote(_push(id=2**64 - 1))).encode(),
    "too many fields": b"&".join(b"f%d=1" % n for n in range(50)) + b"&payload=%7B%7D",
}


@pytest.mark.parametrize("form", MALFORMED_FORMS.values(), ids=MALFORMED_FORMS.keys())
def test_malformed_form_deliveries_are_400(
    client: TestClient, sessions: sessionmaker[Session], form: bytes
) -> None:
    response = _send(client, form, "application/x-www-form-urlencoded")
    assert response.status_code == 400, response.text
    assert _stored(sessions) == (0, 0)


class Recording(httpx.BaseTransport):
    """A transport that keeps the requests it passes on."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.inner.handle_request(request)


def test_the_fake_github_delivers_form_encoded_and_the_app_judges_it(journey: Journey) -> None:
    number = journey.open_breaking_pr()
    lost = journey.fake.add_delivery(
        "pull_request",
        action="opened",
        status_code=500,
        installation_id=7,
        payload=journey.pull_request(number),
    )
    journey.fake.app.webhook_url = "http://tessera.test/webhooks/github"
    journey.fake.app.webhook_secret = SECRET
    journey.fake.app.webhook_content_type = "form"
    app_transport = SyncASGITransport(journey.web.app)
    recording = Recording(app_transport)
    journey.fake.webhook_transport = recording
    try:
        journey.app.redeliver(lost.id)
        journey.fake.wait_for_redeliveries()
    finally:
        app_transport.close()
    (sent,) = recording.requests
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sent.content.startswith(b"payload=%7B")
    (attempt,) = [d for d in journey.fake.deliveries if d.redelivery]
    assert attempt.status_code == 202
    journey.work()
    assert journey.check().conclusion == "action_required"


# --- ids and numbers beyond their columns, in the worker ----------------------------------------


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


@pytest.mark.parametrize(
    ("event", "name", "path", "value"),
    [
        ("issue_comment", "issue_comment/created.payload.json", ("comment", "id"), 2**63),
        ("issue_comment", "issue_comment/created.payload.json", ("issue", "number"), 2**31),
        ("issue_comment", "issue_comment/created.payload.json", ("issue", "number"), 0),
        ("pull_request", "pull_request/opened.payload.json", ("pull_request", "number"), -1),
        ("check_run", "check_run/rerequested.payload.json", ("check_run", "id"), 2**64 - 1),
        ("installation", "installation/created.payload.json", ("installation", "id"), 2**63),
    ],
)
def test_a_required_id_or_number_beyond_its_column_is_a_payload_error(
    event: str, name: str, path: tuple[str, str], value: int
) -> None:
    data = _fixture(name)
    data[path[0]][path[1]] = value
    with pytest.raises(payloads.PayloadError, match=path[1]):
        payloads.parse(event, data)


def test_a_string_with_a_nul_character_is_a_payload_error_or_absent() -> None:
    data = _fixture("issue_comment/created.payload.json")
    data["comment"]["body"] = "/tessera ack\x00"
    with pytest.raises(payloads.PayloadError, match="NUL"):
        payloads.parse("issue_comment", data)
    data = _fixture("pull_request/opened.payload.json")
    data["pull_request"]["title"] = "a\x00b"
    event = payloads.parse("pull_request", data)
    assert isinstance(event, payloads.PullRequestEvent) and event.pull_request.title == ""


def test_an_optional_id_beyond_64_bits_reads_as_absent() -> None:
    data = _fixture("pull_request/opened.payload.json")
    data["installation"]["id"] = 2**64 - 1
    data["repository"]["id"] = 2**63
    event = payloads.parse("pull_request", data)
    assert isinstance(event, payloads.PullRequestEvent)
    assert (event.installation_id, event.repository.id) == (None, None)
    data = _fixture("check_run/rerequested.payload.json")
    data["check_run"]["pull_requests"] = [{"number": 2**40}, {"number": 3}]
    check = payloads.parse("check_run", data)
    assert isinstance(check, payloads.CheckRunEvent)
    assert check.check_run.pull_requests == (3,)


# --- a bug met while judging: a failing check, not a dead letter --------------------------


def _crash_with(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> list[int]:
    """The engine's diff raises ``error`` (a stand-in for a bug real input provokes); the
    number of times it was called."""
    calls: list[int] = []

    def crashing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        raise error

    monkeypatch.setattr(tessera_engine, "_diff_workspaces", crashing)
    return calls


def _audited_crashes(journey: Journey) -> list[dict[str, Any]]:
    with journey.sessions() as session:
        return [
            dict(e.details)
            for e in session.scalars(select(AuditEvent).where(AuditEvent.action == crashes.ACTION))
        ]


@pytest.mark.parametrize(
    ("error", "hint"),
    [
        (KeyError("components"), ""),
        (RecursionError("maximum recursion depth exceeded"), ", the spec nests deeper"),
        (MemoryError(), ", judging the spec needs more memory"),
    ],
    ids=["KeyError", "RecursionError", "MemoryError"],
)
def test_an_engine_crash_in_judging_is_a_failing_check_not_a_dead_letter(
    journey: Journey,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: BaseException,
    hint: str,
) -> None:
    calls = _crash_with(monkeypatch, error)
    number = journey.open_breaking_pr()
    with caplog.at_level(logging.ERROR, logger=crashes.__name__):
        journey.send("pull_request", journey.pull_request(number))
        assert journey.work() == 1
    assert len(calls) == 1  # judged once: nothing to retry
    (job,) = journey.jobs()
    assert (job.state, job.attempts) == ("done", 1)
    check = journey.check()
    assert check.conclusion == "failure"
    assert check.title == "The spec could not be judged"
    name = type(error).__name__
    assert f"Tessera could not judge this spec: {name} in `diff_workspaces (tessera_engine/" in (
        check.summary
    )
    assert hint in check.summary
    (audited,) = _audited_crashes(journey)
    assert f"this is a bug in Tessera, reported as `{audited['report']}`" in check.summary
    assert (audited["error"], audited["contract"]) == (name, "orders-api")
    (logged,) = [r for r in caplog.records if audited["report"] in r.getMessage()]
    assert logged.exc_info is not None and logged.exc_info[1] is error  # the traceback
    assert journey.proposals() == []
    comment = [c.body for c in journey.fake.comments.values() if c.number == number]
    assert any("could not be judged" in body for body in comment)

    # judged again (a re-run, a duplicate event): the same report, audited once
    journey.send("pull_request", journey.pull_request(number, "reopened"))
    journey.work()
    assert len(calls) == 2
    assert len(_audited_crashes(journey)) == 1
    assert audited["report"] in journey.check().summary


@pytest.mark.parametrize(
    "error",
    [GitHubError(502, "Bad Gateway"), ConnectionResetError("reset by peer")],
    ids=["GitHubError", "ConnectionResetError"],
)
def test_a_transient_error_in_judging_is_still_retried(
    journey: Journey, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    _crash_with(monkeypatch, error)
    number = journey.open_breaking_pr()
    journey.send("pull_request", journey.pull_request(number))
    journey.work()
    (job,) = journey.jobs()
    assert (job.state, job.attempts) == ("queued", 1)  # retried after its backoff
    assert type(error).__name__ in (job.last_error or "")
    assert not [c for c in journey.fake.check_runs.values() if c.conclusion == "failure"]
    assert _audited_crashes(journey) == []


def test_the_failing_check_of_a_crash() -> None:
    message = (
        "Tessera could not judge this spec: KeyError in `compare_schema "
        "(tessera_engine/formats/openapi.py:120)`; this is a bug in Tessera, reported as "
        "`judge-0123456789ab`"
    )
    view = CheckRunView(
        "orders-api",
        "unchanged",
        "failure",
        {},
        (),
        "none",
        "1.4.0",
        problem=SpecProblem("crashed", message),
    )
    output = render.check_run(view)
    assert output.title == "The spec could not be judged"
    _golden("check_run_crashed.md", output.summary + "\n---- text ----\n" + output.text)


def test_an_engine_crash_on_merge_is_dead_lettered_at_once_publishing_nothing(
    journey: Journey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A merge whose spec crashes the engine publishes nothing, and its job is dead-lettered on
    its first attempt (no retry mends a bug) with the crash's report: visible to an admin and
    replayable once the bug is fixed, never mistaken for "nothing to publish"."""
    _crash_with(monkeypatch, KeyError("components"))
    number = journey.open_breaking_pr()
    journey.send("pull_request", journey.pull_request(number))
    journey.work()
    before = journey.registry_commits()
    journey.fake.merge_pull_request(PRODUCER, number)
    journey.send("pull_request", journey.pull_request(number, "closed"))
    journey.work()
    dead = [job for job in journey.jobs() if job.state == "dead"]
    assert [job.attempts for job in dead] == [1]
    assert "Tessera could not judge this spec: KeyError" in (dead[0].last_error or "")
    assert "reported as `judge-" in (dead[0].last_error or "")
    assert journey.registry_commits() == before
    assert journey.proposals() == []
