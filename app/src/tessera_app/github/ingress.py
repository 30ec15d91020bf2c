"""``POST /webhooks/github``: verify, store, enqueue, answer 202. Nothing else happens here.

1. ``X-Hub-Signature-256`` (``sha256=`` + hex HMAC-SHA256 of the raw body) is checked against
   every secret in ``TESSERA_WEBHOOK_SECRETS`` (several during a rotation), each comparison in
   constant time and all of them always made: a missing or wrong signature is 401. One that is
   missing or malformed is refused before the body is read at all.
2. The body is read as it streams in (``webhook_body.read``), never past
   ``TESSERA_WEBHOOK_MAX_BYTES`` (GitHub's 25 MB cap): larger, by Content-Length or by the
   bytes received, is 413. The signature is checked before anything parses the body.
3. The payload is the JSON body, or the ``payload`` field of an
   ``application/x-www-form-urlencoded`` one (a content type GitHub lets App owners choose). It
   must be a JSON object (no ``NaN``/``Infinity``), nested at most ``webhook_body.MAX_NESTING``
   deep, with an ``installation.id`` that fits a ``BIGINT``; and ``X-GitHub-Event``/
   ``X-GitHub-Delivery`` must be present: else 400.
4. In one transaction the delivery is inserted (keyed by ``X-GitHub-Delivery``; a redelivery
   reuses the id, so an existing id changes nothing and answers 202 ``duplicate``) and, for an
   event the App handles, one job ``github.<event>`` with ``{"delivery": id}`` is enqueued
   (key ``delivery:<id>``; serial ``owner/repo#N`` for an event about pull request or issue N,
   so the jobs of one pull request run one at a time). Any other event is stored as
   ``ignored`` and answered 202. While the database is unreachable the answer is 503 (with
   ``Retry-After``), never a 500: the delivery shows as failed on GitHub, and reconciliation
   redelivers it.

Verifying, decoding and storing run in a worker thread: hashing and parsing a 25 MB body never
holds up the event loop.

Processing (the job) reads the stored payload with ``payloads.py`` and marks the delivery
``processed`` or ``failed`` (``finish``). GitHub does not retry a delivery it got a 2xx for:
after a 202 the job queue's retries are what heals a failure.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import JSON, Table, Text, bindparam, cast, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..db.base import utcnow
from ..db.github_models import Delivery
from ..db.queue_models import Job
from ..settings import Settings
from . import webhook_body
from .payloads import READERS, is_id

HANDLED_EVENTS = frozenset(READERS)
"""The events that get a ``github.<event>`` job; any other is stored as ``ignored``."""

MAX_DELIVERY_ID = 100
MAX_EVENT = 100
MAX_ERROR = 4000
SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")
"""The only form of ``X-Hub-Signature-256`` that can verify (GitHub's: lower-case hex)."""

router = APIRouter(tags=["github"])


@dataclass(frozen=True, slots=True)
class Accepted:
    delivery: str
    status: str  # queued | ignored | duplicate


def signature_of(secret: str, body: bytes | bytearray) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body`` signed with ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secrets: Sequence[str], body: bytes | bytearray, signature: str | None) -> bool:
    """Whether ``signature`` signs ``body`` with one of ``secrets``. Every secret is tried (so
    the time taken does not say which one matched) and each comparison is constant-time."""
    if not signature or not secrets:
        return False
    given = signature.strip().encode()
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(signature_of(secret, body).encode(), given)
    return matched


def store(
    connection: Connection,
    delivery_id: str,
    event: str,
    payload: dict[str, Any],
    max_attempts: int,
    raw: str | None = None,
) -> Accepted:
    """Insert the delivery and enqueue its job (in the caller's transaction, on its
    connection); an id already stored is a duplicate and changes nothing. ``raw``: the body as
    received (``payload`` parsed), stored as it came."""
    handled = event in HANDLED_EVENTS
    action = payload.get("action")
    installation = payload.get("installation")
    installation_id = installation.get("id") if isinstance(installation, dict) else None
    values = {
        "id": delivery_id,
        "event": event,
        "action": action[:MAX_EVENT] if isinstance(action, str) else None,
        "installation_id": installation_id if is_id(installation_id) else None,
        "received_at": utcnow(),
        "payload": raw if raw is not None else json.dumps(payload),
        "status": "queued" if handled else "ignored",
    }
    statements = _statements(connection.dialect.name)
    if connection.execute(statements.delivery, values).first() is None:
        return Accepted(delivery_id, "duplicate")
    if handled:
        connection.execute(
            statements.job,
            {
                "kind": f"github.{event}",
                "payload": {"delivery": delivery_id},
                "key": f"delivery:{delivery_id}",
                "serial": serial_of(payload),
                "state": "queued",
                "attempts": 0,
                "max_attempts": max_attempts,
                "run_at": values["received_at"],
                "created_at": values["received_at"],
                "updated_at": values["received_at"],
            },
        )
    return Accepted(delivery_id, str(values["status"]))


DELIVERIES = typing.cast(Table, Delivery.__table__)
JOBS = typing.cast(Table, Job.__table__)


@dataclass(frozen=True, slots=True)
class _Statements:
    delivery: Any  # INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id
    job: Any  # INSERT ... ON CONFLICT (key) DO NOTHING


