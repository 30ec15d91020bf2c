"""Registry repository pull requests: validation as a check run, and the mirror on merge."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tessera_app import mirror
from tessera_app.db.registry_models import Consumer, Dependency
from tessera_app.github import pull_requests, registry_prs
from tessera_app.github.fake.state import FakeState
from tessera_app.github.gateway import Installation
from tessera_app.github.payloads import pull_request_event
from tessera_app.settings import Settings
from tessera_engine.registry.versions import dumps, read_version

from .conftest import FakeGitHub

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "registry-template"
FIXTURES = Path(__file__).parent / "fixtures"
REGISTRY = "acme/registry"
INSTALLATION = 1
CONSUMER = "consumers/billing.yaml"
GOOD = """team: checkout
service: billing
repo: acme/billing
consumes:
  - contract: orders-api
    versions: "^2.0"
    uses:
      operations:
        - GET /orders/{orderId}
"""
BAD = GOOD.replace("contract: orders-api", "contract: orders-apj")  # line 5: no such contract


def settings() -> Settings:
    return Settings(registry_repo=REGISTRY, environment="test")


@pytest.fixture
def world(fake_github: FakeGitHub) -> FakeState:
    files = {
        p.relative_to(TEMPLATE).as_posix(): p.read_text()
        for p in TEMPLATE.rglob("*")
        if p.is_file()
    }
    fake_github.seed(
        {
            "repos": [
                {"full_name": REGISTRY, "installation": INSTALLATION, "branches": {"main": files}}
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


def event(fake: FakeState, number: int, action: str) -> Any:
    name = (
        "pull_request/opened.payload.json"
        if action != "closed"
        else "pull_request/closed.payload.json"
    )
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    pull = fake.pull(REGISTRY, number)
    data["action"] = action
    data["installation"] = {"id": INSTALLATION}
    data["repository"]["full_name"] = REGISTRY
    pr = data["pull_request"]
    pr["number"] = number
    pr["head"]["sha"], pr["head"]["ref"] = pull.head_sha, pull.head_ref
    pr["base"]["sha"], pr["base"]["ref"] = pull.base_sha, pull.base_ref
    pr["merged"], pr["merge_commit_sha"] = pull.merged, pull.merge_commit_sha
    return pull_request_event(data)


def registry_check(fake: FakeState) -> Any:
    (run,) = [c for c in fake.check_runs.values() if c.name == registry_prs.CHECK_NAME]
    return run


def test_invalid_declaration_is_annotated_at_its_line(
    world: FakeState, gh: Installation, db: Session
) -> None:
    world.push(REGISTRY, "billing", {CONSUMER: BAD}, from_branch="main")
    number = world.open_pull_request(REGISTRY, "billing", "main").number
    # the producer entry point routes registry pull requests here
    pull_requests.on_pull_request(db, gh, event(world, number, "opened"), settings())
    run = registry_check(world)
    assert run.conclusion == "failure"
    (note,) = run.annotations
    assert (note["path"], note["start_line"]) == (CONSUMER, 5)
    assert "orders-apj" in note["message"]
    assert CONSUMER in run.summary


def test_a_typo_in_a_uses_entry_fails_the_check_with_the_closest_element(
    world: FakeState, gh: Installation, db: Session
) -> None:
    typo = GOOD.replace("GET /orders/{orderId}", "GET /order/{orderId}")
    world.push(REGISTRY, "billing", {CONSUMER: typo}, from_branch="main")
    number = world.open_pull_request(REGISTRY, "billing", "main").number
    registry_prs.on_registry_pull_request(db, gh, event(world, number, "opened"), settings())
    run = registry_check(world)
    assert run.conclusion == "failure"
    (note,) = run.annotations
    assert (note["path"], note["start_line"]) == (CONSUMER, 9)
    assert note["message"] == (
        "'GET /order/{orderId}' is not an operation of orders-api 2.1.0 (its active version): "
        "did you mean 'GET /orders/{orderId}'?"
    )
    assert "did you mean" in run.summary


def _without_total() -> tuple[str, str]:
    """orders-api 2.2.0 without ``Order.total``: its registry path and file."""
    current = read_version(TEMPLATE / "contracts/orders-api/versions/2.1.0.json")
    spec = current.files["api/openapi.yaml"]
    without = spec.replace("        total:\n          type: number\n", "")
    assert without != spec
    newer = replace(current, version="2.2.0", files={"api/openapi.yaml": without})
    return "contracts/orders-api/versions/2.2.0.json", dumps(newer)


def test_a_published_version_without_what_a_consumer_uses_is_a_warning(
    world: FakeState, gh: Installation, db: Session
) -> None:
    """The consumer's declaration is out of date (the element existed): a warning on its
    line, not a failure of every registry pull request."""
    path, text = _without_total()
    world.push(REGISTRY, "main", {path: text})  # the App published it
    world.push(REGISTRY, "docs", {"README.md": "registry\n"}, from_branch="main")
    number = world.open_pull_request(REGISTRY, "docs", "main").number
    registry_prs.on_registry_pull_request(db, gh, event(world, number, "opened"), settings())
    run = registry_check(world)
    assert run.conclusion == "success" and run.annotations == []
    assert "'Order.total' is no longer a field of orders-api 2.2.0" in (run.summary or "")
    # the consumer's team updates its file: the note is on the line it touches
    text = world.files_at(REGISTRY, "docs")["consumers/checkout-web.yaml"]
    world.push(REGISTRY, "docs", {"consumers/checkout-web.yaml": text + "\n"})
    registry_prs.on_registry_pull_request(db, gh, event(world, number, "synchronize"), settings())
    head = world.pull(REGISTRY, number).head_sha
    (run,) = [c for c in world.check_runs.values() if c.head_sha == head]
    (note,) = run.annotations
    assert (note["path"], note["start_line"], note["annotation_level"]) == (
        "consumers/checkout-web.yaml",
        16,
        "warning",
    )


@pytest.mark.parametrize("change", ["adds", "rewrites", "removes"])
def test_a_pull_request_never_publishes_rewrites_or_removes_a_version(
    world: FakeState, gh: Installation, db: Session, change: str
) -> None:
    """Versions are the App's to publish, once teams acknowledged; what was published stays."""
    published = "contracts/orders-api/versions/2.1.0.json"
    if change == "adds":
        path, text = _without_total()
        files: dict[str, str | None] = {path: text}
    elif change == "rewrites":
        path = published
        files = {path: world.files_at(REGISTRY, "main")[path].replace("2.1.0", "2.1.0 ")}
    else:
        path, files = published, {published: None}
    world.push(REGISTRY, "edit", files, from_branch="main")
    number = world.open_pull_request(REGISTRY, "edit", "main").number
    registry_prs.on_registry_pull_request(db, gh, event(world, number, "opened"), settings())
    run = registry_check(world)
    assert run.conclusion == "failure"
    found = [a for a in run.annotations if a["path"] == path]
    assert found and found[0]["message"].startswith(f"this pull request {change} a published")


