"""API keys (admin only): create (the secret is returned once), list (never a secret), revoke.

Every key belongs to a principal (``tessera_app.principals``): a ``write`` key to the registry
team it acts for (``team``, known to the mirror), an ``admin`` key to its ``owner``; a ``read``
key may name an owner. Creating and revoking a key is audited as the admin key's owner.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from ..audit import record
from ..auth import Principal, Scope, create_key, require
from ..db.auth_models import ApiKey
from ..db.base import transaction, utcnow
from ..principals import NAME_MAX, OWNER_MAX, Role, describe, role_of

router = APIRouter(prefix="/keys", tags=["keys"])
Admin = Annotated[Principal, Depends(require("admin"))]
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=NAME_MAX, pattern=PRINTABLE)
    scopes: list[Scope] = Field(min_length=1, description="admin implies write implies read")
    team: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=PRINTABLE,
        description="write keys (required): the registry team the key acts for; it must be in "
        "the registry mirror",
    )
    owner: str | None = Field(
        default=None,
        min_length=1,
        max_length=OWNER_MAX,
        pattern=PRINTABLE,
        description="admin keys (required): the person or system the key's decisions are "
        "recorded as; read keys (optional): who holds it",
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="in the future; none = never"
    )

    @field_validator("expires_at")
    @classmethod
    def _future_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            value = value.astimezone(UTC)
        except (OverflowError, ValueError) as err:
            raise ValueError("expires_at is out of range") from err
        if value <= utcnow():
            raise ValueError("expires_at must be in the future")
        return value


class KeyInfo(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="the first characters of the key, to recognise it")
    scopes: list[Scope]
    role: Role = Field(description="the highest scope: what the key may do")
    team: str | None = Field(description="the registry team a write key acts for")
    owner: str | None = Field(description="who an admin key's decisions are recorded as")
    principal: str = Field(description="who the key acts as, in words: `team web`, `admin alice`")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    active: bool = Field(description="neither revoked nor expired")

    @classmethod
    def of(cls, row: ApiKey, now: datetime) -> KeyInfo:
        expired = row.expires_at is not None and row.expires_at <= now
        scopes = [s for s in row.scopes if s in ("read", "write", "admin")]
        role = role_of(scopes)
        return cls(
            id=row.id,
            name=row.name,
            prefix=row.prefix,
            scopes=scopes,  # type: ignore[arg-type]
            role=role,
            team=row.team,
            owner=row.owner,
            principal=describe(role, row.team, row.owner),
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
            active=row.revoked_at is None and not expired,
        )


class KeyCreated(KeyInfo):
    key: str = Field(description="the secret: shown only in this response, store it now")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=KeyCreated,
    responses={422: {"description": "a bad request: a missing team or owner, an unknown team"}},
)
def create(body: KeyRequest, request: Request, principal: Admin) -> KeyCreated:
    """Create a key for its principal (a write key: `team`; an admin key: `owner`); its secret
    is in this response only (it is stored hashed)."""
    settings = request.app.state.settings
    with transaction(request.app.state.sessions) as session:
        try:
            secret, row = create_key(
                session,
                body.name,
                body.scopes,
                body.expires_at,
                team=body.team,
                owner=body.owner,
                pepper=settings.secret_key,
            )
        except ValueError as err:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from None
        record(
            session,
            action="api_key.created",
            actor=principal.actor,
            subject=f"api-key:{row.id}",
            details={**created_details(row), "by_key": principal.evidence()},
        )
        info = KeyInfo.of(row, utcnow())
    return KeyCreated(**info.model_dump(), key=secret)


def created_details(row: ApiKey) -> dict[str, object]:
    """What the audit log records about a new key (never its secret)."""
    return {
        "name": row.name,
        "prefix": row.prefix,
        "scopes": row.scopes,
        "team": row.team,
        "owner": row.owner,
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
    }


@router.get("", response_model=list[KeyInfo])
def list_keys(request: Request, principal: Admin) -> list[KeyInfo]:
    """Every key with its principal, newest first, without secrets."""
    now = utcnow()
    with transaction(request.app.state.sessions) as session:
        rows = session.scalars(select(ApiKey).order_by(ApiKey.id.desc())).all()
        return [KeyInfo.of(row, now) for row in rows]


@router.post(
    "/{key_id}/revoke",
    response_model=KeyInfo,
    responses={404: {"description": "no such key"}},
)
def revoke(
    key_id: Annotated[int, Path(ge=1, le=2**31 - 1)], request: Request, principal: Admin
) -> KeyInfo:
    """Revoke a key (idempotent): it stops working at once; the row stays for the record."""
    with transaction(request.app.state.sessions) as session:
        row = session.get(ApiKey, key_id)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no API key with id {key_id}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            record(
                session,
                action="api_key.revoked",
                actor=principal.actor,
                subject=f"api-key:{row.id}",
                details={**revoked_details(row), "by_key": principal.evidence()},
            )
        return KeyInfo.of(row, utcnow())


def revoked_details(row: ApiKey) -> dict[str, object]:
    """What the audit log records about a revoked key."""
    return {"name": row.name, "prefix": row.prefix, "team": row.team, "owner": row.owner}
