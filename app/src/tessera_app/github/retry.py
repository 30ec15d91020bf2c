"""Retries with bounded backoff, and pacing of content-creating calls.

``call`` runs one githubkit request and turns its exceptions into ``GitHubError``: rate limits
(403/429 with ``retry-after``, or ``x-ratelimit-remaining: 0`` with ``x-ratelimit-reset``) wait
what GitHub asks, server errors (5xx) and network errors back off exponentially, timeouts are
retried except for POST (which may have taken effect); every wait counts against one budget per
call, and a wait that would exceed it is not taken.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TypeVar

from githubkit.exception import (
    GitHubException,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
)

from tessera_app.github.gateway_types import GitHubError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    max_total_wait_seconds: float = 120.0


def call(
    request: Callable[[], T],
    policy: RetryPolicy,
    *,
    method: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``request()`` with retries under ``policy``; raises ``GitHubError`` when it gives up."""
    waited = 0.0
    attempt = 0
    while True:
        attempt += 1
        try:
            return request()
        except GitHubException as exc:
            error, wait = _classify(exc, method, policy, attempt)
            if wait is None or attempt >= policy.max_attempts:
                raise error from exc
            if waited + wait > policy.max_total_wait_seconds:
                raise GitHubError(
                    error.status, f"{error.message} (retry budget exhausted)"
                ) from exc
            sleep(wait)
            waited += wait


def _classify(
    exc: GitHubException, method: str, policy: RetryPolicy, attempt: int
) -> tuple[GitHubError, float | None]:
    """The error to raise, and how long to wait before a retry (None: do not retry)."""
    backoff = min(policy.backoff_seconds * 2 ** (attempt - 1), policy.max_backoff_seconds)
    if isinstance(exc, RateLimitExceeded):
        wait = exc.retry_after.total_seconds() or backoff
        return _failed(exc), wait
    if isinstance(exc, RequestFailed):
        status = exc.response.status_code
        return _failed(exc), backoff if status >= 500 else None
    if isinstance(exc, RequestTimeout):
        error = GitHubError(0, f"timed out: {exc.request.method} {exc.request.url}")
        return error, None if method.upper() == "POST" else backoff
    if isinstance(exc, RequestError):
        return GitHubError(0, f"request failed: {exc.exc!r}"), backoff
    return GitHubError(0, repr(exc)), None


def _failed(exc: RequestFailed) -> GitHubError:
    response = exc.response
    try:
        body = response.raw_response.json()
        message = body.get("message", "") if isinstance(body, dict) else str(body)
    except ValueError:
        message = response.raw_response.text[:200]
    request = response.raw_request
    return GitHubError(response.status_code, f"{message} ({request.method} {request.url.path})")


class Pacer:
    """Spaces calls at least ``interval`` seconds apart (end of one to start of the next).

    ``with pacer: ...`` waits for its turn; thread-safe, one per installation.
    """

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._last: float | None = None

    def __enter__(self) -> None:
        self._lock.acquire()
        if self._last is not None:
            remaining = self._last + self.interval - self._clock()
            if remaining > 0:
                self._sleep(remaining)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._last = self._clock()
        self._lock.release()
