"""The lenient payload readers on every vendored real payload, and their errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tessera_app.github import payloads
from tessera_app.github.payloads import (
    CheckRunEvent,
    CheckSuiteEvent,
    InstallationEvent,
    InstallationRepositoriesEvent,
    IssueCommentEvent,
    IssuesEvent,
    PayloadError,
    PullRequestEvent,
    PushEvent,
    ReviewEvent,
    parse,
)

FIXTURES = Path(__file__).parent / "fixtures"
PAYLOADS = sorted(FIXTURES.glob("*/*.json"))


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_bytes())
    return data


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_vendored_payload_parses(path: Path) -> None:
    event = path.parent.name
    data = json.loads(path.read_bytes())
    parsed = parse(event, data)
    if event == "ping":
        assert parsed is None
    else:  # push is the one event without an action
        assert parsed is not None and getattr(parsed, "action", None) == data.get("action")


def test_pull_request_opened() -> None:
    event = parse("pull_request", _load("pull_request/opened.payload.json"))
    assert isinstance(event, PullRequestEvent)
    pr = event.pull_request
    assert (event.action, event.installation_id, event.repository.full_name) == (
        "opened",
        event.installation_id,
        "Codertocat/Hello-World",
    )
    assert event.installation_id is not None
    assert (pr.number, pr.state, pr.merged, pr.head_ref, pr.base_ref) == (
        2,
        "open",
        False,
        "changes",
        "master",
    )
    assert len(pr.head_sha) == 40 and pr.author == "Codertocat" and not pr.from_fork
    assert not event.merged and not event.base_changed


def test_pull_request_merged_and_closed_unmerged() -> None:
    merged = parse("pull_request", _load("pull_request/pull_request.closed.json"))
    closed = parse("pull_request", _load("pull_request/closed.payload.json"))
    assert isinstance(merged, PullRequestEvent) and isinstance(closed, PullRequestEvent)
    assert merged.merged and merged.pull_request.merge_commit_sha
    assert not closed.merged and closed.action == "closed"


def test_pull_request_synchronize_and_edited_base() -> None:
    data = _load("pull_request/synchronize.payload.json")
    event = parse("pull_request", data)
    assert isinstance(event, PullRequestEvent) and event.action == "synchronize"
    edited = copy.deepcopy(data)
    edited["action"] = "edited"
    edited["changes"] = {"base": {"ref": {"from": "develop"}, "sha": {"from": "abc"}}}
    parsed = parse("pull_request", edited)
    assert isinstance(parsed, PullRequestEvent)
    assert parsed.base_changed and parsed.base_changed_from == "develop"
    edited["changes"] = {"title": {"from": "old title"}}
    parsed = parse("pull_request", edited)
    assert isinstance(parsed, PullRequestEvent) and not parsed.base_changed


def test_reviews() -> None:
    approved = parse(
        "pull_request_review", _load("pull_request_review/pull_request_review.35.submitted.json")
    )
    commented = parse("pull_request_review", _load("pull_request_review/submitted.payload.json"))
    dismissed = parse("pull_request_review", _load("pull_request_review/dismissed.payload.json"))
    assert isinstance(approved, ReviewEvent) and approved.review.state == "approved"
    assert isinstance(commented, ReviewEvent) and commented.review.state == "commented"
    assert isinstance(dismissed, ReviewEvent) and dismissed.action == "dismissed"
    assert dismissed.review.state == "dismissed"
    assert approved.review.user.login and approved.pull_request.number
    upper = _load("pull_request_review/submitted.payload.json")
    upper["review"]["state"] = "CHANGES_REQUESTED"
    parsed = parse("pull_request_review", upper)
    assert isinstance(parsed, ReviewEvent) and parsed.review.state == "changes_requested"


def test_issue_comments() -> None:
    on_pr = parse("issue_comment", _load("issue_comment/githubIssueCommentEvent.json"))
    on_issue = parse("issue_comment", _load("issue_comment/created.with-installation.payload.json"))
    edited = parse("issue_comment", _load("issue_comment/edited.payload.json"))
    assert isinstance(on_pr, IssueCommentEvent) and on_pr.on_pull_request
    assert on_pr.comment.body == "###comment body###" and on_pr.installation_id is None
    assert isinstance(on_issue, IssueCommentEvent) and not on_issue.on_pull_request
    assert on_issue.is_new and on_issue.installation_id is not None
    assert on_issue.comment.user.login and not on_issue.comment.user.is_bot
    assert isinstance(edited, IssueCommentEvent) and not edited.is_new


def test_a_bot_comment_is_recognised() -> None:
    data = _load("issue_comment/created.payload.json")
    data["comment"]["user"] = {"login": "tessera[bot]", "type": "Bot"}
    data["comment"]["performed_via_github_app"] = {"slug": "tessera", "id": 1}
    event = parse("issue_comment", data)
    assert isinstance(event, IssueCommentEvent)
    assert event.comment.user.is_bot and event.comment.via_app == "tessera"


def test_issues() -> None:
    closed = parse("issues", _load("issues/issues.closed.json"))
    opened = parse("issues", _load("issues/opened.payload.json"))
    assert isinstance(closed, IssuesEvent) and closed.issue.state == "closed"
    assert closed.issue.state_reason == "completed" and closed.installation_id is not None
    assert isinstance(opened, IssuesEvent) and opened.issue.state == "open"


def test_pushes() -> None:
    branch = parse("push", _load("push/push.json"))
    tag = parse("push", _load("push/with-installation.payload.json"))
    assert isinstance(branch, PushEvent) and branch.branch == "bkeepers-patch-3"
    assert branch.changed_paths == {"README.md"} and not branch.to_default_branch
    assert isinstance(tag, PushEvent) and tag.branch is None and not tag.to_default_branch
    created = parse("push", _load("push/with-new-branch.payload.json"))
    assert isinstance(created, PushEvent) and created.created
    assert created.to_default_branch == (created.repository.default_branch == "master")


def test_checks() -> None:
    rerun = parse("check_run", _load("check_run/rerequested.payload.json"))
    action = parse("check_run", _load("check_run/requested_action.payload.json"))
    suite = parse("check_suite", _load("check_suite/rerequested.payload.json"))
    assert isinstance(rerun, CheckRunEvent) and rerun.requested_action is None
    assert rerun.check_run.id and len(rerun.check_run.head_sha) == 40
    assert isinstance(action, CheckRunEvent) and action.requested_action
    assert isinstance(suite, CheckSuiteEvent) and suite.action == "rerequested"
    assert len(suite.head_sha) == 40 and suite.installation_id is not None


def test_installations() -> None:
    created = parse("installation", _load("installation/created.payload.json"))
    added = parse(
        "installation_repositories", _load("installation_repositories/added.payload.json")
    )
    removed = parse(
        "installation_repositories", _load("installation_repositories/removed.payload.json")
    )
    assert isinstance(created, InstallationEvent) and created.account
    assert created.repositories and all(r.full_name for r in created.repositories)
    assert isinstance(added, InstallationRepositoriesEvent) and added.added and not added.removed
    assert isinstance(removed, InstallationRepositoriesEvent) and removed.removed


def test_unknown_events_are_none() -> None:
    assert parse("ping", _load("ping/payload.json")) is None
    assert parse("team", {"action": "created"}) is None


@pytest.mark.parametrize(
    ("event", "name", "path", "value", "message"),
    [
        (
            "pull_request",
            "pull_request/opened.payload.json",
            ["pull_request", "number"],
            None,
            "pull_request pull_request: the payload has no 'number'",
        ),
        (
            "pull_request",
            "pull_request/opened.payload.json",
            ["pull_request", "head", "sha"],
            5,
            "pull_request pull_request: 'head.sha' is int, expected str",
        ),
        (
            "issue_comment",
            "issue_comment/created.payload.json",
            ["comment", "body"],
            None,
            "issue_comment: the payload has no 'comment.body'",
        ),
        ("push", "push/push.json", ["after"], None, "push: the payload has no 'after'"),
        (
            "installation",
            "installation/created.payload.json",
            ["installation", "id"],
            True,
            "installation: 'installation.id' is bool, expected int",
        ),
        (
            "check_run",
            "check_run/rerequested.payload.json",
            ["check_run"],
            None,
            "check_run: the payload has no 'check_run.id'",
        ),
        (
            "issues",
            "issues/issues.closed.json",
            ["repository"],
            "x",
            "issues: the payload has no 'repository.full_name'",
        ),
    ],
)
def test_a_missing_required_field_is_a_clear_error(
    event: str, name: str, path: list[str], value: Any, message: str
) -> None:
    data = _load(name)
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if value is None:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    with pytest.raises(PayloadError) as raised:
        parse(event, data)
    assert str(raised.value) == message


def test_optional_fields_may_be_missing_or_odd() -> None:
    data = _load("pull_request/opened.payload.json")
    for key in ("installation", "sender"):
        del data[key]
    pr = data["pull_request"]
    pr["head"]["repo"] = None  # a deleted fork
    pr["draft"] = "yes"  # wrong type: read as not given
    del pr["merge_commit_sha"], pr["user"], pr["title"]
    event = parse("pull_request", data)
    assert isinstance(event, PullRequestEvent)
    assert event.installation_id is None and event.sender is None
    assert event.pull_request.head_repo is None and not event.pull_request.draft
    assert event.pull_request.author is None and event.pull_request.title == ""


def test_readers_match_the_ingress_events() -> None:
    from tessera_app.github.ingress import HANDLED_EVENTS

    assert set(payloads.READERS) == HANDLED_EVENTS
    with pytest.raises(PayloadError):
        parse("push", [])  # type: ignore[arg-type]
