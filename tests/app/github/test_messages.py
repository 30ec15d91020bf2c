"""What people read on GitHub at each step of a proposal's life, through the real ingress, job
queue and worker against the fake GitHub (``Journey`` of ``test_journey.py``): a publication
and a withdrawal close the proposal issue saying how they ended and finish the check
coherently, a reopened pull request's issue says it asks again, a direct push is described as
one, ``/tessera status`` and ``help`` say what a person needs, a decision on a proposal that
ended is refused in words, and a push that invalidates a team's acknowledgement tells that team
once."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from tessera_app import mirror
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.base import transaction, utcnow
from tessera_app.queue import claim

from .test_journey import (
    BREAKING,
    CHECKOUT,
    DATA,
    PRODUCER,
    REGISTRY,
    SPEC,
    TEMPLATE,
    Journey,
    app_key,
    journey,
)
from .test_journey_user_actions import pull_request_event
from .test_publish import push_payload

__all__ = ["app_key", "journey"]  # the fixtures, shared with test_journey

INTERNAL_ID = re.compile(r"\bproposal \d+\b")
MENTION = re.compile(r"(?<![\w&#;`])@[\w/-]+")
EMAIL = "        email:\n          type: string\n          format: email\n"
STATUS = (
    "        status:\n          type: string\n          enum: [placed, paid, shipped, cancelled]\n"
)


def opened(world: Journey) -> int:
    number = world.open_breaking_pr()
    world.send("pull_request", world.pull_request(number))
    world.work()
    return number


def approve_and_merge(world: Journey, number: int) -> None:
    world.send("issue_comment", world.comment(number, CHECKOUT, "/tessera ack"))
    world.send("pull_request_review", world.review(number, DATA, "APPROVED"))
    world.work()
    world.fake.merge_pull_request(PRODUCER, number)
    world.send("pull_request", world.pull_request(number, "closed"))
    world.work()


def closing_comment(world: Journey, issue: int) -> str:
    (body,) = [
        c.body
        for c in world.fake.comments.values()
        if c.repo == REGISTRY and c.number == issue and "tessera:closed:" in c.body
    ]
    return body


def test_a_publication_closes_the_issue_saying_how_and_finishes_the_check(
    journey: Journey,
) -> None:
    number = opened(journey)
    (issue,) = journey.registry_issues()
    assert journey.check().details_url == f"http://fake.github/{REGISTRY}/issues/{issue.number}"
    approve_and_merge(journey, number)

    issue = journey.fake.issue(REGISTRY, issue.number)
    assert issue.state == "closed" and issue.title.endswith("(published)")
    assert "### How it ended" in issue.body and "🚀 Published as `3.0.0`" in issue.body
    assert "What to do" not in issue.body and "/tessera" not in issue.body
    assert MENTION.findall(issue.body) == []  # a closed issue asks nobody
    assert "| checkout | ✅ acknowledged by carol |" in issue.body
    assert "checkout-web | POST /orders |" in issue.body  # what broke, judged again

    summary = closing_comment(journey, issue.number)
    assert "## 🚀 Published orders-api `3.0.0`" in summary
    assert "checkout-web uses `POST /orders`" in summary and not INTERNAL_ID.search(summary)

    check = journey.check()
    assert (check.conclusion, check.title) == ("success", "Published as 3.0.0")
    assert "with 1 breaking change" in (check.summary or "")
    rows = [line for line in (check.text or "").splitlines() if line.startswith("| breaking |")]
    assert len(rows) == 1 and "body.total" in rows[0]  # the count and the findings agree
    assert "No findings" not in (check.text or "")

    (comment,) = [
        c.body for c in journey.fake.comments.values() if "tessera:pull-request-summary" in c.body
    ]
    assert "### orders-api: published" in comment and "Waiting on" not in comment

    message = journey.registry_commits()[0]
    assert f"proposal issue {REGISTRY}#{issue.number}" in message
    assert not INTERNAL_ID.search(message) and "Tessera-Audit-Seq" in message


def test_a_withdrawal_says_why_and_a_reopened_issue_says_it_asks_again(journey: Journey) -> None:
    number = opened(journey)
    (issue,) = journey.registry_issues()
    journey.fake.close_pull_request(PRODUCER, number, by="alice")
    journey.send(
        "pull_request", pull_request_event(journey, number, "closed", "closed.payload.json")
    )
    journey.work()

    closing = closing_comment(journey, issue.number)
    assert "↩️ Withdrawn: the pull request was closed without merging" in closing
    assert "✅" not in closing and not INTERNAL_ID.search(closing)
    closed = journey.fake.issue(REGISTRY, issue.number)
    assert closed.title.endswith("(withdrawn)") and "What to do" not in closed.body
    assert "orders-api stays at `2.1.0`" in closed.body
    check = journey.check()
    assert check.title == "Withdrawn: the pull request was closed without merging"
    assert "No findings" not in (check.text or "") and "| breaking |" not in (check.summary or "")

    journey.fake.reopen_pull_request(PRODUCER, number)
    journey.send(
        "pull_request", pull_request_event(journey, number, "reopened", "reopened.payload.json")
    )
    journey.work()
    again = journey.fake.issue(REGISTRY, issue.number)
    assert again.state == "open" and not again.title.endswith(")")
    assert "closed without merging, which withdrew this proposal, and then reopened" in again.body
    assert "### What to do" in again.body and "@acme/checkout" in again.body


def test_a_direct_push_is_described_with_its_commit_branch_and_pusher(journey: Journey) -> None:
    before = journey.fake.repo(PRODUCER).branch_sha("main")
    after = journey.fake.push(PRODUCER, "main", {SPEC: BREAKING}, message="drop total")
    push = push_payload(journey, before, after, "drop total")
    push["sender"] = {"login": "alice", "type": "User"}
    journey.send("push", push)
    journey.work()
    journey.make_due()  # the grace period passes: the direct push is judged
    journey.work()
    (issue,) = journey.registry_issues()
    opening = (
        f"A direct push to {PRODUCER} (branch `main`, commit `{after[:12]}`, pushed by alice) "
        "changes orders-api from `2.1.0` to `3.0.0`"
    )
    assert opening in issue.body
    assert "#-" not in issue.body and "()" not in issue.body and "#0" not in issue.body

    for user in (CHECKOUT, DATA):
        journey.send("issue_comment", journey.comment(issue.number, user, "/tessera ack", REGISTRY))
    journey.work()
    summary = closing_comment(journey, issue.number)
    assert f"A direct push to {PRODUCER} (branch `main`, commit `{after[:12]}`" in summary
    assert "merged" not in summary and "#0" not in summary and "#-" not in summary
    closed = journey.fake.issue(REGISTRY, issue.number)
    assert closed.state == "closed" and "the spec of a direct push" in closed.body
    message = journey.registry_commits()[0]
    assert message.startswith(f"Publish orders-api 3.0.0 from a direct push to {PRODUCER} main")
    assert f"pushed commit {after}" in message and "by alice" in message
    assert not INTERNAL_ID.search(message)
    with journey.sessions() as session:
        pushed = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "proposal.direct_push")
        ).one()
    assert (pushed.actor, pushed.details["pusher"], pushed.details["commit"]) == (
        "tessera-github",
        "alice",
        after,
    )


def test_status_shows_each_teams_standing_and_what_breaks_for_it(journey: Journey) -> None:
    number = opened(journey)
    journey.send("issue_comment", journey.comment(number, CHECKOUT, "/tessera ack"))
    journey.send("issue_comment", journey.comment(number, "anyone", "/tessera status"))
    journey.work()
    reply = journey.replies(number)[-1]
    assert "**Waiting on:** data-platform has not acknowledged." in reply
    assert (
        "| checkout | ✅ acknowledged by carol | checkout-web uses `POST /orders`: "
        "POST /orders → 201 → body.total: required property 'total' was removed |"
    ) in reply
    assert "| data-platform | ⏳ pending | analytics-ingest reads everything" in reply


def test_help_says_who_may_waive_and_who_may_force_publish(journey: Journey) -> None:
    number = opened(journey)
    journey.send("issue_comment", journey.comment(number, "anyone", "/tessera help"))
    journey.work()
    reply = journey.replies(number)[-1]
    assert "`waive`: the maintainers of the waived team (`maintainers` in its" in reply
    assert "`force-publish`: only the members of the admin team `acme/tessera-admins`" in reply


def test_a_decision_on_a_published_proposal_is_refused_in_words(journey: Journey) -> None:
    number = opened(journey)
    (issue,) = journey.registry_issues()
    approve_and_merge(journey, number)
    late = journey.comment(issue.number, CHECKOUT, "/tessera block too late", REGISTRY)
    journey.send("issue_comment", late)
    journey.work()
    assert journey.reactions(late["comment"]["id"]) == ["eyes", "confused"]
    (reply,) = journey.replies(issue.number, REGISTRY)
    assert "Nothing to decide: the orders-api proposal was published as 3.0.0" in reply
    assert not INTERNAL_ID.search(reply)


def notices(world: Journey, issue: int) -> list[str]:
    return [
        c.body
        for c in world.fake.comments.values()
        if c.repo == REGISTRY and c.number == issue and "tessera:ack-invalidated:" in c.body
    ]


def test_a_push_that_changes_a_teams_findings_tells_that_team_once(journey: Journey) -> None:
    without_email = BREAKING.replace(EMAIL, "")
    journey.fake.push(PRODUCER, "drop", {SPEC: without_email}, from_branch="main")
    number = journey.fake.open_pull_request(PRODUCER, "drop", "main", title="Drop").number
    journey.send("pull_request", journey.pull_request(number))
    journey.work()
    (issue,) = journey.registry_issues()
    journey.send("issue_comment", journey.comment(number, CHECKOUT, "/tessera ack"))
    journey.work()

    # email is back, status goes: checkout's findings change, its acknowledgement lapses
    journey.fake.push(PRODUCER, "drop", {SPEC: BREAKING.replace(STATUS, "")})
    journey.send("pull_request", journey.pull_request(number, "synchronize"))
    with transaction(journey.sessions) as session:
        job = claim(session, "worker-a", lease=timedelta(seconds=1))
        assert job is not None and job.kind == "github.pull_request"
    with journey.sessions() as session:  # the job posts the notice, then its process dies
        journey.worker.handlers[job.kind](session, dict(job.payload))
        session.rollback()
    (posted,) = notices(journey, issue.number)
    with transaction(journey.sessions) as session:  # its lease expires: run again, to the end
        again = claim(session, "worker-b", now=utcnow() + timedelta(seconds=5))
        assert again is not None and again.id == job.id
    journey.worker.execute(again)
    journey.send("pull_request", journey.pull_request(number, "synchronize"))  # and once more
    journey.work()

    (notice,) = notices(journey, issue.number)  # one notice, edited in place at most
    assert notice.splitlines()[1].startswith("@acme/checkout: your team's acknowledgement")
    assert MENTION.findall(notice) == ["@acme/checkout"]
    new, gone = notice.split("**New for your team:**")[1].split("**Gone:**")
    assert "body.status" in new and "body.email" not in new
    assert "body.email: optional property 'email' was removed" in gone
    assert not re.search(r"\b[0-9a-f]{16}\b", notice)  # findings for people, no fingerprints
    with journey.sessions() as session:
        told = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "ack.invalidation_notified")
        )
    assert told == 1
    assert posted == notice


def test_a_break_that_no_consumer_uses_says_why_no_acknowledgement_is_needed(
    journey: Journey, tmp_path: Path
) -> None:
    template = tmp_path / "registry"
    shutil.copytree(TEMPLATE, template)
    (template / "consumers/checkout-web.yaml").unlink()
    ingest = template / "consumers/analytics-ingest.yaml"
    ingest.write_text(
        ingest.read_text().replace('  - contract: orders-api\n    versions: ">=1.0.0 <3.0.0"\n', "")
    )
    with journey.sessions() as session:
        mirror.resync(session, template)
        session.commit()
    number = opened(journey)
    assert journey.registry_issues() == []  # nobody to ask: no issue
    check = journey.check()
    assert check.conclusion == "neutral"
    assert check.title == "1 breaking change, no acknowledgement needed"
    why = "**No acknowledgement needed:** breaking changes, but no declared consumer uses what "
    assert why in (check.summary or "")
    (comment,) = [
        c.body for c in journey.fake.comments.values() if "tessera:pull-request-summary" in c.body
    ]
    assert why + "they change. It publishes on merge" in comment
    assert "Waiting on" not in comment and number > 0


def test_a_spec_that_does_not_parse_says_so_with_its_line(journey: Journey) -> None:
    broken = BREAKING.replace("  /orders:\n", "  /orders: [\n", 1)
    journey.fake.push(PRODUCER, "broken", {SPEC: broken}, from_branch="main")
    number = journey.fake.open_pull_request(PRODUCER, "broken", "main", title="Oops").number
    journey.send("pull_request", journey.pull_request(number))
    journey.work()
    check = journey.check()
    assert (check.conclusion, check.title) == ("failure", "The spec does not parse")
    (comment,) = [
        c.body for c in journey.fake.comments.values() if "tessera:pull-request-summary" in c.body
    ]
    assert "### ❌ orders-api: the spec does not parse" in comment
    assert re.search(rf"does not parse at `{SPEC}:\d+(:\d+)?`: ", comment)
    for text in (comment, check.summary or "", check.text or ""):
        assert "unchanged" not in text and "→ ?" not in text and "No findings" not in text


def test_a_command_with_nothing_to_undo_says_so(journey: Journey) -> None:
    number = opened(journey)
    cancel = journey.comment(number, CHECKOUT, "/tessera ack cancel\n/tessera unhold")
    journey.send("issue_comment", cancel)
    journey.work()
    (reply,) = journey.replies(number)
    assert "😕 No team has an acknowledgement or a block to cancel on this change." in reply
    assert "😕 No team holds this change." in reply and "not a member" not in reply
