"""Published versions never go backwards, and the registry repository on GitHub is the one source
of truth: the exact sequence that lost a published version, through the real ingress, job queue
and worker against the fake GitHub, on SQLite and PostgreSQL.

The App publishes orders-api 3.0.0 from a breaking pull request (``Journey``); then the mirror is
resynced from the local ``registry-template/`` copy (which has only 2.1.0), and from stale
commits of the registry branch on GitHub. 3.0.0 stays published and active, what the source
lacks is reported (report, audit log once, ``/readyz``), and the next safe pull request is judged
against 3.0.0: no proposal re-opened, no team asked.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import delete, select

from tessera_app import mirror_syncs
from tessera_app.api.registry_engine import versions_of
from tessera_app.auth import create_key
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.base import transaction
from tessera_app.db.mirror_models import RegistrySync
from tessera_app.db.queue_models import Job
from tessera_app.db.registry_models import Contract, Installation, Repository, Team
from tessera_app.github import reconcile, registry_prs
from tessera_app.github.fake.state import FakeState
from tessera_app.queue import enqueue
from tessera_app.settings import Settings
from tessera_app.worker import Worker
from tessera_app.workflow_state import LIVE
from tessera_engine.registry.model import PrereleasePolicy
from tessera_engine.registry.versions import active

from .test_journey import (
    BREAKING,
    CHECKOUT,
    DATA,
    INSTALLATION,
    PRODUCER,
    REGISTRY,
    SPEC,
    TEMPLATE,
    Journey,
    app_key,
    fixture,
    journey,
)

__all__ = ["app_key", "journey"]  # the fixtures, shared with test_journey

GITHUB_SOURCE = f"github:{REGISTRY}@main"
# Order gains an optional field: compatible with 3.0.0, breaking nobody
SAFE = BREAKING.replace("version: 3.0.0", "version: 3.1.0").replace(
    "        status:\n", "        note:\n          type: string\n        status:\n", 1
)


def publish_breaking(world: Journey) -> int:
    """The breaking pull request, acknowledged by both teams and merged: 3.0.0 published."""
    number = world.open_breaking_pr()
    world.send("pull_request", world.pull_request(number))
    world.work()
    world.send("issue_comment", world.comment(number, CHECKOUT, "/tessera ack"))
    world.send("pull_request_review", world.review(number, DATA, "APPROVED"))
    world.work()
    world.fake.merge_pull_request(PRODUCER, number)
    world.send("pull_request", world.pull_request(number, "closed"))
    world.work()
    assert "contracts/orders-api/versions/3.0.0.json" in world.fake.files_at(REGISTRY, "main")
    return number


def run_job(world: Journey, kind: str, payload: dict[str, Any] | None = None) -> Job:
    """Enqueue one job and let the worker run everything due; the job as it ended."""
    with transaction(world.sessions) as session:
        job_id = enqueue(session, kind, payload or {}, key=f"{kind}@{uuid.uuid4()}").id
    world.work()
    with world.sessions() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def published(world: Journey) -> tuple[list[str], str | None]:
    """The published versions of orders-api and the active one."""
    with world.sessions() as session:
        versions = versions_of(session, "orders-api")
    current = active(versions, PrereleasePolicy())
    return [v.version for v in versions], current.version if current else None


def readyz(world: Journey) -> dict[str, Any]:
    """``/readyz`` as a reader sees it (reads need a key here: TESSERA_ENVIRONMENT=test);
    without a key it says only whether the mirror is consistent and how many findings."""
    anonymous = world.web.get("/readyz").json()
    with transaction(world.sessions) as session:
        name = f"probe-{uuid.uuid4().hex[:8]}"
        secret, _ = create_key(session, name, ["read"], pepper=world.settings.secret_key)
    body: dict[str, Any] = world.web.get(
        "/readyz", headers={"Authorization": f"Bearer {secret}"}
    ).json()
    assert anonymous["registry"] == {
        "consistent": body["registry"]["consistent"],
        "findings": len(body["registry"]["findings"]),
    }
    return body


def findings(world: Journey) -> list[tuple[str, str]]:
    body = readyz(world)
    assert body["status"] == "ok"  # inconsistent, but ready
    return [(f["kind"], f["subject"]) for f in body["registry"]["findings"]]


def audited(world: Journey, action: str) -> list[str]:
    with world.sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent.subject)
                .where(AuditEvent.action == action)
                .order_by(AuditEvent.seq)
            )
        )


def applied(world: Journey) -> str | None:
    with world.sessions() as session:
        row = session.get(RegistrySync, GITHUB_SOURCE)
        return row.commit if row is not None else None


def move_branch(fake: FakeState, sha: str) -> None:
    """A force-push of the registry branch to ``sha`` (a reset, a rewrite of history)."""
    with fake.lock:
        fake.repo(REGISTRY).refs["heads/main"] = sha


def test_a_published_version_survives_every_resync(journey: Journey) -> None:
    job = run_job(journey, "github.registry_resync")  # at start: the mirror follows GitHub
    assert job.state == "done", job.last_error
    before_publish = journey.fake.repo(REGISTRY).branch_sha("main")
    assert applied(journey) == before_publish

    publish_breaking(journey)
    after_publish = journey.fake.repo(REGISTRY).branch_sha("main")
    assert published(journey) == (["2.1.0", "3.0.0"], "3.0.0")
    issues_before = len(journey.registry_issues())

    # 1. the periodic resync from the local registry-template copy (2.1.0 only)
    job = run_job(journey, "registry.resync", {"path": str(TEMPLATE)})
    assert job.state == "done", job.last_error
    assert published(journey) == (["2.1.0", "3.0.0"], "3.0.0")
    missing = ("version-missing", "contract:orders-api@3.0.0")
    assert findings(journey) == [missing]
    run_job(journey, "registry.resync", {"path": str(TEMPLATE)})  # again, 15 minutes later
    assert audited(journey, "registry.inconsistency_found") == ["contract:orders-api@3.0.0"]

    # 2. the registry branch on GitHub reset to the commit before the publication: the mirror
    #    applied that commit, but published since, so it is read again and the lack reported
    move_branch(journey.fake, before_publish)
    assert run_job(journey, "github.registry_resync").state == "done"
    assert published(journey) == (["2.1.0", "3.0.0"], "3.0.0")
    assert findings(journey) == [missing]
    assert audited(journey, "registry.inconsistency_found") == ["contract:orders-api@3.0.0"]

    # 3. the branch back where it was: applied, and the source holds 3.0.0 again
    move_branch(journey.fake, after_publish)
    run_job(journey, "github.registry_resync")
    assert applied(journey) == after_publish
    assert findings(journey) == []
    assert audited(journey, "registry.inconsistency_resolved") == ["contract:orders-api@3.0.0"]

    # 4. a stale commit again: not a descendant of what was applied, so refused
    move_branch(journey.fake, before_publish)
    run_job(journey, "github.registry_resync")
    assert applied(journey) == after_publish
    stale = ("not-descendant", f"registry:{GITHUB_SOURCE}#{before_publish[:12]}")
    assert findings(journey) == [stale]
    body = readyz(journey)["registry"]
    assert body["consistent"] is False
    assert "is not a descendant" in body["findings"][0]["message"]
    assert published(journey) == (["2.1.0", "3.0.0"], "3.0.0")
    run_job(journey, "github.registry_resync")  # every period: the same finding, audited once
    assert audited(journey, "registry.inconsistency_found")[-1] == stale[1]
    assert len(audited(journey, "registry.inconsistency_found")) == 2
    move_branch(journey.fake, after_publish)

    # 5. the next safe pull request is judged against 3.0.0: no proposal, no team asked
    journey.fake.push(PRODUCER, "note", {SPEC: SAFE}, from_branch="main")
    safe = journey.fake.open_pull_request(PRODUCER, "note", "main", title="Order.note").number
    journey.send("pull_request", journey.pull_request(safe))
    journey.work()
    check = journey.check()
    assert check.conclusion == "success", check.summary
    assert "3.0.0" in check.summary
    assert len(journey.registry_issues()) == issues_before
    assert all(issue.state == "closed" for issue in journey.registry_issues())
    assert not [p for p in journey.proposals() if p.state in LIVE or p.pull_request == safe]
    assert all(job.state == "done" for job in journey.jobs()), [
        (job.kind, job.last_error) for job in journey.jobs() if job.state != "done"
    ]


def test_a_registry_branch_pushed_to_directly_is_mirrored(journey: Journey) -> None:
    """A push straight to the registry branch (no pull request) reaches the mirror with the next
    periodic resync; an invalid one is refused and reported, once."""
    run_job(journey, "github.registry_resync")
    contract = (TEMPLATE / "contracts/storefront-graph.yaml").read_text()
    journey.fake.push(
        REGISTRY,
        "main",
        {"contracts/storefront-graph.yaml": contract.replace("tier-1", "tier-2")},
    )
    run_job(journey, "github.registry_resync")
    with journey.sessions() as session:
        row = session.get(Contract, "storefront-graph")
        assert row is not None and row.tags == ["tier-2"]
    bad = journey.fake.push(REGISTRY, "main", {"consumers/x.yaml": "team: nobody\n"})
    run_job(journey, "github.registry_resync")
    before = len(journey.fake.requests)
    run_job(journey, "github.registry_resync")  # refused before: not read again
    calls = [r.path for r in journey.fake.requests[before:] if "access_tokens" not in r.path]
    assert calls == [f"repos/{REGISTRY}/git/ref/heads/main"]
    assert applied(journey) != bad
    ((kind, subject),) = findings(journey)
    assert (kind, subject) == ("invalid-registry", f"registry:{GITHUB_SOURCE}#{bad[:12]}")
    message = readyz(journey)["registry"]["findings"][0]["message"]
    assert "consumers/x.yaml" in message and "/tmp" not in message
    assert len(audited(journey, "registry.inconsistency_found")) == 1


def test_an_unmoved_branch_costs_one_request(journey: Journey) -> None:
    run_job(journey, "github.registry_resync")
    before = len(journey.fake.requests)
    run_job(journey, "github.registry_resync")
    calls = [r.path for r in journey.fake.requests[before:] if "access_tokens" not in r.path]
    assert calls == [f"repos/{REGISTRY}/git/ref/heads/main"]


def test_the_registry_installation_is_found_without_the_repositories_table(
    journey: Journey,
) -> None:
    """The App installed before Tessera first ran: no installation event was stored. The
    installation is found from a webhook delivery; with none at all, a finding says so."""
    with transaction(journey.sessions) as session:
        session.execute(delete(Repository))
        session.execute(delete(Installation))
    run_job(journey, "github.registry_resync")
    unreachable = ("registry-unreachable", f"registry:{GITHUB_SOURCE}")
    assert findings(journey) == [unreachable]
    assert applied(journey) is None
    number = journey.open_breaking_pr()
    journey.send("pull_request", journey.pull_request(number))  # a delivery names installation 7
    journey.work()
    run_job(journey, "github.registry_resync")
    assert applied(journey) == journey.fake.repo(REGISTRY).branch_sha("main")
    assert findings(journey) == []


def installation_created(repos: list[str]) -> dict[str, Any]:
    """The ``installation`` event GitHub sends when the App is installed on ``repos``."""
    data = fixture("installation/created.payload.json")
    data["installation"]["id"] = INSTALLATION
    data["installation"]["account"]["login"] = "acme"
    data["repositories"] = [
        {"id": 100 + n, "name": name.split("/")[1], "full_name": name, "private": True}
        for n, name in enumerate(repos)
    ]
    return data


def test_installing_the_app_on_the_registry_mirrors_it_at_once(journey: Journey) -> None:
    with transaction(journey.sessions) as session:
        session.execute(delete(Repository))
        session.execute(delete(Installation))
    journey.send("installation", installation_created([PRODUCER]))
    journey.work()
    assert applied(journey) is None  # the registry is not covered yet: nothing to follow
    journey.send("installation", installation_created([PRODUCER, REGISTRY]))
    journey.work()
    assert applied(journey) == journey.fake.repo(REGISTRY).branch_sha("main")


def test_the_worker_follows_github_only_when_the_app_publishes(journey: Journey) -> None:
    publishing = journey.settings.model_copy(update={"github_app_id": 1})
    alone = Settings(environment="test", registry_path=str(TEMPLATE))
    for settings, expected in ((publishing, True), (alone, False)):
        with transaction(journey.sessions) as session:
            session.query(Job).delete()
        worker = Worker(journey.sessions, settings, worker_id=f"w-{expected}")
        worker.enqueue_start_jobs()
        worker.schedule()
        kinds = sorted(job.kind for job in journey.jobs())
        assert kinds.count("github.registry_resync") == (2 if expected else 0), kinds
        assert ("registry.resync" in kinds) is not expected


def test_a_version_file_rewritten_on_github_is_not_applied(journey: Journey) -> None:
    run_job(journey, "github.registry_resync")
    path = "contracts/orders-api/versions/2.1.0.json"
    data = json.loads((TEMPLATE / path).read_text())
    data["files"][SPEC] = data["files"][SPEC].replace("type: number", "type: string", 1)
    journey.fake.push(REGISTRY, "main", {path: json.dumps(data, indent=2)})
    run_job(journey, "github.registry_resync")
    assert findings(journey) == [("version-differs", "contract:orders-api@2.1.0")]
    with journey.sessions() as session:
        (version,) = versions_of(session, "orders-api")
    assert dict(version.files) == json.loads((TEMPLATE / path).read_text())["files"]


def test_a_resync_that_lost_a_race_is_retried(journey: Journey, monkeypatch: Any) -> None:
    """Another worker applied a registry commit while this one read GitHub: nothing is applied
    over it, the job fails and is retried (to judge the head against what was applied)."""
    run_job(journey, "github.registry_resync")
    journey.fake.push(REGISTRY, "main", {"teams/search.yaml": "id: search\ngithub_team: a/s\n"})
    real_fetch = registry_prs.fetch

    def racing_fetch(gh: Any, repo: str, ref: str) -> dict[str, str]:
        files = real_fetch(gh, repo, ref)
        with transaction(journey.sessions) as other:
            mirror_syncs.record_applied(other, GITHUB_SOURCE, "f" * 40)
        return files

    monkeypatch.setattr(registry_prs, "fetch", racing_fetch)
    job = run_job(journey, "github.registry_resync")
    assert job.state == "queued" and "resynced meanwhile" in str(job.last_error)
    assert applied(journey) == "f" * 40
    with journey.sessions() as session:
        assert session.get(Team, "search") is None


def test_a_published_version_the_registry_lost_is_written_back(journey: Journey) -> None:
    """The registry commit of a publication failed for good, or someone removed the file: the
    follow of the registry reports it missing, and reconciliation writes it back as published
    (one commit, audited); a version someone else put in the mirror is only reported."""
    run_job(journey, "github.registry_resync")
    publish_breaking(journey)
    path = "contracts/orders-api/versions/3.0.0.json"
    published_text = journey.fake.files_at(REGISTRY, "main")[path]
    journey.fake.push(REGISTRY, "main", {path: None}, message="tidy up")  # removed by hand
    run_job(journey, "github.registry_resync")
    assert ("version-missing", "contract:orders-api@3.0.0") in findings(journey)
    with transaction(journey.sessions) as session:
        report = reconcile.run(session, journey.app, journey.settings)
    assert report.restored == ["orders-api@3.0.0"]
    assert journey.fake.files_at(REGISTRY, "main")[path] == published_text
    assert journey.registry_commits()[0].startswith("Restore orders-api 3.0.0")
    assert audited(journey, "registry.version.restored") == ["contract:orders-api@3.0.0"]
    run_job(journey, "github.registry_resync")
    assert ("version-missing", "contract:orders-api@3.0.0") not in findings(journey)
    with transaction(journey.sessions) as session:  # nothing more to do
        assert reconcile.run(session, journey.app, journey.settings).restored == []
