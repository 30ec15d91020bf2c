"""Webhook deliveries the fake GitHub makes itself: a redelivery, POSTed after it was asked.

GitHub answers ``POST /app/hook/deliveries/{id}/attempts`` with 202 and delivers later;
``redeliver_later(state, delivery)`` does the same: a background thread POSTs the stored payload,
signed like GitHub signs it, to the App's webhook URL (``state.app.webhook_url``, through
``state.webhook_transport`` when one is set, e.g. an in-process App), then records the attempt
in the delivery list, so the list shows it only once it happened. Without a webhook URL the
attempt is recorded as delivered (there is no App to reach). ``state.wait_for_redeliveries``
waits for the attempts under way.

The body is the payload's JSON (``application/json``), or, when ``state.app.webhook_content_type``
is ``"form"`` (GitHub's other content type for webhooks), the form
``payload=<the JSON, percent-encoded>`` (``application/x-www-form-urlencoded``); either way the
signature is over the body as sent, as GitHub signs it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import httpx

if TYPE_CHECKING:
    from tessera_app.github.fake.state import Delivery, FakeState

TIMEOUT_SECONDS = 10.0  # GitHub gives up on a webhook after 10 s
CONTENT_TYPES = {"json": "application/json", "form": "application/x-www-form-urlencoded"}


def signature(secret: str, body: bytes) -> str:
    """``X-Hub-Signature-256``: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers(state: FakeState, delivery: Delivery, body: bytes) -> dict[str, str]:
    """The headers GitHub sends with a delivery (the GUID is the original delivery's)."""
    out = {
        "Content-Type": CONTENT_TYPES[state.app.webhook_content_type],
        "User-Agent": "GitHub-Hookshot/fake",
        "X-GitHub-Event": delivery.event,
        "X-GitHub-Delivery": delivery.guid,
        "X-GitHub-Hook-ID": str(state.app.id),
        "X-GitHub-Hook-Installation-Target-Type": "integration",
        "X-GitHub-Hook-Installation-Target-ID": str(state.app.id),
    }
    if state.app.webhook_secret:
        out["X-Hub-Signature-256"] = signature(state.app.webhook_secret, body)
    return out


def body_of(state: FakeState, delivery: Delivery) -> bytes:
    """The body GitHub sends for ``delivery`` in the App's webhook content type."""
    text = json.dumps(delivery.payload)
    if state.app.webhook_content_type == "form":
        return urlencode({"payload": text}).encode()
    return text.encode()


def post(state: FakeState, delivery: Delivery) -> int:
    """POST ``delivery`` to the webhook URL; the HTTP status (502 when it could not be sent)."""
    url = state.app.webhook_url
    if not url:
        return 200
    body = body_of(state, delivery)
    try:
        with httpx.Client(transport=state.webhook_transport, timeout=TIMEOUT_SECONDS) as client:
            return client.post(
                url, content=body, headers=headers(state, delivery, body)
            ).status_code
    except httpx.HTTPError:
        return 502


def redeliver_later(state: FakeState, original: Delivery) -> threading.Thread:
    """Start delivering ``original`` again in the background; the thread doing it."""

    def attempt() -> None:
        status = post(state, original)
        with state.lock:
            state.add_delivery(
                original.event,
                guid=original.guid,
                action=original.action,
                status_code=status,
                installation_id=original.installation_id,
                repository_id=original.repository_id,
                payload=original.payload,
                redelivery=True,
            )

    thread = threading.Thread(target=attempt, name=f"fake-redelivery-{uuid.uuid4().hex[:8]}")
    thread.daemon = True
    with state.lock:
        state.redeliveries.append(thread)
    thread.start()
    return thread


__all__ = ["body_of", "headers", "post", "redeliver_later", "signature"]
