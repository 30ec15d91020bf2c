"""API keys and the ``require(scope)`` dependency that guards the management API.

Keys are random high-entropy tokens (``tsk_`` + 32 random bytes, URL-safe), so a fast keyed
hash is the right storage: HMAC-SHA256 with ``TESSERA_SECRET_KEY`` as the pepper (a stolen
database alone cannot test guesses). A key is found by its public prefix and then compared in
constant time. Scopes nest: ``admin`` implies ``write`` implies ``read``. Reads are open:
``require("read")`` without a key returns the anonymous principal; a key that is given must be
valid, so an expired, revoked or unknown key is always 401.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from .db.auth_models import ApiKey
from .db.base import transaction, utcnow
from .settings import Settings

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
RANK: dict[str, int] = {scope: rank for rank, scope in enumerate(SCOPES, start=1)}
KEY_PREFIX = "tsk_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8  # what people see in listings and logs
LAST_USED_RESOLUTION = timedelta(minutes=1)  # do not write on every request


class Problem(BaseModel):
    """An error: what went wrong, in one sentence."""

    detail: str


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "missing, invalid, expired or revoked API key"},
    403: {"model": Problem, "description": "the API key lacks the scope this operation needs"},
}
"""The responses every ``/api/v1`` operation may give because of ``require`` (documented for
every router by ``web.create_app``)."""

SCHEME = "ApiKey"
READ_SCHEME = "ApiKeyOptional"  # reads: documented as optional by document_optional_reads
_DESCRIPTION = "An API key: `Authorization: Bearer tsk_...`"
bearer = HTTPBearer(auto_error=False, scheme_name=SCHEME, description=_DESCRIPTION)
optional_bearer = HTTPBearer(auto_error=False, scheme_name=READ_SCHEME, description=_DESCRIPTION)


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key (``key_id``) or the anonymous reader (``key_id`` None)."""

    key_id: int | None
    name: str
    scopes: frozenset[str]

    def allows(self, scope: Scope) -> bool:
        return max((RANK.get(s, 0) for s in self.scopes), default=0) >= RANK[scope]

    @property
    def actor(self) -> str:
        """The name the audit log records for this caller."""
        return f"api-key:{self.name}" if self.key_id is not None else "anonymous"


ANONYMOUS = Principal(key_id=None, name="anonymous", scopes=frozenset({"read"}))


def hash_key(key: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), key.encode(), hashlib.sha256).hexdigest()


def normalize_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes, checked, de-duplicated and in rank order."""
    wanted = set(scopes)
    unknown = wanted - set(SCOPES)
    if unknown or not wanted:
        raise ValueError(
            f"scopes must be a non-empty subset of {list(SCOPES)}, got {sorted(wanted)}"
        )
    return [scope for scope in SCOPES if scope in wanted]


def create_key(
    session: Session,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
    *,
    pepper: str | None = None,
) -> tuple[str, ApiKey]:
    """A new key: the secret (shown once, never stored) and its row (flushed, not committed).
    ``pepper`` defaults to the configured ``TESSERA_SECRET_KEY``."""
    if expires_at is not None and expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        key_hash=hash_key(secret, pepper if pepper is not None else Settings().secret_key),
        scopes=normalize_scopes(scopes),
        created_at=utcnow(),
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return secret, row


def authenticate(session: Session, secret: str, pepper: str, now: datetime) -> ApiKey | None:
    """The live key whose secret this is, or None (unknown, expired or revoked)."""
    if not secret.startswith(KEY_PREFIX) or len(secret) < PREFIX_LENGTH:
        return None
    digest = hash_key(secret, pepper)
    found = None
    for row in session.scalars(select(ApiKey).where(ApiKey.prefix == secret[:PREFIX_LENGTH])):
        if hmac.compare_digest(row.key_hash, digest):
            found = row
    if found is None or found.revoked_at is not None:
        return None
    if found.expires_at is not None and found.expires_at <= now:
        return None
    return found


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"}
    )


def require(scope: Scope) -> Callable[..., Principal]:
    """A FastAPI dependency: the caller's ``Principal`` if it holds ``scope`` (401 without a
    valid key, 403 without the scope; ``read`` is open to anonymous callers)."""
    if scope not in RANK:
        raise ValueError(f"unknown scope {scope!r}")

    scheme = optional_bearer if scope == "read" else bearer

    def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(scheme),  # noqa: B008
    ) -> Principal:
        if credentials is None:
            if request.headers.get("authorization"):
                raise _unauthorized("the Authorization header must be 'Bearer <API key>'")
            if scope == "read":
                return ANONYMOUS
            raise _unauthorized(f"this operation needs an API key with the '{scope}' scope")
        settings: Settings = request.app.state.settings
        sessions: sessionmaker[Session] = request.app.state.sessions
        now = utcnow()
        with transaction(sessions) as session:
            row = authenticate(session, credentials.credentials, settings.secret_key, now)
            if row is None:
                raise _unauthorized("invalid, expired or revoked API key")
            if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
                row.last_used_at = now
            principal = Principal(key_id=row.id, name=row.name, scopes=frozenset(row.scopes))
        if not principal.allows(scope):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this operation needs the '{scope}' scope"
            )
        return principal

    return dependency


def document_optional_reads(app: FastAPI) -> None:
    """Say in the OpenAPI document that a key is optional on the operations that only
    ``require("read")``: ``security: [{}, {ApiKey: []}]``. (FastAPI declares every security
    scheme as required, so reads use a scheme of their own that is rewritten here.)"""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                security = operation.get("security") if isinstance(operation, dict) else None
                if not security or not any(READ_SCHEME in r for r in security):
                    continue
                rest = [r for r in security if READ_SCHEME not in r]
                operation["security"] = rest or [{}, {SCHEME: []}]
        schema.get("components", {}).get("securitySchemes", {}).pop(READ_SCHEME, None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
