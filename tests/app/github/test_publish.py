"""Publishing beyond the journey: a pull request closed unmerged is withdrawn; a direct push of
a breaking change opens a proposal (no pull request) and publishes only once acknowledged;
a pull request's merge push is not taken for a direct push; a merged pull request whose merge
commit GitHub's answer lacks is retried, never withdrawn."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from tessera_app.github import handlers
from tessera_app.github.gateway import GitHubApp

from .test_journey import (
    BREAKING,
    CHECKOUT,
    DATA,
    PRODUCER,
    REGISTRY,
    SPEC,
    Journey,
    app_key,
    fixture,
    journey,
)

__all__ = ["app_key", "journey"]


def push_payload(world: Journey, before: str, after: str, message: str) -> dict[str, Any]:
    data = fixture("push/push.json")
    data.update(ref="refs/heads/main", before=before, after=after, created=False, deleted=False)
    data["repository"]["full_name"] = PRODUCER
    data["repository"]["default_branch"] = "main"
    data["installation"] = {"id": 7}
    data["commits"] = [
        {"id": after, "message": message, "added": [], "modified": [SPEC], "removed": []}
    ]
    data["head_commit"] = data["commits"][0]
    return data


def test_closed_unmerged_withdraws(journey: Journey) -> None:
    number = journey.open_breaking_pr()
    journey.send("pull_request", journey.pull_request(number))
    journey.work()
    journey.fake.close_pull_request(PRODUCER, number)
    journey.send("pull_request", journey.pull_request(number, "closed"))
    journey.work()
    (proposal,) = journey.proposals()
    assert proposal.state == "withdrawn"
    (issue,) = journey.registry_issues()
    assert issue.state == "closed"
    assert "versions/3.0.0.json" not in str(journey.fake.files_at(REGISTRY, "main"))


def test_a_direct_push_waits_for_acknowledgement(journey: Journey) -> None:
    before = journey.fake.repo(PRODUCER).branch_sha("main")
    after = journey.fake.push(PRODUCER, "main", {SPEC: BREAKING}, message="drop total")
    commits = len(journey.registry_commits())
    journey.send("push", push_payload(journey, before, after, "drop total"))
    journey.work()
    assert journey.proposals() == []  # judged after the grace period
    journey.make_due()
    journey.work()
    (proposal,) = journey.proposals()
    assert proposal.pull_request < 0 and proposal.state == "open"
    assert proposal.head_sha == after
    (issue,) = journey.registry_issues()
    assert len(journey.registry_commits()) == commits  # the old version stays active

    for user in (CHECKOUT, DATA):
        journey.send("issue_comment", journey.comment(issue.number, user, "/tessera ack", REGISTRY))
    journey.work()
    (proposal,) = journey.proposals()
    assert proposal.state == "published" and proposal.merge_commit == after
    assert len(journey.registry_commits()) == commits + 1
    assert "contracts/orders-api/versions/3.0.0.json" in journey.fake.files_at(REGISTRY, "main")
    assert journey.registry_issues()[0].state == "closed"


def test_a_merge_push_is_left_to_the_pull_request(journey: Journey) -> None:
    number = journey.open_breaking_pr()
    journey.send("pull_request", journey.pull_request(number))
    journey.work()
    before = journey.fake.repo(PRODUCER).branch_sha("main")
    merge = journey.fake.merge_pull_request(PRODUCER, number)
    message = f"Merge pull request #{number} from drop-total"
    journey.send("push", push_payload(journey, before, merge, message))
    journey.work()
    journey.make_due()  # the grace period passes: the direct-push job runs
    journey.work()
    (proposal,) = journey.proposals()  # no direct-push proposal
    assert proposal.pull_request == number
    assert all(job.state == "done" for job in journey.jobs())


def test_a_merge_is_recognised_by_github_not_by_its_message(journey: Journey) -> None:
    """A merge whose commit message names no pull request (a squash titled by hand) is still the
    pull request's merge: GitHub's commit -> pull request record says so, not the message."""
    number = journey.open_breaking_pr()
    journey.send("pull_request", journey.pull_request(number))
    journey.work()
    before = journey.fake.repo(PRODUCER).branch_sha("main")
    merge = journey.fake.merge_pull_request(PRODUCER, number)
    journey.send("push", push_payload(journey, before, merge, "Drop Order.total"))
    journey.work()
    journey.make_due()  # the grace period passes: the direct-push job runs
    journey.work()
    (proposal,) = journey.proposals()  # no direct-push proposal
    assert proposal.pull_request == number
    asked = [r.path for r in journey.fake.requests if r.path.endswith(f"/commits/{merge}/pulls")]
    assert asked, "the App should ask GitHub which pull request brought the commit"
    assert all(job.state == "done" for job in journey.jobs())


class DroppingProxy(httpx.BaseTransport):
    """A proxy between the App and GitHub that drops one field from pull request answers."""

    def __init__(self, inner: httpx.BaseTransport, field: str) -> None:
        self.inner, self.field = inner, field

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method != "GET" or not re.search(r"/pulls/\d+$", request.url.path):
            return response
        data = json.loads(response.read())
        data.pop(self.field, None)
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, json=data, request=request)


def test_a_merge_without_its_merge_commit_is_retried_not_withdrawn(journey: Journey) -> None:
    number = journey.open_breaking_pr()
    journey.send("pull_request", journey.pull_request(number))
    journey.work()
    for user in (CHECKOUT, DATA):
        journey.send("issue_comment", journey.comment(number, user, "/tessera ack"))
    journey.work()
    merge = journey.fake.merge_pull_request(PRODUCER, number)
    proxied = GitHubApp(
        journey.app.settings,
        transport=DroppingProxy(journey.app._transport.inner, "merge_commit_sha"),
    )
    handlers.configure(lambda _settings: proxied, journey.settings)
    journey.send("pull_request", journey.pull_request(number, "closed"))
    journey.work()
    job = next(j for j in journey.jobs() if j.state != "done")
    assert job.state == "queued" and "merge_commit_sha" in (job.last_error or "")
    (proposal,) = journey.proposals()
    assert proposal.state == "approved"  # not withdrawn, not published at a guessed commit

    handlers.configure(lambda _settings: journey.app, journey.settings)  # the proxy is fixed
    journey.make_due()
    journey.work()
    (proposal,) = journey.proposals()
    assert (proposal.state, proposal.merge_commit) == ("published", merge)


def test_a_proposal_that_expires_says_so_on_github(journey: Journey) -> None:
    """The clock ends a proposal (no GitHub event does): its check, issue and comment are
    brought up to date by the worker all the same."""
    from datetime import timedelta

    from sqlalchemy import update

    from tessera_app.db.base import transaction, utcnow
    from tessera_app.db.workflow_models import Proposal
    from tessera_app.queue import enqueue

    number = journey.open_breaking_pr()
    journey.send("pull_request", journey.pull_request(number))
    journey.work()
    (issue,) = journey.registry_issues()
    assert issue.state == "open"
    with transaction(journey.sessions) as session:
        session.execute(update(Proposal).values(expires_at=utcnow() - timedelta(minutes=1)))
        enqueue(session, "proposals.expire", {})
    journey.work()
    (proposal,) = journey.proposals()
    assert proposal.state == "expired"
    (issue,) = journey.registry_issues()
    assert issue.state == "closed" and "expired" in issue.title
    assert journey.check().conclusion == "neutral"
    assert "expired" in (journey.check().title or "").lower()
    assert all(job.state == "done" for job in journey.jobs())
