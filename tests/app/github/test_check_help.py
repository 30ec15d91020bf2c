"""Where a check run's "Details" link goes: the proposal issue when there is one, else
tessera-app's ``/checks/help`` page (``TESSERA_PUBLIC_URL``), else nowhere; the page itself;
the setting; and GitHub web addresses built from the API address."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tessera_app.github.links import check_help_url, web_base
from tessera_app.settings import Settings

from .test_journey import PRODUCER, REGISTRY, SPEC, Journey, app_key, journey
from .test_pull_requests import COMPATIBLE

__all__ = ["app_key", "journey"]  # the fixtures, shared with test_journey

PUBLIC = "https://tessera.example.com"


def compatible_pr(world: Journey) -> int:
    world.fake.push(PRODUCER, "describe", {SPEC: COMPATIBLE}, from_branch="main")
    number = world.fake.open_pull_request(PRODUCER, "describe", "main", title="Describe").number
    world.send("pull_request", world.pull_request(number))
    world.work()
    return number


def test_a_check_without_a_proposal_issue_links_to_the_help_page(journey: Journey) -> None:
    journey.settings.public_url = PUBLIC
    compatible_pr(journey)
    check = journey.check()
    assert check.conclusion == "success" and journey.registry_issues() == []
    assert check.details_url == f"{PUBLIC}/checks/help"


def test_without_a_public_url_such_a_check_has_no_link(journey: Journey) -> None:
    compatible_pr(journey)
    assert journey.check().details_url is None


def test_a_check_with_a_proposal_issue_links_to_it_even_with_a_public_url(
    journey: Journey,
) -> None:
    journey.settings.public_url = PUBLIC
    number = journey.open_breaking_pr()
    journey.send("pull_request", journey.pull_request(number))
    journey.work()
    (issue,) = journey.registry_issues()
    assert journey.check().details_url == f"http://fake.github/{REGISTRY}/issues/{issue.number}"


def test_the_help_page_explains_every_conclusion_and_who_may_do_what(journey: Journey) -> None:
    page = journey.web.get("/checks/help")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for conclusion in ("success", "neutral", "action_required", "failure"):
        assert f'id="{conclusion}"' in page.text
    assert "/tessera ack [--as TEAM]" in page.text
    assert "only the members of the admin team <code>acme/tessera-admins</code>" in page.text
    assert "<script" not in page.text


def test_the_help_page_escapes_what_the_settings_hold(journey: Journey) -> None:
    journey.web.app.state.settings = Settings(  # type: ignore[call-arg]
        environment="test", github_admin_team="<b>x</b>"
    )
    page = journey.web.get("/checks/help")
    assert "&lt;b&gt;x&lt;/b&gt;" in page.text and "<b>x</b>" not in page.text
    assert "no admin team is configured" not in page.text


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://tessera.example.com/", "https://tessera.example.com"),
        ("http://10.0.0.5:8000/tessera", "http://10.0.0.5:8000/tessera"),
        ("  ", None),
    ],
)
def test_the_public_url_setting(given: str, kept: str | None) -> None:
    settings = Settings(public_url=given)  # type: ignore[call-arg]
    assert settings.public_url == kept
    assert check_help_url(settings) == (f"{kept}/checks/help" if kept else None)


@pytest.mark.parametrize("bad", ["tessera.example.com", "ftp://x.example", "https://x?y=1"])
def test_a_public_url_that_is_not_a_web_address_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="is not a web address"):
        Settings(public_url=bad)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("api", "web"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://api.github.com/", "https://github.com"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com"),
        ("https://api.acme.ghe.com", "https://acme.ghe.com"),
        ("http://127.0.0.1:8123/api/v3", "http://127.0.0.1:8123"),
    ],
)
def test_github_web_addresses_follow_the_api_address(api: str, web: str) -> None:
    assert web_base(api) == web
