"""Every message template against golden files (``TESSERA_REGEN_GOLDEN=1`` rewrites them),
escaping and mentions, and truncation to GitHub's size limits."""

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
    ContractSection,
    FindingRow,
    Problem,
    ProposalIssueView,
    PublishView,
    PullRequestCommentView,
    RegistryValidationView,
    ReplyView,
    TeamRow,
)

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("TESSERA_REGEN_GOLDEN") == "1"

TEAMS = (
    TeamRow(
        "web-shop",
        "pending",
        "acme/web-shop",
        breaks=("GET /orders/{id} → 200 → body.email", "Order.email"),
    ),
    TeamRow("billing", "approved", "acme/billing", actor="octocat", note="at fingerprint 3f2a"),
    TeamRow(
        "search", "blocked", "acme/search", ("GET /orders",), "hubot", "we index `email` | @all"
    ),
    TeamRow("mobile", "waived", "acme/mobile", ("Order.email",), "admin", "until 2026-10-01"),
    TeamRow("ops", "informed"),
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
    proposal_url="https://github.com/acme/registry/issues/7",
    notes=("The acknowledgement of search was invalidated: the impact changed.",),
)
SECTION = ContractSection(
    "orders-api",
    "breaking",
    "major",
    TEAMS,
    "1.4.0",
    "2.0.0",
    "https://github.com/acme/orders/runs/5",
    "https://github.com/acme/registry/issues/7",
)
ISSUE = ProposalIssueView(
    proposal_id=7,
    contract_id="orders-api",
    producer_repo="acme/orders",
    pull_request=12,
    pull_request_title="Drop email, cc @everyone [urgent](http://evil)",
    breaking=1,
    teams=(
        AffectedTeam(
            "web-shop",
            "acme/web-shop",
            (
                BrokenUsage("web-shop-api", "GET /orders/{id}", "the response no longer has email"),
                BrokenUsage("web-shop-worker", "Order.email", "removed"),
            ),
        ),
        AffectedTeam("search", "acme/search", (BrokenUsage("indexer", "GET /orders", "removed"),)),
        AffectedTeam("legacy", "not a slug", (BrokenUsage("cron", "Order", "removed"),)),
        AffectedTeam("ops", "acme/ops", (), required=False),
    ),
    current_version="1.4.0",
    proposed_version="2.0.0",
    pull_request_url="https://github.com/acme/orders/pull/12",
)
PUBLISH = PublishView(
    contract_id="orders-api",
    version="2.0.0",
    bump="major",
    producer_repo="acme/orders",
    pull_request=12,
    merge_commit="9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
    previous_version="1.4.0",
    registry_commit="0123456789abcdef0123456789abcdef01234567",
    teams=TEAMS[:2],
)


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGEN:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with TESSERA_REGEN_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def test_check_run() -> None:
    output = render.check_run(CHECK)
    assert output.title == "1 breaking change, waiting on 2 teams"
    _golden("check_run_summary.md", output.summary)
    _golden("check_run_text.md", output.text)


def test_check_run_titles() -> None:
    safe = CheckRunView("a", "safe", "success", {"safe": 2}, (), "minor")
    unchanged = CheckRunView("a", "unchanged", "success", {}, (), "none")
    assert render.check_run(safe).title == "Compatible change (minor bump)"
    assert render.check_run(unchanged).title == "No change to the contract"
    assert render.check_run(unchanged).text == "No findings.\n"


def test_pull_request_comment() -> None:
    body = render.pull_request_comment(
        PullRequestCommentView((SECTION,), head_sha="a1b2c3d4e5f60718293a4b5c6d7e8f9012345678")
    )
    assert body.startswith(PR_COMMENT_MARKER + "\n")
    _golden("pr_comment.md", body)
    empty = render.pull_request_comment(PullRequestCommentView(()))
    assert "No registered contract changes" in empty


def test_proposal_issue() -> None:
    assert (
        render.proposal_issue_title(ISSUE)
        == "[tessera] orders-api 1.4.0 → 2.0.0: 1 breaking change"
    )
    body = render.proposal_issue(ISSUE)
    _golden("proposal_issue.md", body)
    # only the required teams with a valid slug are mentioned; user text mentions nobody
    assert re.findall(r"(?<![\w&#;])@[\w/-]+", body) == ["@acme/web-shop", "@acme/search"]
    assert "@&#8203;everyone" in body and "\\[urgent](http://evil)" in body


@pytest.mark.parametrize(
    ("name", "view"),
    [
        (
            "reply_accepted.md",
            ReplyView("accepted", "/tessera ack --as billing", "Acknowledged for billing."),
        ),
        (
            "reply_refused.md",
            ReplyView(
                "refused", "/tessera ack", "You are not a member of an affected team (web-shop)."
            ),
        ),
        ("reply_suggestion.md", ReplyView("suggestion", "/tessera akc", suggestion="/tessera ack")),
        ("reply_help.md", ReplyView("help", "/tessera help")),
        ("reply_status.md", ReplyView("status", "/tessera status", status=(SECTION,))),
    ],
)
def test_command_replies(name: str, view: ReplyView) -> None:
    _golden(name, render.command_reply(view))


def test_publish_summary() -> None:
    _golden("publish_summary.md", render.publish_summary(PUBLISH))
    forced = render.publish_summary(
        PublishView(
            "a",
            "2.0.0",
            "major",
            "o/r",
            1,
            "f" * 40,
            forced_by="root",
            force_reason="outage @oncall",
        )
    )
    assert "Force-published by root: outage @&#8203;oncall" in forced


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


def test_mention_and_url_filters() -> None:
    assert render.mention("acme/web") == "@acme/web"
    assert render.mention("web", "web") == "web"
    assert render.mention(None, "@x") == "@&#8203;x"
    assert render.url("javascript:alert(1)") == ""
    assert render.url("https://a/b) [x](y") == ""
    assert render.code("a`b|c") == "``a`b\\|c``"


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
        TeamRow(f"team-{n}", "pending", f"acme/team-{n}", (f"usage {n} " + "z" * 300,))
        for n in range(400)
    )
    comment = render.pull_request_comment(
        PullRequestCommentView((ContractSection("c", "breaking", "major", many),))
    )
    assert len(comment) <= COMMENT_LIMIT and "more teams" in comment
    assert comment.rstrip().endswith("</details>")  # the commands footer is kept
    usages = tuple(BrokenUsage(f"svc-{n}", f"GET /x/{n}", "w" * 300) for n in range(500))
    issue = render.proposal_issue(
        ProposalIssueView(1, "c", "o/r", 2, "t", 500, (AffectedTeam("t", "acme/t", usages),))
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
