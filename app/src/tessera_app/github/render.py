"""Every message the App writes on GitHub, from one jinja2 template per kind (``templates/``).

Inputs are plain frozen dataclasses (``CheckRunView``, ``PullRequestCommentView``,
``ProposalIssueView``, ``ReplyView``, ``PublishView``, ``RegistryValidationView``) that the
handlers build from the database; nothing here reads the database or calls GitHub.

Safety: every ``{{ value }}`` is Markdown-escaped on output (``finalize``): user and spec text
cannot break a table, open an HTML tag, format itself, start a link, or @-mention anyone (an
``@`` gets a zero-width space). The only mentions are the teams we mean to notify, written
with the ``mention`` filter from a validated ``org/team-slug``. Long values are shortened.

Size: GitHub refuses comment and issue bodies over 65,536 characters and check run summaries
or texts over 65,535. Each template shows at most ``limit`` items of its long list (findings,
team rows, usages) and says "… and N more"; when the full message is too long, the largest
``limit`` that fits is found (a binary search), so a table is shortened by whole rows, never
cut inside one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from tessera_engine.render.markdown import escape as markdown_escape

from .commands import HELP

COMMENT_LIMIT = 65_536  # issue and comment bodies
CHECK_LIMIT = 65_535  # check run output summary and text
MAX_VALUE = 1_000  # characters of one value (a reason, a message) before it is shortened
PR_COMMENT_MARKER = "<!-- tessera:pull-request-summary -->"
_TEAM_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_URL = re.compile(r"^https?://[^\s<>()\"']+$")

STATUS_ICONS = {
    "approved": "✅",
    "migrating": "🔄",
    "waived": "⏭️",
    "pending": "⏳",
    "blocked": "⛔",
    "informed": "ℹ️",
}
VERDICT_ICONS = {"breaking": "🔴", "dangerous": "🟠", "safe": "🟢", "unchanged": "⚪"}


# --- inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FindingRow:
    severity: str  # breaking | dangerous | safe | annotation
    rule: str
    where: str  # the element, for people: "GET /orders/{id} → 200 → body.email"
    message: str
    location: str | None = None  # "openapi.yaml:42"


@dataclass(frozen=True, slots=True)
class TeamRow:
    """One consumer team's standing on one contract change."""

    team: str  # the registry team id
    status: str  # pending | approved | migrating | blocked | waived | informed
    github_team: str | None = None  # "org/slug", mentioned only where a template says so
    breaks: Sequence[str] = ()  # the declared usages that break, for people
    actor: str | None = None  # who acknowledged, blocked or waived
    note: str | None = None  # the block reason, "until 2026-10-01", why an ack was invalidated


@dataclass(frozen=True, slots=True)
class CheckRunView:
    contract_id: str
    verdict: str  # breaking | dangerous | safe | unchanged
    conclusion: str  # success | neutral | action_required | failure
    counts: Mapping[str, int]  # severity -> number of findings
    findings: Sequence[FindingRow]
    required_bump: str  # major | minor | patch | none
    current_version: str | None = None
    proposed_version: str | None = None
    teams: Sequence[TeamRow] = ()
    proposal_url: str | None = None
    notes: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class CheckRunOutput:
    title: str
    summary: str
    text: str


@dataclass(frozen=True, slots=True)
class ContractSection:
    contract_id: str
    verdict: str
    required_bump: str
    teams: Sequence[TeamRow] = ()
    current_version: str | None = None
    proposed_version: str | None = None
    check_url: str | None = None
    proposal_url: str | None = None


@dataclass(frozen=True, slots=True)
class PullRequestCommentView:
    contracts: Sequence[ContractSection]
    head_sha: str | None = None


@dataclass(frozen=True, slots=True)
class BrokenUsage:
    consumer: str  # the consumer (service) id
    usage: str  # what it declared it uses: "GET /orders/{id}", "Order.email"
    change: str  # the finding that breaks it


@dataclass(frozen=True, slots=True)
class AffectedTeam:
    team: str
    github_team: str | None
    usages: Sequence[BrokenUsage] = ()
    required: bool = True  # False: informed only (no acknowledgement needed)


@dataclass(frozen=True, slots=True)
class ProposalIssueView:
    proposal_id: int
    contract_id: str
    producer_repo: str
    pull_request: int
    pull_request_title: str
    breaking: int  # number of breaking findings
    teams: Sequence[AffectedTeam]
    current_version: str | None = None
    proposed_version: str | None = None
    pull_request_url: str | None = None
    state: str = "open"


@dataclass(frozen=True, slots=True)
class ReplyView:
    kind: str  # accepted | refused | suggestion | help | status
    command: str = ""  # the command line replied to
    message: str = ""  # accepted: what happened; refused: why
    suggestion: str | None = None  # suggestion: the corrected command
    status: Sequence[ContractSection] = ()


@dataclass(frozen=True, slots=True)
class PublishView:
    contract_id: str
    version: str
    bump: str
    producer_repo: str
    pull_request: int
    merge_commit: str
    previous_version: str | None = None
    registry_commit: str | None = None
    teams: Sequence[TeamRow] = ()
    forced_by: str | None = None
    force_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    line: int | None
    message: str


@dataclass(frozen=True, slots=True)
class RegistryValidationView:
    problems: Sequence[Problem]
    checked: Mapping[str, int] = field(default_factory=dict)  # "contracts" -> 12, ...
    notes: Sequence[Problem] = ()  # worth knowing, not problems (an out-of-date declaration)


# --- rendering --------------------------------------------------------------------------------