@functools.cache
def _statements(dialect: str) -> _Statements:
    """The two inserts of a delivery, built once per dialect (parameters bound per call, so
    SQLAlchemy compiles each once: a webhook costs two statements and a commit)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    text = bindparam("payload", type_=Text)  # the JSON text as received: not encoded again
    payload = cast(text, JSON) if dialect == "postgresql" else text
    return _Statements(
        delivery=insert(DELIVERIES)
        .values(payload=payload)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(DELIVERIES.c.id),
        job=insert(JOBS).on_conflict_do_nothing(index_elements=["key"]),
    )


def serial_of(payload: dict[str, Any]) -> str | None:
    """What a delivery's job works on, ``owner/repo#N``: the pull request or issue N of the
    payload (a check run or suite about exactly one pull request counts as that one)."""
    repository = payload.get("repository")
    repo = repository.get("full_name") if isinstance(repository, dict) else None
    if not isinstance(repo, str) or not repo:
        return None
    number: Any = None
    for name in ("pull_request", "issue"):
        found = payload.get(name)
        if isinstance(found, dict) and found.get("number") is not None:
            number = found["number"]
            break
    else:
        for name in ("check_run", "check_suite"):
            found = payload.get(name)
            pulls = found.get("pull_requests") if isinstance(found, dict) else None
            if isinstance(pulls, list) and len(pulls) == 1 and isinstance(pulls[0], dict):
                number = pulls[0].get("number")
    if type(number) is not int:
        return None
    return f"{repo}#{number}"[:300]


def load(session: Session, delivery_id: str) -> Delivery:
    """The stored delivery (``LookupError`` if there is none): what a ``github.*`` job reads."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise LookupError(f"no delivery {delivery_id!r}")
    return delivery


def finish(session: Session, delivery_id: str, error: str | None = None) -> None:
    """Mark a delivery ``processed`` (or ``failed`` with ``error``), in the job's transaction."""
    delivery = load(session, delivery_id)
    delivery.status = "failed" if error else "processed"
    delivery.error = error[:MAX_ERROR] if error else None
    delivery.processed_at = utcnow()
    session.flush()


def recent_failures(session: Session, limit: int = 100) -> list[Delivery]:
    """The most recent failed deliveries (for reconciliation and ``/tessera status``)."""
    query = (
        select(Delivery)
        .where(Delivery.status == "failed")
        .order_by(Delivery.received_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


@router.post(
    "/webhooks/github",
    status_code=202,
    responses={
        400: {"description": "malformed delivery (headers, Content-Length, JSON or form body)"},
        401: {"description": "missing or wrong X-Hub-Signature-256"},
        413: {"description": "the body is larger than TESSERA_WEBHOOK_MAX_BYTES"},
        503: {"description": "the database is unavailable (try again: Retry-After)"},
    },
)
async def github_webhook(request: Request) -> JSONResponse:
    """Receive a GitHub webhook delivery: verified, stored and queued; answered 202."""
    settings: Settings = request.app.state.settings
    signature = request.headers.get("x-hub-signature-256")
    if not settings.secrets or not signature or not SIGNATURE.fullmatch(signature.strip()):
        raise HTTPException(401, "missing or wrong X-Hub-Signature-256")  # body left unread
    try:
        body = await webhook_body.read(request, settings.webhook_max_bytes)
    except webhook_body.TooLarge as err:
        raise HTTPException(413, str(err)) from None
    except webhook_body.Malformed as err:
        raise HTTPException(400, str(err)) from None
    received = Received(
        body=body,
        signature=signature,
        event=request.headers.get("x-github-event", "").strip(),
        delivery_id=request.headers.get("x-github-delivery", "").strip(),
        content_type=request.headers.get("content-type"),
    )
    engine: Engine = request.app.state.engine
    accepted = await run_in_threadpool(  # the database away: 503 (web.py's error handler)
        _accept, engine, settings, received
    )
    return JSONResponse({"delivery": accepted.delivery, "status": accepted.status}, 202)


@dataclass(frozen=True, slots=True)
class Received:
    """A delivery as it came: its body (within the limit) and the headers that matter."""

    body: bytearray
    signature: str
    event: str
    delivery_id: str
    content_type: str | None


def _accept(engine: Engine, settings: Settings, received: Received) -> Accepted:
    """Verify, decode and store one delivery (in a worker thread): 401, 400 or accepted."""
    if not verify(settings.secrets, received.body, received.signature):
        raise HTTPException(401, "missing or wrong X-Hub-Signature-256")
    event, delivery_id = received.event, received.delivery_id
    if not event or len(event) > MAX_EVENT or not event.isprintable():
        raise HTTPException(400, "missing or malformed X-GitHub-Event")
    if not delivery_id or len(delivery_id) > MAX_DELIVERY_ID or not delivery_id.isprintable():
        raise HTTPException(400, "missing or malformed X-GitHub-Delivery")
    try:
        payload, raw = webhook_body.decode(received.body, received.content_type)
    except webhook_body.Malformed as err:
        raise HTTPException(400, str(err)) from None
    return _store_in_transaction(
        engine, delivery_id, event, payload, settings.job_max_attempts, raw
    )


def _store_in_transaction(
    engine: Engine,
    delivery_id: str,
    event: str,
    payload: dict[str, Any],
    max_attempts: int,
    raw: str,
) -> Accepted:
    with engine.begin() as connection:  # no ORM session: two statements and a commit
        return store(connection, delivery_id, event, payload, max_attempts, raw)
