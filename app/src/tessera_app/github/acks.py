"""Acknowledgements from GitHub: slash-commands in comments, and reviews.

    on_issue_comment(session, gh, event, settings)   ``/tessera ...`` on the pull request or
                                                     on the proposal issue
    on_review(session, gh, event, settings)          approved = ack, changes requested = block,
                                                     dismissed = that review's ack cancelled

A comment is acted on when it is new (edits and deletions are ignored), not from a bot (nor
from this App, ``TESSERA_GITHUB_BOT_LOGIN``) and holds at least one command (``commands.parse``:
a command starts a line; quoted and code text never counts). It gets 👀 (``eyes``) at once, then
each command is applied, and the comment gets 👍 (``+1``: GitHub has no ✅ reaction) when every
command was accepted, or 😕 (``confused``) with a reply explaining what was refused (a typo gets
"did you mean"). The reply is one comment per command comment, found again by a hidden marker,
so a retried job edits it instead of posting it twice.

Authority is GitHub team membership, checked through the gateway (``team_member``), never taken
from the comment: an acknowledgement, a block, a hold and their cancellations are made for the
affected team the author is an active member of (``--as <team>`` chooses when they belong to
several; none: refused). Waivers (``/tessera waive <team> --until DATE --reason ...``) are for the
waived team's maintainers (its ``maintainers`` list in ``teams/<id>.yaml``) and for members of
the admin team; ``/tessera force-publish <reason>`` only for members of the admin team
(``TESSERA_GITHUB_ADMIN_TEAM``, ``org/slug``; unset: nobody may). The membership evidence (the
GitHub team, how and when it was checked) is passed to the workflow, which writes it into the
audit log. ``recheck``, ``status`` and ``help`` are open to anyone.

After every decision the pull request is judged again (``checks.refresh_checks``: the check
runs, the sticky comment and the proposal issue), and a direct-push proposal that became
approved is published (``publish.publish_direct``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.base import utcnow
from ..db.github_models import CommandReceipt, ProposalIssue
from ..db.registry_models import Contract, Team
from ..db.workflow_models import Proposal
from ..settings import Settings
from ..workflow import (
    WorkflowError,
    acknowledge,
    cancel_ack,
    force_publish,
    hold,
    unhold,
    waive,
)
from ..workflow_state import LIVE, active_acks, active_holds
from .commands import MAX_REASON, Command, CommandError, Parsed, Suggestion

if TYPE_CHECKING:
    from .gateway import Installation
    from .payloads import IssueCommentEvent, IssuesEvent, ReviewEvent

log = logging.getLogger(__name__)

RECEIVED, ACCEPTED, REFUSED = "eyes", "+1", "confused"
MIGRATING_DEFAULT = timedelta(days=30)  # "/tessera ack migrating" without --until
CHECKED_BY = "GET /orgs/{org}/teams/{team_slug}/memberships/{username} (state active)"


def reply_marker(comment_id: int) -> str:
    return f"<!-- tessera:reply:{comment_id} -->"


@dataclass
class Result:
    """The outcome of one command: accepted or refused, and the line that says so."""

    command: str
    accepted: bool
    message: str
    proposals: list[Proposal] = field(default_factory=list)
    kind: str = ""  # the reply's kind when not accepted/refused: suggestion | help | status
    suggestion: str | None = None
    sections: list[Any] = field(default_factory=list)  # status: render.ContractSection


@dataclass
class Author:
    """Who wrote the comment or review, and where: the evidence's common part."""

    login: str
    repo: str
    number: int
    source: str  # "issue_comment" | "pull_request_review"
    source_id: int
    installation: int | None
    url: str = ""


class Membership:
    """Team membership checks through the gateway, asked once per (team, login) per event."""

    def __init__(self, gh: Installation) -> None:
        self.gh = gh
        self.cache: dict[tuple[str, str], bool] = {}

    def member(self, github_team: str, login: str) -> bool:
        key = (github_team.lower(), login.lower())
        if key not in self.cache:
            org, _, slug = github_team.partition("/")
            self.cache[key] = bool(org and slug) and self.gh.team_member(org, slug, login)
        return self.cache[key]


