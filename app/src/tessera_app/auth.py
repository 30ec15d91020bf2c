"""API keys and the ``require(scope)`` dependency that guards the management API.

Keys are random high-entropy tokens (``tsk_`` + 32 random bytes, URL-safe), so a fast keyed
hash is the right storage: HMAC-SHA256 with ``TESSERA_SECRET_KEY`` as the pepper (a stolen
database alone cannot test guesses). A key is found by its public prefix and then compared in
constant time. Scopes nest: ``admin`` implies ``write`` implies ``read``. Every key belongs to a
principal (``tessera_app.principals``): a ``write`` key to one registry team, an ``admin`` key
to a named owner; a key is made only with the principal its scope needs, and a ``write`` key
only for a team the registry mirror knows.

Reads follow ``TESSERA_READ_ACCESS``: ``open`` lets ``require("read")`` return the anonymous
principal without a key, ``key`` wants a valid key of any scope. A key that is given must be
valid, so an expired, revoked or unknown key is always 401.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from .db.auth_models import ApiKey
from .db.base import transaction, utcnow
from .db.registry_models import ID as TEAM_MAX
from .db.registry_models import Team
from .principals import (
    ANONYMOUS,
    NAME_MAX,
    OWNER_MAX,
    RANK,
    SCOPES,
    Principal,
    Scope,
    principal_problem,
    role_of,
)
from .settings import Settings

__all__ = [
    "ANONYMOUS",
    "AUTH_RESPONSES",
    "KEY_PREFIX",
    "SCOPES",
    "Principal",
    "Problem",
    "Scope",
    "acting_for",
    "authenticate",
    "create_key",
    "document_optional_reads",
    "hash_key",
    "normalize_scopes",
    "principal_of",
    "require",
]

KEY_PREFIX = "tsk_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8  # what people see in listings and logs
LAST_USED_RESOLUTION = timedelta(minutes=1)  # do not write on every request
_PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f]+$")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")
"""A key's name and owner: one word a reader of the audit log cannot mistake for the words
around it ("alice (admin key ops) acting for web"): letters, digits and ``._@+-``."""


class Problem(BaseModel):
    """An error: what went wrong, in one sentence."""

    detail: str


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "missing, invalid, expired or revoked API key"},
    403: {
        "model": Problem,
        "description": "the API key lacks the scope this operation needs, or acts for another team",
    },
}
"""The responses every ``/api/v1`` operation may give because of ``require`` (documented for
every router by ``web.create_app``)."""

SCHEME = "ApiKey"
READ_SCHEME = "ApiKeyForReads"  # rewritten by document_optional_reads per TESSERA_READ_ACCESS
_DESCRIPTION = "An API key: `Authorization: Bearer tsk_...`"
bearer = HTTPBearer(auto_error=False, scheme_name=SCHEME, description=_DESCRIPTION)
read_bearer = HTTPBearer(auto_error=False, scheme_name=READ_SCHEME, description=_DESCRIPTION)


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


def _text(
    value: str | None, what: str, limit: int, pattern: re.Pattern[str] = _PRINTABLE
) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > limit or not _PRINTABLE.match(value):
        raise ValueError(f"{what} must be 1 to {limit} printable characters")
    if not pattern.match(value):
        raise ValueError(
            f"{what} must be one word of letters, digits and ._@+- (it is how the audit log "
            f"names who acted): {value!r}"
        )
    return value


def _known_team(session: Session, team: str) -> str:
    """``team`` when the registry mirror has it; else a ValueError naming the close ones."""
    if session.get(Team, team) is not None:
        return team
    known = list(session.scalars(select(Team.id).order_by(Team.id)))
    close = difflib.get_close_matches(team, known, n=1)
    hint = f": did you mean {close[0]}?" if close else ""
    listed = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "") if known else "none"
    raise ValueError(f"team {team!r} is not in the registry mirror{hint} (teams: {listed})")


def create_key(
    session: Session,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
    *,
    team: str | None = None,
    owner: str | None = None,
    pepper: str | None = None,
) -> tuple[str, ApiKey]:
    """A new key: the secret (shown once, never stored) and its row (flushed, not committed).

    A ``write`` key needs the registry ``team`` it acts for (known to the mirror), an ``admin``
    key the ``owner`` it is recorded as; a ``read`` key may name an owner. ``ValueError`` says
    what is wrong. ``pepper`` defaults to the configured ``TESSERA_SECRET_KEY``."""
    if expires_at is not None and expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    checked_name = _text(name, "the key's name", NAME_MAX, _LABEL)
    assert checked_name is not None
    ranked = normalize_scopes(scopes)
    team, owner = _text(team, "the team", TEAM_MAX), _text(owner, "the owner", OWNER_MAX, _LABEL)
    problem = principal_problem(role_of(ranked), team, owner)
    if problem:
        raise ValueError(problem)
    if team is not None:
        team = _known_team(session, team)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=checked_name,
        prefix=secret[:PREFIX_LENGTH],
        key_hash=hash_key(secret, pepper if pepper is not None else Settings().secret_key),
        scopes=ranked,
        team=team,
        owner=owner,
        created_at=utcnow(),
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return secret, row


def principal_of(row: ApiKey) -> Principal:
    """The principal a stored key stands for."""
    return Principal(
        key_id=row.id,
        name=row.name,
        scopes=frozenset(row.scopes),
        team=row.team,
        owner=row.owner,
        prefix=row.prefix,
    )


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
    valid key, 403 without the scope or without the principal the scope needs). ``read``
    without a key is the anonymous principal when ``TESSERA_READ_ACCESS`` is ``open``."""
    if scope not in RANK:
        raise ValueError(f"unknown scope {scope!r}")

    scheme = read_bearer if scope == "read" else bearer

    def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(scheme),  # noqa: B008
    ) -> Principal:
        settings: Settings = request.app.state.settings
        if credentials is None:
            if request.headers.get("authorization"):
                raise _unauthorized("the Authorization header must be 'Bearer <API key>'")
            if scope == "read":
                if not settings.reads_need_key:
                    return ANONYMOUS
                raise _unauthorized("reading needs an API key (TESSERA_READ_ACCESS=key)")
            raise _unauthorized(f"this operation needs an API key with the '{scope}' scope")
        sessions: sessionmaker[Session] = request.app.state.sessions
        now = utcnow()
        with transaction(sessions) as session:
            row = authenticate(session, credentials.credentials, settings.secret_key, now)
            if row is None:
                raise _unauthorized("invalid, expired or revoked API key")
            if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
                row.last_used_at = now
            principal = principal_of(row)
        if not principal.allows(scope):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this operation needs the '{scope}' scope"
            )
        if scope != "read" and principal.unbound:
            raise HTTPException(status.HTTP_403_FORBIDDEN, principal.unbound)
        return principal

    return dependency


