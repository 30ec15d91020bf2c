"""Versions through the pull request, end to end: webhooks through the real ingress, the job
queue and the worker, against the fake GitHub, on SQLite and PostgreSQL.

orders-api (OpenAPI, ``versioning: enforce`` in the registry template) takes its version from
``info.version``; orders-graph (GraphQL, added here: ``enforce``, pre-releases skip
acknowledgement, read by checkout for ``Order.total``) has no place for one, so its version
comes from ``/tessera version`` by a member of acme/orders (its owner) or from the pull
request's title. Whatever the check shows as what merging publishes is what is published.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tessera_app import mirror
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.github_models import PullRequestVersion
from tessera_app.db.registry_models import ContractVersion
from tessera_app.db.workflow_models import Publication

from .test_journey import (
    BASE,
    BREAKING,
    CHECKOUT,
    PRODUCER,
    REGISTRY,
    SPEC,
    TEMPLATE,
    Journey,
    app_key,
    journey,
)
from .test_publish import push_payload

__all__ = ["app_key", "journey"]

OWNER = "olga"  # an active member of acme/orders, the team that owns both contracts
OUTSIDER = "mallory"  # in no team
GRAPH = "graph/orders.graphql"
GRAPH_V1 = (
    "type Query {\n  order(id: ID!): Order\n}\n\ntype Order {\n  id: ID!\n  total: Float\n}\n"
)
GRAPH_BREAKING = GRAPH_V1.replace("  total: Float\n", "")  # checkout reads Order.total
DANGEROUS = BASE.replace(
    "enum: [placed, paid, shipped, cancelled]", "enum: [placed, paid, shipped, cancelled, refunded]"
)  # a new value in a response enum: dangerous, a minor bump

GRAPH_FILES = {
    "contracts/orders-graph.yaml": (
        "id: orders-graph\nowner: orders\nformat: graphql\n"
        "source:\n  repo: acme/orders-service\n  path: graph/orders.graphql\n"
        "versioning:\n  policy: enforce\n"
        "  prerelease:\n    allowed: true\n    skip_acknowledgement: true\n"
    ),
    "consumers/checkout-graph.yaml": (
        "team: checkout\nservice: checkout-graph\nrepo: acme/checkout-web\nconsumes:\n"
        "  - contract: orders-graph\n    versions: '>=1.0.0'\n"
        "    uses:\n      fields: [Order.total]\n"
    ),
    "contracts/orders-graph/versions/1.4.0.json": json.dumps(
        {
            "contract": "orders-graph",
            "version": "1.4.0",
            "format": "graphql",
            "source": {"repo": PRODUCER, "paths": [GRAPH], "commit": "a" * 40},
            "published_at": "2025-05-12T09:30:00Z",
            "files": {GRAPH: GRAPH_V1},
        },
        indent=2,
    ),
}


def plain(text: str | None) -> str:
    """A message as a person reads it (Markdown escapes taken out)."""
    return (text or "").replace("\\", "").replace("&#8203;", "").replace("\u200b", "")


@pytest.fixture
def world(journey: Journey, tmp_path: Path) -> Journey:
    """The journey's world, plus orders-graph in the registry (mirror and repository), its
    published 1.4.0 on the producer's main branch, and the owner team's member."""
    registry = tmp_path / "registry"
    shutil.copytree(TEMPLATE, registry)
    for path, text in GRAPH_FILES.items():
        (registry / path).parent.mkdir(parents=True, exist_ok=True)
        (registry / path).write_text(text)
    with journey.sessions() as session:
        mirror.resync(session, registry)
        session.commit()
    journey.fake.push(REGISTRY, "main", GRAPH_FILES, message="orders-graph")
    journey.fake.push(PRODUCER, "main", {GRAPH: GRAPH_V1}, message="the graph")
    journey.fake.add_team_member("acme", "orders", OWNER)
    return journey


def open_pr(world: Journey, branch: str, files: dict[str, str], title: str, author: str) -> int:
    world.fake.push(PRODUCER, branch, files, from_branch="main")
    number = world.fake.open_pull_request(PRODUCER, branch, "main", title=title, author=author)
    world.send("pull_request", world.pull_request(number.number))
    world.work()
    return number.number


def check(world: Journey, contract: str) -> Any:
    runs = [c for c in world.fake.check_runs.values() if c.name == f"tessera/{contract}"]
    assert runs, f"no check run for {contract}"
    return max(runs, key=lambda run: run.id)


def merge(world: Journey, number: int) -> str:
    sha = world.fake.merge_pull_request(PRODUCER, number)
    world.send("pull_request", world.pull_request(number, "closed"))
    world.work()
    return sha


def published(world: Journey, contract: str) -> list[str]:
    with world.sessions() as session:
        rows = session.scalars(
            select(ContractVersion.version).where(ContractVersion.contract_id == contract)
        )
        return sorted(rows)


def publication(world: Journey, contract: str) -> Publication:
    with world.sessions() as session:
        found = session.scalars(
            select(Publication).where(Publication.contract_id == contract)
        ).all()
        assert len(found) == 1, found
        return found[0]


def comment(world: Journey, number: int, user: str, body: str, repo: str = PRODUCER) -> int:
    payload = world.comment(number, user, body, repo)
    world.send("issue_comment", payload)
    world.work()
    return int(payload["comment"]["id"])


def shows(run: Any, text: str) -> bool:
    return text in plain(run.summary) or text in plain(run.text)


def test_a_correct_info_version_is_published_as_it_is(world: Journey) -> None:
    spec = DANGEROUS.replace("version: 2.1.0", "version: 2.5.0")  # a minor bump, and then some
    number = open_pr(world, "refunded", {SPEC: spec}, "Refunds", OWNER)
    run = check(world, "orders-api")
    assert run.conclusion == "neutral"  # dangerous only; the version is fine
    assert shows(run, "merging publishes orders-api 2.5.0")
    merge(world, number)
    assert published(world, "orders-api") == ["2.1.0", "2.5.0"]
    assert "contracts/orders-api/versions/2.5.0.json" in world.fake.files_at(REGISTRY, "main")
    made = publication(world, "orders-api")
    assert made.version == "2.5.0" and made.notes == []
    (proposal,) = world.proposals()
    assert proposal.version_origin == "given by the producer: info.version in api/openapi.yaml:4"


def test_enforce_fails_a_too_small_version_and_says_what_to_write(world: Journey) -> None:
    too_small = BREAKING.replace("version: 3.0.0", "version: 2.2.0")
    number = open_pr(world, "drop-total", {SPEC: too_small}, "Drop Order.total", OWNER)
    run = check(world, "orders-api")
    assert run.conclusion == "failure"
    assert shows(
        run,
        "breaking changes need 3.0.0 or later; info.version in api/openapi.yaml:4 says 2.2.0: "
        "write 3.0.0 there",
    )
    assert shows(run, "merging publishes orders-api 3.0.0: 2.2.0 is too small")
    (note,) = [a for a in run.annotations if a["start_line"] == 4]
    assert (note["path"], note["annotation_level"]) == (SPEC, "failure")
    (issue,) = world.registry_issues()  # the break still asks the consumer teams meanwhile
    assert "@acme/checkout" in issue.body

    world.fake.push(PRODUCER, "drop-total", {SPEC: BREAKING})  # info.version: 3.0.0
    world.send("pull_request", world.pull_request(number, "synchronize"))
    world.work()
    run = check(world, "orders-api")
    assert run.conclusion == "action_required"  # only the acknowledgements are missing now
    assert shows(run, "merging publishes orders-api 3.0.0")
    assert not shows(run, "or later")


def test_a_merge_while_the_version_is_too_small_publishes_the_version_the_check_showed(
    world: Journey,
) -> None:
    too_small = BREAKING.replace("version: 3.0.0", "version: 2.2.0")
    number = open_pr(world, "drop-total", {SPEC: too_small}, "Drop Order.total", OWNER)
    assert check(world, "orders-api").conclusion == "failure"
    merge(world, number)  # branch protection bypassed: the merge happened, it publishes
    assert published(world, "orders-api") == ["2.1.0", "3.0.0"]  # never 2.2.0
    made = publication(world, "orders-api")
    assert made.version == "3.0.0"
    assert any(n.startswith("published as 3.0.0: 2.2.0 is too small") for n in made.notes)
    assert any(n.startswith("merged before approval") for n in made.notes)
    events = audit_events(world, "proposal.published")
    assert events and events[-1].details["version"] == "3.0.0"


def test_the_producers_version_command(world: Journey) -> None:
    number = open_pr(world, "graph", {GRAPH: GRAPH_BREAKING}, "Drop Order.total", OWNER)
    run = check(world, "orders-graph")
    assert run.conclusion == "failure"
    assert shows(
        run,
        "versioning is enforce and no version is given: comment `/tessera version 2.0.0` on "
        "the pull request",
    )
    (issue,) = world.registry_issues()  # checkout is asked all the same

    # someone outside acme/orders: refused, with a reply that says why
    refused = comment(world, number, OUTSIDER, "/tessera version 2.0.0")
    assert world.reactions(refused) == ["eyes", "confused"]
    (reply,) = world.replies(number)
    assert "@mallory is not a member of acme/orders" in plain(reply)
    assert check(world, "orders-graph").conclusion == "failure"
    # not a semantic version: refused with the reason
    bad = comment(world, number, OWNER, "/tessera version 2.0")
    assert world.reactions(bad) == ["eyes", "confused"]
    assert any("is not a semantic version" in plain(r) for r in world.replies(number))

    # a member of the owner team, on the proposal issue: used
    payload = world.comment(issue.number, OWNER, "/tessera version 2.0.0", REGISTRY)
    world.send("issue_comment", payload)
    world.work()
    assert world.reactions(payload["comment"]["id"]) == ["eyes", "+1"]
    world.send("issue_comment", copy.deepcopy(payload))  # the same comment, delivered again
    world.work()
    run = check(world, "orders-graph")
    assert run.conclusion == "action_required"  # checkout has not acknowledged yet
    assert shows(run, "merging publishes orders-graph 2.0.0")
    with world.sessions() as session:
        row = session.get(PullRequestVersion, ("orders-graph", PRODUCER, number))
        assert row is not None
        assert (row.given_version, row.given_by, row.given_team) == ("2.0.0", OWNER, "acme/orders")
    (event,) = audit_events(world, "version.given")
    assert (event.actor, event.team, event.subject) == (
        OWNER,
        "orders",
        f"pull_request:{PRODUCER}#{number}",
    )
    assert event.details["version"] == "2.0.0"
    assert event.details["evidence"]["github_team"] == "acme/orders"

    comment(world, number, CHECKOUT, "/tessera ack")
    assert check(world, "orders-graph").conclusion == "success"
    merge(world, number)
    assert published(world, "orders-graph") == ["1.4.0", "2.0.0"]
    assert "contracts/orders-graph/versions/2.0.0.json" in world.fake.files_at(REGISTRY, "main")
    assert publication(world, "orders-graph").notes == []


def test_a_version_given_on_a_pull_request_that_breaks_nothing(world: Journey) -> None:
    """A compatible change has no proposal: the command needs none."""
    added = GRAPH_V1.replace("  total: Float\n", "  total: Float\n  note: String\n")
    number = open_pr(world, "note", {GRAPH: added}, "Order.note", OWNER)
    assert check(world, "orders-graph").conclusion == "failure"  # enforce: no version yet
    given = comment(world, number, OWNER, "/tessera version 1.5.0 --contract orders-graph")
    assert world.reactions(given) == ["eyes", "+1"]
    run = check(world, "orders-graph")
    assert run.conclusion == "success" and shows(run, "merging publishes orders-graph 1.5.0")
    assert world.proposals() == []
    merge(world, number)
    assert published(world, "orders-graph") == ["1.4.0", "1.5.0"]


def test_the_command_is_refused_where_the_spec_declares_the_version(world: Journey) -> None:
    number = open_pr(world, "drop-total", {SPEC: BREAKING}, "Drop Order.total", OWNER)
    refused = comment(world, number, OWNER, "/tessera version 4.0.0 --contract orders-api")
    assert world.reactions(refused) == ["eyes", "confused"]
    (reply,) = world.replies(number)
    assert "info.version in api/openapi.yaml:4 says 3.0.0" in plain(reply)
    assert audit_events(world, "version.given") == []


def test_a_pre_release_that_skips_acknowledgement_asks_no_team(world: Journey) -> None:
    title = "Drop Order.total [v2.0.0-rc.1]"  # the title gives it: its author owns the contract
    number = open_pr(world, "graph", {GRAPH: GRAPH_BREAKING}, title, OWNER)
    run = check(world, "orders-graph")
    assert run.conclusion == "neutral"
    assert shows(run, "2.0.0-rc.1 is a pre-release and the contract's pre-release policy skips")
    assert world.registry_issues() == []  # nobody is asked
    (proposal,) = world.proposals()
    assert (proposal.required, proposal.informed) == ({}, ["checkout"])
    merge(world, number)
    assert published(world, "orders-graph") == ["1.4.0", "2.0.0-rc.1"]


def test_the_title_counts_for_members_of_the_owner_team_and_follows_edits(
    world: Journey,
) -> None:
    open_pr(world, "graph", {GRAPH: GRAPH_BREAKING}, "Drop Order.total [v2.0.0]", OUTSIDER)
    run = check(world, "orders-graph")
    assert run.conclusion == "failure"
    assert shows(run, "the title's `[v2.0.0]` is not used: @mallory, who opened the pull request")

    other = open_pr(world, "graph-2", {GRAPH: GRAPH_BREAKING}, "Drop Order.total", OWNER)
    assert check(world, "orders-graph").conclusion == "failure"
    pull = world.fake.pull(PRODUCER, other)
    pull.title = world.fake.issue(PRODUCER, other).title = "Drop Order.total [v2.0.0]"
    edited = world.pull_request(other, "edited")
    edited["pull_request"]["title"] = pull.title
    edited["changes"] = {"title": {"from": "Drop Order.total"}}
    world.send("pull_request", edited)
    world.work()
    run = check(world, "orders-graph")
    assert run.head_sha == pull.head_sha and run.conclusion == "action_required"
    assert shows(run, "merging publishes orders-graph 2.0.0")


def test_a_merge_that_cannot_publish_what_its_check_showed_says_so(world: Journey) -> None:
    spec = DANGEROUS.replace("version: 2.1.0", "version: 2.2.0")
    returns = spec.replace("cancelled, refunded]", "cancelled, returned]")
    first = open_pr(world, "refunded", {SPEC: spec}, "Refunds", OWNER)
    second = open_pr(world, "returned", {SPEC: returns}, "Returns", OWNER)
    assert shows(check(world, "orders-api"), "merging publishes orders-api 2.2.0")
    merge(world, first)
    merge(world, second)  # its check showed 2.2.0, which the first merge published
    assert published(world, "orders-api") == ["2.1.0", "2.2.0", "2.3.0"]
    with world.sessions() as session:
        later = session.scalars(select(Publication).where(Publication.pull_request == second)).one()
    assert later.version == "2.3.0"
    assert any("showed that merging publishes 2.2.0" in n for n in later.notes)


def test_a_direct_push_is_published_as_its_spec_says(world: Journey) -> None:
    before = world.fake.repo(PRODUCER).branch_sha("main")
    spec = DANGEROUS.replace("version: 2.1.0", "version: 2.5.0")
    after = world.fake.push(PRODUCER, "main", {SPEC: spec}, message="refunds")
    world.send("push", push_payload(world, before, after, "refunds"))
    world.work()
    world.make_due()  # the grace period a merge push gets
    world.work()
    (proposal,) = world.proposals()  # nothing breaks a consumer: approved and published at once
    assert (proposal.state, proposal.published_version) == ("published", "2.5.0")
    assert published(world, "orders-api") == ["2.1.0", "2.5.0"]


def audit_events(world: Journey, action: str) -> list[AuditEvent]:
    with world.sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            )
        )
