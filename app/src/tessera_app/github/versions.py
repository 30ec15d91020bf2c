"""The producer's version of a change on GitHub, and the ``/tessera version`` command.

Where the version of a contract in a pull request comes from, the first that gives one wins:

1. the spec itself, when its format has a place for the version and it holds a semantic
   version (``spec_versions``: OpenAPI/Swagger ``info.version``, JSON Schema ``x-version``, an
   Avro record's ``version``): what is published then says the same as the registry;
2. ``/tessera version 3.0.0-rc.1 [--contract ID]`` on the pull request or its proposal issue, by
   an active member of the contract's owner team (the producer), remembered per pull request
   and contract (``pull_request_versions``) and audited (``version.given``);
3. the pull request title ending in ``[v3.0.0]`` (or ``[3.0.0]``), when whoever opened the pull
   request is an active member of the owner team.

A contract versioned ``auto`` takes none of them: the registry picks its version. A value that
is not a semantic version, a title tag by someone outside the owner team, or a version that
another source overrides is reported in the check's notes, never guessed or used silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from tessera_engine.errors import UsageError
from tessera_engine.semver import parse

from .. import audit
from ..api.registry_engine import ProposedSpec, settings_of
from ..db.base import utcnow
from ..db.github_models import PullRequestVersion
from ..db.registry_models import Contract, RegistrySettings, Team
from ..spec_versions import declared_version, place_of
from ..version_judgement import Ask, Found, ProducerVersion
from .acks import CHECKED_BY, Membership, Result, evidence

if TYPE_CHECKING:
    from .acks import Context
    from .commands import Command
    from .gateway import PullRequestInfo

SPEC, COMMAND, TITLE = "spec", "command", "title"
TITLE_TAG = re.compile(r"\[\s*[vV]?(?P<version>\d[^\]\s]*)\s*\]\s*$")
"""A version at the very end of a pull request title: ``Drop Order.total [v3.0.0]``."""


def title_version(title: str) -> str | None:
    """The version a title ends with (as written, without the ``v``), if it ends with one."""
    match = TITLE_TAG.search(title)
    return match.group("version") if match else None


def versioning_of(session: Session, contract: Contract) -> str:
    """The contract's versioning policy, its own or the registry's default."""
    return contract.versioning or settings_of(session.get(RegistrySettings, 1)).versioning


def owner_team(session: Session, contract: Contract) -> str | None:
    """The GitHub team (``org/slug``) of the team that owns ``contract``."""
    team = session.get(Team, contract.owner_id)
    return team.github_team if team is not None else None


@dataclass(frozen=True)
class PullRequest:
    """What the version sources need of a pull request: where it is, its title and author."""

    repo: str
    number: int
    title: str = ""
    author: str | None = None


def producer_version(
    session: Session,
    contract: Contract,
    spec: ProposedSpec,
    pull: PullRequest | None,
    membership: Membership,
) -> Found:
    """The version the producer gives ``contract`` (spec, command, title: the first wins) and
    reports about the values not used. ``pull`` None: a direct push (the spec alone)."""
    if versioning_of(session, contract) == "auto":
        return Found()
    reports: list[str] = []
    candidates: list[ProducerVersion] = []
    declared = declared_version(contract.format, spec.files, spec.document)
    if declared is not None and declared.version is not None:
        candidates.append(ProducerVersion(declared.version, declared.where, SPEC))
    elif declared is not None and declared.problem is not None:
        reports.append(declared.problem)
    if pull is not None:
        row = given(session, contract.id, pull.repo, pull.number)
        if row is not None and row.given_version:
            where = f"`/tessera version` by @{row.given_by}"
            candidates.append(ProducerVersion(row.given_version, where, COMMAND))
        # who opened the pull request is asked about only when the title would count
        titled = _from_title(session, contract, pull, membership if not candidates else None)
        if isinstance(titled, str):
            reports.append(titled)
        elif titled is not None:
            candidates.append(titled)
    if not candidates:
        return Found(None, tuple(reports))
    used = candidates[0]
    for other in candidates[1:]:
        if other.version != used.version:
            reports.append(f"{other.version} ({other.where}) is not used: {used.where} wins")
    return Found(used, tuple(reports))


def _from_title(
    session: Session, contract: Contract, pull: PullRequest, membership: Membership | None
) -> ProducerVersion | str | None:
    """The title's version, or why it cannot be used (a report). ``membership`` None: another
    source wins anyway, the author is not asked about."""
    written = title_version(pull.title)
    if written is None:
        return None
    try:
        version = str(parse(written))
    except UsageError:
        return (
            f"the title's `[v{written}]` is not a semantic version (MAJOR.MINOR.PATCH, e.g. "
            "1.4.0 or 2.0.0-rc.1), so it is not used"
        )
    titled = ProducerVersion(version, "the pull request title", TITLE)
    if membership is None:
        return titled
    team = owner_team(session, contract)
    author = pull.author or ""
    if team is None or not author or not membership.member(team, author):
        return (
            f"the title's `[v{written}]` is not used: @{author or '?'}, who opened the pull "
            f"request, is not a member of {team or contract.owner_id}, the team that owns "
            f"{contract.id}"
        )
    return titled


def ask_for(contract: Contract, found: Found, pull: PullRequest | None) -> Ask:
    """How the check tells the producer of ``contract`` to give the version it needs."""
    place = place_of(contract.format)
    source = found.version.source if found.version is not None else None

    def ask(needed: str) -> str:
        if source == SPEC:
            return f"write {needed} there"
        if source == COMMAND:
            return f"comment `/tessera version {needed}`"
        if source == TITLE:
            return f"end the pull request title with `[v{needed}]`"
        by_pull_request = (
            f"comment `/tessera version {needed}` on the pull request (a member of the team "
            f"that owns {contract.id}) or end its title with `[v{needed}]`"
        )
        if place is not None and pull is None:
            return f"declare {needed} in the spec's {place}"
        if place is not None:
            return f"declare {needed} in the spec's {place}, or {by_pull_request}"
        if pull is None:
            return f"give {needed} through a pull request: {by_pull_request}"
        return by_pull_request

    return ask


# --- what is remembered per pull request and contract -----------------------------------------


def given(session: Session, contract_id: str, repo: str, number: int) -> PullRequestVersion | None:
    return session.get(PullRequestVersion, (contract_id, repo, number))


def record_judged(
    session: Session, contract_id: str, repo: str, number: int, head_sha: str, version: str
) -> None:
    """Remember the version the check of ``head_sha`` showed as what merging publishes."""
    row = given(session, contract_id, repo, number)
    if row is None:
        row = PullRequestVersion(contract_id=contract_id, repo=repo, pull_request=number)
        session.add(row)
    elif row.judged_head_sha == head_sha and row.judged_version == version:
        return
    row.judged_head_sha, row.judged_version, row.judged_at = head_sha, version, utcnow()
    session.flush()


def judged_note(
    session: Session, contract_id: str, repo: str, number: int, publishing: str
) -> str | None:
    """A note for a merge that publishes another version than its last check showed."""
    row = given(session, contract_id, repo, number)
    if row is None or row.judged_version is None or row.judged_version == publishing:
        return None
    return (
        f"the check of {(row.judged_head_sha or '')[:12]} showed that merging publishes "
        f"{row.judged_version}; at the merge, {publishing} is published"
    )


# --- the command ----------------------------------------------------------------------------------


def give_version(ctx: Context, command: Command) -> Result:
    """``/tessera version VERSION [--contract ID]``: record the version of the contracts the
    pull request changes that the author's team owns, then judge the pull request again."""
    from .pull_requests import changed_contracts, evaluate

    text, version = command.source, command.version or ""
    where = _pull_request_of(ctx, text)
    if isinstance(where, Result):
        return where
    repo, number = where
    pr = ctx.gh.pull_request(repo, number)
    if pr.state != "open":
        return Result(text, False, f"{repo}#{number} is closed: its version is settled")
    changed = changed_contracts(ctx.session, repo, pr, ctx.gh.pull_request_files(repo, number))
    if ctx.author.repo == ctx.settings.registry_repo:  # the proposal issue: its contract only
        changed = [c for c in changed if c.id in {p.contract_id for p in ctx.proposals}]
    if command.contract is not None:
        changed = [c for c in changed if c.id == command.contract]
        if not changed:
            return Result(
                text, False, f"`{command.contract}` is not a contract this pull request changes"
            )
    if not changed:
        return Result(text, False, "this pull request changes no registered contract")
    accepted: list[str] = []
    refused: list[str] = []
    for contract in changed:
        why = _may_not_give(ctx, contract, pr)
        if why is not None:
            refused.append(why)
            continue
        _record(ctx, contract, repo, number, version)
        accepted.append(contract.id)
    if not accepted:
        return Result(text, False, "; ".join(refused))
    evaluate(ctx.session, ctx.gh, repo, number, ctx.settings)
    message = f"version {version} recorded for {', '.join(accepted)}"
    if refused:
        message += f" (not for: {'; '.join(refused)})"
    return Result(text, True, message)


