"""Every message the App writes on GitHub, from one jinja2 template per kind (``templates/``).

Inputs are plain frozen dataclasses (``CheckRunView``, ``PullRequestCommentView``,
``ProposalIssueView``, ``ReplyView``, ``PublishView``, ``ClosingView``, ``InvalidationView``,
``RegistryValidationView``) that the handlers build from the database; nothing here reads the
database or calls GitHub.

Safety: every ``{{ value }}`` is Markdown-escaped on output (``finalize``): user and spec text
cannot break a table, open an HTML tag, format itself, start a link, or @-mention anyone (an
``@`` gets a zero-width space). Sentences use the ``prose`` filter instead: the same guarantees
without the escapes only a table needs (no ``\\|``), and what the text puts between backticks
stays inline code, so a reply never shows a literal backslash where none was typed. The only
mentions are the teams we mean to notify, written with the ``mention`` filter from a validated
``org/team-slug``. Long values are shortened.

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
_SPAN = re.compile(r"(`+)(.+?)\1")  # an inline code span of a plain text
_PROSE_ESCAPES = (
    ("\\", "\\\\"),
    ("&", "&amp;"),
    ("<", "&lt;"),
    (">", "&gt;"),
    ("@", "@&#8203;"),
    ("`", "\\`"),
    ("*", "\\*"),
    ("~", "\\~"),
    ("[", "\\["),
)
_EMPHASIS_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")

STATUS_ICONS = {
    "approved": "✅",
    "migrating": "🔄",
    "waived": "⏭️",
    "pending": "⏳",
    "blocked": "⛔",
    "informed": "ℹ️",
}
VERDICT_ICONS = {"breaking": "🔴", "dangerous": "🟠", "safe": "🟢", "unchanged": "⚪"}
PROBLEM_TITLES = {
    "unparsable": "The spec does not parse",
    "deleted": "The spec was deleted",
    "missing": "The spec is missing",
    "crashed": "The spec could not be judged",
}


# --- inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FindingRow:
    severity: str  # breaking | dangerous | safe | annotation
    rule: str
    where: str  # the element, for people: "GET /orders/{id} → 200 → body.email"
    message: str
    location: str | None = None  # "openapi.yaml:42"


@dataclass(frozen=True, slots=True)
class BrokenUsage:
    """A consumer's declared usage that a breaking finding meets."""

    consumer: str  # the consumer (service) id
    usage: str  # what it declared it uses: "GET /orders/{id}", "Order.email"
    change: str  # the finding that breaks it, for people
    everything: bool = False  # the consumer declared no uses: it reads everything


@dataclass(frozen=True, slots=True)
class TeamRow:
    """One consumer team's standing on one contract change, and what breaks for it."""

    team: str  # the registry team id
    status: str  # pending | approved | migrating | blocked | waived | informed
    github_team: str | None = None  # "org/slug", mentioned only where a template says so
    breaks: Sequence[BrokenUsage] = ()
    actor: str | None = None  # who acknowledged, blocked or waived
    reason: str | None = None  # the block's or the waiver's reason
    until: str | None = None  # migrating or waived: until that day (YYYY-MM-DD)
    held_by: str | None = None  # the team holds the change: who placed the hold
    hold_reason: str | None = None