def evidence(author: Author, github_team: str | None, how: str) -> dict[str, Any]:
    """What the workflow records about the authority behind a decision."""
    found: dict[str, Any] = {
        "github_login": author.login,
        "checked_at": utcnow().isoformat(),
        "checked_by": how,
        "source": author.source,
        "source_id": author.source_id,
        "repo": author.repo,
        "number": author.number,
        "installation": author.installation,
    }
    if github_team:
        found["github_team"] = github_team
    return found


# --- comments --------------------------------------------------------------------------------


def on_issue_comment(
    session: Session, gh: Installation, event: IssueCommentEvent, settings: Settings
) -> list[Result]:
    """Apply the commands of a new comment on a pull request or a proposal issue."""
    from . import commands

    comment = event.comment
    if not event.is_new or _is_bot(comment.user.login, comment.user.is_bot, settings):
        return []
    if comment.via_app is not None:
        return []
    parsed = commands.parse(comment.body)
    if not parsed:
        return []
    repo = event.repository.full_name
    gh.add_reaction(repo, comment.id, RECEIVED)
    author = Author(
        comment.user.login,
        repo,
        event.issue_number,
        "issue_comment",
        comment.id,
        event.installation_id,
    )
    proposals = targets(session, gh, repo, event.issue_number, event.on_pull_request, settings)
    context = Context(session, gh, settings, author, Membership(gh), proposals)
    results = [context.apply(command, position) for position, command in enumerate(parsed)]
    accepted = all(r.accepted for r in results)
    gh.add_reaction(repo, comment.id, ACCEPTED if accepted else REFUSED)
    if not accepted or any(r.kind in ("help", "status") for r in results):
        _reply(gh, repo, event.issue_number, comment.id, results, settings)  # else: 👍 says it
    refresh(session, gh, [p for r in results if r.accepted for p in r.proposals], settings)
    return results


def _is_bot(login: str, is_bot: bool, settings: Settings) -> bool:
    ours = settings.github_bot_login
    return is_bot or (ours is not None and login.lower() == ours.lower())


def targets(
    session: Session,
    gh: Installation,
    repo: str,
    number: int,
    on_pull_request: bool,
    settings: Settings,
) -> list[Proposal]:
    """The live proposals a comment or review is about: those of the proposal issue, or of the
    pull request. A pull request not judged yet (the comment came before its event) is judged
    first, so an early command still finds its proposal."""
    if settings.registry_repo and repo == settings.registry_repo and not on_pull_request:
        row = session.scalars(
            select(ProposalIssue).where(ProposalIssue.repo == repo, ProposalIssue.issue == number)
        ).first()
        if row is None:
            return []
        proposal = session.get(Proposal, row.proposal_id)
        return [proposal] if proposal is not None else []
    if not on_pull_request:
        return []
    found = pull_request_proposals(session, repo, number)
    if not found:
        from .pull_requests import evaluate

        evaluate(session, gh, repo, number, settings)
        found = pull_request_proposals(session, repo, number)
    return found


def pull_request_proposals(session: Session, repo: str, number: int) -> list[Proposal]:
    return list(
        session.scalars(
            select(Proposal)
            .join(Contract, Contract.id == Proposal.contract_id)
            .where(
                Contract.source_repo == repo,
                Proposal.pull_request == number,
                Proposal.state.in_(LIVE),
            )
            .order_by(Proposal.contract_id)
        )
    )


