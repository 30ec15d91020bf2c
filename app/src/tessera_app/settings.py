"""Settings from the environment (``TESSERA_*``), validated once at start-up.

Outside development, placeholder secrets are refused: a service that would accept webhooks
signed with "changeme", or run with a guessable key, must not start.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDERS = frozenset({"", "changeme", "change-me", "secret", "development", "dev", "test"})
DEFAULT_DATABASE_URL = "sqlite:///./tessera.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TESSERA_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    registry_path: str | None = None  # a checkout of the registry repository to mirror
    secret_key: str = "development"  # signs nothing yet; hashes API keys with a pepper
    webhook_secrets: str = "development"  # comma-separated: several during rotation
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    job_max_attempts: int = Field(default=5, ge=1)
    proposal_timeout_days: int = Field(default=30, ge=1)

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Settings:
        if self.environment in {"development", "test"}:
            return self
        weak = [
            name
            for name, value in (
                ("TESSERA_SECRET_KEY", self.secret_key),
                ("TESSERA_WEBHOOK_SECRETS", self.webhook_secrets),
            )
            if any(
                part.strip().lower() in PLACEHOLDERS or len(part.strip()) < 16
                for part in value.split(",")
            )
        ]
        if weak:
            raise ValueError(
                f"{', '.join(weak)}: a placeholder or short secret (at least 16 characters) "
                f"is not allowed when TESSERA_ENVIRONMENT={self.environment}"
            )
        return self

    @property
    def secrets(self) -> list[str]:
        """The webhook secrets accepted (the first signs, all verify, during rotation)."""
        return [part.strip() for part in self.webhook_secrets.split(",") if part.strip()]
