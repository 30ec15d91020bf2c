"""Publishing: a merged pull request (or an approved direct push) becomes a registry version.

    on_pull_request_closed(session, gh, event, settings)   closed: merged -> publish,
                                                           unmerged -> withdraw
    on_push(session, gh, event, settings)                  a push to a producer's default
                                                           branch: a direct push is judged
                                                           after a grace period
    judge_direct_push(session, gh, push, settings)         the ``github.direct_push`` job
    publish_direct(session, gh, proposal, settings)        an approved direct-push proposal

Publishing one pull request (each step's writes commit before the next GitHub call, and a job
run again converges):

1. per contract the pull request changed (or that has a proposal for it), the spec is read at
   the merge commit and the workflow's ``close(..., merged=True, merge_commit)`` publishes it
   exactly once per merge commit (a repeated event or a retried job returns the proposal
   unchanged) and records it in the mirror (``mirror.record_version``);
2. every new ``contracts/<id>/versions/<version>.json`` (the engine's ``registry.versions``
   JSON, from the mirror row) goes into the registry repository in ONE commit through the
   gateway's ``commit_files``, whose message names the pull request. A version file already in
   the registry is never written again, so a job retried after its commit landed makes no
   second commit; a commit that keeps failing is written by reconciliation (``restore``);
3. the proposal issue is closed with a summary and the checks are finished (``success``).

A direct push of a breaking change to the default branch cannot be blocked: it opens a proposal
keyed by a negative "pull request" number derived from the pushed commit (there is no pull
request), discussed on its proposal issue; the registry keeps the old version active until the
proposal is approved (every team acknowledged) or force-published, and then publishes it. A
push that is the merge of a pull request is left to the pull request's ``closed`` event: it is
recognised by a publication at that commit, or by GitHub's record of the merged pull request
that brought the commit (``GET /repos/{owner}/{repo}/commits/{sha}/pulls``; a commit message
proves nothing), after a grace period (``DIRECT_PUSH_GRACE``) that lets the ``closed`` event
arrive first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tessera_engine.errors import TesseraError
from tessera_engine.registry.impact_result import ImpactResult
from tessera_engine.registry.versions import dumps

from ..api.registry_engine import ProposedSpec, contract_of, versions_of
from ..db.base import utcnow
from ..db.registry_models import Contract, ContractVersion
from ..db.workflow_models import Proposal, Publication
from ..mirror import published_version
from ..queue import PermanentError, enqueue
from ..settings import Settings
from ..version_judgement import judge_change, summary_of
from ..workflow import ImpactSummary, PublishedSpec, close, find, open_or_update
from ..workflow_state import LIVE
from ..workflow_versions import latest_version, publish_version
from . import crashes, lifecycle, versions
from .acks import Membership
from .gateway_types import GitHubError

if TYPE_CHECKING:
    from .gateway import Installation
    from .payloads import PullRequestEvent, PushEvent

log = logging.getLogger(__name__)

DIRECT_PUSH_GRACE = timedelta(seconds=120)
"""How long a push to a default branch waits before it is judged as a direct push (a pull
request's merge push is normally followed at once by its ``closed`` event)."""
DIRECT_PUSH_JOB = "github.direct_push"
ACTOR = "tessera-github"


@dataclass
class Published:
    """What one publish did: the proposals published and the registry commit (if any)."""

    proposals: list[Proposal] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # registry path -> text
    commit: str | None = None  # the registry commit made now (None: nothing new to write)


# --- pull requests ---------------------------------------------------------------------------


def on_pull_request_closed(
    session: Session, gh: Installation, event: PullRequestEvent, settings: Settings
) -> Published | None:
    """A pull request closed: merged, publish what it changed; unmerged, withdraw its
    proposals. The pull request is re-read from GitHub (events arrive late and out of order)."""
    if event.action != "closed":
        return None
    repo, number = event.repository.full_name, event.pull_request.number
    if settings.registry_repo and repo == settings.registry_repo:
        from . import registry_prs

        if event.merged:
            registry_prs.on_registry_merged(session, gh, event, settings)
        return None
    pr = gh.pull_request(repo, number)
    if pr.state == "open":
        return None  # reopened since: the reopened event judges it again
    if not pr.merged:
        withdraw(session, gh, repo, number, settings)
        return None
    if not pr.merge_commit_sha:  # merged, but where to: never a withdrawal, retried instead
        raise GitHubError(
            502, f"{repo}#{number} is merged but GitHub gave no merge_commit_sha: not published yet"
        )
    files = gh.pull_request_files(repo, number)
    contracts = _contracts_of(session, repo, pr.base_ref, number, files)
    result = Published()
    pull = versions.PullRequest(repo, number, pr.title, pr.author)
    for contract in contracts:
        proposal = _publish_contract(
            session, gh, contract, number, pr.merge_commit_sha, settings, pull
        )
        if proposal is not None:
            result.proposals.append(proposal)
    message = _message(session, result.proposals, f"{repo}#{number}", pr.title)
    _commit(session, gh, result, message, settings)
    finish(session, gh, result.proposals, settings, result.commit)
    return result


def withdraw(
    session: Session, gh: Installation, repo: str, number: int, settings: Settings
) -> list[Proposal]:
    """Withdraw the live proposals of a pull request closed without merging."""
    withdrawn = []
    for proposal in _proposals_of(session, repo, number):
        if proposal.state not in (*LIVE, "expired"):
            continue
        withdrawn.append(close(session, proposal.id, False, actor=ACTOR))
    finish(session, gh, withdrawn, settings)
    return withdrawn


def _contracts_of(
    session: Session, repo: str, base_ref: str, number: int, files: Iterable[str]
) -> list[Contract]:
    """The contracts the merged pull request changed, and those with a proposal for it."""
    from .pull_requests import touches

    changed = list(files)
    with_proposal = {p.contract_id for p in _proposals_of(session, repo, number)}
    rows = session.scalars(
        select(Contract).where(Contract.source_repo == repo).order_by(Contract.id)
    ).all()
    return [
        row
        for row in rows
        if row.id in with_proposal
        or (row.source_branch == base_ref and touches(row.source_paths, changed))
    ]


def _proposals_of(session: Session, repo: str, number: int) -> list[Proposal]:
    """The current proposal (any state) of each contract of ``repo`` for pull request
    ``number``."""
    return list(
        session.scalars(
            select(Proposal)
            .join(Contract, Contract.id == Proposal.contract_id)
            .where(
                Contract.source_repo == repo,
                Proposal.pull_request == number,
                Proposal.live_key.is_not(None),
            )
            .order_by(Proposal.contract_id)
        )
    )


def _publish_contract(
    session: Session,
    gh: Installation,
    contract: Contract,
    number: int,
    commit: str,
    settings: Settings,
    pull: versions.PullRequest | None = None,
) -> Proposal | None:
    """Publish ``contract`` as of ``commit`` for ``number`` (a pull request, or a direct
    push's key): its proposal closes as published, the mirror records the version. None when
    the spec did not change (nothing to publish). The version is the one the change was judged
    with (``workflow_versions``); a merge that publishes another one than its pull request's
    last check showed says so in the publication's notes."""
    from .pull_requests import MissingSpec, read_spec

    try:
        files = read_spec(gh, contract.source_repo, commit, contract.source_paths)
    except MissingSpec as err:
        log.warning("not published: %s", err)
        return None
    proposal = find(session, contract.id, number)
    if proposal is None or proposal.state not in (*LIVE, "expired", "published"):
        summary = _summary(session, gh, contract, files, pull, (number, commit))
        if summary is None:
            return None  # the spec is the active version's: nothing to publish
        proposal = open_or_update(
            session,
            contract.id,
            number,
            commit,
            summary,
            actor=ACTOR,
            timeout_days=settings.proposal_timeout_days,
        )
    if pull is not None and proposal.state != "published":
        publishing, _ = publish_version(proposal, latest_version(session, contract.id))
        note = versions.judged_note(session, contract.id, pull.repo, number, publishing)
        if note is not None and note not in proposal.notes:
            proposal.notes = [*proposal.notes, note]
    spec = PublishedSpec(files=files, repo=contract.source_repo, paths=tuple(sorted(files)))
    return close(session, proposal.id, True, commit, spec=spec, actor=ACTOR)


def _summary(
    session: Session,
    gh: Installation,
    contract: Contract,
    files: Mapping[str, str],
    pull: versions.PullRequest | None,
    at: tuple[int, str],
) -> ImpactSummary | None:
    """The impact of a change that had no proposal (compatible, or a missed webhook); None when
    the files are those of the active version."""
    judged = _judge(session, gh, contract, files, pull, at)
    return judged[0] if judged is not None else None


def _judge(
    session: Session,
    gh: Installation,
    contract: Contract,
    files: Mapping[str, str],
    pull: versions.PullRequest | None,
    at: tuple[int, str],
) -> tuple[ImpactSummary, ImpactResult | None] | None:
    """The change judged with the producer's version (the spec's own, and for a pull request
    ``/tessera version`` or its title), as its check judges it; None when the files are the
    newest published version's or do not parse. A spec that crashes Tessera (``at``: the pull
    request's number, or a direct push's key, and the commit) is reported as a check's crash
    is, and its job dead-lettered at once: no retry mends it, and the dead letter keeps the
    publication visible and replayable once the bug is fixed."""
    published = versions_of(session, contract.id)
    if published and dict(published[-1].files) == dict(files):
        return None
    spec = ProposedSpec(contract_of(contract), files)
    found = versions.producer_version(session, contract, spec, pull, Membership(gh))
    try:
        judged = judge_change(
            session, contract.id, spec, found, versions.ask_for(contract, found, pull)
        )
    except TesseraError as err:
        log.warning("%s: not published, the spec does not parse: %s", contract.id, err)
        return None
    except Exception as err:  # a bug met on this spec
        if crashes.transient(err):
            raise
        number, commit = at
        crash = crashes.Crash(contract.id, contract.source_repo, number, commit, contract.owner_id)
        raise PermanentError(crashes.report(session, err, crash)) from err
    return summary_of(judged), judged.impact


# --- the registry commit ---------------------------------------------------------------------


def version_path(contract_id: str, version: str) -> str:
    return f"contracts/{contract_id}/versions/{version}.json"


def version_file(session: Session, proposal: Proposal) -> tuple[str, str] | None:
    """The registry file of a published proposal's version, from the mirror row."""
    if proposal.state != "published" or not proposal.published_version:
        return None
    row = session.scalars(
        select(ContractVersion).where(
            ContractVersion.contract_id == proposal.contract_id,
            ContractVersion.version == proposal.published_version,
        )
    ).one_or_none()
    if row is None:
        return None  # not mirrored (the publication's notes say why)
    return version_path(row.contract_id, row.version), dumps(published_version(row))


def restore(
    session: Session, gh: Installation, rows: Sequence[ContractVersion], settings: Settings
) -> str | None:
    """Write back the version files of ``rows`` (versions the App published) that the registry
    branch lacks, in one commit (audit trailers included); the commit, or None when nothing
    was missing. A publication whose registry commit failed, or a version file someone
    removed, is how the registry comes to lack one: what was published stays published."""
    from ..audit import record
    from ..audit_checkpoints import committed_head
    from ..audit_trailers import with_trailers

    if not settings.registry_repo:
        return None
    files = {
        version_path(row.contract_id, row.version): dumps(published_version(row))
        for row in rows
        if gh.read_file(
            settings.registry_repo,
            version_path(row.contract_id, row.version),
            settings.registry_branch,
        )
        is None
    }
    if not files:
        return None
    names = ", ".join(f"{row.contract_id} {row.version}" for row in rows)
    for row in rows:
        if version_path(row.contract_id, row.version) in files:
            record(
                session,
                action="registry.version.restored",
                actor=ACTOR,
                subject=f"contract:{row.contract_id}@{row.version}",
                details={"registry": settings.registry_repo, "commit": row.source_commit},
            )
    message = (
        f"Restore {names}: published by Tessera, missing from {settings.registry_branch}\n\n"
        "What was published stays published: these version files are written back as they were "
        "published (the source commit and pull request are inside each file).\n"
    )
    message = with_trailers(message, committed_head(session))
    return gh.commit_files(settings.registry_repo, settings.registry_branch, message, files)


def _commit(
    session: Session, gh: Installation, result: Published, message: str, settings: Settings
) -> None:
    """One registry commit with every version file not already there with the same text; its
    message ends with the audit log's newest committed signed event as git trailers (an
    anchor of the log outside the database: ``audit_trailers``)."""
    from ..audit_checkpoints import committed_head
    from ..audit_trailers import with_trailers

    if not settings.registry_repo:
        log.warning("TESSERA_REGISTRY_REPO is not set: versions recorded in the database only")
        return
    for proposal in result.proposals:
        found = version_file(session, proposal)
        if found is None:
            continue
        path, text = found
        # a version file is never rewritten: one already there is this publication's, written
        # by an earlier attempt of this job whose transaction did not commit
        if gh.read_file(settings.registry_repo, path, settings.registry_branch) is None:
            result.files[path] = text
    if result.files:
        message = with_trailers(message, committed_head(session))
        result.commit = gh.commit_files(
            settings.registry_repo, settings.registry_branch, message, result.files
        )


def _message(
    session: Session, proposals: Sequence[Proposal], origin: str, title: str | None
) -> str:
    """The registry commit's message: what it publishes, from where, and per version its bump,
    the commit it was published at and its proposal issue (the audit trailers follow)."""
    from .proposal_issues import issue_of

    published = [p for p in proposals if p.state == "published"]
    names = ", ".join(f"{p.contract_id} {p.published_version}" for p in published)
    lines = [f"Publish {names or 'nothing'} from {origin}", ""]
    if title:
        lines.append(f"{origin}: {title}")
    for p in published:
        at = "merge commit" if p.pull_request > 0 else "pushed commit"
        row = issue_of(session, p)
        issue = f", proposal issue {row.repo}#{row.issue}" if row is not None else ""
        lines.append(
            f"- {p.contract_id} {p.published_version} ({p.bump}), {at} {p.merge_commit}{issue}"
        )
    return "\n".join(lines).rstrip() + "\n"


def finish(
    session: Session,
    gh: Installation,
    proposals: Sequence[Proposal],
    settings: Settings,
    commit: str | None = None,
) -> None:
    """Close (or update) the proposal issues, finish the checks and the pull request's
    comment (it says how each proposal ended)."""
    from . import checks
    from .pull_requests import post_final_comment

    for proposal in proposals:
        close_issue(session, gh, proposal, commit)
        if proposal.pull_request > 0:
            checks.refresh_checks(session, gh, proposal, settings)
    post_final_comment(session, gh, proposals)


# --- direct pushes ---------------------------------------------------------------------------


def direct_key(commit: str) -> int:
    """The "pull request" number of a direct push's proposal: negative (never a real pull
    request), from the pushed commit."""
    return -(int(commit[:7], 16) + 1)


def on_push(session: Session, gh: Installation, event: PushEvent, settings: Settings) -> None:
    """A push to a producer's default branch that touches a contract's source: judged as a
    direct push after ``DIRECT_PUSH_GRACE`` (the ``github.direct_push`` job)."""
    repo, branch = event.repository.full_name, event.branch
    if event.deleted or branch is None or not event.to_default_branch:
        return
    if settings.registry_repo and repo == settings.registry_repo:
        return  # the registry's own pushes: registry_prs mirrors merged registry changes
    changed = sorted(event.changed_paths) if event.commits else None
    contracts = _pushed_contracts(session, repo, branch, changed)
    if not contracts:
        return
    head = [c.message for c in event.commits if c.id == event.after]
    enqueue(
        session,
        DIRECT_PUSH_JOB,
        {
            "repo": repo,
            "commit": event.after,
            "message": head[0] if head else "",
            "pusher": event.sender.login if event.sender is not None else event.pusher,
            "installation": event.installation_id,
            "contracts": [c.id for c in contracts],
        },
        key=f"push:{repo}@{event.after}",
        run_at=utcnow() + DIRECT_PUSH_GRACE,
    )


def _pushed_contracts(
    session: Session, repo: str, branch: str, changed: Sequence[str] | None
) -> list[Contract]:
    from .pull_requests import touches

    rows = session.scalars(
        select(Contract)
        .where(Contract.source_repo == repo, Contract.source_branch == branch)
        .order_by(Contract.id)
    ).all()
    if changed is None:  # the push's commit list is capped: every contract of the branch
        return list(rows)
    return [row for row in rows if touches(row.source_paths, changed)]


def judge_direct_push(
    session: Session, gh: Installation, push: Mapping[str, Any], settings: Settings
) -> list[Proposal]:
    """The ``github.direct_push`` job: unless the push is a pull request's merge, open (or
    publish at once) a proposal per changed contract."""
    repo, commit = str(push["repo"]), str(push["commit"])
    if _merge_of_pull_request(session, gh, repo, commit):
        return []
    opened = []
    for contract_id in push.get("contracts", []):
        contract = session.get(Contract, contract_id)
        if contract is None:
            continue
        pusher = push.get("pusher")
        proposal = _open_direct(
            session, gh, contract, commit, settings, str(pusher) if pusher else None
        )
        if proposal is not None:
            opened.append(proposal)
    return opened


def _merge_of_pull_request(session: Session, gh: Installation, repo: str, commit: str) -> bool:
    published = session.scalars(
        select(Publication.id).where(Publication.merge_commit == commit).limit(1)
    ).first()
    if published is not None:
        return True
    merged = session.scalars(
        select(Proposal.id).where(Proposal.merge_commit == commit).limit(1)
    ).first()
    if merged is not None:
        return True
    # GitHub's own record of which merged pull request brought the commit (never its message)
    return any(pr.merged for pr in gh.pull_requests_of_commit(repo, commit))


def _open_direct(
    session: Session,
    gh: Installation,
    contract: Contract,
    commit: str,
    settings: Settings,
    pusher: str | None = None,
) -> Proposal | None:
    from .pull_requests import MissingSpec, read_spec

    try:
        files = read_spec(gh, contract.source_repo, commit, contract.source_paths)
    except MissingSpec as err:
        log.warning("direct push not judged: %s", err)
        return None
    key = direct_key(commit)
    judged = _judge(session, gh, contract, files, None, (key, commit))
    if judged is None:
        return None
    summary, impact = judged
    for older in session.scalars(
        select(Proposal).where(
            Proposal.contract_id == contract.id,
            Proposal.pull_request < 0,
            Proposal.pull_request != key,
            Proposal.state.in_(LIVE),
        )
    ):
        close(session, older.id, False, actor=ACTOR)  # a later push replaces it
        close_issue(session, gh, older, replaced_by=commit)
    proposal = open_or_update(
        session,
        contract.id,
        key,
        commit,
        summary,
        actor=ACTOR,
        timeout_days=settings.proposal_timeout_days,
    )
    lifecycle.record_direct_push(session, proposal, contract.source_branch, pusher, ACTOR)
    if proposal.state == "approved":
        publish_direct(session, gh, proposal, settings)
        return proposal
    _sync_issue(session, gh, contract, proposal, impact, settings)
    return proposal


def sync_direct_issue(
    session: Session, gh: Installation, proposal: Proposal, settings: Settings
) -> None:
    """Update the proposal issue of a direct-push proposal after a decision."""
    from .pull_requests import MissingSpec, read_spec

    contract = session.get(Contract, proposal.contract_id)
    if contract is None or proposal.state not in LIVE:
        return
    impact = None
    try:
        files = read_spec(gh, contract.source_repo, proposal.head_sha, contract.source_paths)
        judged = _judge(
            session, gh, contract, files, None, (proposal.pull_request, proposal.head_sha)
        )
        impact = judged[1] if judged is not None else None
    except MissingSpec:
        pass
    _sync_issue(session, gh, contract, proposal, impact, settings)


def _sync_issue(
    session: Session,
    gh: Installation,
    contract: Contract,
    proposal: Proposal,
    impact: ImpactResult | None,
    settings: Settings,
) -> None:
    from . import proposal_issues
    from .pull_requests import Outcome

    outcome = Outcome(
        contract=contract.id,
        repo=contract.source_repo,
        number=proposal.pull_request,
        head_sha=proposal.head_sha,
        paths=tuple(contract.source_paths),
        impact=impact,
        proposal=proposal,
        against=impact.versions.current if impact is not None else None,
        notes=(
            f"a direct push to {contract.source_repo} ({proposal.head_sha[:12]}): it "
            "cannot be blocked, the registry keeps the active version until this is "
            "approved or force-published",
        ),
    )
    proposal_issues.sync(session, gh, outcome, settings)


# --- the proposal issue at the end -----------------------------------------------------------


def close_issue(
    session: Session,
    gh: Installation,
    proposal: Proposal,
    registry_commit: str | None = None,
    replaced_by: str | None = None,
) -> None:
    """Close the proposal issue of a proposal that ended (``proposal_issues.close``): a
    publish summary or a closing comment, and the issue's text says how it ended."""
    from .proposal_issues import close as close_proposal_issue

    close_proposal_issue(session, gh, proposal, registry_commit, replaced_by)


def publish_direct(
    session: Session, gh: Installation, proposal: Proposal, settings: Settings
) -> Published | None:
    """Publish an approved (or force-published) direct-push proposal at its pushed commit."""
    if proposal.pull_request >= 0 or proposal.state not in ("approved", "published"):
        return None
    contract = session.get(Contract, proposal.contract_id)
    if contract is None:
        return None
    published = _publish_contract(
        session, gh, contract, proposal.pull_request, proposal.head_sha, settings
    )
    result = Published(proposals=[published] if published is not None else [])
    pushed = lifecycle.origin_of(session, gh, proposal)
    by = f", by {pushed.pusher}" if pushed.pusher else ""
    origin = (
        f"a direct push to {contract.source_repo} {pushed.branch} ({proposal.head_sha[:12]}{by})"
    )
    _commit(session, gh, result, _message(session, result.proposals, origin, None), settings)
    finish(session, gh, result.proposals, settings, result.commit)
    return result