@dataclass(frozen=True, slots=True)
class SpecProblem:
    """Why a contract could not be judged: its spec does not parse, was deleted by the pull
    request, is not at its registered path, or Tessera failed judging it (a bug)."""

    kind: str  # unparsable | deleted | missing | crashed
    message: str  # the engine's one-line error, what is missing where, or Tessera's failure
    path: str | None = None  # the registered (or failing) file
    location: str | None = None  # "api/openapi.yaml:12" when the error has a line

    @property
    def title(self) -> str:
        return PROBLEM_TITLES.get(self.kind, "The spec cannot be read")


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a change comes from: a pull request, or a direct push to a branch."""

    repo: str
    pull_request: int | None = None  # None: a direct push
    title: str = ""  # the pull request's
    url: str | None = None  # the pull request's page
    commit: str | None = None  # a direct push: the pushed commit
    branch: str | None = None  # a direct push: the branch pushed to
    pusher: str | None = None  # a direct push: who pushed (when known)

    @property
    def direct(self) -> bool:
        return self.pull_request is None


@dataclass(frozen=True, slots=True)
class Ending:
    """How a proposal ended: ``published`` (as ``version``, at ``commit``), ``withdrawn``
    (``reason``), ``expired`` (on ``when``, waiting on ``waiting_on``) or ``replaced`` by a
    later direct push."""

    state: str  # published | withdrawn | expired | replaced
    version: str | None = None
    commit: str | None = None  # published: the merge (or pushed) commit
    reason: str | None = None  # withdrawn, replaced: why, in a sentence
    when: str | None = None  # YYYY-MM-DD
    waiting_on: Sequence[str] = ()  # expired, or merged before approval: what it waited on
    forced_by: str | None = None
    force_reason: str | None = None


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
    proposal_state: str | None = None  # open | approved: the live proposal's; None: none
    waiting_on: Sequence[str] = ()  # why an open proposal is not approved, one line each
    no_ack_reason: str | None = None  # a break that needs nobody's acknowledgement: why
    forced_by: str | None = None
    force_reason: str | None = None
    problem: SpecProblem | None = None  # the spec could not be judged
    failure: str | None = None  # judged, but failing: why (a version the policy refuses)
    ending: Ending | None = None  # the final check of a finished proposal


@dataclass(frozen=True, slots=True)
class CheckRunOutput:
    title: str
    summary: str
    text: str


@dataclass(frozen=True, slots=True)
class ContractSection:
    """One contract in the pull request comment or a ``/tessera status`` reply."""

    contract_id: str
    verdict: str
    required_bump: str
    teams: Sequence[TeamRow] = ()
    current_version: str | None = None
    proposed_version: str | None = None
    check_url: str | None = None
    proposal_url: str | None = None
    breaking: int = 0  # the number of breaking findings
    proposal_state: str | None = None
    waiting_on: Sequence[str] = ()
    no_ack_reason: str | None = None
    forced_by: str | None = None
    force_reason: str | None = None
    problem: SpecProblem | None = None
    failure: str | None = None  # judged, but the check fails: why
    ending: Ending | None = None  # a status reply about a finished proposal: how it ended
    origin: Origin | None = None  # with ``ending``: where the change came from


@dataclass(frozen=True, slots=True)
class PullRequestCommentView:
    contracts: Sequence[ContractSection]
    head_sha: str | None = None


@dataclass(frozen=True, slots=True)
class AffectedTeam:
    """A team on the proposal issue: asked (``required``) or informed, what breaks for it and
    where it stands."""

    team: str
    github_team: str | None
    usages: Sequence[BrokenUsage] = ()
    required: bool = True  # False: informed only (no acknowledgement needed)
    standing: TeamRow | None = None


@dataclass(frozen=True, slots=True)
class ProposalIssueView:
    contract_id: str
    origin: Origin
    breaking: int  # number of breaking findings
    teams: Sequence[AffectedTeam]
    current_version: str | None = None
    proposed_version: str | None = None
    bump: str = "none"
    state: str = "open"  # the proposal's
    waiting_on: Sequence[str] = ()
    no_ack_reason: str | None = None  # live, but nobody must acknowledge: why
    forced_by: str | None = None
    force_reason: str | None = None
    reopened: bool = False  # it was withdrawn, and its pull request reopened
    ending: Ending | None = None  # how it ended (a closed issue)


@dataclass(frozen=True, slots=True)
class ReplyView:
    kind: str  # accepted | refused | suggestion | help | status
    command: str = ""  # the command line replied to
    message: str = ""  # accepted: what happened; refused: why (plain text, `code` spans)
    suggestion: str | None = None  # suggestion: the corrected command
    status: Sequence[ContractSection] = ()
    admin_team: str | None = None  # help: the admin team ("org/slug"), None: none configured


@dataclass(frozen=True, slots=True)
class PublishView:
    contract_id: str
    version: str
    bump: str
    origin: Origin
    merge_commit: str
    previous_version: str | None = None
    registry_commit: str | None = None
    teams: Sequence[TeamRow] = ()
    forced_by: str | None = None
    force_reason: str | None = None
    notes: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class ClosingView:
    """The comment that closes a proposal issue without a publication."""

    contract_id: str
    origin: Origin
    ending: Ending
    current_version: str | None = None


@dataclass(frozen=True, slots=True)
class InvalidationView:
    """A team's acknowledgement no longer holds after a push: what changed for it."""

    contract_id: str
    team: str
    github_team: str | None
    kind: str  # the acknowledgement that ended: approved | migrating | blocked
    actor: str  # who had made it
    commit: str  # the push that changed the findings
    new: Sequence[str] = ()  # breaking findings that now concern the team, for people
    gone: Sequence[str] = ()  # those that no longer do
    still_asked: bool = True  # False: no breaking finding concerns the team any more


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
    """The check run ``tessera/<contract>``: title, summary (verdict, counts, bump, teams,
    where the proposal stands) and text (the findings table); a spec that cannot be judged,
    and a finished proposal, each say so instead."""
    context = {"v": view}
    summary = "check_run_final.md.j2" if view.ending is not None else "check_run_summary.md.j2"
    return CheckRunOutput(
        title=check_title(view),
        summary=_fit(summary, context, len(view.teams), CHECK_LIMIT),
        text=_fit("check_run_text.md.j2", context, len(view.findings), CHECK_LIMIT),
    )


