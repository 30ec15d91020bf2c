"""The worker under faults and traffic, through the real ingress, queue and worker against the
fake GitHub, on SQLite and PostgreSQL: a GitHub call that hangs holds no database lock, failures
no retry can mend are not retried, a job that dies marks its delivery failed, a job run again
after part of it committed decides nothing twice, events that concern no contract cost no GitHub
call, and an unchanged proposal issue is not edited again (a decision edits it once)."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select

from tessera_app import audit
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.base import transaction
from tessera_app.db.github_models import Delivery
from tessera_app.db.queue_models import Job
from tessera_app.db.workflow_models import Proposal
from tessera_app.github.fake import Fault

from ..polling import wait_until
from .test_journey import CHECKOUT, PRODUCER, Journey, app_key, journey

__all__ = ["app_key", "journey"]  # the fixtures, shared with test_journey

HANG_SECONDS = 8.0


def deliveries(world: Journey) -> dict[str, Delivery]:
    with world.sessions() as session:
        return {d.id: d for d in session.scalars(select(Delivery))}


def test_a_github_call_that_hangs_holds_no_database_lock(journey: Journey) -> None:
    number = journey.open_breaking_pr()
    # the check run's creation hangs for 8 s: the job has written the proposal by then
    hang = Fault(path=r"/check-runs$", method="POST", kind="hang", hang_seconds=HANG_SECONDS)
    journey.fake.faults.append(hang)
    journey.send("pull_request", journey.pull_request(number))
    worker = threading.Thread(target=journey.worker.run_once)
    worker.start()
    try:
        wait_until("the job to wait on GitHub", lambda: hang.count == 0)

        # meanwhile: webhooks are stored, the service is ready, reads and writes go through
        comment = journey.comment(number, CHECKOUT, "/tessera ack")
        assert journey.send("issue_comment", comment)["status"] == "queued"
        assert journey.web.get("/readyz").status_code == 200
        with transaction(journey.sessions) as session:
            (proposal,) = session.scalars(select(Proposal)).all()  # committed before the call
            assert proposal.state == "open"
            audit.record(session, action="test.write", actor="t", subject="s", details={})
        assert not journey.fake.check_runs, "the GitHub call should still be hanging"
    finally:
        worker.join(timeout=HANG_SECONDS * 10)
    assert not worker.is_alive()
    assert journey.check().conclusion == "action_required"
    journey.work()  # the comment, after the pull request
    assert journey.reactions(comment["comment"]["id"]) == ["eyes", "+1"]
    assert all(job.state == "done" for job in journey.jobs())


def test_a_job_run_again_after_its_decision_committed_decides_nothing_twice(
    journey: Journey,
) -> None:
    number = journey.open_breaking_pr()
    journey.send("pull_request", journey.pull_request(number))
    journey.work()
    # after the decisions, judging the pull request again fails (more than the gateway's own
    # retries): the job fails with its decisions committed
    journey.fake.faults.append(Fault(path=r"/pulls/\d+$", method="GET", count=2, status=502))
    comment = journey.comment(number, CHECKOUT, "/tessera ack\n/tessera hold while we check")
    journey.send("issue_comment", comment)
    journey.work()
    job = next(j for j in journey.jobs() if j.kind == "github.issue_comment")
    assert (job.state, job.attempts) == ("queued", 1)
    (proposal,) = journey.proposals()
    assert [a.team for a in proposal.acknowledgements] == ["checkout"]  # decided, committed
    journey.make_due()
    journey.work()
    (proposal,) = journey.proposals()
    assert [a.team for a in proposal.acknowledgements] == ["checkout"]  # not a second time
    assert [h.team for h in proposal.holds] == ["checkout"]  # the hold is not "already held"
    assert journey.reactions(comment["comment"]["id"]) == ["eyes", "+1"]
    with journey.sessions() as session:
        acks = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "ack.approved")
        )
    assert acks == 1


def test_failures_no_retry_can_mend_are_dead_at_once(journey: Journey) -> None:
    # a pull request GitHub does not know: 404 on the first call, the job dies at once
    ghost = journey.pull_request(journey.open_breaking_pr())
    ghost["number"] = ghost["pull_request"]["number"] = 999
    guid = journey.send("pull_request", ghost)["delivery"]
    # a payload without a field the App needs
    broken = journey.pull_request(journey.open_breaking_pr("other"))
    del broken["pull_request"]["head"]
    unreadable = journey.send("pull_request", broken)["delivery"]
    journey.work()
    jobs = {j.payload["delivery"]: j for j in journey.jobs()}
    for delivery_id in (guid, unreadable):
        assert (jobs[delivery_id].state, jobs[delivery_id].attempts) == ("dead", 1)
    found = deliveries(journey)
    assert found[guid].status == "failed" and "404" in (found[guid].error or "")
    assert found[unreadable].status == "failed" and "head" in (found[unreadable].error or "")


def test_a_job_that_dies_marks_its_delivery_failed(journey: Journey) -> None:
    number = journey.open_breaking_pr()
    journey.fake.faults.append(Fault(path=r"/pulls/\d+$", method="GET", count=100, status=502))
    guid = journey.send("pull_request", journey.pull_request(number))["delivery"]
    for _ in range(journey.settings.job_max_attempts):
        journey.make_due()
        journey.work()
    (job,) = journey.jobs()
    assert job.state == "dead"
    delivery = deliveries(journey)[guid]
    assert delivery.status == "failed" and "502" in (delivery.error or "")


def test_events_that_concern_no_contract_cost_no_github_call(journey: Journey) -> None:
    other = "acme/unrelated"
    journey.fake.add_repo(other, installation_id=7)
    journey.fake.push(other, "feature", {"README.md": "hello\n"}, from_branch=None)
    journey.fake.push(other, "main", {"README.md": "hi\n"})
    pull = journey.fake.open_pull_request(other, "feature", "main")
    payload = journey.pull_request(journey.open_breaking_pr())
    payload["repository"]["full_name"] = other
    payload["number"] = payload["pull_request"]["number"] = pull.number
    comment: dict[str, Any] = journey.comment(pull.number, "someone", "/tessera ack", repo=other)
    comment["issue"]["pull_request"] = {"url": "https://example.invalid"}
    before = len(journey.fake.requests)
    journey.send("pull_request", payload)
    journey.send("issue_comment", comment)
    assert journey.work() == 2
    assert journey.fake.requests[before:] == []
    assert {d.status for d in deliveries(journey).values()} == {"processed"}


def test_an_unchanged_proposal_issue_is_not_edited_again(journey: Journey) -> None:
    number = journey.open_breaking_pr()
    journey.send("pull_request", journey.pull_request(number))
    journey.work()
    (issue,) = journey.registry_issues()
    before = len(journey.fake.requests)
    for action in ("synchronize", "reopened"):  # judged again, nothing changed
        journey.send("pull_request", journey.pull_request(number, action))
    journey.send("issue_comment", journey.comment(number, "someone", "/tessera recheck"))
    journey.work()
    edits = [
        r
        for r in journey.fake.requests[before:]
        if r.method == "PATCH" and r.path.endswith(f"/issues/{issue.number}")
    ]
    assert edits == []

    # a decision changes what the issue shows (the team's standing): it is edited exactly once
    (issue,) = journey.registry_issues()
    assert "| checkout | ⏳ pending |" in issue.body
    before = len(journey.fake.requests)
    journey.send("issue_comment", journey.comment(number, CHECKOUT, "/tessera ack"))
    journey.work()
    edits = [
        r
        for r in journey.fake.requests[before:]
        if r.method == "PATCH" and r.path.endswith(f"/issues/{issue.number}")
    ]
    assert len(edits) == 1
    assert "| checkout | ✅ acknowledged by carol |" in journey.registry_issues()[0].body


def test_jobs_of_one_pull_request_carry_its_serial(journey: Journey) -> None:
    number = journey.open_breaking_pr()
    journey.send("pull_request", journey.pull_request(number))
    journey.send("issue_comment", journey.comment(number, CHECKOUT, "/tessera ack"))
    serials = {job.kind: job.serial for job in journey.jobs()}
    assert serials == {
        "github.pull_request": f"{PRODUCER}#{number}",
        "github.issue_comment": f"{PRODUCER}#{number}",
    }
    with journey.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 2