@dataclass
class Context:
    """One comment's commands: where they apply, who wrote them, how authority is checked."""

    session: Session
    gh: Installation
    settings: Settings
    author: Author
    membership: Membership
    proposals: list[Proposal]

    def apply(self, command: Parsed, position: int = 0) -> Result:
        """The outcome of the ``position``-th command of the comment (or review): decided once;
        asked again (the job runs again), the recorded outcome."""
        if isinstance(command, Suggestion):
            return Result(
                command.source,
                False,
                f"`{command.typed}` is not a command: {command.message}",
                kind="suggestion",
                suggestion=command.suggestion,
            )
        if isinstance(command, CommandError):
            return Result(command.source, False, command.message)
        handler = VERBS[command.kind]
        if command.kind in OPEN_VERBS:
            return handler(self, command)
        key = (self.author.repo, self.author.source, self.author.source_id, position)
        receipt = self.session.get(CommandReceipt, key)
        if receipt is not None:
            proposals = [p for i in receipt.proposal_ids if (p := self.session.get(Proposal, i))]
            return Result(receipt.command, receipt.accepted, receipt.message, proposals)
        if not self.proposals:
            result = Result(command.source, False, "there is no open proposal here to decide on")
        elif not any(p.state in LIVE for p in self.proposals):
            result = Result(command.source, False, ended(self.proposals))
        else:
            try:
                result = handler(self, command)
            except WorkflowError as err:
                result = Result(command.source, False, humane(str(err), self.proposals))
        self.session.add(
            CommandReceipt(
                repo=key[0],
                source=key[1],
                source_id=key[2],
                position=position,
                command=result.command,
                accepted=result.accepted,
                message=result.message,
                proposal_ids=[p.id for p in result.proposals],
            )
        )
        self.session.flush()
        return result

    # --- team decisions -------------------------------------------------------------------

    def team_for(self, command: Command, teams: Iterable[str]) -> tuple[str, str] | Result:
        """The affected team the author speaks for (and its GitHub team), or a refusal."""
        text = command.source
        affected = sorted(set(teams))
        if not affected:
            return Result(text, False, NOTHING_TO.get(command.kind, "this change asks no team"))
        github = _github_teams(self.session, affected)
        if command.as_team:
            chosen = _resolve(command.as_team, github)
            if chosen is None:
                return Result(text, False, _not_asked(command.as_team, affected))
            candidates = [chosen]
        else:
            candidates = affected
        login = self.author.login
        member = [t for t in candidates if t in github and self.membership.member(github[t], login)]
        if not member:
            asked = ", ".join(f"{t} (`{github.get(t, '?')}`)" for t in candidates) or "none"
            return Result(
                text,
                False,
                f"@{login} is not a member of a team this change asks: {asked}; only their "
                "members may decide for them (GitHub team membership, checked now)",
            )
        if len(member) > 1:
            return Result(
                text,
                False,
                f"@{login} belongs to several teams this change asks ({', '.join(member)}): "
                "say which with `--as TEAM`",
            )
        return member[0], github[member[0]]

    def decide(
        self,
        command: Command,
        asked: Callable[[Proposal], Iterable[str]],
        act: Callable[[Proposal, str, dict[str, Any]], object],
        done: str,
    ) -> Result:
        chosen = self.team_for(command, (t for p in self.proposals for t in asked(p)))
        if isinstance(chosen, Result):
            return chosen
        team, github_team = chosen
        proof = evidence(self.author, github_team, CHECKED_BY)
        applied = []
        for proposal in self.proposals:
            if team in asked(proposal):
                act(proposal, team, proof)
                applied.append(proposal)
        names = ", ".join(p.contract_id for p in applied)
        return Result(command.source, True, f"{done} for team {team} on {names}", applied)


def _not_asked(named: str, affected: Sequence[str]) -> str:
    asked = ", ".join(affected) or "none"
    return f"`{named}` is not a team this change asks (it asks: {asked})"


def ended(proposals: Sequence[Proposal]) -> str:
    """Why a decision on proposals that all ended is refused, in words."""
    parts = []
    for proposal in proposals:
        if proposal.state == "published":
            how = f"was published as {proposal.published_version}"
        elif proposal.state == "withdrawn":
            how = "was withdrawn"
        else:
            how = f"is {proposal.state}"
        parts.append(f"the {proposal.contract_id} proposal {how}")
    return f"nothing to decide: {'; '.join(parts)}, and it takes no more decisions"


_PROPOSAL_ID = re.compile(r"\bproposal (\d+)\b")


def humane(message: str, proposals: Sequence[Proposal]) -> str:
    """A workflow refusal as a person reads it: "proposal 9" becomes "the orders-api
    proposal" (internal ids mean nothing on GitHub)."""
    names = {p.id: p.contract_id for p in proposals}

    def named(match: re.Match[str]) -> str:
        contract = names.get(int(match.group(1)))
        return f"the {contract} proposal" if contract else "this proposal"

    return _PROPOSAL_ID.sub(named, message).strip()


def _github_teams(session: Session, teams: Sequence[str]) -> dict[str, str]:
    rows = session.scalars(select(Team).where(Team.id.in_(list(teams))))
    return {row.id: row.github_team for row in rows}


def _resolve(wanted: str, github: dict[str, str]) -> str | None:
    """A team named by its registry id, its GitHub ``org/slug`` or its slug."""
    wanted = wanted.strip().lstrip("@").lower()
    for team, slug in github.items():
        if wanted in (team.lower(), slug.lower(), slug.lower().partition("/")[2]):
            return team
    return None


