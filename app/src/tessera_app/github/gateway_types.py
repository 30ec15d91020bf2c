"""The values the gateway takes and returns: settings, errors, pull requests, annotations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class GitHubSettings:
    """How to reach GitHub as the App.

    ``base_url``: ``https://api.github.com``; GitHub Enterprise Server ``https://HOST/api/v3``;
    the fake ``http://127.0.0.1:PORT/api/v3``. Retries: at most ``max_attempts`` tries per call,
    exponential backoff from ``backoff_seconds`` (rate limits wait what GitHub says), never more
    than ``max_retry_wait_seconds`` of waiting in all for one call.
    """

    app_id: int
    private_key: str  # PEM
    base_url: str = "https://api.github.com"
    content_pacing_seconds: float = 1.0  # between content-creating calls per installation
    timeout_seconds: float = 30.0
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    max_retry_wait_seconds: float = 120.0
    token_refresh_margin_seconds: float = (
        300.0  # refresh installation tokens this long before expiry
    )


class GitHubError(Exception):
    """A call GitHub refused or that failed for good. ``status`` 0: no answer (timeout, network)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"GitHub {status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class PullRequestInfo:
    number: int
    state: str  # "open" | "closed"
    merged: bool
    merge_commit_sha: str | None
    head_sha: str
    head_ref: str
    base_ref: str
    base_sha: str
    author: str
    title: str


@dataclass(frozen=True)
class CommitInfo:
    """A commit's parents and when it was committed (what the history walk needs)."""

    sha: str
    parents: tuple[str, ...]
    committed_at: datetime


@dataclass(frozen=True)
class Annotation:
    """A check-run annotation (``level``: ``notice``, ``warning`` or ``failure``)."""

    path: str
    start_line: int
    end_line: int
    level: str
    message: str
    title: str | None = None
    raw_details: str | None = None


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery as ``GET /app/hook/deliveries`` lists it."""

    id: int
    guid: str
    event: str
    action: str | None
    status: str
    status_code: int
    delivered_at: str
    redelivery: bool
    installation_id: int | None
    repository_id: int | None

    @property
    def failed(self) -> bool:
        return not 200 <= self.status_code < 300
