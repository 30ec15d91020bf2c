"""Producer pull requests against the fake GitHub: checks, the sticky comment, proposal issues.

The world: the registry template as the registry repository (acme/registry) and its mirror;
acme/orders-service holds the Orders API spec as published (2.1.0). Each test pushes a branch,
opens a pull request in the fake, and hands the App the vendored ``pull_request`` payload
rewritten for it (as GitHub would send it).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tessera_app import mirror
from tessera_app.db.github_models import CheckRunRecord, ProposalIssue
from tessera_app.db.workflow_models import Proposal
from tessera_app.github import checks, pull_requests
from tessera_app.github.fake.state import FakeState
from tessera_app.github.gateway import Installation
from tessera_app.github.payloads import check_run_event, pull_request_event
from tessera_app.settings import Settings
from tessera_app.workflow import acknowledge

from .conftest import FakeGitHub

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "registry-template"
FIXTURES = Path(__file__).parent / "fixtures"
REGISTRY = "acme/registry"
PRODUCER = "acme/orders-service"
SPEC = "api/openapi.yaml"
INSTALLATION = 1


def published_spec() -> str:
    data = json.loads((TEMPLATE / "contracts/orders-api/versions/2.1.0.json").read_text())
    return str(data["files"][SPEC])


BASE = published_spec()
# orders-api is versioned `enforce`: each change declares the version its findings need
BREAKING = BASE.replace("        total:\n          type: number\n", "").replace(
    "version: 2.1.0", "version: 3.0.0"
)  # Order.total removed
DANGEROUS = BASE.replace(
    "enum: [placed, paid, shipped, cancelled]", "enum: [placed, paid, shipped, cancelled, refunded]"
).replace("version: 2.1.0", "version: 2.2.0")
COMPATIBLE = BASE.replace("  title: Orders\n", "  title: Orders\n  description: Orders API\n")
UNPARSEABLE = BASE.replace("  /orders:\n", "  /orders: [\n", 1)


def payload(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text()))


def settings() -> Settings:
    return Settings(registry_repo=REGISTRY, environment="test")


@pytest.fixture
def world(fake_github: FakeGitHub) -> FakeState:
    """The registry and the producer repository, both covered by one installation."""
    registry_files = {
        p.relative_to(TEMPLATE).as_posix(): p.read_text()
        for p in TEMPLATE.rglob("*")
        if p.is_file()
    }
    fake_github.seed(
        {
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
        }
    )
    return fake_github.state


@pytest.fixture
def gh(fake_github: FakeGitHub) -> Installation:
    return fake_github.gh


@pytest.fixture
def db(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        mirror.resync(session, TEMPLATE)
        session.commit()
        yield session


def open_pr(fake: FakeState, branch: str, spec: str, **extra: str) -> int:
    fake.push(PRODUCER, branch, {SPEC: spec, **extra}, from_branch="main")
    return fake.open_pull_request(PRODUCER, branch, "main", title=f"change {branch}").number


def pr_event(fake: FakeState, number: int, action: str = "opened") -> Any:
    """The vendored ``pull_request`` payload, rewritten for pull request ``number``."""
    data = payload("pull_request/opened.payload.json")
    pull = fake.pull(PRODUCER, number)
    data["action"] = action
    data["number"] = number
    data["installation"] = {"id": INSTALLATION}
    data["repository"]["full_name"] = PRODUCER
    pr = data["pull_request"]
    pr["number"] = number
    pr["head"]["sha"], pr["head"]["ref"] = pull.head_sha, pull.head_ref
    pr["base"]["sha"], pr["base"]["ref"] = pull.base_sha, pull.base_ref
    pr["head"]["repo"]["full_name"] = pr["base"]["repo"]["full_name"] = PRODUCER
    return pull_request_event(data)


def check_of(fake: FakeState, name: str = "tessera/orders-api") -> Any:
    runs = [c for c in fake.check_runs.values() if c.name == name]
    assert runs, f"no check run {name}"
    return max(runs, key=lambda run: run.id)


def registry_issues(fake: FakeState) -> list[Any]:
    return [i for i in fake.issues.values() if i.repo == REGISTRY and not i.is_pull_request]


def comments_on(fake: FakeState, number: int) -> list[Any]:
    return [c for c in fake.comments.values() if c.repo == PRODUCER and c.number == number]


def test_breaking_pr_asks_the_teams(world: FakeState, gh: Installation, db: Session) -> None:
    number = open_pr(world, "drop-total", BREAKING)
    outcomes = pull_requests.on_pull_request(db, gh, pr_event(world, number), settings())
    db.commit()

    assert [o.contract for o in outcomes] == ["orders-api"]
    run = check_of(world)
    assert (run.status, run.conclusion) == ("completed", "action_required")
    assert run.head_sha == world.pull(PRODUCER, number).head_sha
    lines = {(a["path"], a["start_line"], a["annotation_level"]) for a in run.annotations}
    assert (SPEC, 51, "failure") in lines  # the Order schema, where total was
    # the sticky comment: one, with the hidden marker and each team's standing
    (comment,) = comments_on(world, number)
    assert pull_requests.COMMENT_MARKER in comment.body
    assert "checkout" in comment.body and "data-platform" in comment.body
    # the proposal issue in the registry, mentioning both teams and the usage that breaks
    (issue,) = registry_issues(world)
    assert "@acme/checkout" in issue.body and "@acme/data-platform" in issue.body
    assert "POST /orders" in issue.body and "/tessera ack" in issue.body
    proposal = db.scalars(select(Proposal)).one()
    assert (proposal.state, sorted(proposal.required)) == ("open", ["checkout", "data-platform"])
    assert db.get(ProposalIssue, proposal.id).issue == issue.number  # type: ignore[union-attr]
    record = db.get(CheckRunRecord, (PRODUCER, run.head_sha, "tessera/orders-api"))
    assert record is not None and record.check_run_id == run.id


def test_a_repeated_event_changes_nothing(world: FakeState, gh: Installation, db: Session) -> None:
    number = open_pr(world, "drop-total", BREAKING)
    event = pr_event(world, number)
    pull_requests.on_pull_request(db, gh, event, settings())
    pull_requests.on_pull_request(db, gh, event, settings())
    db.commit()
    # the gateway replaces an annotated run by a fresh one (GitHub appends annotations):
    # the bookkeeping row follows the latest, which carries the annotations once
    latest = check_of(world)
    record = db.get(CheckRunRecord, (PRODUCER, latest.head_sha, "tessera/orders-api"))
    assert record is not None and record.check_run_id == latest.id
    assert len(latest.annotations) == len(
        {(a["path"], a["start_line"]) for a in latest.annotations}
    )
    assert len(comments_on(world, number)) == 1
    assert len(registry_issues(world)) == 1
    assert len(db.scalars(select(Proposal)).all()) == 1


def test_compatible_pr_succeeds(world: FakeState, gh: Installation, db: Session) -> None:
    number = open_pr(world, "describe", COMPATIBLE)
    pull_requests.on_pull_request(db, gh, pr_event(world, number), settings())
    assert check_of(world).conclusion == "success"
    assert registry_issues(world) == []
    assert db.scalars(select(Proposal)).all() == []


def test_dangerous_only_pr_is_neutral(world: FakeState, gh: Installation, db: Session) -> None:
    number = open_pr(world, "refunded", DANGEROUS)
    pull_requests.on_pull_request(db, gh, pr_event(world, number), settings())
    run = check_of(world)
    assert run.conclusion == "neutral"
    assert any(a["annotation_level"] == "warning" for a in run.annotations)
    assert registry_issues(world) == []


def test_pr_not_touching_a_contract_is_ignored(
    world: FakeState, gh: Installation, db: Session
) -> None:
    world.push(PRODUCER, "docs", {"README.md": "more\n"}, from_branch="main")
    number = world.open_pull_request(PRODUCER, "docs", "main").number
    assert pull_requests.on_pull_request(db, gh, pr_event(world, number), settings()) == []
    assert world.check_runs == {}


def test_push_that_fixes_the_break(world: FakeState, gh: Installation, db: Session) -> None:
    number = open_pr(world, "drop-total", BREAKING)
    pull_requests.on_pull_request(db, gh, pr_event(world, number), settings())
    db.commit()
    (issue,) = registry_issues(world)
    before = issue.body
    world.push(PRODUCER, "drop-total", {SPEC: COMPATIBLE})
    pull_requests.on_pull_request(db, gh, pr_event(world, number, "synchronize"), settings())
    db.commit()
    head = world.pull(PRODUCER, number).head_sha
    run = check_of(world)
    assert (run.head_sha, run.conclusion) == (head, "success")
    (issue,) = registry_issues(world)  # the same issue, updated
    assert issue.body != before and "@acme/checkout" not in issue.body
    live = db.scalars(select(Proposal).where(Proposal.live_key.is_not(None))).one()
    assert (live.state, live.breaking) == ("approved", [])
    assert db.get(ProposalIssue, live.id) is not None  # the issue follows the live proposal
    assert len(comments_on(world, number)) == 1  # edited in place


def test_unparseable_spec_fails_with_the_line(
    world: FakeState, gh: Installation, db: Session
) -> None:
    number = open_pr(world, "broken", UNPARSEABLE)
    pull_requests.on_pull_request(db, gh, pr_event(world, number), settings())
    run = check_of(world)
    assert run.conclusion == "failure"
    (note,) = run.annotations
    line = UNPARSEABLE.splitlines().index("  /orders: [") + 1
    assert (note["path"], note["annotation_level"]) == (SPEC, "failure")
    assert line <= note["start_line"] <= line + 3
    assert SPEC in note["message"]


def test_approval_turns_the_check_green(world: FakeState, gh: Installation, db: Session) -> None:
    number = open_pr(world, "drop-total", BREAKING)
    pull_requests.on_pull_request(db, gh, pr_event(world, number), settings())
    proposal = db.scalars(select(Proposal)).one()
    for team in ("checkout", "data-platform"):
        acknowledge(db, proposal.id, team, "someone", "approved")
    checks.refresh_checks(db, gh, proposal, settings())
    db.commit()
    assert check_of(world).conclusion == "success"
    assert db.scalars(select(Proposal)).one().state == "approved"
    (comment,) = comments_on(world, number)
    assert "⏳" not in comment.body and "✅" in comment.body  # the per-team table


def test_check_run_rerequested_judges_again(
    world: FakeState, gh: Installation, db: Session
) -> None:
    number = open_pr(world, "describe", COMPATIBLE)
    pull_requests.on_pull_request(db, gh, pr_event(world, number), settings())
    run = check_of(world)
    run.conclusion = "failure"  # as if stale
    data = payload("check_run/rerequested.payload.json")
    data["repository"]["full_name"] = PRODUCER
    data["installation"] = {"id": INSTALLATION}
    data["check_run"]["name"] = run.name
    data["check_run"]["head_sha"] = run.head_sha
    data["check_run"]["pull_requests"] = [{"number": number}]
    checks.on_check_run(db, gh, check_run_event(copy.deepcopy(data)), settings())
    assert check_of(world).conclusion == "success"


def test_base_branch_change_and_title_edits(
    world: FakeState, gh: Installation, db: Session
) -> None:
    number = open_pr(world, "drop-total", BREAKING)
    event = pr_event(world, number, "edited")  # no "changes.base": a title edit
    assert pull_requests.on_pull_request(db, gh, event, settings()) == []
    assert world.check_runs == {}
