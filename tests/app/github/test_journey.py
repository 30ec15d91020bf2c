"""The whole journey through the real ingress endpoint, the job queue and the worker, against
the fake GitHub: a breaking pull request -> check ``action_required`` -> proposal issue ->
``/tessera ack`` by a member of one team -> a refused ack by a non-member (😕) -> an approving
review by a member of the second team -> check ``success`` -> merge -> one registry commit with
the version file, the proposal issue closed, the mirror updated. Webhooks are the vendored real
payloads rewritten for the fake's objects and signed like GitHub signs them.

``Journey`` is reused by ``test_journey_faults.py`` (duplicates, out-of-order events, GitHub
errors, reconciliation, a worker killed mid-job).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tessera_app import mirror
from tessera_app.db.base import utcnow
from tessera_app.db.queue_models import Job
from tessera_app.db.registry_models import ContractVersion, Installation, Repository
from tessera_app.db.workflow_models import Proposal
from tessera_app.github import handlers
from tessera_app.github.fake import FakeState, SyncASGITransport, create_app
from tessera_app.github.gateway import GitHubApp, GitHubSettings
from tessera_app.github.ingress import signature_of
from tessera_app.settings import Settings
from tessera_app.web import create_app as create_web_app
from tessera_app.worker import Worker

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "registry-template"
FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "journey-webhook-secret-0123456789"
REGISTRY, PRODUCER, SPEC = "acme/registry", "acme/orders-service", "api/openapi.yaml"
INSTALLATION = 7
CHECKOUT, DATA = "carol", "dave"  # members of acme/checkout and acme/data-platform
ADMIN_TEAM = "acme/tessera-admins"


def published_spec() -> str:
    data = json.loads((TEMPLATE / "contracts/orders-api/versions/2.1.0.json").read_text())
    return str(data["files"][SPEC])


BASE = published_spec()
# Order.total removed (checkout declares it; data-platform reads everything), version bumped
BREAKING = BASE.replace("        total:\n          type: number\n", "").replace(
    "version: 2.1.0", "version: 3.0.0"
)


def fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text()))


@pytest.fixture(scope="module")
def app_key() -> tuple[str, str]:
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


class Journey:
    """The fake GitHub, the App (web + worker) on the test database, and the webhooks."""

    def __init__(
        self, sessions: sessionmaker[Session], database_url: str, key: tuple[str, str]
    ) -> None:
        self.sessions = sessions
        self.fake = FakeState()
        self.fake.app.public_key = key[1]
        self.settings = Settings(  # type: ignore[call-arg]
            environment="test",
            database_url=database_url,
            webhook_secrets=SECRET,
            registry_repo=REGISTRY,
            github_bot_login="tessera[bot]",
            github_admin_team=ADMIN_TEAM,
        )
        self.app = GitHubApp(
            GitHubSettings(
                app_id=1,
                private_key=key[0],
                base_url="http://fake.github/api/v3",
                content_pacing_seconds=0,
                max_attempts=2,
                backoff_seconds=0,
                max_retry_wait_seconds=0,
            ),
            transport=SyncASGITransport(create_app(self.fake)),
        )
        handlers.configure(lambda _settings: self.app, self.settings)
        self.web = TestClient(create_web_app(self.settings))
        self.worker = Worker(sessions, self.settings, periodic=False)
        self.seed()

    def seed(self) -> None:
        registry_files = {
            p.relative_to(TEMPLATE).as_posix(): p.read_text()
            for p in TEMPLATE.rglob("*")
            if p.is_file()
        }
        self.fake.seed(
            {
                "installations": [{"id": INSTALLATION, "account": "acme"}],
                "repos": [
                    {
                        "full_name": REGISTRY,
                        "installation": INSTALLATION,
                        "branches": {"main": registry_files},
                    },
                    {
                        "full_name": PRODUCER,
                        "installation": INSTALLATION,
                        "branches": {"main": {SPEC: BASE, "README.md": "orders\n"}},
                    },
                ],
                "teams": [
                    {"org": "acme", "slug": "checkout", "members": [CHECKOUT]},
                    {"org": "acme", "slug": "data-platform", "members": [DATA]},
                    {"org": "acme", "slug": "tessera-admins", "members": ["root"]},
                ],
            }
        )
        with self.sessions() as session:
            mirror.resync(session, TEMPLATE)
            session.add(Installation(id=INSTALLATION, account="acme"))
            session.flush()
            for number, name in enumerate((REGISTRY, PRODUCER), start=1):
                session.add(Repository(id=number, installation_id=INSTALLATION, full_name=name))
            session.commit()

    # --- webhooks ---------------------------------------------------------------------------

    def send(self, event: str, payload: dict[str, Any], guid: str | None = None) -> Any:
        body = json.dumps(payload).encode()
        response = self.web.post(
            "/webhooks/github",
            content=body,
            headers={
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": guid or str(uuid.uuid4()),
                "X-Hub-Signature-256": signature_of(SECRET, body),
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 202, response.text
        return response.json()

    def work(self, limit: int = 50) -> int:
        """Run the worker until no job is due; the number of jobs run."""
        ran = 0
        while ran < limit and self.worker.run_once():
            ran += 1
        return ran

    def jobs(self) -> list[Job]:
        with self.sessions() as session:
            return list(session.scalars(select(Job).order_by(Job.id)))

    def make_due(self) -> None:
        """Let time pass: every queued job (a retry after backoff, a grace period) is due."""
        with self.sessions() as session:
            session.execute(update(Job).where(Job.state == "queued").values(run_at=utcnow()))
            session.commit()

    # --- payloads (vendored, rewritten for the fake's objects) -------------------------------

    def _repository(self, data: dict[str, Any], repo: str) -> None:
        data["repository"]["full_name"] = repo
        data["repository"]["name"] = repo.split("/")[1]
        data["repository"]["default_branch"] = "main"
        data["installation"] = {"id": INSTALLATION}

    def pull_request(self, number: int, action: str = "opened") -> dict[str, Any]:
        name = (
            "pull_request/pull_request.closed.json"
            if action == "closed"
            else ("pull_request/opened.payload.json")
        )
        data = fixture(name)
        pull = self.fake.pull(PRODUCER, number)
        data["action"], data["number"] = action, number
        self._repository(data, PRODUCER)
        pr = data["pull_request"]
        pr.update(number=number, state=pull.state, merged=pull.merged)
        pr["merge_commit_sha"] = pull.merge_commit_sha
        pr["head"]["sha"], pr["head"]["ref"] = pull.head_sha, pull.head_ref
        pr["base"]["sha"], pr["base"]["ref"] = pull.base_sha, pull.base_ref
        pr["head"]["repo"]["full_name"] = pr["base"]["repo"]["full_name"] = PRODUCER
        return data

    def comment(self, number: int, user: str, body: str, repo: str = PRODUCER) -> dict[str, Any]:
        """A comment made in the fake, and its ``issue_comment`` payload (PR or issue)."""
        made = self.fake.add_comment(repo, number, body, user=user)
        on_pr = repo == PRODUCER
        data = fixture("issue_comment/githubIssueCommentEvent.json")
        self._repository(data, repo)
        data["issue"]["number"] = number
        if not on_pr:
            data["issue"].pop("pull_request", None)
        data["comment"].update(id=made.id, body=body)
        data["comment"]["user"] = {"login": user, "type": "User"}
        data["sender"] = {"login": user, "type": "User"}
        return data

    def review(self, number: int, user: str, state: str, body: str = "") -> dict[str, Any]:
        made = self.fake.add_review(PRODUCER, number, user=user, state=state, body=body)
        data = fixture("pull_request_review/pull_request_review.35.submitted.json")
        merged = self.pull_request(number)
        data["pull_request"] = merged["pull_request"]
        self._repository(data, PRODUCER)
        data["review"].update(id=made.id, state=state.lower(), body=body, commit_id=made.commit_id)
        data["review"]["user"] = {"login": user, "type": "User"}
        return data

    # --- reading the outcome ---------------------------------------------------------------------

    def open_breaking_pr(self, branch: str = "drop-total") -> int:
        self.fake.push(PRODUCER, branch, {SPEC: BREAKING}, from_branch="main")
        return self.fake.open_pull_request(
            PRODUCER, branch, "main", title="Drop Order.total"
        ).number

    def check(self) -> Any:
        runs = [c for c in self.fake.check_runs.values() if c.name == "tessera/orders-api"]
        assert runs, "no check run"
        return max(runs, key=lambda c: c.id)

    def registry_issues(self) -> list[Any]:
        return [
            i for i in self.fake.issues.values() if i.repo == REGISTRY and not i.is_pull_request
        ]

    def reactions(self, comment_id: int) -> list[str]:
        return [r.content for r in self.fake.reactions if r.comment_id == comment_id]

    def replies(self, number: int, repo: str = PRODUCER) -> list[str]:
        return [
            c.body
            for c in self.fake.comments.values()
            if c.repo == repo and c.number == number and "tessera:reply:" in c.body
        ]

    def registry_commits(self) -> list[str]:
        repo = self.fake.repo(REGISTRY)
        sha = repo.branch_sha("main")
        messages = []
        while sha:
            commit = repo.git.commits[sha]
            messages.append(commit.message)
            sha = commit.parents[0] if commit.parents else ""
        return messages

    def proposals(self) -> list[Proposal]:
        with self.sessions() as session:
            return list(session.scalars(select(Proposal).order_by(Proposal.id)))


@pytest.fixture
def journey(
    sessions: sessionmaker[Session], database_url: str, app_key: tuple[str, str]
) -> Iterator[Journey]:
    world = Journey(sessions, database_url, app_key)
    try:
        yield world
    finally:
        handlers.configure(None)
        world.web.close()


def test_the_whole_journey(journey: Journey) -> None:
    number = journey.open_breaking_pr()
    journey.send("pull_request", journey.pull_request(number))
    assert journey.work() == 1
    assert journey.check().conclusion == "action_required"
    (issue,) = journey.registry_issues()
    assert "@acme/checkout" in issue.body and "@acme/data-platform" in issue.body

    # a member of acme/checkout acknowledges on the pull request
    ack = journey.comment(number, CHECKOUT, "LGTM for us\n/tessera ack")
    journey.send("issue_comment", ack)
    journey.work()
    assert journey.reactions(ack["comment"]["id"]) == ["eyes", "+1"]
    (proposal,) = journey.proposals()
    (made,) = [a for a in proposal.acknowledgements if a.ended_at is None]
    assert (made.team, made.actor, made.kind) == ("checkout", CHECKOUT, "approved")
    assert made.evidence["github_team"] == "acme/checkout"
    assert made.evidence["source"] == "issue_comment" and made.evidence["checked_at"]
    assert journey.check().conclusion == "action_required"  # data-platform still pending

    # someone in neither team: refused, with a reply that says why
    refused = journey.comment(number, "mallory", "/tessera ack")
    journey.send("issue_comment", refused)
    journey.work()
    assert journey.reactions(refused["comment"]["id"]) == ["eyes", "confused"]
    (reply,) = journey.replies(number)
    assert "mallory" in reply and "not a member" in reply
    assert len([a for a in journey.proposals()[0].acknowledgements if a.ended_at is None]) == 1

    # an approving review by a member of acme/data-platform is that team's ack
    journey.send("pull_request_review", journey.review(number, DATA, "APPROVED"))
    journey.work()
    (proposal,) = journey.proposals()
    assert proposal.state == "approved"
    assert journey.check().conclusion == "success"

    # merge: one registry commit with the version file, the issue closed, the mirror updated
    before = len(journey.registry_commits())
    merge_sha = journey.fake.merge_pull_request(PRODUCER, number)
    merged = journey.pull_request(number, "closed")
    guid = str(uuid.uuid4())
    journey.send("pull_request", merged, guid)
    journey.work()
    commits = journey.registry_commits()
    assert len(commits) == before + 1
    assert f"{PRODUCER}#{number}" in commits[0]
    files = journey.fake.files_at(REGISTRY, "main")
    version_file = json.loads(files["contracts/orders-api/versions/3.0.0.json"])
    assert version_file["source"]["commit"] == merge_sha
    assert "total:" not in version_file["files"][SPEC]
    (issue,) = journey.registry_issues()
    assert issue.state == "closed"
    (proposal,) = journey.proposals()
    assert (proposal.state, proposal.merge_commit) == ("published", merge_sha)
    with journey.sessions() as session:
        versions = session.scalars(
            select(ContractVersion.version).where(ContractVersion.contract_id == "orders-api")
        ).all()
    assert sorted(versions) == ["2.1.0", "3.0.0"]
    assert journey.check().conclusion == "success"

    # the same delivery again: a no-op; the same event under a new id: still exactly once
    assert journey.send("pull_request", merged, guid)["status"] == "duplicate"
    journey.send("pull_request", copy.deepcopy(merged))
    journey.work()
    assert len(journey.registry_commits()) == before + 1
    assert all(job.state == "done" for job in journey.jobs())