def test_valid_declaration_passes_and_merge_mirrors_it(
    world: FakeState, gh: Installation, db: Session
) -> None:
    world.push(REGISTRY, "billing", {CONSUMER: GOOD}, from_branch="main")
    number = world.open_pull_request(REGISTRY, "billing", "main").number
    registry_prs.on_registry_pull_request(db, gh, event(world, number, "opened"), settings())
    run = registry_check(world)
    assert (run.conclusion, run.annotations) == ("success", []), run.annotations
    assert db.get(Consumer, "billing") is None
    world.merge_pull_request(REGISTRY, number)
    report = registry_prs.on_registry_merged(db, gh, event(world, number, "closed"), settings())
    db.commit()
    assert report is not None and report.tables["consumers"].inserted == 1
    dependency = db.scalars(select(Dependency).where(Dependency.consumer_id == "billing")).one()
    assert dependency.uses == {"operations": ["GET /orders/{orderId}"]}


def test_an_invalid_registry_is_never_mirrored(
    world: FakeState, gh: Installation, db: Session
) -> None:
    sha = world.push(REGISTRY, "main", {CONSUMER: BAD})  # a direct push past the check
    assert registry_prs.resync_from(db, gh, settings(), sha) is None
    assert db.get(Consumer, "billing") is None
    assert db.get(Consumer, "checkout-web") is not None  # the mirror is as it was
