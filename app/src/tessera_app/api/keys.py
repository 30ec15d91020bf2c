"""API keys (admin only): create (the secret is returned once), list (never a secret), revoke."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from pydantic import AwareDatetime, BaseModel, Field, field_validator
from sqlalchemy import select

from ..audit import record
from ..auth import Principal, Scope, create_key, require
from ..db.auth_models import ApiKey
from ..db.base import transaction, utcnow

router = APIRouter(prefix="/keys", tags=["keys"])
Admin = Annotated[Principal, Depends(require("admin"))]


class KeyRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
    scopes: list[Scope] = Field(min_length=1, description="admin implies write implies read")
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
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    active: bool = Field(description="neither revoked nor expired")

    @classmethod
    def of(cls, row: ApiKey, now: datetime) -> KeyInfo:
        expired = row.expires_at is not None and row.expires_at <= now
        return cls(
            id=row.id,
            name=row.name,
            prefix=row.prefix,
            scopes=[s for s in row.scopes if s in ("read", "write", "admin")],  # type: ignore[misc]
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
            active=row.revoked_at is None and not expired,
        )


class KeyCreated(KeyInfo):
    key: str = Field(description="the secret: shown only in this response, store it now")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=KeyCreated)
def create(body: KeyRequest, request: Request, principal: Admin) -> KeyCreated:
    """Create a key; its secret is in this response only (it is stored hashed)."""
    settings = request.app.state.settings
    with transaction(request.app.state.sessions) as session:
        secret, row = create_key(
            session, body.name, body.scopes, body.expires_at, pepper=settings.secret_key
        )
        record(
            session,
            action="api_key.created",
            actor=principal.actor,
            subject=f"api-key:{row.id}",
            details={
                "name": row.name,
                "prefix": row.prefix,
                "scopes": row.scopes,
                "expires_at": row.expires_at.isoformat() if row.expires_at else None,
            },
        )
        info = KeyInfo.of(row, utcnow())
    return KeyCreated(**info.model_dump(), key=secret)


@router.get("", response_model=list[KeyInfo])
def list_keys(request: Request, principal: Admin) -> list[KeyInfo]:
    """Every key, newest first, without secrets."""
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
                details={"name": row.name, "prefix": row.prefix},
            )
        return KeyInfo.of(row, utcnow())
