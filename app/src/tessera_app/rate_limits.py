"""Rate limits of the management API (``/api/...``): per API key, and per client address.

Whose rate a request counts against: the API key's (its principal: the key id) when it carries
a valid key, looked up as ``auth.require`` does; otherwise its client address, an IPv6 address
by its /64 (one host usually holds a whole /64). The address is the connecting one, or the one a
proxy listed in ``TESSERA_TRUSTED_PROXIES`` puts in ``X-Forwarded-For`` (``web.create_app``
installs uvicorn's proxy-headers middleware only then). An invalid key counts against the
address, so guessing keys is limited too.

Counting uses the ``limits`` package (a sliding-window counter) in this process's memory: the
API runs as one process (``tessera-app serve``), so this is the service's count; replicas
behind a load balancer would each allow the rate (a shared count needs a store such as Redis,
which Tessera does not otherwise need, or a database write per request). Over the rate: 429
with ``Retry-After`` (seconds until a call is allowed again); every answer under ``/api/``
carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``. The probes, the
webhook and the OpenAPI document are outside ``/api/`` and not counted.
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass

import anyio.to_thread
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import authenticate
from .db.base import utcnow

PREFIX = "/api/"
IPV6_NETWORK = 64


def parse_rates(value: str) -> list[RateLimitItem]:
    """``1200/minute`` or ``20/second;1000/hour`` as rates; ``ValueError`` saying the form."""
    try:
        return parse_many(value.strip())
    except ValueError:
        raise ValueError(
            f"{value!r} is not a rate: give `N/second`, `N/minute`, `N/hour` or `N/day`, "
            f"several separated by `;`"
        ) from None


@dataclass(frozen=True)
class Caller:
    """Whose rate a request counts against, and which rates those are."""

    kind: str  # "key" or "address"
    identity: str
    rates: list[RateLimitItem]


class RateLimits:
    """ASGI middleware: count each ``/api/`` request against its caller's rates; 429 past
    them."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_key: str,
        per_address: str,
        sessions: sessionmaker[Session],
        pepper: str,
    ) -> None:
        self.app = app
        self.per_key = parse_rates(per_key)
        self.per_address = parse_rates(per_address)
        self.sessions = sessions
        self.pepper = pepper
        self.limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        caller = await self._caller(scope)
        allowed = all(
            self.limiter.test(rate, caller.kind, caller.identity) for rate in caller.rates
        )
        if allowed:
            for rate in caller.rates:
                self.limiter.hit(rate, caller.kind, caller.identity)
        headers = self._headers(caller)
        if not allowed:
            await self._refuse(caller, headers)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _caller(self, scope: Scope) -> Caller:
        scheme, _, secret = Headers(scope=scope).get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and secret.strip():
            key_id = await anyio.to_thread.run_sync(self._key_id, secret.strip())
            if key_id is not None:
                return Caller("key", str(key_id), self.per_key)
        return Caller("address", client_address(scope), self.per_address)

    def _key_id(self, secret: str) -> int | None:
        """The id of the live key ``secret`` is, or None (unknown, or the database is away:
        the request then counts against its address, and its route answers for itself)."""
        try:
            with self.sessions() as session:
                row = authenticate(session, secret, self.pepper, utcnow())
                return None if row is None else row.id
        except Exception:  # any driver error: never a 500 from the rate limiter
            return None

    def _headers(self, caller: Caller) -> dict[str, str]:
        """``RateLimit-*`` of the caller's tightest rate (``RateLimit-Reset``: the seconds until
        it allows a call again)."""
        now = time.time()
        tightest = min(
            (
                (self.limiter.get_window_stats(rate, caller.kind, caller.identity), rate)
                for rate in caller.rates
            ),
            key=lambda found: found[0].remaining,
        )
        stats, rate = tightest
        reset = max(1, math.ceil(stats.reset_time - now))
        return {
            "RateLimit-Limit": str(rate.amount),
            "RateLimit-Remaining": str(stats.remaining),
            "RateLimit-Reset": str(reset),
        }

    def _refuse(self, caller: Caller, headers: dict[str, str]) -> JSONResponse:
        setting = "TESSERA_RATE_LIMIT_PER_" + ("KEY" if caller.kind == "key" else "ADDRESS")
        whose = "this API key" if caller.kind == "key" else "this address"
        limits = "; ".join(str(rate) for rate in caller.rates)
        return JSONResponse(
            {
                "detail": f"too many requests from {whose} (at most {limits}; {setting}): "
                f"try again in {headers['RateLimit-Reset']} s"
            },
            429,
            headers={**headers, "Retry-After": headers["RateLimit-Reset"]},
        )


def client_address(scope: Scope) -> str:
    """The client's address as rates count it: an IPv6 address by its /64 network."""
    client = scope.get("client")
    host = str(client[0]) if client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_NETWORK}", strict=False))
    return str(address)
