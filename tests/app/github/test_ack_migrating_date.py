"""``/tessera ack migrating --until DATE``: a day that is over (in UTC) is refused with a reply
that says why, and nothing is recorded; today and later days are accepted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tessera_app.github.acks import past_migration_date

from .test_journey import CHECKOUT, Journey, app_key, journey

__all__ = ["app_key", "journey"]


@pytest.mark.parametrize(
    ("day", "now", "refused"),
    [
        (date(2026, 3, 1), datetime(2026, 3, 2, 0, 0, 1, tzinfo=UTC), True),  # yesterday
        (date(2025, 12, 31), datetime(2026, 3, 1, 12, tzinfo=UTC), True),
        (date(2026, 3, 1), datetime(2026, 3, 1, 23, 59, 59, 500000, tzinfo=UTC), True),  # over
        (date(2026, 3, 1), datetime(2026, 3, 1, 12, tzinfo=UTC), False),  # today, not over
        (date(2026, 3, 2), datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC), False),
    ],
)
def test_a_day_that_is_over_is_refused(day: date, now: datetime, refused: bool) -> None:
    message = past_migration_date(day, now)
    assert (message is not None) is refused
    if message:
        assert f"the migration date {day.isoformat()} is in the past" in message
        assert f"today is {now.date().isoformat()} UTC" in message


def test_the_command_with_a_past_date_is_refused_with_a_reply(journey: Journey) -> None:
    number = journey.open_breaking_pr()
    journey.send("pull_request", journey.pull_request(number))
    journey.work()
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    past = journey.comment(number, CHECKOUT, f"/tessera ack migrating --until {yesterday}")
    journey.send("issue_comment", past)
    journey.work()
    assert journey.reactions(past["comment"]["id"]) == ["eyes", "confused"]
    reply = journey.replies(number)[-1]
    assert f"The migration date {yesterday} is in the past" in reply
    (proposal,) = journey.proposals()
    assert proposal.acknowledgements == []
    assert journey.check().conclusion == "action_required"

    later = (datetime.now(UTC) + timedelta(days=7)).date()
    future = journey.comment(number, CHECKOUT, f"/tessera ack migrating --until {later}")
    journey.send("issue_comment", future)
    journey.work()
    assert journey.reactions(future["comment"]["id"]) == ["eyes", "+1"]
    (proposal,) = journey.proposals()
    (ack,) = proposal.acknowledgements
    assert ack.kind == "migrating" and ack.target_date is not None
    assert ack.target_date.date() == later
