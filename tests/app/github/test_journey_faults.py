"""The journey when things go wrong: events out of order, a failed delivery healed by
reconciliation, GitHub 5xx during a job (retried by the queue), a worker killed mid-job (the
lease expires, the job runs again, the outcome is still exactly once)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from tessera_app.db.base import transaction, utcnow
from tessera_app.db.queue_models import Job
from tessera_app.github import reconcile
from tessera_app.github.fake import Fault
from tessera_app.queue import claim

from .test_journey import CHECKOUT, DATA, PRODUCER, REGISTRY, Journey, app_key, journey

__all__ = ["app_key", "journey"]  # the fixtures, shared with test_journey


def approve_all(world: Journey, number: int) -> None:
    world.send("issue_comment", world.comment(number, CHECKOUT, "/tessera ack"))
    world.send("pull_request_review", world.review(number, DATA, "APPROVED"))
    world.work()


def test_a_comment_before_the_pull_request_event(journey: Journey) -> None:
    number = journey.open_breaking_pr()
    early = journey.comment(number, CHECKOUT, "/tessera ack")
    journey.send("issue_comment", early)  # the pull_request event is late
    journey.work()
    assert journey.reactions(early["comment"]["id"]) == ["eyes", "+1"]
    (proposal,) = journey.proposals()
    assert [a.team for a in proposal.acknowledgements] == ["checkout"]
    journey.send("pull_request", journey.pull_request(number))  # arrives now: changes nothing
    journey.work()
    (proposal,) = journey.proposals()
    assert [a.team for a in proposal.acknowledgements if a.ended_at is None] == ["checkout"]
    assert journey.check().conclusion == "action_required"
    assert len(journey.registry_issues()) == 1


def test_reconciliation_heals_a_missed_delivery(journey: Journey) -> None:
    number = journey.open_breaking_pr()
    # GitHub could not deliver the pull_request event (our server answered 500)
    lost = journey.fake.add_delivery(
        "pull_request", action="opened", status_code=500, installation_id=7
    )
    journey.fake.add_delivery("push", status_code=200)  # delivered fine: left alone
    with transaction(journey.sessions) as session:
        report = reconcile.run(session, journey.app, journey.settings)
    assert report.judged == [f"{PRODUCER}#{number}"]
    assert report.redelivered == [lost.guid]
    assert journey.check().conclusion == "action_required"
    journey.fake.wait_for_redeliveries()  # GitHub redelivers after answering 202
    redeliveries = [d for d in journey.fake.deliveries if d.redelivery]
    assert [d.guid for d in redeliveries] == [lost.guid]
    with transaction(journey.sessions) as session:  # healed: nothing more to do
        again = reconcile.run(session, journey.app, journey.settings)
    assert again.judged == [] and again.redelivered == []


def test_github_5xx_during_a_job_is_retried_by_the_queue(journey: Journey) -> None:
    number = journey.open_breaking_pr()
    # more failures than the gateway's own retries (2 attempts): the job fails once
    journey.fake.faults.append(Fault(path=r"/check-runs", method="POST", count=2, status=502))
    journey.send("pull_request", journey.pull_request(number))
    journey.work()
    (job,) = journey.jobs()
    assert job.state == "queued" and job.attempts == 1 and "502" in (job.last_error or "")
    (opened,) = journey.proposals()  # committed before the GitHub call that failed
    journey.make_due()
    journey.work()
    (job,) = journey.jobs()
    assert job.state == "done"
    assert journey.check().conclusion == "action_required"
    (proposal,) = journey.proposals()  # the retry converged on the same proposal
    assert proposal.id == opened.id and proposal.state == "open"
    assert len(journey.registry_issues()) == 1  # the failed attempt made none


def test_a_worker_killed_mid_merge_publishes_exactly_once(journey: Journey) -> None:
    number = journey.open_breaking_pr()
    journey.send("pull_request", journey.pull_request(number))
    journey.work()
    approve_all(journey, number)
    before = len(journey.registry_commits())
    journey.fake.merge_pull_request(PRODUCER, number)
    journey.send("pull_request", journey.pull_request(number, "closed"), str(uuid.uuid4()))

    # worker A claims the merge job and dies after its GitHub writes, before its commit
    with transaction(journey.sessions) as session:
        job = claim(session, "worker-a", lease=timedelta(seconds=1))
        assert job is not None and job.kind == "github.pull_request"
    function = journey.worker.handlers[job.kind]
    with journey.sessions() as session:
        function(session, dict(job.payload))
        session.rollback()  # the process died: nothing of its transaction committed

    # the lease expires; worker B takes the job and runs it to the end
    with transaction(journey.sessions) as session:
        again = claim(session, "worker-b", now=utcnow() + timedelta(seconds=5))
        assert again is not None and again.id == job.id and again.attempts == 2
    journey.worker.execute(again)
    with journey.sessions() as session:
        assert session.scalars(select(Job.state).where(Job.id == job.id)).one() == "done"
    assert len(journey.registry_commits()) == before + 1  # no second registry commit
    (proposal,) = journey.proposals()
    assert proposal.state == "published"
    (issue,) = journey.registry_issues()
    assert issue.state == "closed"
    closing = [
        c
        for c in journey.fake.comments.values()
        if c.repo == REGISTRY and "tessera:closed" in c.body
    ]
    assert len(closing) == 1  # the summary was edited in place, not posted twice
