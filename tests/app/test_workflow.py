"""The proposal state machine on SQLite and PostgreSQL: acknowledgements, blocks, holds,
waivers, force-publish, pushes that keep or invalidate acks, expiry, and publishing once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tessera_app import audit, workflow
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.workflow_models import Acknowledgement, Proposal, Publication
from tessera_app.workflow import BadRequest, ImpactSummary, InvalidTransition, NotAConsumer

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EVIDENCE = {"team": "org/web", "checked": "test"}


def summary(
    required: dict[str, set[str]] | None = None,
    *,
    informed: set[str] | None = None,
    bump: str = "major",
    current: str | None = "1.4.0",
    breaking: set[str] | None = None,
) -> ImpactSummary:
    required = {"web": {"fp-a"}, "data": {"fp-b"}} if required is None else required
    prints = set().union(*required.values()) if required else set()
    return ImpactSummary(
        contract="orders-api",
        required={team: frozenset(p) for team, p in required.items()},
        breaking=frozenset(breaking if breaking is not None else prints or {"fp-z"}),
        informed=frozenset(informed or {"mail"}),
        bump=bump,
        versioning="auto",
        current_version=current,
        proposed_version="2.0.0" if current else None,
        version_origin="the next major version (auto)",
    )


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session, session.begin():
        yield session


def opened(session: Session, pr: int = 7, impact: ImpactSummary | None = None) -> Proposal:
    return workflow.open_or_update(
        session, "orders-api", pr, "sha1", impact or summary(), now=NOW, timeout_days=10
    )


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def ack(
    session: Session, proposal: Proposal, team: str, kind: str = "approved", **kw: Any
) -> Acknowledgement:
    return workflow.acknowledge(
        session, proposal.id, team, f"{team}-dev", kind, evidence=EVIDENCE, now=NOW, **kw
    )


def test_acks_approve_and_a_merge_publishes(session: Session) -> None:
    proposal = opened(session)
    assert proposal.state == "open"
    assert proposal.required == {"data": ["fp-b"], "web": ["fp-a"]}
    assert proposal.expires_at == NOW + timedelta(days=10)
    ack(session, proposal, "web")
    assert proposal.state == "open"
    assert workflow.status(proposal, NOW).waiting_on == ("data has not acknowledged",)
    migrating = ack(session, proposal, "data", "migrating", until=NOW + timedelta(days=20))
    assert migrating.target_date == NOW + timedelta(days=20)
    assert proposal.state == "approved"
    assert [t.state for t in workflow.status(proposal, NOW).teams] == ["migrating", "approved"]
    workflow.close(session, proposal.id, merged=True, merge_commit="m1", now=NOW)
    assert proposal.state == "published" and proposal.published_version == "2.0.0"
    assert proposal.merge_commit == "m1"
    assert actions(session) == [
        "proposal.opened",
        "ack.approved",
        "ack.migrating",
        "proposal.approved",
        "proposal.published",
    ]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "ack.approved")).one()
    assert event.actor == "web-dev" and event.team == "web"
    assert event.details["evidence"] == EVIDENCE and event.details["fingerprints"] == ["fp-a"]
    assert audit.verify(session).ok


def test_a_break_with_no_affected_consumer_is_approved_with_a_note(session: Session) -> None:
    proposal = opened(session, impact=summary({}, breaking={"fp-x"}))
    assert proposal.state == "approved"
    assert workflow.NO_CONSUMERS_NOTE in proposal.notes
    workflow.close(session, proposal.id, merged=True, merge_commit="m1", now=NOW)
    publication = session.scalars(select(Publication)).one()
    assert workflow.NO_CONSUMERS_NOTE in publication.notes
    assert publication.version == "2.0.0"


def test_a_block_holds_until_the_same_team_lifts_it(session: Session) -> None:
    proposal = opened(session)
    with pytest.raises(BadRequest, match="reason"):
        ack(session, proposal, "data", "blocked")
    ack(session, proposal, "data", "blocked", reason="we still read sku")
    ack(session, proposal, "web")
    assert proposal.state == "open"
    assert workflow.status(proposal, NOW).waiting_on == ("data blocked it: we still read sku",)
    ack(session, proposal, "data")  # the same team acknowledges: the block is replaced
    assert proposal.state == "approved"
    ended = session.scalars(select(Acknowledgement).where(Acknowledgement.kind == "blocked")).one()
    assert ended.end_reason == "replaced by a new acknowledgement (approved)"
    workflow.cancel_ack(session, proposal.id, "data", "data-dev", now=NOW)
    assert proposal.state == "open"
    with pytest.raises(InvalidTransition, match="no acknowledgement"):
        workflow.cancel_ack(session, proposal.id, "data", "data-dev", now=NOW)


def test_acknowledgement_rules(session: Session) -> None:
    proposal = opened(session)
    with pytest.raises(NotAConsumer, match="team mail is not a consumer"):
        ack(session, proposal, "mail")
    with pytest.raises(BadRequest, match="target date"):
        ack(session, proposal, "web", "migrating")
    with pytest.raises(BadRequest, match="only a migrating"):
        ack(session, proposal, "web", until=NOW)
    with pytest.raises(BadRequest, match="unknown acknowledgement"):
        ack(session, proposal, "web", "yes")
    with pytest.raises(workflow.NotFound):
        workflow.acknowledge(session, 999, "web", "x", "approved")


def test_holds_by_any_consumer_team(session: Session) -> None:
    proposal = opened(session)
    ack(session, proposal, "web")
    ack(session, proposal, "data")
    assert proposal.state == "approved"
    workflow.hold(session, proposal.id, "mail", "mail-dev", "checking", EVIDENCE, now=NOW)
    assert proposal.state == "open"
    with pytest.raises(InvalidTransition, match="already holds"):
        workflow.hold(session, proposal.id, "mail", "mail-dev", now=NOW)
    with pytest.raises(NotAConsumer):
        workflow.hold(session, proposal.id, "stranger", "x", now=NOW)
    with pytest.raises(InvalidTransition, match="no hold"):
        workflow.unhold(session, proposal.id, "web", "web-dev", now=NOW)
    workflow.unhold(session, proposal.id, "mail", "mail-dev", now=NOW)
    assert proposal.state == "approved"
    assert actions(session)[-3:] == ["proposal.reopened", "hold.lifted", "proposal.approved"]


def test_waivers_are_time_boxed(session: Session) -> None:
    proposal = opened(session)
    ack(session, proposal, "web")
    with pytest.raises(BadRequest, match="future"):
        workflow.waive(
            session, proposal.id, "data", "admin", "late", NOW - timedelta(days=1), now=NOW
        )
    with pytest.raises(BadRequest, match="reason"):
        workflow.waive(session, proposal.id, "data", "admin", " ", NOW + timedelta(days=1), now=NOW)
    until = NOW + timedelta(days=2)
    workflow.waive(session, proposal.id, "data", "admin", "team away", until, EVIDENCE, now=NOW)
    assert proposal.state == "approved"
    assert [t.state for t in workflow.status(proposal, NOW).teams] == ["waived", "approved"]
    assert workflow.expire_due(session, NOW + timedelta(days=1)) == []
    changed = workflow.expire_due(session, until + timedelta(seconds=1))
    assert changed == [proposal] and proposal.state == "open"
    assert "waiver.lapsed" in actions(session)
    with pytest.raises(InvalidTransition, match="no waiver"):
        workflow.revoke_waiver(session, proposal.id, "data", "admin", now=NOW)


def test_a_block_outweighs_a_waiver(session: Session) -> None:
    proposal = opened(session)
    ack(session, proposal, "web")
    ack(session, proposal, "data", "blocked", reason="no")
    workflow.waive(session, proposal.id, "data", "admin", "ok", NOW + timedelta(days=1), now=NOW)
    assert proposal.state == "open"


def test_force_publish_overrides_and_needs_a_reason(session: Session) -> None:
    proposal = opened(session)
    ack(session, proposal, "data", "blocked", reason="no")
    workflow.hold(session, proposal.id, "mail", "mail-dev", now=NOW)
    with pytest.raises(BadRequest, match="reason"):
        workflow.force_publish(session, proposal.id, "root", "", now=NOW)
    workflow.force_publish(session, proposal.id, "root", "incident 42", {"admin": True}, now=NOW)
    assert proposal.state == "approved"
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "proposal.force_published")
    ).one()
    assert event.details["overrode"] == [
        "data blocked it: no",
        "web has not acknowledged",
        "mail holds it: no reason given",
    ]
    with pytest.raises(InvalidTransition, match="already force-published"):
        workflow.force_publish(session, proposal.id, "root", "again", now=NOW)
    workflow.close(session, proposal.id, merged=True, merge_commit="m1", now=NOW)
    assert "force-published by root: incident 42" in proposal.notes


def test_a_push_with_the_same_findings_keeps_every_ack(session: Session) -> None:
    proposal = opened(session)
    ack(session, proposal, "web")
    again = workflow.open_or_update(session, "orders-api", 7, "sha2", summary(), now=NOW)
    assert again is proposal and proposal.head_sha == "sha2"
    assert set(workflow.active_acks(proposal)) == {"web"}
    assert actions(session)[-1] == "proposal.updated"


def test_a_push_that_changes_findings_invalidates_only_the_affected_teams(session: Session) -> None:
    old = opened(session)
    ack(session, old, "web")
    ack(session, old, "data")
    workflow.hold(session, old.id, "mail", "mail-dev", "wait", now=NOW)
    changed = summary({"web": {"fp-a"}, "data": {"fp-b", "fp-c"}})
    new = workflow.open_or_update(session, "orders-api", 7, "sha2", changed, now=NOW)
    assert new.id != old.id and new.supersedes_id == old.id
    assert old.state == "superseded" and old.live_key is None
    assert new.state == "open"
    acks = workflow.active_acks(new)
    assert set(acks) == {"web"} and acks["web"].carried_from_id is not None
    assert set(workflow.active_holds(new)) == {"mail"}
    data_ack = next(a for a in old.acknowledgements if a.team == "data")
    assert data_ack.end_reason == "the breaking findings that concern team data changed (new: fp-c)"
    invalidated = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "ack.invalidated")
    ).one()
    assert invalidated.team == "data" and "fp-c" in invalidated.details["why"]
    superseded = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "proposal.superseded")
    ).one()
    assert superseded.details["added"] == ["fp-c"] and superseded.details["by"] == new.id
    assert workflow.find(session, "orders-api", 7) is new
    with pytest.raises(InvalidTransition, match="superseded"):
        ack(session, old, "data")
    with pytest.raises(InvalidTransition, match="superseded"):
        workflow.close(session, old.id, merged=True, merge_commit="m1", now=NOW)


def test_a_team_no_longer_affected_loses_its_ack(session: Session) -> None:
    old = opened(session)
    ack(session, old, "data")
    new = workflow.open_or_update(
        session, "orders-api", 7, "sha2", summary({"web": {"fp-a"}}), now=NOW
    )
    assert workflow.active_acks(new) == {}
    ended = old.acknowledgements[0]
    assert (
        ended.end_reason == "team data is no longer asked: no breaking finding concerns it any more"
    )


def test_withdraw_and_reopen(session: Session) -> None:
    proposal = opened(session)
    workflow.close(session, proposal.id, merged=False, now=NOW)
    assert proposal.state == "withdrawn"
    assert workflow.close(session, proposal.id, merged=False, now=NOW) is proposal  # duplicate
    with pytest.raises(InvalidTransition, match="withdrawn"):
        ack(session, proposal, "web")
    again = workflow.open_or_update(session, "orders-api", 7, "sha2", summary(), now=NOW)
    assert again is proposal and proposal.state == "open"


def test_publishing_happens_once_per_merge_commit(session: Session) -> None:
    proposal = opened(session)
    workflow.close(session, proposal.id, merged=True, merge_commit="m1", now=NOW)
    assert workflow.close(session, proposal.id, merged=True, merge_commit="m1") is proposal
    with pytest.raises(InvalidTransition, match="published at m1, not m2"):
        workflow.close(session, proposal.id, merged=True, merge_commit="m2")
    with pytest.raises(InvalidTransition, match="cannot be withdrawn"):
        workflow.close(session, proposal.id, merged=False)
    with pytest.raises(InvalidTransition, match="takes no more pushes"):
        workflow.open_or_update(session, "orders-api", 7, "sha3", summary(), now=NOW)
    with pytest.raises(BadRequest, match="merge commit"):
        workflow.close(session, opened(session, pr=8).id, merged=True)
    assert session.scalar(select(func.count()).select_from(Publication)) == 1
    other = opened(session, pr=9)
    with pytest.raises(InvalidTransition, match="already published at merge commit m1"):
        workflow.close(session, other.id, merged=True, merge_commit="m1", now=NOW)
    assert other.state == "open"
    assert session.scalar(select(func.count()).select_from(Publication)) == 1


def test_merge_before_approval_publishes_with_a_note(session: Session) -> None:
    proposal = opened(session)
    workflow.close(session, proposal.id, merged=True, merge_commit="m1", now=NOW)
    assert proposal.state == "published"
    assert any(n.startswith("merged before approval (was open") for n in proposal.notes)


def test_versions_follow_each_other(session: Session) -> None:
    first, second = opened(session, pr=1), opened(session, pr=2)
    minor = opened(session, pr=3, impact=summary({}, bump="minor", breaking=set()))
    workflow.close(session, first.id, merged=True, merge_commit="a", now=NOW)
    workflow.close(session, second.id, merged=True, merge_commit="b", now=NOW)
    workflow.close(session, minor.id, merged=True, merge_commit="c", now=NOW)
    assert [first.published_version, second.published_version, minor.published_version] == [
        "2.0.0",
        "3.0.0",
        "3.1.0",
    ]
    fresh = opened(session, pr=4, impact=summary(current=None))
    fresh.contract_id = "new-contract"
    workflow.close(session, fresh.id, merged=True, merge_commit="d", now=NOW)
    assert fresh.published_version == "1.0.0"


def test_open_proposals_expire(session: Session) -> None:
    stale, done = opened(session, pr=1), opened(session, pr=2)
    ack(session, done, "web")
    ack(session, done, "data")
    assert workflow.expire_due(session, NOW + timedelta(days=9)) == []
    assert workflow.expire_due(session, NOW + timedelta(days=10)) == [stale]
    assert stale.state == "expired" and done.state == "approved"
    with pytest.raises(InvalidTransition, match="expired"):
        ack(session, stale, "web")
    renewed = workflow.open_or_update(session, "orders-api", 1, "sha2", summary(), now=NOW)
    assert renewed.id != stale.id and stale.state == "expired"
    assert "proposal.replaced" in actions(session)


def test_the_impact_must_match_the_contract(session: Session) -> None:
    with pytest.raises(BadRequest, match="not payments"):
        workflow.open_or_update(session, "payments", 1, "sha", summary())


def test_the_timeout_comes_from_the_settings(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSERA_PROPOSAL_TIMEOUT_DAYS", "3")
    proposal = workflow.open_or_update(session, "orders-api", 1, "sha", summary(), now=NOW)
    assert proposal.expires_at == NOW + timedelta(days=3)
    with pytest.raises(BadRequest, match="at least one day"):
        workflow.open_or_update(session, "orders-api", 2, "sha", summary(), timeout_days=0)


def test_concurrent_merge_events_publish_once(sessions: sessionmaker[Session]) -> None:
    """Two deliveries of the same merge handled at once (two workers): one publication."""
    import threading

    from sqlalchemy.exc import OperationalError

    from tessera_app.db.base import transaction

    with transaction(sessions) as session:
        pid = opened(session).id
    barrier, errors = threading.Barrier(2), []

    def deliver() -> None:
        barrier.wait()
        for _attempt in range(20):
            try:
                with transaction(sessions) as session:
                    workflow.close(session, pid, merged=True, merge_commit="m1")
                return
            except OperationalError:  # SQLite: the other writer holds the database; retry
                continue
            except Exception as err:
                errors.append(err)
                return

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Publication)) == 1
        published = [e for e in actions(session) if e == "proposal.published"]
        assert len(published) == 1
        assert audit.verify(session).ok