def _required(proposal: Proposal) -> list[str]:
    return list(proposal.required)


def _concerned(proposal: Proposal) -> list[str]:
    return [*proposal.required, *proposal.informed]


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), UTC)


NOTHING_TO = {
    "ack cancel": "no team has an acknowledgement or a block to cancel on this change",
    "unhold": "no team holds this change",
}
"""Why a command has nothing to act on, when no team of the change is in the state it
undoes."""
ACK_KINDS = {"ack": "approved", "ack migrating": "migrating", "block": "blocked"}
DONE = {"approved": "acknowledged", "migrating": "acknowledged (migrating)", "blocked": "blocked"}


def past_migration_date(day: date, now: datetime) -> str | None:
    """Why ``--until day`` cannot be a migration's target date (that day is over, in UTC), or
    None."""
    if _end_of(day) > now:
        return None
    return (
        f"the migration date {day.isoformat()} is in the past (today is "
        f"{now.date().isoformat()} UTC): give the day you expect to have migrated, "
        "`--until YYYY-MM-DD`"
    )


def _ack(ctx: Context, command: Command) -> Result:
    kind = ACK_KINDS[command.kind]
    until = None
    if kind == "migrating" and command.until is not None:
        refused = past_migration_date(command.until, utcnow())
        if refused:
            return Result(command.source, False, refused)
    if kind == "migrating":
        until = _end_of(command.until) if command.until else utcnow() + MIGRATING_DEFAULT
    reason, actor = command.reason, ctx.author.login

    def act(proposal: Proposal, team: str, proof: dict[str, Any]) -> object:
        return acknowledge(ctx.session, proposal.id, team, actor, kind, reason, until, proof)

    return ctx.decide(command, _required, act, DONE[kind])


def _cancel(ctx: Context, command: Command) -> Result:
    actor = ctx.author.login

    def asked(proposal: Proposal) -> list[str]:
        return [t for t in proposal.required if t in active_acks(proposal)]

    def act(proposal: Proposal, team: str, proof: dict[str, Any]) -> object:
        return cancel_ack(ctx.session, proposal.id, team, actor, proof)

    return ctx.decide(command, asked, act, "acknowledgement cancelled")


def _hold(ctx: Context, command: Command) -> Result:
    actor, reason = ctx.author.login, command.reason

    def act(proposal: Proposal, team: str, proof: dict[str, Any]) -> object:
        return hold(ctx.session, proposal.id, team, actor, reason, proof)

    return ctx.decide(command, _concerned, act, "held")


def _unhold(ctx: Context, command: Command) -> Result:
    actor = ctx.author.login

    def asked(proposal: Proposal) -> list[str]:
        return [t for t in _concerned(proposal) if t in active_holds(proposal)]

    def act(proposal: Proposal, team: str, proof: dict[str, Any]) -> object:
        return unhold(ctx.session, proposal.id, team, actor, proof)

    return ctx.decide(command, asked, act, "hold lifted")


# --- maintainers and admins ---------------------------------------------------------------


def _admin(ctx: Context) -> str | None:
    """The admin team ("org/slug") when the author is an active member of it."""
    team = ctx.settings.github_admin_team
    if team and ctx.membership.member(team, ctx.author.login):
        return team
    return None


def _waive(ctx: Context, command: Command) -> Result:
    text, login = command.source, ctx.author.login
    assert command.team is not None and command.until is not None and command.reason
    affected = sorted({t for p in ctx.proposals for t in p.required})
    github = _github_teams(ctx.session, affected)
    team = _resolve(command.team, github)
    if team is None:
        return Result(text, False, _not_asked(command.team, affected))
    row = ctx.session.get(Team, team)
    maintainers = {m.lower() for m in (row.maintainers if row is not None else [])}
    if login.lower() in maintainers:
        proof = evidence(ctx.author, github.get(team), f"maintainers of teams/{team}.yaml")
    elif (admin := _admin(ctx)) is not None:
        proof = evidence(ctx.author, admin, CHECKED_BY + " of the admin team")
    else:
        admin = ctx.settings.github_admin_team
        also = f" and the members of the admin team `{admin}`" if admin else ""
        return Result(
            text,
            False,
            f"@{login} may not waive {team}: only its maintainers (`maintainers` in "
            f"`teams/{team}.yaml` of the registry){also} may",
        )
    until = _end_of(command.until)
    applied = [p for p in ctx.proposals if team in p.required]
    for proposal in applied:
        waive(ctx.session, proposal.id, team, login, command.reason, until, proof)
    names = ", ".join(p.contract_id for p in applied)
    return Result(
        text, True, f"team {team} waived until {command.until.isoformat()} on {names}", applied
    )


