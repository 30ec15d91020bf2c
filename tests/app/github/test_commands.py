"""The slash-command parser, table-driven: every form, options, what is ignored, typos and
argument errors."""

from __future__ import annotations

from datetime import date

import pytest

from tessera_app.github.commands import (
    FORMS,
    HELP,
    Command,
    CommandError,
    Suggestion,
    parse,
)

D = date(2026, 10, 1)


@pytest.mark.parametrize(
    ("body", "kind", "fields"),
    [
        ("/tessera ack", "ack", {}),
        ("/tessera ack --as payments", "ack", {"as_team": "payments"}),
        ("/tessera ack --as=payments", "ack", {"as_team": "payments"}),
        ("/tessera ack --as @acme/Payments", "ack", {"as_team": "acme/payments"}),
        ("/TESSERA ACK", "ack", {}),
        ("/Tessera Ack Migrating", "ack migrating", {}),
        ("/tessera ack migrating --until 2026-10-01", "ack migrating", {"until": D}),
        (
            "/tessera ack migrating --as web --until 2026-10-01",
            "ack migrating",
            {"until": D, "as_team": "web"},
        ),
        ("/tessera ack cancel", "ack cancel", {}),
        ("/tessera ack cancel --as web", "ack cancel", {"as_team": "web"}),
        ("/tessera block this drops `email`", "block", {"reason": "this drops `email`"}),
        ("/tessera block --as web we read it", "block", {"reason": "we read it", "as_team": "web"}),
        ("/tessera hold", "hold", {}),
        ("/tessera hold waiting for the release", "hold", {"reason": "waiting for the release"}),
        ("/tessera unhold --as web", "unhold", {"as_team": "web"}),
        ("/tessera recheck", "recheck", {}),
        ("/tessera status", "status", {}),
        ("/tessera help", "help", {}),
        ("/tessera", "help", {}),
        (
            "/tessera force-publish hotfix for an outage",
            "force-publish",
            {"reason": "hotfix for an outage"},
        ),
        (
            "/tessera waive web --until 2026-10-01 --reason sunset in Q4",
            "waive",
            {"team": "web", "until": D, "reason": "sunset in Q4"},
        ),
        (
            "/tessera waive --reason sunset in Q4 --until 2026-10-01 web",
            "waive",
            {"team": "web", "until": D, "reason": "sunset in Q4"},
        ),
        ("   /tessera ack", "ack", {}),  # up to three spaces is still the start of a line
        ("/tessera ack   ", "ack", {}),
    ],
)
def test_commands(body: str, kind: str, fields: dict[str, object]) -> None:
    [command] = parse(body)
    assert isinstance(command, Command)
    assert command.kind == kind and command.line == 1
    expected = {"as_team": None, "reason": None, "until": None, "team": None} | fields
    assert {name: getattr(command, name) for name in expected} == expected
    assert command.admin == (kind in ("force-publish", "waive"))


@pytest.mark.parametrize(
    "body",
    [
        "> /tessera ack",
        "  > /tessera ack",
        ">> /tessera ack",
        "```\n/tessera ack\n```",
        "~~~markdown\n/tessera ack\n~~~",
        "````\n```\n/tessera ack\n````",  # a longer fence is closed only by a long enough one
        "    /tessera ack",  # an indented code block
        "\t/tessera ack",
        "`/tessera ack`",
        "please /tessera ack",
        "I'd say `/tessera ack` is what you want",
        "<!-- /tessera ack -->",
        "<!--\n/tessera ack\n-->",
        "/tesla ack",  # another word altogether
        "/cc @someone",  # another bot's command
        "/lgtm",
        "tessera ack",
        "",
    ],
)
def test_ignored(body: str) -> None:
    assert parse(body) == []


def test_several_commands_in_order_with_line_numbers() -> None:
    body = (
        "Thanks! Looked at it.\r\n"
        "> /tessera block quoted\r\n"
        "/tessera ack --as web\r\n"
        "```\n/tessera hold\n```\n"
        "/tessera akc\n"
        "/tessera waive web\n"
        "/tessera status"
    )
    parsed = parse(body)
    assert [type(p).__name__ for p in parsed] == [
        "Command",
        "Suggestion",
        "CommandError",
        "Command",
    ]
    assert [p.line for p in parsed] == [3, 7, 8, 9]
    assert isinstance(parsed[0], Command) and parsed[0].as_team == "web"
    assert isinstance(parsed[3], Command) and parsed[3].kind == "status"


def test_a_fence_that_never_closes_hides_the_rest() -> None:
    assert parse("/tessera ack\n```\n/tessera hold") == [Command("ack", 1, "/tessera ack")]