def may_read(request: Request) -> bool:
    """Whether the caller may read (for a public endpoint that shows more to readers): reads
    are open, or the request carries a valid key. Never raises."""
    settings: Settings = request.app.state.settings
    if not settings.reads_need_key:
        return True
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return False
    sessions: sessionmaker[Session] = request.app.state.sessions
    with transaction(sessions) as session:
        return authenticate(session, secret.strip(), settings.secret_key, utcnow()) is not None


def acting_for(principal: Principal, team: str) -> str:
    """The audit actor of a decision ``principal`` makes for ``team``; 403 when its key may
    not act for that team (nothing is recorded then)."""
    refusal = principal.refusal(team)
    if refusal is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, refusal)
    return principal.actor_for(team)


def document_optional_reads(app: FastAPI) -> None:
    """Say in the OpenAPI document what the read operations (those that only
    ``require("read")``) need, per ``TESSERA_READ_ACCESS``: ``security: [{}, {ApiKey: []}]``
    (a key is optional) when reads are open, ``[{ApiKey: []}]`` when they need a key. (FastAPI
    declares every security scheme as required, so reads use a scheme of their own that is
    rewritten here.)"""
    generate = app.openapi
    settings: Settings = app.state.settings
    reads: list[dict[str, list[str]]] = (
        [{SCHEME: []}] if settings.reads_need_key else [{}, {SCHEME: []}]
    )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                security = operation.get("security") if isinstance(operation, dict) else None
                if not security or not any(READ_SCHEME in r for r in security):
                    continue
                rest = [r for r in security if READ_SCHEME not in r]
                operation["security"] = rest or reads
        schemes = schema.get("components", {}).get("securitySchemes", {})
        read_scheme = schemes.pop(READ_SCHEME, None)
        if read_scheme is not None:
            schemes.setdefault(SCHEME, read_scheme)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