def _force(ctx: Context, command: Command) -> Result:
    admin = _admin(ctx)
    if admin is None:
        team = ctx.settings.github_admin_team
        who = (
            f"only the members of the admin team `{team}` may"
            if team
            else "nobody may, since no admin team is configured (`TESSERA_GITHUB_ADMIN_TEAM`)"
        )
        return Result(command.source, False, f"@{ctx.author.login} may not force-publish: {who}")
    proof = evidence(ctx.author, admin, CHECKED_BY + " of the admin team")
    for proposal in ctx.proposals:
        force_publish(ctx.session, proposal.id, ctx.author.login, command.reason or "", proof)
    names = ", ".join(p.contract_id for p in ctx.proposals)
    return Result(command.source, True, f"force-published {names}", list(ctx.proposals))


# --- open to anyone ------------------------------------------------------------------------


def _recheck(ctx: Context, command: Command) -> Result:
    return Result(command.source, True, "judged again", list(ctx.proposals))


def _status(ctx: Context, command: Command) -> Result:
    """Per proposal: where it stands (what it waits on, or how it ended) and, per team, its
    standing and the declared usages that break for it (the spec judged again)."""
    from . import checks, lifecycle, render, standing
    from .proposal_issues import impact_of_proposal

    sections = []
    for proposal in ctx.proposals:
        live = proposal.state in LIVE
        impact = impact_of_proposal(ctx.session, ctx.gh, proposal)
        slugs = _github_teams(ctx.session, sorted(proposal.required))
        sections.append(
            render.ContractSection(
                contract_id=proposal.contract_id,
                verdict="breaking" if proposal.breaking else "safe",
                required_bump=proposal.bump,
                teams=standing.team_rows(proposal, standing.broken_usages(impact), slugs),
                current_version=proposal.current_version,
                proposed_version=proposal.published_version or proposal.proposed_version,
                proposal_url=checks.proposal_issue_url(ctx.session, ctx.gh, proposal),
                breaking=len(proposal.breaking),
                proposal_state=proposal.state if live else None,
                waiting_on=standing.waiting_on(proposal) if live else (),
                no_ack_reason=standing.no_ack_reason(proposal, impact) if live else None,
                forced_by=proposal.forced_by,
                force_reason=proposal.force_reason,
                ending=lifecycle.ending_of(ctx.session, proposal),
                origin=lifecycle.origin_of(ctx.session, ctx.gh, proposal),
            )
        )
    return Result(command.source, True, "status", kind="status", sections=sections)


def _help(ctx: Context, command: Command) -> Result:
    return Result(command.source, True, "the commands are listed below", kind="help")


def _version(ctx: Context, command: Command) -> Result:
    """The producer's version (``versions.give_version``): it needs no proposal (a compatible
    change has none), and is applied at most once per comment by its own record."""
    from .versions import give_version

    return give_version(ctx, command)


VERBS: dict[str, Callable[[Context, Command], Result]] = {
    "ack": _ack,
    "ack migrating": _ack,
    "block": _ack,
    "ack cancel": _cancel,
    "hold": _hold,
    "unhold": _unhold,
    "waive": _waive,
    "force-publish": _force,
    "recheck": _recheck,
    "status": _status,
    "help": _help,
    "version": _version,
}
OPEN_VERBS = frozenset({"recheck", "status", "help", "version"})


def _reply(
    gh: Installation,
    repo: str,
    number: int,
    source_id: int,
    results: Sequence[Result],
    settings: Settings,
) -> None:
    """One reply comment for a comment's (or review's) commands, found again by its marker."""
    from . import render

    parts = []
    for result in results:
        kind = result.kind or ("accepted" if result.accepted else "refused")
        view = render.ReplyView(
            kind=kind,
            command=result.command,
            message=result.message,
            suggestion=result.suggestion,
            status=tuple(result.sections),
            admin_team=settings.github_admin_team,
        )
        parts.append(render.command_reply(view))
    marker = reply_marker(source_id)
    body = "\n\n---\n\n".join(parts)[: render.COMMENT_LIMIT - len(marker) - 1]
    gh.upsert_comment(repo, number, marker, marker + "\n" + body)


