"""Every message template, in every kind and state, against golden files
(``TESSERA_REGEN_GOLDEN=1`` rewrites them: read the diff before committing it), escaping and
mentions, and truncation to GitHub's size limits."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tessera_app.github import render
from tessera_app.github.render import (
    CHECK_LIMIT,
    COMMENT_LIMIT,
    PR_COMMENT_MARKER,
    AffectedTeam,
    BrokenUsage,
    CheckRunView,
    ClosingView,
    ContractSection,
    Ending,
    FindingRow,
    InvalidationView,
    Origin,
    Problem,
    ProposalIssueView,
    PublishView,
    PullRequestCommentView,
    RegistryValidationView,
    ReplyView,
    SpecProblem,
    TeamRow,
)

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("TESSERA_REGEN_GOLDEN") == "1"

EMAIL = BrokenUsage(
    "web-shop-api",
    "GET /orders/{id}",
    "GET /orders/{id} → 200 → body.email: the response no longer has email",
)
TEAMS = (
    TeamRow(
        "web-shop",
        "pending",
        "acme/web-shop",
        breaks=(EMAIL, BrokenUsage("web-shop-worker", "Order.email", "Order.email: removed")),
    ),
    TeamRow("billing", "approved", "acme/billing", actor="octocat"),
    TeamRow(
        "search",
        "blocked",
        "acme/search",
        (BrokenUsage("indexer", "GET /orders", "GET /orders → 200: removed"),),
        "hubot",
        reason="we index `email` | @all",
    ),
    TeamRow(
        "mobile",
        "waived",
        "acme/mobile",
        (BrokenUsage("app", "Order.email", "Order.email: removed"),),
        "admin",
        reason="the app is retired",
        until="2026-10-01",
    ),
    TeamRow("payments", "migrating", "acme/payments", actor="penny", until="2026-09-01"),
    TeamRow("ops", "informed", held_by="opsbot", hold_reason="freeze week"),
)
WAITING = (
    "web-shop has not acknowledged",
    "search blocked it: we index `email` | @all",
    "ops holds it: freeze week",
)
FINDINGS = (
    FindingRow(
        "breaking",
        "response-property-removed",
        "GET /orders/{id} → 200 → body.email",
        "the response no longer has `email`",
        "openapi.yaml:42",
    ),
    FindingRow(
        "dangerous", "enum-value-added", "Order.status", "new value <shipped_partially>", None
    ),
    FindingRow("safe", "operation-added", "POST /refunds", "new operation", "openapi.yaml:120"),
)
ISSUE_URL = "https://github.com/acme/registry/issues/7"
CHECK = CheckRunView(
    contract_id="orders-api",
    verdict="breaking",
    conclusion="action_required",
    counts={"breaking": 1, "dangerous": 1, "safe": 1},
    findings=FINDINGS,
    required_bump="major",
    current_version="1.4.0",
    proposed_version="2.0.0",
    teams=TEAMS,
    proposal_url=ISSUE_URL,
    notes=("The acknowledgement of search was invalidated: the impact changed.",),
    proposal_state="open",
    waiting_on=WAITING,
)
PULL = Origin(
    "acme/orders",
    12,
    "Drop email, cc @everyone [urgent](http://evil)",
    "https://github.com/acme/orders/pull/12",
)
PLAIN = Origin("acme/orders", 12, "Drop email", "https://github.com/acme/orders/pull/12")
PUSH = Origin(
    "acme/orders",
    None,
    commit="5d41402abc4b2a76b9719d911017c592a1b2c3d4",
    branch="main",
    pusher="alice",
)
SECTION = ContractSection(
    "orders-api",
    "breaking",
    "major",
    TEAMS,
    "1.4.0",
    "2.0.0",
    "https://github.com/acme/orders/runs/5",
    ISSUE_URL,
    breaking=1,
    proposal_state="open",
    waiting_on=WAITING,
)
ISSUE_TEAMS = (
    AffectedTeam(
        "web-shop",
        "acme/web-shop",
        (EMAIL, BrokenUsage("web-shop-worker", "Order.email", "Order.email: removed")),
        standing=TeamRow("web-shop", "pending"),
    ),
    AffectedTeam(
        "search",
        "acme/search",
        (BrokenUsage("indexer", "GET /orders", "GET /orders → 200: removed"),),
        standing=TeamRow("search", "blocked", actor="hubot", reason="we index email"),
    ),
    AffectedTeam(
        "legacy",
        "not a slug",
        (BrokenUsage("cron", "Order", "Order: removed"),),
        standing=TeamRow("legacy", "approved", actor="lee"),
    ),
    AffectedTeam("ops", "acme/ops", (), required=False, standing=TeamRow("ops", "informed")),
)
ISSUE = ProposalIssueView(
    contract_id="orders-api",
    origin=PULL,
    breaking=1,
    teams=ISSUE_TEAMS,
    current_version="1.4.0",
    proposed_version="2.0.0",
    bump="major",
    waiting_on=("web-shop has not acknowledged", "search blocked it: we index email"),
)
MERGE = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
PUBLISH = PublishView(
    contract_id="orders-api",
    version="2.0.0",
    bump="major",
    origin=PULL,
    merge_commit=MERGE,
    previous_version="1.4.0",
    registry_commit="0123456789abcdef0123456789abcdef01234567",
    teams=TEAMS[:2],
)
PUBLISHED = Ending("published", version="2.0.0", commit=MERGE)
WITHDRAWN = Ending("withdrawn", reason="the pull request was closed without merging")
EXPIRED = Ending("expired", when="2026-11-02", waiting_on=("web-shop has not acknowledged",))


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGEN:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with TESSERA_REGEN_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def _mentions(text: str) -> list[str]:
    return re.findall(r"(?<![\w&#;`])@[\w/-]+", text)


def _backslashes_outside_tables(text: str) -> list[str]:
    """Prose lines (not table rows) that show a backslash."""
    return [line for line in text.splitlines() if "\\" in line and not line.startswith("|")]


# --- check runs -------------------------------------------------------------------------------


def test_check_run_waiting_for_teams() -> None:
    output = render.check_run(CHECK)
    assert output.title == "1 breaking change, waiting on 2 teams and 1 hold"
    _golden("check_run_summary.md", output.summary)
    _golden("check_run_text.md", output.text)
    assert _mentions(output.summary) == []  # a check run notifies nobody


@pytest.mark.parametrize(
    ("name", "view", "title"),
    [
        (
            "check_run_acknowledged.md",
            CheckRunView(
                "orders-api",
                "breaking",
                "success",
                {"breaking": 1},
                FINDINGS[:1],
                "major",
                "1.4.0",
                "2.0.0",
                teams=(TeamRow("billing", "approved", actor="octocat"),),
                proposal_url=ISSUE_URL,
                proposal_state="approved",
            ),
            "1 breaking change, acknowledged",
        ),
        (
            "check_run_no_ack_needed.md",
            CheckRunView(
                "orders-api",
                "breaking",
                "neutral",
                {"breaking": 2},
                FINDINGS[:1],
                "major",
                "1.4.0",
                "2.0.0",
                teams=(TeamRow("ops", "informed"),),
                proposal_state="approved",
                no_ack_reason="breaking changes, but no declared consumer uses what they change",
            ),
            "2 breaking changes, no acknowledgement needed",
        ),
        (
            "check_run_dangerous.md",
            CheckRunView(
                "orders-api", "dangerous", "neutral", {"dangerous": 1}, FINDINGS[1:2], "minor"
            ),
            "1 dangerous change, nothing breaks",
        ),
        (
            "check_run_compatible.md",
            CheckRunView(
                "orders-api", "safe", "success", {"safe": 1}, FINDINGS[2:], "minor", "1.4.0"
            ),
            "Compatible change (minor bump)",
        ),
        (
            "check_run_version_refused.md",
            CheckRunView(
                "orders-api",
                "breaking",
                "failure",
                {"breaking": 1},
                FINDINGS[:1],
                "major",
                "1.4.0",
                "2.0.0",
                proposal_state="open",
                waiting_on=("web-shop has not acknowledged",),
                failure="the version 1.5.0 is too small: the findings need a major bump (2.0.0)",
            ),
            "The version 1.5.0 is too small: the findings need a major bump (2.0.0)",
        ),
        (
            "check_run_unparsable.md",
            CheckRunView(
                "orders-api",
                "unchanged",
                "failure",
                {},
                (),
                "none",
                "1.4.0",
                problem=SpecProblem(
                    "unparsable",
                    "mapping values are not allowed here",
                    "api/openapi.yaml",
                    "api/openapi.yaml:12:3",
                ),
            ),
            "The spec does not parse",
        ),
        (
            "check_run_deleted.md",
            CheckRunView(
                "orders-api",
                "unchanged",
                "failure",
                {},
                (),
                "none",
                problem=SpecProblem("deleted", "gone", "api/openapi.yaml"),
            ),
            "The spec was deleted",
        ),
        (
            "check_run_missing.md",
            CheckRunView(
                "orders-api",
                "unchanged",
                "failure",
                {},
                (),
                "none",
                problem=SpecProblem(
                    "missing",
                    "api/openapi.yaml: not found in acme/orders at 5d41402abc4b",
                    "api/openapi.yaml",
                ),
            ),
            "The spec is missing",
        ),
        (
            "check_run_published.md",
            CheckRunView(
                "orders-api",
                "breaking",
                "success",
                {"breaking": 1},
                FINDINGS[:1],
                "major",
                "1.4.0",
                teams=TEAMS[1:2],
                proposal_url=ISSUE_URL,
                ending=PUBLISHED,
            ),
            "Published as 2.0.0",
        ),
        (
            "check_run_withdrawn.md",
            CheckRunView(
                "orders-api",
                "breaking",
                "neutral",
                {"breaking": 1},
                (),
                "major",
                "1.4.0",
                proposal_url=ISSUE_URL,
                ending=WITHDRAWN,
            ),
            "Withdrawn: the pull request was closed without merging",
        ),
        (
            "check_run_expired.md",
            CheckRunView(
                "orders-api",
                "breaking",
                "neutral",
                {"breaking": 1},
                (),
                "major",
                "1.4.0",
                ending=EXPIRED,
            ),
            "Expired before every team acknowledged",
        ),
    ],
)
def test_check_run_states(name: str, view: CheckRunView, title: str) -> None:
    output = render.check_run(view)
    assert output.title == title
    _golden(name, output.summary + "\n---- text ----\n" + output.text)
    assert output.text.strip(), "an empty text would leave the previous one on GitHub"


def test_a_spec_problem_never_shows_a_verdict_or_an_unknown_version() -> None:
    for kind in ("unparsable", "deleted", "missing"):
        view = CheckRunView(
            "orders-api",
            "unchanged",
            "failure",
            {},
            (),
            "none",
            problem=SpecProblem(kind, "api/openapi.yaml:3: bad", "api/openapi.yaml", "x:3"),
        )
        output = render.check_run(view)
        text = output.summary + output.text
        assert "unchanged" not in text and "→" not in text and "No findings" not in text
        comment = render.pull_request_comment(
            PullRequestCommentView(
                (ContractSection("orders-api", "unchanged", "none", problem=view.problem),)
            )
        )
        assert f"❌ orders-api: {view.problem.title.lower()}" in comment  # type: ignore[union-attr]
        assert "unchanged" not in comment and "→" not in comment


def test_a_final_check_never_contradicts_its_counts() -> None:
    for ending in (PUBLISHED, WITHDRAWN, EXPIRED):
        view = CheckRunView(
            "orders-api", "breaking", "neutral", {"breaking": 2}, (), "major", ending=ending
        )
        output = render.check_run(view)
        assert "No findings" not in output.text and "| breaking |" not in output.summary


# --- the pull request comment -----------------------------------------------------------------


def test_pull_request_comment() -> None:
    no_ack = ContractSection(
        "events",
        "breaking",
        "major",
        (TeamRow("ops", "informed"),),
        "3.1.0",
        None,
        breaking=1,
        proposal_state="approved",
        no_ack_reason="breaking changes, but no declared consumer uses what they change",
    )
    broken = ContractSection(
        "payments",
        "unchanged",
        "none",
        problem=SpecProblem(
            "unparsable",
            "found unhashable key",
            "payments.yaml",
            "payments.yaml:7",
        ),
    )
    body = render.pull_request_comment(
        PullRequestCommentView(
            (SECTION, no_ack, broken), head_sha="a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
        )
    )
    assert body.startswith(PR_COMMENT_MARKER + "\n")
    _golden("pr_comment.md", body)
    assert "No acknowledgement needed:" in body and _mentions(body) == []
    empty = render.pull_request_comment(PullRequestCommentView(()))
    assert "No registered contract changes" in empty


def test_pull_request_comment_once_the_proposals_ended() -> None:
    published = ContractSection(
        "orders-api",
        "breaking",
        "major",
        TEAMS[1:2],
        "1.4.0",
        "2.0.0",
        proposal_url=ISSUE_URL,
        breaking=1,
        ending=PUBLISHED,
        origin=PLAIN,
    )
    withdrawn = ContractSection(
        "events", "breaking", "major", (), "3.1.0", breaking=1, ending=WITHDRAWN, origin=PLAIN
    )
    body = render.pull_request_comment(PullRequestCommentView((published, withdrawn)))
    _golden("pr_comment_final.md", body)
    assert "Waiting on" not in body and "<details>" not in body and _mentions(body) == []


# --- the proposal issue -----------------------------------------------------------------------


def test_proposal_issue_open() -> None:
    assert (
        render.proposal_issue_title(ISSUE)
        == "[tessera] orders-api 1.4.0 → 2.0.0: 1 breaking change"
    )
    body = render.proposal_issue(ISSUE)
    _golden("proposal_issue.md", body)
    # only the required teams with a valid slug are mentioned; user text mentions nobody
    assert _mentions(body) == ["@acme/web-shop", "@acme/search"]
    assert "@&#8203;everyone" in body and "\\[urgent](http://evil)" in body
    assert "### What to do" in body and "/tessera ack" in body


def test_proposal_issue_updated_as_decisions_come_in() -> None:
    teams = tuple(
        AffectedTeam(
            t.team,
            t.github_team,
            t.usages,
            t.required,
            TeamRow(t.team, "approved", actor="carol") if t.required else t.standing,
        )
        for t in ISSUE_TEAMS
    )
    approved = ProposalIssueView(
        "orders-api", PULL, 1, teams, "1.4.0", "2.0.0", "major", state="approved"
    )
    body = render.proposal_issue(approved)
    _golden("proposal_issue_approved.md", body)
    assert body != render.proposal_issue(ISSUE)
    assert "Every team asked has acknowledged" in body and "acknowledged by carol" in body
    reopened = render.proposal_issue(
        ProposalIssueView(
            "orders-api", PULL, 1, ISSUE_TEAMS, "1.4.0", "2.0.0", "major", reopened=True
        )
    )
    _golden("proposal_issue_reopened.md", reopened)
    assert "then reopened" in reopened and "asked again" in reopened


@pytest.mark.parametrize(
    ("name", "ending", "title_end"),
    [
        ("proposal_issue_published.md", PUBLISHED, "(published)"),
        ("proposal_issue_withdrawn.md", WITHDRAWN, "(withdrawn)"),
        ("proposal_issue_expired.md", EXPIRED, "(expired)"),
    ],
)
def test_proposal_issue_closed(name: str, ending: Ending, title_end: str) -> None:
    view = ProposalIssueView(
        "orders-api", PULL, 1, ISSUE_TEAMS, "1.4.0", "2.0.0", "major", ending.state, ending=ending
    )
    body = render.proposal_issue(view)
    _golden(name, body)
    assert render.proposal_issue_title(view).endswith(title_end)
    assert "What to do" not in body and "/tessera" not in body and _mentions(body) == []
    assert "How it ended" in body and "✅" not in body.split("How it ended")[1].split("###")[0]


def test_direct_push_proposal_issue() -> None:
    view = ProposalIssueView(
        "orders-api",
        PUSH,
        1,
        ISSUE_TEAMS[:1],
        "1.4.0",
        "2.0.0",
        "major",
        waiting_on=("web-shop has not acknowledged",),
    )
    body = render.proposal_issue(view)
    _golden("proposal_issue_direct_push.md", body)
    assert "A direct push to acme/orders (branch `main`, commit `5d41402abc4b`" in body
    assert "pushed by alice" in body and "#-" not in body and "#0" not in body
    published = render.proposal_issue(
        ProposalIssueView(
            "orders-api",
            PUSH,
            1,
            ISSUE_TEAMS[:1],
            "1.4.0",
            "2.0.0",
            "major",
            "published",
            ending=Ending("published", version="2.0.0", commit=PUSH.commit),
        )
    )
    assert "merged" not in published and "#-" not in published and "#0" not in published


def test_a_break_that_asks_nobody_says_why_on_the_issue() -> None:
    view = ProposalIssueView(
        "orders-api",
        PULL,
        2,
        (AffectedTeam("ops", "acme/ops", (), required=False),),
        "1.4.0",
        "2.0.0",
        "major",
        "approved",
        no_ack_reason="breaking changes, but no declared consumer uses what they change",
    )
    body = render.proposal_issue(view)
    assert "No acknowledgement needed:" in body and "no declared consumer uses" in body
    assert "What to do" not in body and _mentions(body) == []


# --- command replies --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "view"),
    [
        (
            "reply_accepted.md",
            ReplyView(
                "accepted",
                "/tessera ack --as billing",
                "acknowledged for team billing on orders-api",
            ),
        ),
        (
            "reply_refused.md",
            ReplyView(
                "refused",
                "/tessera ack",
                "@mallory is not a member of a team this asks: web-shop (`acme/web-shop`); "
                "say which with `--as TEAM`",
            ),
        ),
        ("reply_suggestion.md", ReplyView("suggestion", "/tessera akc", suggestion="/tessera ack")),
        ("reply_help.md", ReplyView("help", "/tessera help", admin_team="acme/tessera-admins")),
        ("reply_status.md", ReplyView("status", "/tessera status", status=(SECTION,))),
        (
            "reply_status_published.md",
            ReplyView(
                "status",
                "/tessera status",
                status=(
                    ContractSection(
                        "orders-api",
                        "breaking",
                        "major",
                        TEAMS[1:2],
                        "1.4.0",
                        "2.0.0",
                        breaking=1,
                        ending=PUBLISHED,
                        origin=PLAIN,
                    ),
                ),
            ),
        ),
    ],
)
def test_command_replies(name: str, view: ReplyView) -> None:
    reply = render.command_reply(view)
    _golden(name, reply)
    assert _backslashes_outside_tables(reply) == []


def test_a_reply_keeps_code_as_code_and_shows_no_backslash() -> None:
    reply = render.command_reply(
        ReplyView("refused", "/tessera ack", "say which with `--as TEAM` (data_platform | x)")
    )
    assert "`--as TEAM`" in reply and "\\" not in reply and "data_platform | x" in reply


def test_user_text_in_a_reply_cannot_format_link_or_mention() -> None:
    reply = render.command_reply(
        ReplyView("refused", "", "blocked: *now* [x](y) <b> @org/team _x_ `@in code`")
    )
    assert "\\*now\\*" in reply and "\\[x](y)" in reply and "&lt;b&gt;" in reply
    assert "@&#8203;org/team" in reply and "\\_x\\_" in reply and "`@in code`" in reply
    assert _mentions(reply) == []


def test_help_says_who_may_waive_and_force_publish() -> None:
    configured = render.command_reply(ReplyView("help", admin_team="acme/tessera-admins"))
    assert "`waive`: the maintainers of the waived team (`maintainers` in its" in configured
    assert "`force-publish`: only the members of the admin team `acme/tessera-admins`" in (
        configured
    )
    unset = render.command_reply(ReplyView("help"))
    assert "`force-publish`: nobody, since no admin team is configured" in unset
    assert _mentions(configured) == []


def test_status_shows_what_breaks_for_each_team() -> None:
    reply = render.command_reply(ReplyView("status", status=(SECTION,)))
    assert "web-shop-api uses `GET /orders/{id}`: GET /orders/{id} → 200 → body.email" in reply
    assert "⏳ pending" in reply and "⛔ blocked by hubot" in reply


# --- closing, publishing, invalidation --------------------------------------------------------


def test_publish_summary() -> None:
    _golden("publish_summary.md", render.publish_summary(PUBLISH))
    forced = render.publish_summary(
        PublishView(
            "a",
            "2.0.0",
            "major",
            Origin("o/r", 1),
            "f" * 40,
            forced_by="root",
            force_reason="outage @oncall",
        )
    )
    assert "Force-published by root: outage @&#8203;oncall" in forced


def test_publish_summary_of_a_direct_push() -> None:
    body = render.publish_summary(
        PublishView("orders-api", "2.0.0", "major", PUSH, PUSH.commit or "", "1.4.0")
    )
    _golden("publish_summary_direct_push.md", body)
    assert "merged" not in body and "#-" not in body and "#0" not in body


@pytest.mark.parametrize(
    ("name", "origin", "ending"),
    [
        ("closing_withdrawn.md", PLAIN, WITHDRAWN),
        ("closing_expired.md", PLAIN, EXPIRED),
        (
            "closing_replaced.md",
            PUSH,
            Ending(
                "replaced",
                reason="a later direct push (commit `0a1b2c3d4e5f`) changes orders-api again",
            ),
        ),
    ],
)
def test_closing_comments(name: str, origin: Origin, ending: Ending) -> None:
    body = render.closing_comment(ClosingView("orders-api", origin, ending, "1.4.0"))
    _golden(name, body)
    assert "✅" not in body and "proposal 9" not in body and _mentions(body) == []
    assert _backslashes_outside_tables(body) == []


def test_invalidation_notice() -> None:
    notice = InvalidationView(
        "orders-api",
        "checkout",
        "acme/checkout",
        "approved",
        "carol",
        "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
        new=("POST /orders → 201 → body.currency: required property 'currency' was removed",),
        gone=("POST /orders → 201 → body.total: required property 'total' was removed",),
    )
    body = render.invalidation_notice(notice)
    _golden("invalidation_notice.md", body)
    assert _mentions(body) == ["@acme/checkout"]
    released = render.invalidation_notice(
        InvalidationView(
            "orders-api",
            "checkout",
            "acme/checkout",
            "blocked",
            "carol",
            "0a1b2c3d4e5f",
            gone=notice.gone,
            still_asked=False,
        )
    )
    assert "block of the orders-api change" in released and "no longer applies" in released
    assert "/tessera ack" not in released


def test_registry_validation() -> None:
    bad = RegistryValidationView(
        (
            Problem("consumers/web-shop.yaml", 12, "unknown contract 'orders'"),
            Problem("teams/x.yaml", None, "github_team: must be org/slug"),
        ),
        {"contracts": 3, "consumers": 4, "teams": 2},
    )
    output = render.registry_validation(bad)
    assert output.title == "2 problems in the registry declarations"
    _golden("registry_validation.md", output.summary)
    good = render.registry_validation(RegistryValidationView(()))
    assert good.title == "The registry declarations are valid"


# --- escaping ---------------------------------------------------------------------------------


def test_user_text_cannot_break_a_table_or_mention() -> None:
    row = FindingRow("breaking", "r|x", "a | b", "<img src=x> @org/team *bold* [l](u)\nnext", "f")
    text = render.check_run(CheckRunView("c", "breaking", "failure", {}, (row,), "major")).text
    line = text.splitlines()[2]
    assert line.count(" | ") == 4  # five cells: every "|" of user text is escaped
    assert "<img" not in text and "&lt;img" in text and "@&#8203;org/team" in text
    assert "\\*bold\\*" in text and "\\[l](u)" in text and "\n" not in line


def test_a_long_value_is_shortened() -> None:
    reply = render.command_reply(ReplyView("refused", "", "x" * 5000))
    assert len(reply) < 1100 and reply.rstrip().endswith("…")


def test_mention_url_and_prose_filters() -> None:
    assert render.mention("acme/web") == "@acme/web"
    assert render.mention("web", "web") == "web"
    assert render.mention(None, "@x") == "@&#8203;x"
    assert render.url("javascript:alert(1)") == ""
    assert render.url("https://a/b) [x](y") == ""
    assert render.code("a`b|c") == "``a`b\\|c``"
    assert render.prose("use `--as a|b` for snake_case | x") == "use `--as a|b` for snake_case | x"
    assert render.prose("an `unclosed span") == "an \\`unclosed span"
    assert render.prose("`<b>@x</b>`") == "`<b>@x</b>`"  # literal inside code: safe


# --- truncation -------------------------------------------------------------------------------


def _finding(n: int) -> FindingRow:
    return FindingRow(
        "breaking",
        "rule-x",
        f"GET /items/{n} → 200 → body.field{n}",
        "the property was removed " + "y" * 200,
        f"openapi.yaml:{n}",
    )


def test_truncation_keeps_whole_rows_and_says_how_many_are_left_out() -> None:
    findings = tuple(_finding(n) for n in range(1000))
    view = CheckRunView("big", "breaking", "failure", {"breaking": 1000}, findings, "major")
    text = render.check_run(view).text
    assert len(text) <= CHECK_LIMIT
    rows = [line for line in text.splitlines() if line.startswith("| breaking |")]
    assert 100 < len(rows) < 1000
    assert all(line.endswith("|") and line.count(" | ") == 4 for line in rows)
    omitted = 1000 - len(rows)
    assert f"… and {omitted:,} more findings" in text
    # as many as fit: one more row would not
    bigger = render._template("check_run_text.md.j2")({"v": view, "limit": len(rows) + 1})
    assert len(bigger) > CHECK_LIMIT
    _golden("check_run_text_truncated_tail.md", "\n".join(text.splitlines()[-3:]) + "\n")


def test_truncation_of_comments_and_issues() -> None:
    many = tuple(
        TeamRow(
            f"team-{n}",
            "pending",
            f"acme/team-{n}",
            (BrokenUsage(f"svc-{n}", f"usage {n}", "z" * 300),),
        )
        for n in range(400)
    )
    comment = render.pull_request_comment(
        PullRequestCommentView((ContractSection("c", "breaking", "major", many, breaking=1),))
    )
    assert len(comment) <= COMMENT_LIMIT and "more teams" in comment
    assert comment.rstrip().endswith("</details>")  # the commands footer is kept
    usages = tuple(BrokenUsage(f"svc-{n}", f"GET /x/{n}", "w" * 300) for n in range(500))
    issue = render.proposal_issue(
        ProposalIssueView(
            "c", Origin("o/r", 2, "t"), 500, (AffectedTeam("t", "acme/t", usages),), "1.0.0"
        )
    )
    assert len(issue) <= COMMENT_LIMIT and "more usages" in issue and "@acme/t" in issue


def test_a_document_too_long_even_without_items_is_cut_between_lines() -> None:
    notes = tuple(f"note {n} " + "n" * 900 for n in range(100))
    view = CheckRunView("c", "breaking", "failure", {}, (), "major", notes=notes)
    summary = render.check_run(view).summary
    assert len(summary) <= CHECK_LIMIT
    assert summary.endswith("… (cut to fit GitHub's size limit)\n")
    body = summary.removesuffix("\n\n… (cut to fit GitHub's size limit)\n")
    assert body.splitlines()[-1].endswith("n")  # a whole line, not a cut one
