"""Settings from the environment (``TESSERA_*``), validated once at start-up.

Outside development, placeholder secrets are refused: a service that would accept webhooks
signed with "changeme", or run with a guessable key, must not start. The registry has one
source of truth: when the GitHub App publishes (``TESSERA_GITHUB_APP_ID`` and
``TESSERA_REGISTRY_REPO`` set), it is the registry repository on GitHub, and a local
``TESSERA_REGISTRY_PATH`` is refused. ``describe(err)`` says what is wrong in one line.
"""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDERS = frozenset({"", "changeme", "change-me", "secret", "development", "dev", "test"})
DEFAULT_DATABASE_URL = "sqlite:///./tessera.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TESSERA_", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        default="development",
        description="`development`, `test` or `production`; outside development, placeholder "
        "or short (under 16 characters) secrets are refused at start-up",
    )
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="`sqlite:///path` or `postgresql://user:password@host:5432/db` (psycopg 3)",
    )
    host: str = Field(
        default="127.0.0.1",
        description="the address `tessera-app serve` listens on (the container image: `0.0.0.0`)",
    )
    port: int = Field(
        default=8000, ge=1, le=65535, description="the port `tessera-app serve` listens on"
    )
    registry_path: str | None = Field(
        default=None,
        description="a checkout of the registry repository to mirror when no GitHub App "
        "publishes (refused with `TESSERA_GITHUB_APP_ID` and `TESSERA_REGISTRY_REPO`: the "
        "registry repository on GitHub is then the source); when set, the worker resyncs the "
        "mirror from it every 15 minutes",
    )
    secret_key: str = Field(
        default="development",
        description="the pepper of API key hashes: changing it invalidates every key; also the "
        "seed of the audit signing key unless `TESSERA_AUDIT_SIGNING_KEY` is set",
    )
    read_access: Literal["open", "key"] | None = Field(
        default=None,
        description="who may read `/api/v1` (proposals, acknowledgements, the audit log, the "
        "registry, diffs, impact and checks, jobs): `open` (anyone) or `key` (a valid API key of "
        "any scope); unset: `open` when `TESSERA_ENVIRONMENT=development`, `key` otherwise",
    )
    # What one request to /api/v1 may cost (docs/security.md): body size, the engine's run,
    # and how often one key or one address may call.
    max_request_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=64 * 1024,
        description="the largest request body `/api/v1` accepts, in bytes (default 16 MiB, "
        "four times the largest real spec we know); a larger one is answered 413 without "
        "being read past this size",
    )
    check_cpu_seconds: int = Field(
        default=20,
        ge=1,
        le=3600,
        description="the CPU time one engine run of the API (`/check`, `/impact`, `/diff`) may "
        "use, in seconds (default 20, twenty times the largest real spec's); past it the run "
        "is stopped and answered 422",
    )
    check_memory_mb: int = Field(
        default=1024,
        ge=64,
        le=1024 * 1024,
        description="the memory one engine run of the API may allocate beyond its start, in "
        "MB (default 1024, five times the largest real spec's); past it the run is stopped "
        "and answered 422",
    )
    check_workers: int = Field(
        default=2,
        ge=1,
        le=256,
        description="how many engine runs of the API (each a process of its own) run at once "
        "(default 2); one more is answered 503 with `Retry-After`",
    )
    rate_limit_per_key: str = Field(
        default="1200/minute",
        description="how often one API key may call `/api/v1` (limits notation: `1200/minute`, "
        "`20/second;1000/hour`); beyond it 429 with `Retry-After`; counted in this process",
    )
    rate_limit_per_address: str = Field(
        default="300/minute",
        description="how often one client address (an IPv6 /64) may call `/api/v1` without "
        "a valid API key; beyond it 429 with `Retry-After`; counted in this process",
    )
    trusted_proxies: str | None = Field(
        default=None,
        description="the reverse proxies whose `X-Forwarded-For` names the client (addresses "
        "or networks, comma-separated, e.g. `10.0.0.5,172.16.0.0/12`); unset: the header is "
        "ignored and the connecting address is the client's",
    )
    webhook_secrets: str = Field(
        default="development",
        description="GitHub webhook secrets, comma-separated: the first signs, all verify "
        "(list the new and the old one during rotation)",
    )
    webhook_max_bytes: int = Field(
        default=25 * 1024 * 1024,
        ge=64 * 1024,
        description="the largest webhook body accepted, in bytes (default 25 MiB, GitHub's cap "
        "on a payload); a larger one is answered 413 without being read past this size",
    )
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, description="how long an idle worker sleeps between looks at the queue"
    )
    job_max_attempts: int = Field(
        default=5, ge=1, description="attempts before a job is dead-lettered"
    )
    proposal_timeout_days: int = Field(default=30, ge=1, description="the default proposal timeout")
    # The GitHub App (docs/github-app.md): id, private key (PEM text or "@path"), API base URL
    # (GitHub Enterprise: https://HOST/api/v3), the App's bot login (its own comments are
    # ignored), and the registry repository ("owner/name") and branch the App publishes to.
    github_app_id: int | None = Field(default=None, description="the GitHub App's id")
    github_private_key: str | None = Field(
        default=None, description="the GitHub App's private key: PEM text, or `@/path/to/key.pem`"
    )
    github_base_url: str = Field(
        default="https://api.github.com",
        description="the GitHub API; GitHub Enterprise Server: `https://HOST/api/v3`",
    )
    github_bot_login: str | None = Field(
        default=None,
        description="the App's bot login, e.g. `tessera[bot]`; its own comments are ignored",
    )
    registry_repo: str | None = Field(
        default=None,
        description="the registry repository (`owner/name`) the App publishes versions to",
    )
    registry_branch: str = Field(
        default="main", description="the registry branch versions are published to"
    )
    # The GitHub team ("org/slug") whose members may /tessera force-publish and waive any team
    github_admin_team: str | None = Field(
        default=None,
        description="the GitHub team (`org/slug`) whose members may `/tessera force-publish` "
        "and waive",
    )
    public_url: str | None = Field(
        default=None,
        description="the address people reach tessera-app at (`https://tessera.example.com`): "
        "a check run without a proposal issue links to its `/checks/help` page, which explains "
        "Tessera's check conclusions; unset: such a check run has no details link",
    )
    # The audit log's signing key and checkpoints (docs/operations.md, "Anchoring the audit log")
    audit_signing_key: str | None = Field(
        default=None,
        description="the Ed25519 key that signs audit events and checkpoints: PEM text, or "
        "`@/path/to/key.pem`; unset: derived from `TESSERA_SECRET_KEY`",
    )
    audit_public_keys: str | None = Field(
        default=None,
        description="older audit signing keys that verification still trusts (after a "
        "rotation): PEM public keys, comma-separated, each the text or `@/path`",
    )
    audit_checkpoint_file: str | None = Field(
        default=None,
        description="a JSON-lines file the worker appends a signed checkpoint of the audit "
        "log to every 5 minutes (keep it off the database host)",
    )

    @field_validator(
        "registry_path",
        "registry_repo",
        "github_private_key",
        "audit_signing_key",
        "audit_public_keys",
        "audit_checkpoint_file",
        "public_url",
        "trusted_proxies",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError(
                f"{value!r} is not a web address: give `https://HOST[/PATH]` (no query)"
            )
        return value.strip().rstrip("/")

    @field_validator("rate_limit_per_key", "rate_limit_per_address")
    @classmethod
    def _rates(cls, value: str) -> str:
        from .rate_limits import parse_rates

        parse_rates(value)
        return value.strip()

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = [part.strip() for part in value.split(",") if part.strip()]
        for part in parts:
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(
                    f"{part!r} is not an address or network (e.g. `10.0.0.5`, `10.0.0.0/8`)"
                ) from None
        return ",".join(parts)

    @model_validator(mode="after")
    def _one_source_of_truth(self) -> Settings:
        if self.app_publishes and self.registry_path:
            raise ValueError(
                f"TESSERA_REGISTRY_PATH ({self.registry_path}) cannot be used with the GitHub "
                f"App (TESSERA_GITHUB_APP_ID and TESSERA_REGISTRY_REPO are set): the registry "
                f"repository {self.registry_repo} on GitHub is the source of truth and the "
                f"mirror follows it; unset TESSERA_REGISTRY_PATH"
            )
        return self

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

    @model_validator(mode="after")
    def _audit_keys_load(self) -> Settings:
        if self.audit_signing_key or self.audit_public_keys:
            from .audit_keys import AuditKeyError, trusted_keys

            try:
                trusted_keys(self)
            except AuditKeyError as err:
                raise ValueError(str(err)) from None
        return self

    @property
    def reads_need_key(self) -> bool:
        """Whether reads under ``/api/v1`` need an API key (``TESSERA_READ_ACCESS``; unset:
        only outside development)."""
        if self.read_access is None:
            return self.environment != "development"
        return self.read_access == "key"

    @property
    def app_publishes(self) -> bool:
        """The GitHub App publishes versions into the registry repository on GitHub."""
        return self.github_app_id is not None and bool(self.registry_repo)

    @property
    def secrets(self) -> list[str]:
        """The webhook secrets accepted (the first signs, all verify, during rotation)."""
        return [part.strip() for part in self.webhook_secrets.split(",") if part.strip()]


def describe(err: ValidationError) -> str:
    """What ``Settings()`` refused, in one line: ``TESSERA_NAME: message; ...``."""
    problems = []
    for error in err.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        where = "_".join(str(part) for part in error["loc"]).upper()
        problems.append(f"TESSERA_{where}: {message}" if where else message)
    return "; ".join(problems).replace("\n", " ")
