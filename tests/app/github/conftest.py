"""A fake GitHub and a ``GitHubApp`` wired to it, in-process: the ``fake_github`` fixture.

    def test_something(fake_github: FakeGitHub) -> None:
        fake_github.seed({"repos": [{"full_name": "acme/api", "installation": 1,
                                     "branches": {"main": {"spec.yaml": "openapi: 3.1.0"}}}]})
        gh = fake_github.gh                      # Installation 1 (tessera_app.github.gateway)
        assert gh.read_file("acme/api", "spec.yaml", "main") == "openapi: 3.1.0"
        fake_github.state.open_pull_request("acme/api", "feature", title="...", author="alice")
        assert fake_github.state.check_runs      # what the App wrote, straight from the state

What is there: an App (id 1, slug ``tessera``, bot ``tessera[bot]``, a fresh RSA key whose
public half the fake verifies JWTs with), installation 1 on the account ``acme`` (repositories
are added to it by ``seed`` with ``"installation": 1``, or by
``state.add_repo(..., installation_id=1)``).
``fake_github.app`` is the ``GitHubApp`` (``.installation(n)``, ``.deliveries()``,
``.redeliver()``);
``fake_github.gh`` is ``app.installation(1)``. Content pacing is 0 and retry backoff 1 ms so tests
stay fast; ``fake_github.make_app(content_pacing_seconds=0.05)`` builds another ``GitHubApp`` on the
same fake with other settings. User-side actions (push, rename, open/close/reopen/merge a PR,
close an issue, comment, edit a comment, review, join a team, a failed delivery, a truncated
tree) are ``FakeState`` methods or ``seed`` keys; ``fake_github.fault(...)``
injects faults (``Fault``: 5xx, rate limits, hangs); ``state.requests`` logs every call.

Every fake GitHub in these tests checks its traffic against GitHub's own REST description (the
vendored subset in ``rest_description/``, see ``conformance.py`` in the fake): a request the
description rejects is answered 422, an answer it rejects becomes a 500, and either fails the
test at teardown (``conforming``) even when the client swallowed the error. A test that sends a
bad request on purpose takes its violations with ``rest_description.take_violations()``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tessera_app.github.fake import FakeState, Fault, SyncASGITransport, conformance, create_app
from tessera_app.github.gateway import GitHubApp, GitHubSettings, Installation

DESCRIPTION = Path(__file__).parent / "rest_description" / "github-rest-2022-11-28.json"
APP_ID = 1
INSTALLATION_ID = 1
ACCOUNT = "acme"


@dataclass
class FakeGitHub:
    state: FakeState
    settings: GitHubSettings
    transport: SyncASGITransport
    app: GitHubApp
    _apps: list[GitHubApp] = field(default_factory=list)

    @property
    def gh(self) -> Installation:
        return self.app.installation(INSTALLATION_ID)

    def seed(self, doc: dict[str, Any]) -> dict[str, Any]:
        return self.state.seed(doc)

    def fault(self, path: str, kind: str = "error", **options: Any) -> Fault:
        """The next request(s) whose path matches ``path`` (a regex) misbehave; see ``Fault``."""
        fault = Fault(path=path, kind=kind, **options)
        with self.state.lock:
            self.state.faults.append(fault)
        return fault

    def make_app(self, **overrides: Any) -> GitHubApp:
        """Another ``GitHubApp`` on the same fake, with some settings changed."""
        return GitHubApp(dataclasses.replace(self.settings, **overrides), transport=self.transport)


@pytest.fixture(scope="session", autouse=True)
def rest_description() -> Iterator[conformance.Description]:
    """GitHub's REST description (the App's API version), checking every fake GitHub."""
    description = conformance.Description.load(DESCRIPTION)
    conformance.use(description)
    try:
        yield description
    finally:
        conformance.use(None)


@pytest.fixture(autouse=True)
def conforming(rest_description: conformance.Description) -> Iterator[None]:
    """Fail the test when a fake GitHub saw a request or gave an answer the description
    rejects (after the test: the client may have swallowed the 422 or 500)."""
    rest_description.take_violations()
    yield
    found = rest_description.take_violations()
    if found:
        listed = "\n".join(f"  {v}" for v in found)
        pytest.fail(f"GitHub's REST description rejects the fake's traffic:\n{listed}")


@pytest.fixture(scope="session")
def app_private_key() -> tuple[str, str]:
    """An RSA key pair for the App (PEM private, PEM public), made once per session."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture
def fake_github(app_private_key: tuple[str, str]) -> Iterator[FakeGitHub]:
    private, public = app_private_key
    state = FakeState()
    state.seed(
        {
            "app": {"id": APP_ID, "slug": "tessera", "public_key": public},
            "installations": [{"id": INSTALLATION_ID, "account": ACCOUNT}],
        }
    )
    settings = GitHubSettings(
        app_id=APP_ID,
        private_key=private,
        base_url="http://fake-github/api/v3",
        content_pacing_seconds=0.0,
        timeout_seconds=5.0,
        backoff_seconds=0.001,
        max_retry_wait_seconds=5.0,
    )
    transport = SyncASGITransport(create_app(state))
    try:
        yield FakeGitHub(state, settings, transport, GitHubApp(settings, transport=transport))
    finally:
        transport.close()
