"""Slash commands and reviews beyond the journey: what is ignored, ``--as``, typos, admins,
maintainers' waivers, blocks by review and their dismissal."""

from __future__ import annotations

from typing import Any

import pytest

from .test_journey import CHECKOUT, DATA, PRODUCER, REGISTRY, Journey, app_key, journey

__all__ = ["app_key", "journey"]


@pytest.fixture
def opened(journey: Journey) -> tuple[Journey, int]:
    number = journey.open_breaking_pr()
    journey.send("pull_request", journey.pull_request(number))
    journey.work()
    return journey, number


def active(world: Journey) -> dict[str, Any]:
    (proposal,) = world.proposals()
    return {a.team: a for a in proposal.acknowledgements if a.ended_at is None}


def test_edits_bots_quotes_and_plain_comments_are_ignored(opened: tuple[Journey, int]) -> None:
    world, number = opened
    edited = world.comment(number, CHECKOUT, "/tessera ack")
    edited["action"] = "edited"
    bot = world.comment(number, "tessera[bot]", "/tessera ack")
    bot["comment"]["user"]["type"] = "Bot"
    quoted = world.comment(number, CHECKOUT, "> /tessera ack\n```\n/tessera ack\n```")
    plain = world.comment(number, CHECKOUT, "looks fine to me")
    for payload in (edited, bot, quoted, plain):
        world.send("issue_comment", payload)
    world.work()
    assert active(world) == {}
    assert all(world.reactions(p["comment"]["id"]) == [] for p in (edited, bot, quoted, plain))


def test_several_teams_need_as_and_a_typo_gets_did_you_mean(opened: tuple[Journey, int]) -> None:
    world, number = opened
    world.fake.add_team_member("acme", "data-platform", CHECKOUT)  # carol is in both teams
    both = world.comment(number, CHECKOUT, "/tessera ack")
    world.send("issue_comment", both)
    world.work()
    assert world.reactions(both["comment"]["id"]) == ["eyes", "confused"]
    assert "--as" in world.replies(number)[-1]
    chosen = world.comment(number, CHECKOUT, "/tessera ack --as data-platform")
    typo = world.comment(number, DATA, "/tessera akc")
    world.send("issue_comment", chosen)
    world.send("issue_comment", typo)
    world.work()
    assert list(active(world)) == ["data-platform"]
    assert active(world)["data-platform"].evidence["github_team"] == "acme/data-platform"
    assert world.reactions(typo["comment"]["id"]) == ["eyes", "confused"]
    assert "did you mean" in world.replies(number)[-1]


def test_commands_on_the_proposal_issue(opened: tuple[Journey, int]) -> None:
    world, _number = opened
    (issue,) = world.registry_issues()
    block = world.comment(issue.number, DATA, "/tessera block we still read total", REGISTRY)
    world.send("issue_comment", block)
    world.work()
    assert world.reactions(block["comment"]["id"]) == ["eyes", "+1"]
    assert active(world)["data-platform"].kind == "blocked"
    assert active(world)["data-platform"].reason == "we still read total"
    status = world.comment(issue.number, "anyone", "/tessera status", REGISTRY)
    world.send("issue_comment", status)
    world.work()
    assert "blocked" in world.replies(issue.number, REGISTRY)[-1]


def test_waive_is_for_maintainers_and_force_publish_for_admins(
    opened: tuple[Journey, int],
) -> None:
    world, number = opened
    denied = world.comment(number, CHECKOUT, "/tessera force-publish hotfix")
    waiver = world.comment(
        number, "sam-checkout", "/tessera waive checkout --until 2999-01-01 --reason on leave"
    )
    forced = world.comment(number, "root", "/tessera force-publish hotfix for an outage")
    for payload in (denied, waiver, forced):
        world.send("issue_comment", payload)
    world.work()
    assert world.reactions(denied["comment"]["id"]) == ["eyes", "confused"]
    assert world.reactions(waiver["comment"]["id"]) == ["eyes", "+1"]  # checkout's maintainer
    assert world.reactions(forced["comment"]["id"]) == ["eyes", "+1"]  # acme/tessera-admins
    (proposal,) = world.proposals()
    assert proposal.forced_by == "root" and proposal.state == "approved"
    assert [w.team for w in proposal.waivers] == ["checkout"]
    assert world.check().conclusion == "success"


def test_changes_requested_blocks_and_dismissal_cancels(opened: tuple[Journey, int]) -> None:
    world, number = opened
    review = world.review(number, DATA, "CHANGES_REQUESTED", "total is still read by ingest")
    world.send("pull_request_review", review)
    world.send("pull_request_review", world.review(number, "mallory", "APPROVED"))
    world.work()
    assert active(world)["data-platform"].reason == "total is still read by ingest"
    assert list(active(world)) == ["data-platform"]  # mallory's review is plain code review
    dismissed = dict(review, action="dismissed")
    dismissed["review"] = dict(review["review"], state="dismissed")
    world.send("pull_request_review", dismissed)
    world.work()
    assert active(world) == {}
    assert world.fake.pull(PRODUCER, number).state == "open"