@pytest.mark.parametrize(
    ("body", "suggestion"),
    [
        ("/tessera akc", "/tessera ack"),
        ("/tessera ACKK", "/tessera ack"),
        ("/tesseract ack", "/tessera ack"),
        ("/tessera stauts", "/tessera status"),
        ("/tessera unhodl", "/tessera unhold"),
        ("/tessera recheckk", "/tessera recheck"),
        ("/tessera force-pubish now", "/tessera force-publish"),
        ("/tessera ack migratng", "/tessera ack migrating"),
        ("/tessera ack cancle", "/tessera ack cancel"),
        ("/tesera ack", "/tessera ack"),
        ("/tesera akc", "/tessera ack"),
        ("/Tessra status", "/tessera status"),
    ],
)
def test_typos_get_a_suggestion(body: str, suggestion: str) -> None:
    [parsed] = parse(body)
    assert isinstance(parsed, Suggestion)
    assert parsed.suggestion == suggestion
    assert parsed.message == f"did you mean `{suggestion}`?"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("/tessera frobnicate", "`frobnicate` is not a command: `/tessera help` lists them"),
        ("/tessera block", "`/tessera block` needs a reason: `/tessera block REASON`"),
        ("/tessera block --as web", "`/tessera block` needs a reason: `/tessera block REASON`"),
        (
            "/tessera force-publish",
            "`/tessera force-publish` needs a reason: `/tessera force-publish REASON`",
        ),
        (
            "/tessera ack cancel please",
            "`/tessera ack cancel` takes no text, got `please` "
            "(to act for one of your teams: `--as TEAM`)",
        ),
        (
            "/tessera ack payments",
            "`ack payments` is not a command: `ack`, `ack migrating` or "
            "`ack cancel` (to act for one of your teams: `--as TEAM`)",
        ),
        ("/tessera status now", "`/tessera status` takes no text, got `now`"),
        ("/tessera ack --as", "`--as` needs a value"),
        ("/tessera ack --as --until", "`--as` needs a value"),
        ("/tessera ack --as a --as b", "`--as` is given twice"),
        ("/tessera ack --as a,b", "--as: `a,b` is not a team name"),
        ("/tessera ack --until 2026-10-01", "`/tessera ack` takes no `--until` option"),
        ("/tessera ack --force", "unknown option `--force`"),
        ("/tessera status --as web", "`/tessera status` takes no `--as` option"),
        ("/tessera force-publish x --as web", "`/tessera force-publish` takes no `--as` option"),
        ("/tessera ack migrating --until tomorrow", "`tomorrow` is not a date: use YYYY-MM-DD"),
        ("/tessera ack migrating --until 2026-02-30", "`2026-02-30` is not a date: use YYYY-MM-DD"),
        (
            "/tessera waive web --reason r",
            "`/tessera waive` needs `--until YYYY-MM-DD`: "
            "`/tessera waive TEAM --until YYYY-MM-DD --reason REASON`",
        ),
        (
            "/tessera waive web --until 2026-10-01",
            "`/tessera waive` needs `--reason REASON`: "
            "`/tessera waive TEAM --until YYYY-MM-DD --reason REASON`",
        ),
        (
            "/tessera waive --until 2026-10-01 --reason r",
            "`/tessera waive` needs exactly one "
            "team: `/tessera waive TEAM --until YYYY-MM-DD --reason REASON`",
        ),
        (
            "/tessera waive a b --until 2026-10-01 --reason r",
            "`/tessera waive` needs exactly "
            "one team: `/tessera waive TEAM --until YYYY-MM-DD --reason REASON`",
        ),
        ("/tessera block " + "x" * 1001, "the reason is too long (1001 characters, at most 1000)"),
        ("/tessera nope`--as`", "`nope'--as'` is not a command: `/tessera help` lists them"),
    ],
)
def test_bad_arguments(body: str, message: str) -> None:
    [parsed] = parse(body)
    assert isinstance(parsed, CommandError), parsed
    assert parsed.message == message
    assert parsed.source == body.strip()


def test_inline_code_is_never_an_option() -> None:
    [parsed] = parse("/tessera block see `--as web` in the docs")
    assert isinstance(parsed, Command)
    assert parsed.reason == "see `--as web` in the docs" and parsed.as_team is None


def test_help_covers_every_form() -> None:
    usages = [usage for usage, _ in HELP]
    for form in FORMS:
        assert any(usage.startswith(f"/tessera {form}") for usage in usages), form
    for usage in usages:  # every usage line parses (placeholders filled in)
        filled = (
            usage.replace("[", "")
            .replace("]", "")
            .replace("TEAM", "web")
            .replace("YYYY-MM-DD", "2026-10-01")
            .replace("REASON", "because")
            .replace("VERSION", "3.0.0-rc.1")
            .replace("--contract ID", "--contract orders-api")
        )
        assert all(isinstance(p, Command) for p in parse(filled)), filled