# --- reviews --------------------------------------------------------------------------------


def on_review(
    session: Session, gh: Installation, event: ReviewEvent, settings: Settings
) -> list[Result]:
    """An approving review by a member of an affected team acknowledges for that team;
    "changes requested" blocks with the review's body as the reason; a dismissed review
    cancels the acknowledgement it made."""
    review = event.review
    if _is_bot(review.user.login, review.user.is_bot, settings):
        return []
    repo, number = event.repository.full_name, event.pull_request.number
    author = Author(
        review.user.login, repo, number, "pull_request_review", review.id, event.installation_id
    )
    if event.action == "dismissed":
        return _dismissed(session, gh, author, settings)
    if event.action != "submitted" or review.state not in ("approved", "changes_requested"):
        return []
    proposals = targets(session, gh, repo, number, True, settings)
    if not proposals:
        return []
    context = Context(session, gh, settings, author, Membership(gh), proposals)
    text = f"review {review.id} ({review.state})"
    if review.state == "approved":
        command = Command("ack", 0, text)
    else:
        reason = review.body.strip() or f"changes requested in review {review.id}"
        command = Command("block", 0, text, reason=reason[:MAX_REASON])
    result = context.apply(command)
    if result.accepted:
        refresh(session, gh, result.proposals, settings)
    elif "several" in result.message:  # a non-member's review is ordinary code review: silent
        _reply(gh, repo, number, review.id, [result], settings)
    return [result]


def _dismissed(
    session: Session, gh: Installation, author: Author, settings: Settings
) -> list[Result]:
    cancelled: list[Proposal] = []
    for proposal in pull_request_proposals(session, author.repo, author.number):
        for team, ack in active_acks(proposal).items():
            made = ack.evidence
            if (
                made.get("source") == "pull_request_review"
                and made.get("source_id") == author.source_id
            ):
                proof = evidence(author, made.get("github_team"), "the review was dismissed")
                cancel_ack(session, proposal.id, team, SYSTEM_DISMISS, proof)
                cancelled.append(proposal)
    if cancelled:
        refresh(session, gh, cancelled, settings)
    text = f"review {author.source_id} dismissed"
    return [Result(text, True, "acknowledgement cancelled", cancelled)] if cancelled else []


SYSTEM_DISMISS = "tessera-github"


# --- after decisions ----------------------------------------------------------------------


def refresh(
    session: Session, gh: Installation, proposals: Iterable[Proposal], settings: Settings
) -> None:
    """Judge each pull request concerned again (checks, sticky comment, proposal issue), once;
    publish a direct-push proposal that became approved."""
    from . import checks, publish

    seen: set[tuple[str, int]] = set()
    for proposal in proposals:
        if proposal.pull_request < 0:
            if proposal.state == "approved":
                publish.publish_direct(session, gh, proposal, settings)
            else:
                publish.sync_direct_issue(session, gh, proposal, settings)
            continue
        key = (proposal.contract_id if proposal.state not in LIVE else "", proposal.pull_request)
        if key in seen:
            continue
        seen.add(key)
        checks.refresh_checks(session, gh, proposal, settings)


# --- the proposal issue closed by hand ----------------------------------------------------


def on_issues(session: Session, gh: Installation, event: IssuesEvent, settings: Settings) -> bool:
    """A proposal issue closed by hand while its proposal is still live is reopened: the
    proposal ends by merge, withdrawal or expiry, and decisions are made with commands.
    True when it was reopened."""
    repo = event.repository.full_name
    if event.action != "closed" or not settings.registry_repo or repo != settings.registry_repo:
        return False
    row = session.scalars(
        select(ProposalIssue).where(
            ProposalIssue.repo == repo, ProposalIssue.issue == event.issue.number
        )
    ).first()
    if row is None or row.closed:
        return False  # not ours, or closed by us
    proposal = session.get(Proposal, row.proposal_id)
    if proposal is None or proposal.state not in LIVE:
        return False
    gh.update_issue(repo, event.issue.number, state="open")
    log.info("proposal issue %s#%s closed by hand: reopened", repo, event.issue.number)
    return True