def pull_request_comment(view: PullRequestCommentView) -> str:
    """The sticky pull request comment (it starts with ``PR_COMMENT_MARKER``)."""
    rows = max((len(section.teams) for section in view.contracts), default=0)
    body = _fit("pr_comment.md.j2", {"v": view, "marker": PR_COMMENT_MARKER}, rows, COMMENT_LIMIT)
    return body


def proposal_issue_title(view: ProposalIssueView) -> str:
    change = (
        f"{view.current_version or 'first version'} → {_next(view.proposed_version, view.bump)}"
    )
    title = f"[tessera] {view.contract_id} {change}: {plural(view.breaking, 'breaking change')}"
    if view.ending is not None:
        title += f" ({view.ending.state})"
    return title[:256]


def proposal_issue(view: ProposalIssueView) -> str:
    """The proposal issue body: who must acknowledge (mentioned) and where each team stands,
    what breaks for whom; once closed, how it ended instead of what to do."""
    most = max((len(team.usages) for team in view.teams), default=0)
    return _fit("proposal_issue.md.j2", {"v": view}, most, COMMENT_LIMIT)


def command_reply(view: ReplyView) -> str:
    """A reply to a slash command: accepted, refused (why), did-you-mean, help or status."""
    rows = max((len(section.teams) for section in view.status), default=0)
    return _fit("command_reply.md.j2", {"v": view}, rows, COMMENT_LIMIT)


def publish_summary(view: PublishView) -> str:
    """The comment that closes the proposal issue when the new version is published."""
    return _fit("publish_summary.md.j2", {"v": view}, len(view.teams), COMMENT_LIMIT)


def closing_comment(view: ClosingView) -> str:
    """The comment that closes a proposal issue that published nothing (withdrawn, expired,
    replaced by a later push)."""
    return _fit("closing_comment.md.j2", {"v": view}, 0, COMMENT_LIMIT)


def invalidation_notice(view: InvalidationView) -> str:
    """The comment on the proposal issue that tells a team its acknowledgement no longer
    holds (it mentions the team), and which breaking findings changed for it."""
    most = max(len(view.new), len(view.gone))
    return _fit("invalidation_notice.md.j2", {"v": view}, most, COMMENT_LIMIT)


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