def _pull_request_of(ctx: Context, text: str) -> tuple[str, int] | Result:
    """The pull request a command is about: the one commented on, or the proposal issue's."""
    if not ctx.settings.registry_repo or ctx.author.repo != ctx.settings.registry_repo:
        return ctx.author.repo, ctx.author.number
    if not ctx.proposals:
        return Result(text, False, "this issue is not a proposal issue")
    proposal = ctx.proposals[0]
    if proposal.pull_request < 0:
        return Result(
            text,
            False,
            "a direct push has no pull request to give a version in: it publishes the version "
            "its spec declares, or the next one the contract's policy picks",
        )
    contract = ctx.session.get(Contract, proposal.contract_id)
    if contract is None:
        return Result(text, False, f"{proposal.contract_id} is no longer in the registry")
    return contract.source_repo, proposal.pull_request


def _may_not_give(ctx: Context, contract: Contract, pr: PullRequestInfo) -> str | None:
    """Why the author may not give ``contract``'s version here, or None."""
    from .pull_requests import MissingSpec, read_spec

    if versioning_of(ctx.session, contract) == "auto":
        return f"{contract.id} is versioned automatically (versioning: auto)"
    team = owner_team(ctx.session, contract)
    login = ctx.author.login
    if team is None or not ctx.membership.member(team, login):
        return (
            f"@{login} is not a member of {team or contract.owner_id}, the team that owns "
            f"{contract.id}"
        )
    try:
        files = read_spec(ctx.gh, contract.source_repo, pr.head_sha, contract.source_paths)
    except MissingSpec:
        return None  # the check reports the missing spec; the version waits for it
    declared = declared_version(contract.format, files)
    if declared is not None and declared.version is not None:
        return (
            f"{contract.id}'s spec declares its version ({declared.where} says "
            f"{declared.version}): change it there"
        )
    return None


def _record(ctx: Context, contract: Contract, repo: str, number: int, version: str) -> None:
    row = given(ctx.session, contract.id, repo, number)
    source_id = ctx.author.source_id
    if row is not None and row.given_comment_id == source_id and row.given_version == version:
        return  # this comment, applied again (the job ran twice)
    team = owner_team(ctx.session, contract)
    previous = row.given_version if row is not None else None
    if row is None:
        row = PullRequestVersion(contract_id=contract.id, repo=repo, pull_request=number)
        ctx.session.add(row)
    row.given_version, row.given_by, row.given_team = version, ctx.author.login, team
    row.given_comment_id, row.given_at = source_id, utcnow()
    audit.record(
        ctx.session,
        action="version.given",
        actor=ctx.author.login,
        team=contract.owner_id,
        subject=f"pull_request:{repo}#{number}",
        details={
            "contract": contract.id,
            "version": version,
            "previous": previous,
            "evidence": evidence(ctx.author, team, CHECKED_BY),
        },
    )
    ctx.session.flush()
