"""What GitHub users do besides opening and merging, through the real ingress and worker
against the fake GitHub (``Journey`` of ``test_journey.py``; webhooks from the vendored real
payloads, rewritten for the fake's objects and signed): a pull request closed without merging
and reopened, a proposal issue closed by hand, a comment edited into a command, a spec file
renamed, a repository so large its tree listing is truncated.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tessera_app import mirror
from tessera_app.github.fake import SyncASGITransport

from .test_journey import (
    CHECKOUT,
    INSTALLATION,
    PRODUCER,
    REGISTRY,
    SECRET,
    SPEC,
    TEMPLATE,
    Journey,
    app_key,
    fixture,
    journey,
)

__all__ = ["app_key", "journey"]  # the fixtures, shared with test_journey


def pull_request_event(world: Journey, number: int, action: str, name: str) -> dict[str, Any]:
    """The ``pull_request`` webhook of ``action`` from the vendored payload ``name``."""
    data = fixture(f"pull_request/{name}")
    pull = world.fake.pull(PRODUCER, number)
    data["action"], data["number"] = action, number
    world._repository(data, PRODUCER)
    pr = data["pull_request"]
    pr.update(number=number, state=pull.state, merged=pull.merged, title=pull.title)
    pr["merge_commit_sha"] = pull.merge_commit_sha
    pr["head"]["sha"], pr["head"]["ref"] = pull.head_sha, pull.head_ref
    pr["base"]["sha"], pr["base"]["ref"] = pull.base_sha, pull.base_ref
    pr["head"]["repo"]["full_name"] = pr["base"]["repo"]["full_name"] = PRODUCER
    return data


def issues_event(world: Journey, number: int, action: str) -> dict[str, Any]:
    """The ``issues`` webhook of the registry issue ``number`` as the fake holds it now."""
    issue = world.fake.issue(REGISTRY, number)
    data = fixture("issues/issues.closed.json")
    data["action"] = action
    world._repository(data, REGISTRY)
    data["issue"].update(
        number=number,
        title=issue.title,
        state=issue.state,
        state_reason=issue.state_reason,
        closed_at=issue.closed_at,
    )
    data["sender"] = {"login": issue.closed_by or "octocat", "type": "User"}
    return data


def breaking_pr_judged(world: Journey) -> int:
    number = world.open_breaking_pr()
    world.send("pull_request", pull_request_event(world, number, "opened", "opened.payload.json"))
    world.work()
    assert world.check().conclusion == "action_required"
    return number


def test_closed_unmerged_withdraws_and_reopened_judges_again(journey: Journey) -> None:
    number = breaking_pr_judged(journey)
    (issue,) = journey.registry_issues()
    journey.fake.close_pull_request(PRODUCER, number, by="alice")
    closed = pull_request_event(journey, number, "closed", "closed.payload.json")
    assert closed["pull_request"]["merged"] is False
    journey.send("pull_request", closed)
    journey.work()
    (proposal,) = journey.proposals()
    assert proposal.state == "withdrawn"
    check = journey.check()
    assert check.conclusion == "neutral"
    assert check.title == "Withdrawn: the pull request was closed without merging"
    assert journey.fake.issue(REGISTRY, issue.number).state == "closed"

    # reopened (a push while it was closed is part of it now): judged again, live again
    journey.fake.reopen_pull_request(PRODUCER, number)
    reopened = pull_request_event(journey, number, "reopened", "reopened.payload.json")
    journey.send("pull_request", reopened)
    journey.work()
    (proposal,) = journey.proposals()
    assert proposal.state == "open"
    assert journey.check().conclusion == "action_required"
    again = journey.fake.issue(REGISTRY, issue.number)
    assert (again.state, again.state_reason) == ("open", "reopened")  # asked again
    assert len(journey.registry_issues()) == 1


def test_a_proposal_issue_closed_by_hand_is_reopened(journey: Journey) -> None:
    breaking_pr_judged(journey)
    (issue,) = journey.registry_issues()
    journey.fake.close_issue(REGISTRY, issue.number, state_reason="not_planned", by="mallory")
    journey.send("issues", issues_event(journey, issue.number, "closed"))
    journey.work()
    reopened = journey.fake.issue(REGISTRY, issue.number)
    assert (reopened.state, reopened.state_reason) == ("open", "reopened")
    (proposal,) = journey.proposals()
    assert proposal.state == "open"


def test_an_edited_comment_is_not_a_command(journey: Journey) -> None:
    breaking_pr_judged(journey)
    (issue,) = journey.registry_issues()
    made = journey.fake.add_comment(REGISTRY, issue.number, "Looking at it", user=CHECKOUT)
    comment, before = journey.fake.edit_comment(made.id, "/tessera ack")
    data = fixture("issue_comment/edited.payload.json")  # a real edit, on an issue
    journey._repository(data, REGISTRY)
    data["issue"]["number"] = issue.number
    data["comment"].update(id=comment.id, body=comment.body)
    data["comment"]["user"] = data["sender"] = {"login": CHECKOUT, "type": "User"}
    data["changes"] = {"body": {"from": before}}
    journey.send("issue_comment", data)
    journey.work()
    (proposal,) = journey.proposals()
    assert proposal.acknowledgements == [] and proposal.state == "open"
    assert journey.reactions(comment.id) == []  # not even "eyes": the edit was ignored
    assert journey.replies(issue.number, REGISTRY) == []


def test_a_renamed_spec_is_reported_deleted_at_its_registered_path(journey: Journey) -> None:
    renamed = "api/orders.yaml"
    journey.fake.push(PRODUCER, "move-spec", {}, renames={SPEC: renamed}, from_branch="main")
    number = journey.fake.open_pull_request(PRODUCER, "move-spec", title="Move the spec").number
    entries = journey.app.installation(INSTALLATION).rest.pulls.list_files(
        "acme", "orders-service", number
    )
    (entry,) = entries.parsed_data
    assert (entry.status, entry.filename, entry.previous_filename) == ("renamed", renamed, SPEC)
    assert (entry.additions, entry.deletions, entry.changes) == (0, 0, 0)
    journey.send(
        "pull_request", pull_request_event(journey, number, "opened", "opened.payload.json")
    )
    journey.work()
    check = journey.check()  # found through the old path, which the pull request removes
    assert check.conclusion == "failure"
    assert check.title == "The spec was deleted"
    assert f"This pull request deletes `{SPEC}`, the registered source of orders-api" in (
        check.summary or ""
    )
    assert "unchanged" not in (check.summary or "") + (check.text or "")
    assert journey.proposals() == []


PROTOS = {
    "proto/acme/a.proto": 'syntax = "proto3";\npackage acme.a;\nmessage A { string id = 1; }\n',
    "proto/acme/v1/b.proto": 'syntax = "proto3";\npackage acme.b;\nmessage B { int64 n = 1; }\n',
    "proto/acme/v1/deep/c.proto": (
        'syntax = "proto3";\npackage acme.c;\nmessage C { bool ok = 1; }\n'
    ),
}


def test_a_directory_spec_is_read_whole_from_a_truncated_tree(
    journey: Journey, tmp_path: Path
) -> None:
    """A contract whose source is a directory, in a repository whose recursive tree listing
    GitHub truncates: the gateway walks the tree level by level and publishes every file."""
    template = tmp_path / "registry"
    shutil.copytree(TEMPLATE, template)
    contract = template / "contracts/checkout-events.yaml"
    text = contract.read_text()
    text = text.replace("repo: acme/checkout-web", f"repo: {PRODUCER}")
    text = text.replace(
        "paths:\n    - proto/acme/checkout/v1/events.proto\n"
        "    - proto/acme/checkout/v1/money.proto\n",
        "path: proto\n  branch: main\n",
    )
    contract.write_text(text)
    with journey.sessions() as session:
        mirror.resync(session, template)
        session.commit()
    journey.fake.repo(PRODUCER).tree_limit = 2
    journey.fake.push(PRODUCER, "protos", PROTOS, from_branch="main")
    number = journey.fake.open_pull_request(PRODUCER, "protos", title="Events").number
    journey.send(
        "pull_request", pull_request_event(journey, number, "opened", "opened.payload.json")
    )
    journey.work()
    runs = [c for c in journey.fake.check_runs.values() if c.name == "tessera/checkout-events"]
    assert [run.conclusion for run in runs] == ["success"]
    listings = [r for r in journey.fake.requests if r.operation == "git/get-tree"]
    assert len(listings) > 2  # the truncated recursive listing, then one per directory

    merge = journey.fake.merge_pull_request(PRODUCER, number)
    journey.send(
        "pull_request", pull_request_event(journey, number, "closed", "closed.payload.json")
    )
    journey.work()
    files = journey.fake.files_at(REGISTRY, "main")
    (name,) = [p for p in files if p.startswith("contracts/checkout-events/versions/")]
    published = json.loads(files[name])
    assert published["source"]["commit"] == merge
    assert sorted(published["files"]) == sorted(PROTOS)  # every file, the deep ones too


def test_redelivery_reaches_the_app_later(journey: Journey) -> None:
    """A failed delivery redelivered: GitHub answers 202, then POSTs the signed webhook to the
    App's ingress; the App judges the pull request."""
    number = journey.open_breaking_pr()
    payload = pull_request_event(journey, number, "opened", "opened.payload.json")
    lost = journey.fake.add_delivery(
        "pull_request", action="opened", status_code=500, installation_id=7, payload=payload
    )
    journey.fake.app.webhook_url = "http://tessera.test/webhooks/github"
    journey.fake.app.webhook_secret = SECRET
    app_transport = SyncASGITransport(journey.web.app)
    journey.fake.webhook_transport = app_transport
    try:
        journey.app.redeliver(lost.id)
        journey.fake.wait_for_redeliveries()
    finally:
        app_transport.close()
    (attempt,) = [d for d in journey.fake.deliveries if d.redelivery]
    assert (attempt.guid, attempt.status_code) == (lost.guid, 202)  # the ingress took it
    journey.work()
    assert journey.check().conclusion == "action_required"
