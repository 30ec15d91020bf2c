"""The App's registry commits anchor the audit log: a publish commit ends with the trailers of
the newest committed signed event (its own publication included), and ``tessera audit verify
--registry`` holds the database to them in a git checkout of the registry."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pygit2
from sqlalchemy import delete, select

from tessera_app import audit_keys
from tessera_app.audit_trailers import read_registry
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.base import transaction
from tessera_engine import cli

from .test_journey import CHECKOUT, DATA, PRODUCER, REGISTRY, Journey, app_key, journey

__all__ = ["app_key", "journey"]


def _publish(world: Journey) -> int:
    """A breaking pull request, acknowledged by both teams, merged and published."""
    number = world.open_breaking_pr()
    world.send("pull_request", world.pull_request(number))
    world.work()
    for user in (CHECKOUT, DATA):
        world.send("issue_comment", world.comment(number, user, "/tessera ack"))
    world.work()
    world.fake.merge_pull_request(PRODUCER, number)
    world.send("pull_request", world.pull_request(number, "closed"))
    world.work()
    (proposal,) = world.proposals()
    assert proposal.state == "published"
    return proposal.id


def _checkout(world: Journey, path: Path) -> Path:
    """A git repository with the fake registry's history: the same messages, oldest first."""
    repo = world.fake.repo(REGISTRY)
    chain, sha = [], repo.branch_sha("main")
    while sha:
        commit = repo.git.commits[sha]
        chain.append(commit.message)
        sha = commit.parents[0] if commit.parents else ""
    local = pygit2.init_repository(str(path))
    author = pygit2.Signature("tessera[bot]", "bot@example.com")
    tree = local.TreeBuilder().write()
    for message in reversed(chain):
        parents = [] if local.head_is_unborn else [local.head.target]
        local.create_commit("HEAD", author, author, message, tree, parents)
    return path


def test_a_publish_commit_carries_the_audit_head(journey: Journey, tmp_path: Path) -> None:
    proposal_id = _publish(journey)
    message = journey.registry_commits()[0]
    trailers = dict(line.split(": ", 1) for line in message.rstrip().split("\n\n")[-1].splitlines())
    assert set(trailers) == {
        "Tessera-Audit-Seq",
        "Tessera-Audit-Hash",
        "Tessera-Audit-Key",
        "Tessera-Audit-Signature",
    }
    seq = int(trailers["Tessera-Audit-Seq"])
    with journey.sessions() as session:
        anchored = session.get(AuditEvent, seq)
        published = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "proposal.published",
                AuditEvent.subject == f"proposal:{proposal_id}",
            )
        ).one()
    assert anchored is not None and anchored.hash == trailers["Tessera-Audit-Hash"]
    assert anchored.signature == trailers["Tessera-Audit-Signature"]
    assert published.seq <= seq  # the commit anchors its own publication
    key = audit_keys.process_key()
    assert trailers["Tessera-Audit-Key"] == key.key_id
    assert key.public.verify(seq, anchored.hash, trailers["Tessera-Audit-Signature"])

    checkout = _checkout(journey, tmp_path / "registry")
    anchors = read_registry(checkout)
    (found,) = anchors.checkpoints
    assert (found.seq, found.hash) == (seq, anchored.hash) and anchors.warnings == []
    argv = ["audit", "verify", "--database-url", str(journey.settings.database_url)]
    argv += ["--registry", str(checkout), "--public-key", key.public.pem, "-o", "json"]
    out = io.StringIO()
    assert cli.main(argv, stdout=out) == 0
    assert json.loads(out.getvalue())["newest_anchor"] == seq

    # the newest events removed, down to before the publication: the registry knows better
    with transaction(journey.sessions) as session:
        session.execute(delete(AuditEvent.__table__).where(AuditEvent.seq >= published.seq))
    out = io.StringIO()
    assert cli.main(argv, stdout=out) == 1
    report = json.loads(out.getvalue())
    assert report["first_bad_seq"] == published.seq
    assert f"rows {published.seq} to {seq} are missing" in report["problem"]
    assert "registry commit" in report["problem"]
