"""Retries, rate limits, timeouts, installation tokens and pacing, through injected faults."""

from __future__ import annotations

import itertools
import time

import pytest

from tessera_app.github.gateway import GitHubError

from .conftest import FakeGitHub

REPO = "acme/api"


@pytest.fixture
def repo(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.state.add_repo(REPO, installation_id=1)
    fake_github.state.push(REPO, "main", {"spec.yaml": "v1"})
    return fake_github


def _served(repo: FakeGitHub, method: str, pattern: str) -> list[int]:
    return [r.status for r in repo.state.requests_to(method, pattern)]


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("error", 502),
        ("error", 500),
        ("secondary_rate_limit", 403),
        ("too_many", 429),
        ("rate_limit", 403),
    ],
)
def test_transient_failures_are_retried(repo: FakeGitHub, kind: str, status: int) -> None:
    repo.gh.read_file(REPO, "spec.yaml", "main")  # token fetched first
    repo.fault(r"contents/spec\.yaml", kind, status=status, count=2)
    assert repo.gh.read_file(REPO, "spec.yaml", "main") == "v1"
    assert _served(repo, "GET", r"contents/spec\.yaml")[1:] == [status, status, 200]


def test_retry_after_is_honoured(repo: FakeGitHub) -> None:
    repo.fault(r"contents/", "secondary_rate_limit", retry_after=1)
    started = time.monotonic()
    assert repo.gh.read_file(REPO, "spec.yaml", "main") == "v1"
    assert time.monotonic() - started >= 1.0


def test_a_wait_beyond_the_budget_is_not_taken(repo: FakeGitHub) -> None:
    repo.fault(r"contents/", "secondary_rate_limit", retry_after=600)
    started = time.monotonic()
    with pytest.raises(GitHubError) as err:
        repo.gh.read_file(REPO, "spec.yaml", "main")
    assert err.value.status == 403 and "budget" in err.value.message
    assert time.monotonic() - started < 1.0


def test_persistent_server_errors_give_up_after_max_attempts(repo: FakeGitHub) -> None:
    repo.fault(r"contents/", "error", status=503, count=100)
    with pytest.raises(GitHubError) as err:
        repo.gh.read_file(REPO, "spec.yaml", "main")
    assert err.value.status == 503
    assert len(_served(repo, "GET", r"contents/")) == repo.settings.max_attempts


def test_client_errors_are_not_retried(repo: FakeGitHub) -> None:
    repo.fault(r"issues$", "error", status=422)
    with pytest.raises(GitHubError) as err:
        repo.gh.create_issue(REPO, "t", "b")
    assert err.value.status == 422
    assert _served(repo, "POST", r"issues$") == [422]


def test_a_hanging_read_times_out_and_is_retried(repo: FakeGitHub) -> None:
    app = repo.make_app(timeout_seconds=0.2)
    app.installation(1).read_file(REPO, "spec.yaml", "main")
    repo.fault(r"contents/", "hang", hang_seconds=5)
    started = time.monotonic()
    assert app.installation(1).read_file(REPO, "spec.yaml", "main") == "v1"
    assert 0.2 <= time.monotonic() - started < 2.0


def test_a_hanging_post_is_not_repeated(repo: FakeGitHub) -> None:
    app = repo.make_app(timeout_seconds=0.2)
    app.installation(1).read_file(REPO, "spec.yaml", "main")
    repo.fault(r"issues$", "hang", method="POST", hang_seconds=5)
    with pytest.raises(GitHubError) as err:
        app.installation(1).create_issue(REPO, "t", "b")
    assert err.value.status == 0 and "timed out" in err.value.message
    assert repo.state.take_fault("POST", "repos/acme/api/issues") is None  # used once only


def test_token_fetch_is_retried_too(repo: FakeGitHub) -> None:
    repo.fault(r"access_tokens$", "error", status=502)
    assert repo.gh.read_file(REPO, "spec.yaml", "main") == "v1"
    assert _served(repo, "POST", r"access_tokens$") == [502, 201]


def test_installation_tokens_are_cached_until_near_expiry(repo: FakeGitHub) -> None:
    for _ in range(5):
        repo.gh.read_file(REPO, "spec.yaml", "main")
    assert len(_served(repo, "POST", r"access_tokens$")) == 1
    assert {r.auth for r in repo.state.requests_to("GET", r"contents/")} == {"installation:1"}

    repo.state.app.token_ttl_seconds = 200  # inside the 300 s refresh margin: never reused
    fresh = repo.make_app()
    for _ in range(3):
        fresh.installation(1).read_file(REPO, "spec.yaml", "main")
    assert len(_served(repo, "POST", r"access_tokens$")) == 1 + 3


def test_a_revoked_token_is_replaced_after_a_401(repo: FakeGitHub) -> None:
    repo.gh.read_file(REPO, "spec.yaml", "main")
    repo.state.tokens.clear()  # GitHub forgot the token (revoked, or clocks disagree)
    assert repo.gh.read_file(REPO, "spec.yaml", "main") == "v1"
    assert _served(repo, "GET", r"contents/")[-2:] == [401, 200]
    assert len(_served(repo, "POST", r"access_tokens$")) == 2


def test_app_jwts_are_fresh_and_verified(
    repo: FakeGitHub, app_private_key: tuple[str, str]
) -> None:
    repo.app.deliveries()
    repo.app.deliveries()
    assert [r.auth for r in repo.state.requests_to("GET", r"^app/hook/deliveries$")] == ["app"] * 2
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    impostor = repo.make_app(private_key=other.decode())
    with pytest.raises(GitHubError) as err:
        impostor.deliveries()
    assert err.value.status == 401
    with pytest.raises(GitHubError):
        impostor.installation(1).read_file(REPO, "spec.yaml", "main")


def test_content_creating_calls_are_paced(repo: FakeGitHub) -> None:
    pacing = 0.05
    gh = repo.make_app(content_pacing_seconds=pacing).installation(1)
    number = gh.create_issue(REPO, "t", "b")
    ids = [gh.create_comment(REPO, number, f"c{i}") for i in range(3)]
    gh.add_reaction(REPO, ids[0], "eyes")
    gh.read_file(REPO, "spec.yaml", "main")  # reads are not paced
    writes = [
        r.at for r in repo.state.requests if r.method in ("POST", "PATCH") and "repos/" in r.path
    ]
    assert len(writes) == 5
    gaps = [b - a for a, b in itertools.pairwise(writes)]
    assert min(gaps) >= pacing, gaps