def check_run(view: CheckRunView) -> CheckRunOutput:
    """The check run ``tessera/<contract>``: title, summary (verdict, counts, bump, teams) and
    text (the findings table)."""
    context = {"v": view}
    return CheckRunOutput(
        title=_title(view),
        summary=_fit("check_run_summary.md.j2", context, len(view.teams), CHECK_LIMIT),
        text=_fit("check_run_text.md.j2", context, len(view.findings), CHECK_LIMIT),
    )


def pull_request_comment(view: PullRequestCommentView) -> str:
    """The sticky pull request comment (it starts with ``PR_COMMENT_MARKER``)."""
    rows = max((len(section.teams) for section in view.contracts), default=0)
    body = _fit("pr_comment.md.j2", {"v": view, "marker": PR_COMMENT_MARKER}, rows, COMMENT_LIMIT)
    return body


def proposal_issue_title(view: ProposalIssueView) -> str:
    change = f"{view.current_version or '—'} → {view.proposed_version or '?'}"
    plural = "s" if view.breaking != 1 else ""
    return f"[tessera] {view.contract_id} {change}: {view.breaking} breaking change{plural}"[:256]


def proposal_issue(view: ProposalIssueView) -> str:
    """The proposal issue body: who must acknowledge (mentioned), what breaks for whom."""
    most = max((len(team.usages) for team in view.teams), default=0)
    return _fit("proposal_issue.md.j2", {"v": view}, most, COMMENT_LIMIT)


def command_reply(view: ReplyView) -> str:
    """A reply to a slash command: accepted, refused (why), did-you-mean, help or status."""
    rows = max((len(section.teams) for section in view.status), default=0)
    return _fit("command_reply.md.j2", {"v": view}, rows, COMMENT_LIMIT)


def publish_summary(view: PublishView) -> str:
    """The comment that closes the proposal issue when the new version is published."""
    return _fit("publish_summary.md.j2", {"v": view}, len(view.teams), COMMENT_LIMIT)


def registry_validation(view: RegistryValidationView) -> CheckRunOutput:
    """The check run on a registry repository pull request."""
    count = len(view.problems)
    title = (
        "The registry declarations are valid"
        if not count
        else f"{count} problem{'s' if count != 1 else ''} in the registry declarations"
    )
    items = max(count, len(view.notes))  # ``limit`` bounds the problems and the notes shown
    summary = _fit("registry_validation.md.j2", {"v": view}, items, CHECK_LIMIT)
    return CheckRunOutput(title=title, summary=summary, text="")


def _title(view: CheckRunView) -> str:
    breaking = view.counts.get("breaking", 0)
    if view.verdict == "unchanged":
        return "No change to the contract"
    if breaking:
        pending = sum(1 for team in view.teams if team.status in ("pending", "blocked"))
        waiting = f", waiting on {pending} team{'s' if pending != 1 else ''}" if pending else ""
        return f"{breaking} breaking change{'s' if breaking != 1 else ''}{waiting}"
    return f"Compatible change ({view.required_bump} bump)"


# --- the machinery ----------------------------------------------------------------------------


def _fit(template: str, context: Mapping[str, Any], total: int, limit: int) -> str:
    """The template rendered with as many of its ``total`` list items as fit in ``limit``
    characters (all of them when they do)."""
    render = _template(template)

    def with_items(shown: int) -> str:
        return render(dict(context, limit=shown))

    document = with_items(total)
    if len(document) <= limit:
        return document
    fits, too_many = 0, total
    while too_many - fits > 1:
        middle = (fits + too_many) // 2
        if len(with_items(middle)) <= limit:
            fits = middle
        else:
            too_many = middle
    document = with_items(fits)
    if len(document) <= limit:
        return document
    return _cut(document, limit)  # even with no items it is too long: cut between lines


def _cut(document: str, limit: int) -> str:
    note = "\n\n… (cut to fit GitHub's size limit)\n"
    head = document[: limit - len(note)]
    if "\n" in head:
        head = head[: head.rindex("\n")]
    return head + note


@cache
def _template(name: str) -> Callable[[Mapping[str, Any]], str]:
    return _environment().get_template(name).render


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("tessera_app.github", "templates"),
        autoescape=False,  # HTML escaping is wrong for Markdown: ``finalize`` escapes instead
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(mention=mention, url=url, code=code, plural=plural)
    environment.globals.update(
        STATUS_ICONS=STATUS_ICONS, VERDICT_ICONS=VERDICT_ICONS, help=HELP, plural=plural
    )
    return environment


def _finalize(value: Any) -> str:
    if isinstance(value, Markup):
        return str(value)
    if value is None:
        return ""
    return markdown_escape(shorten(str(value)))


def shorten(text: str, most: int = MAX_VALUE) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def mention(team: str | None, fallback: str = "") -> Markup:
    """``@org/slug`` for a valid GitHub team slug (a real mention); else the escaped fallback
    (or team) that mentions nobody."""
    if team and _TEAM_SLUG.match(team):
        return Markup("@" + team)
    return Markup(markdown_escape(fallback or team or ""))


def url(value: str | None) -> Markup:
    """A URL safe inside ``[text](...)`` (anything else renders as nothing)."""
    return Markup(value if value and _URL.match(value) else "")


def code(value: Any) -> Markup:
    """``value`` as inline code (for commands, versions, shas), on one line."""
    text = " ".join(shorten(str(value)).split()).replace("|", "\\|")  # a table cell
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markup(f"{fence}{pad}{text}{pad}{fence}")


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (many or word + 's')}"