def check_title(view: CheckRunView) -> str:
    """The check run's title: one line a person reads in the pull request's checks list."""
    if view.ending is not None:
        return _ending_title(view.ending)
    if view.problem is not None:
        return view.problem.title
    if view.failure:
        return shorten(view.failure[:1].upper() + view.failure[1:], 200)
    breaking = view.counts.get("breaking", 0)
    if view.verdict == "unchanged":
        return "No change to the contract"
    if breaking:
        changes = plural(breaking, "breaking change")
        if view.no_ack_reason:
            return f"{changes}, no acknowledgement needed"
        if view.proposal_state == "approved":
            return f"{changes}, force-published" if view.forced_by else f"{changes}, acknowledged"
        pending = sum(1 for team in view.teams if team.status in ("pending", "blocked"))
        holds = sum(1 for team in view.teams if team.held_by)
        waiting = [plural(pending, "team")] if pending else []
        waiting += [plural(holds, "hold")] if holds else []
        return f"{changes}, waiting on {' and '.join(waiting)}" if waiting else changes
    if view.verdict == "dangerous":
        return f"{plural(view.counts.get('dangerous', 0), 'dangerous change')}, nothing breaks"
    return f"Compatible change ({view.required_bump} bump)"


def _ending_title(ending: Ending) -> str:
    if ending.state == "published":
        return f"Published as {ending.version}" if ending.version else "Published"
    if ending.state == "withdrawn":
        return f"Withdrawn: {ending.reason}" if ending.reason else "Withdrawn"
    if ending.state == "expired":
        return "Expired before every team acknowledged"
    return "Replaced by a later push"


def _next(version: str | None, bump: str) -> str:
    if version:
        return version
    return f"next {bump} version" if bump in ("major", "minor", "patch") else "next version"


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
    environment.filters.update(
        mention=mention,
        url=url,
        code=code,
        plural=plural,
        prose=prose,
        next_version=_next,
        capitalize_first=capitalize_first,
        sentence=sentence,
    )
    environment.globals.update(
        STATUS_ICONS=STATUS_ICONS,
        VERDICT_ICONS=VERDICT_ICONS,
        help=HELP,
        plural=plural,
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
    """``value`` as inline code (for commands, versions, shas), on one line, safe in a table
    cell."""
    return _code_span(" ".join(shorten(str(value)).split()).replace("|", "\\|"))


def _code_span(text: str) -> Markup:
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markup(f"{fence}{pad}{text}{pad}{fence}")


def prose(value: Any) -> Markup:
    """A plain text sentence as Markdown prose on one line: what it puts between backticks
    becomes inline code (literal inside: no mention, link or HTML), the rest is escaped
    without the escapes only a table cell needs, so nothing but the characters a person typed
    is ever preceded by a backslash."""
    text = " ".join(shorten(str(value or "")).split())
    parts: list[str] = []
    last = 0
    for span in _SPAN.finditer(text):
        parts.append(_escape_prose(text[last : span.start()]))
        parts.append(str(_code_span(span.group(2))))
        last = span.end()
    parts.append(_escape_prose(text[last:]))
    return Markup("".join(parts))


def _escape_prose(text: str) -> str:
    for char, replacement in _PROSE_ESCAPES:
        text = text.replace(char, replacement)
    return _EMPHASIS_UNDERSCORE.sub(r"\\_", text)


def capitalize_first(value: Any) -> Markup:
    """The (already safe) Markdown ``value`` with its first letter in upper case."""
    text = str(value)
    return Markup(text[:1].upper() + text[1:])


def sentence(value: Any) -> Markup:
    """The (already safe) Markdown ``value`` as a sentence: a capital first letter and a
    full stop at the end."""
    text = str(value).rstrip()
    end = "" if text.endswith((".", "!", "?", "…")) else "."
    return Markup(text[:1].upper() + text[1:] + end)


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (many or word + 's')}"
