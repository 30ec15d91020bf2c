"""GitHub App authentication for githubkit: a fresh App JWT per request, cached installation tokens.

githubkit's own ``AppAuthStrategy`` caches the JWT for eight minutes and keeps installation tokens
in its cache strategy; here the JWT is signed for every App call (RS256, ``iat`` 60 s back, ``exp``
9 minutes ahead, ``iss`` the App id) and installation tokens are cached per installation until
``margin`` before their ``expires_at`` (thread-safe; ``invalidate`` after a 401).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import jwt
from githubkit.auth import BaseAuthStrategy

if TYPE_CHECKING:
    from githubkit import GitHubCore


def app_jwt(app_id: int, private_key: str, *, now: datetime | None = None) -> str:
    """A JWT authenticating as the App (valid from 60 s ago for 10 minutes)."""
    issued = (now or datetime.now(UTC)) - timedelta(seconds=60)
    claims = {"iss": str(app_id), "iat": issued, "exp": issued + timedelta(minutes=10)}
    return jwt.encode(claims, private_key, algorithm="RS256")


class _HeaderAuth(httpx.Auth):
    def __init__(self, header: Callable[[], str]) -> None:
        self._header = header

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header()
        yield request


class AppJWTAuthStrategy(BaseAuthStrategy):
    """Authenticate as the App itself: ``Bearer <JWT>``, a new JWT for every request."""

    def __init__(self, app_id: int, private_key: str) -> None:
        self.app_id = app_id
        self.private_key = private_key

    def get_auth_flow(self, github: GitHubCore[BaseAuthStrategy]) -> httpx.Auth:
        return _HeaderAuth(lambda: f"Bearer {app_jwt(self.app_id, self.private_key)}")


TokenFetcher = Callable[[int], tuple[str, datetime]]


class TokenCache:
    """Installation tokens by installation id, fetched by ``fetch`` and kept until near expiry."""

    def __init__(
        self,
        fetch: TokenFetcher,
        *,
        margin: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._fetch = fetch
        self._margin = margin
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[int, tuple[str, datetime]] = {}

    def token(self, installation_id: int) -> str:
        with self._lock:
            cached = self._tokens.get(installation_id)
            if cached is None or self._clock() >= cached[1] - self._margin:
                cached = self._fetch(installation_id)
                self._tokens[installation_id] = cached
            return cached[0]

    def current(self, installation_id: int) -> str:
        """The cached token even when it is due for refresh (fetched only when there is none):
        what a request sends after ``token`` has done the refreshing."""
        with self._lock:
            cached = self._tokens.get(installation_id)
        return cached[0] if cached is not None else self.token(installation_id)

    def invalidate(self, installation_id: int) -> None:
        with self._lock:
            self._tokens.pop(installation_id, None)


class InstallationAuthStrategy(BaseAuthStrategy):
    """Authenticate as one installation: ``token <installation token>`` from a ``TokenCache``."""

    def __init__(self, cache: TokenCache, installation_id: int) -> None:
        self.cache = cache
        self.installation_id = installation_id

    def get_auth_flow(self, github: GitHubCore[BaseAuthStrategy]) -> httpx.Auth:
        return _HeaderAuth(lambda: f"token {self.cache.current(self.installation_id)}")
