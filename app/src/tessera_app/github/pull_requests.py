"""Producer pull requests: what a pull request does to the registered contracts.

    on_pull_request(session, gh, event, settings)   opened / synchronize / reopened / edited
                                                     (base changed); a registry repo pull
                                                     request goes to ``registry_prs``
    evaluate(session, gh, repo, number, settings)    the whole judgement of one pull request,
                                                     idempotent: checks, comment, proposals

The contracts a pull request changes are those whose ``source.repo`` is its repository, whose
``source.branch`` is its base branch, and whose paths meet its changed files (from the mirror,
by index), plus those that already have a live proposal for it (a push that reverts the change
must update that proposal). For each, the spec is read at the head commit (a path that is not
a file is read as a directory: protobuf, Avro, GraphQL sources) and judged by the engine with
the contract's reviewed settings from the mirror (``tessera.yaml`` and ``contracts/*.yaml`` as
on the registry's default branch), never with anything from the pull request but the
producer's version (``versions``: the spec's own, ``/tessera version``, or the title's), which
the contract's versioning policy then judges (``version_judgement``).

A spec that makes the engine fail with anything but an ``InputError`` meets a bug in Tessera:
unless the failure is the database's, GitHub's or the network's (retried with the job), its
check fails saying so, with the id the traceback was logged under (``crashes``), instead of
the job being retried until it is dead-lettered.

Events arrive late, twice or out of order: the pull request is re-read from GitHub before
deciding, and a judgement that changes nothing leaves the proposal (and its audit log) alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from tessera_engine.errors import InputError, TesseraError
from tessera_engine.model import Finding, Severity
from tessera_engine.registry.impact_result import ImpactResult

from ..api.registry_engine import PROPOSED, ProposedSpec, contract_of
from ..db.registry_models import Contract
from ..db.workflow_models import Proposal
from ..settings import Settings
from ..version_judgement import judge_change, summary_of
from ..workflow import ImpactSummary, find, open_or_update
from ..workflow_state import LIVE
from . import checks, crashes, links, proposal_issues, render, versions
from .acks import Membership
from .gateway import Installation, PullRequestInfo
from .payloads import PullRequestEvent
from .versions import title_version

ACTIONS = frozenset({"opened", "synchronize", "reopened", "edited"})
COMMENT_MARKER = render.PR_COMMENT_MARKER


@dataclass(frozen=True)
class SpecError:
    """The spec does not parse (or is missing): the engine's one-line error and where."""

    message: str
    path: str | None = None
    line: int | None = None
    missing: bool = False  # no file or directory at the registered path (removed, renamed)
    deleted: bool = False  # missing, and the pull request changes that path: it deleted it
    crashed: bool = False  # Tessera failed judging it (a bug, ``crashes``): not the spec's fault


@dataclass(frozen=True)
class Outcome:
    """The judgement of one contract in one pull request."""

    contract: str
    repo: str
    number: int
    head_sha: str
    paths: tuple[str, ...]  # the spec files read at the head (repository paths)
    title: str = ""  # the pull request's
    impact: ImpactResult | None = None
    error: SpecError | None = None
    proposal: Proposal | None = None
    against: str | None = None  # the active version compared with; None: nothing published
    notes: tuple[str, ...] = field(default=())
    version_failure: str | None = None  # enforce: why the version fails the check

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.impact.diff.findings if self.impact is not None else ()

    @property
    def breaking(self) -> bool:
        return any(f.severity is Severity.BREAKING for f in self.findings)

    @property
    def dangerous(self) -> bool:
        return any(f.severity is Severity.DANGEROUS for f in self.findings)

    def file_of(self, finding_file: str) -> str | None:
        """The repository path of an engine location in the proposed spec (the engine names
        it ``<contract>@proposed:<path>``); None for a location in another version."""
        prefix = f"{self.contract}@{PROPOSED}:"
        if finding_file.startswith(prefix):
            return finding_file[len(prefix) :]
        return finding_file if finding_file in self.paths else None


# --- the event --------------------------------------------------------------------------------


def on_pull_request(
    session: Session, gh: Installation, event: PullRequestEvent, settings: Settings
) -> list[Outcome]:
    """Judge the pull request again after ``event`` (a closed one is ``publish``'s)."""
    repo = event.repository.full_name
    if settings.registry_repo and repo == settings.registry_repo:
        from . import registry_prs

        registry_prs.on_registry_pull_request(session, gh, event, settings)
        return []
    if event.action not in ACTIONS:
        return []
    if event.action == "edited" and not event.base_changed and not _version_retitled(event):
        return []  # a body edit, or a title edit that gives no version, changes nothing
    return evaluate(session, gh, repo, event.pull_request.number, settings)


def _version_retitled(event: PullRequestEvent) -> bool:
    """A title edit that gives, changes or takes away a version (``[v3.0.0]``)."""
    before = event.title_changed_from
    if before is None:
        return False
    return title_version(before) != title_version(event.pull_request.title)


def evaluate(
    session: Session, gh: Installation, repo: str, number: int, settings: Settings
) -> list[Outcome]:
    """Judge pull request ``number`` of ``repo`` as it is now on GitHub: one check run per
    contract, the proposals, the proposal issues and the sticky comment."""
    pr = gh.pull_request(repo, number)
    if pr.state != "open":
        return []  # closed: the merge (or withdrawal) is handled by the closed event
    changed = gh.pull_request_files(repo, number)
    contracts = changed_contracts(session, repo, pr, changed)
    membership = Membership(gh)
    outcomes = [
        _deleted_by(judge(session, gh, repo, pr, contract, settings, membership), changed)
        for contract in contracts
    ]
    pages: dict[str, tuple[str | None, str | None]] = {}
    for outcome in outcomes:
        if outcome.proposal is not None:  # first: the check links to the issue
            proposal_issues.sync(session, gh, outcome, settings)
        check_id = checks.publish(session, gh, outcome, settings)
        issue = checks.proposal_issue_url(session, gh, outcome.proposal)
        pages[outcome.contract] = (links.check_run_url(gh, repo, check_id), issue)
    if outcomes:
        post_comment(gh, repo, number, outcomes, pages)
    return outcomes


def _deleted_by(outcome: Outcome, changed: Sequence[str]) -> Outcome:
    """A spec missing at the head at a path the pull request changes: the pull request
    deleted (or moved) it."""
    error = outcome.error
    if error is None or not error.missing or not touches(outcome.paths, changed):
        return outcome
    return replace(outcome, error=replace(error, deleted=True))


def changed_contracts(
    session: Session, repo: str, pr: PullRequestInfo, files: Iterable[str]
) -> list[Contract]:
    """The registered contracts of ``repo`` the pull request changes (sorted by id)."""
    changed = list(files)
    rows = session.scalars(
        select(Contract).where(Contract.source_repo == repo).order_by(Contract.id)
    ).all()
    found: list[Contract] = []
    for row in rows:
        if row.source_branch != pr.base_ref:
            continue
        if touches(row.source_paths, changed) or _has_live_proposal(session, row.id, pr.number):
            found.append(row)
    return found


def touches(paths: Sequence[str], files: Iterable[str]) -> bool:
    """A changed file is one of ``paths`` or lies under one of them (a directory)."""
    folders = tuple(_folder(p) for p in paths)
    cleaned = {_clean(p) for p in paths}
    return any(_clean(f) in cleaned or _clean(f).startswith(folders) for f in files)


def _clean(path: str) -> str:
    return path.strip("/").removeprefix("./")


def _folder(path: str) -> str:
    cleaned = _clean(path)
    return cleaned + "/" if cleaned else ""


def _has_live_proposal(session: Session, contract_id: str, number: int) -> bool:
    proposal = find(session, contract_id, number)
    return proposal is not None and proposal.state in LIVE


# --- one contract -------------------------------------------------------------------------------


class MissingSpec(LookupError):
    pass


def read_spec(gh: Installation, repo: str, ref: str, paths: Sequence[str]) -> dict[str, str]:
    """The spec files at ``ref``: each path as a file, or else as a directory (recursive)."""
    files: dict[str, str] = {}
    for path in paths:
        cleaned = _clean(path)
        text = gh.read_file(repo, cleaned, ref) if cleaned else None
        if text is not None:
            files[cleaned] = text
            continue
        found = gh.list_files(repo, ref, cleaned)
        if not found:
            raise MissingSpec(f"{path}: not found in {repo} at {ref[:12]}")
        files.update({_clean(p): t for p, t in found.items()})
    return files


def judge(
    session: Session,
    gh: Installation,
    repo: str,
    pr: PullRequestInfo,
    contract: Contract,
    settings: Settings,
    membership: Membership | None = None,
) -> Outcome:
    """Read, diff and assess one contract at the pull request's head with the producer's
    version; open or update its proposal when the change breaks a consumer (or a live proposal
    must follow the push)."""
    base = Outcome(
        contract.id, repo, pr.number, pr.head_sha, tuple(contract.source_paths), pr.title
    )
    try:
        files = read_spec(gh, repo, pr.head_sha, contract.source_paths)
    except MissingSpec as err:
        path = _clean(contract.source_paths[0])
        return replace(base, error=SpecError(str(err), path, None, missing=True))
    base = replace(base, paths=tuple(sorted(files)))
    pull = versions.PullRequest(repo, pr.number, pr.title, pr.author)
    spec = ProposedSpec(contract_of(contract), files)
    found = versions.producer_version(session, contract, spec, pull, membership or Membership(gh))
    try:
        judged = judge_change(
            session, contract.id, spec, found, versions.ask_for(contract, found, pull)
        )
    except InputError as err:
        return replace(base, error=_spec_error(base, err))
    except TesseraError as err:
        return replace(base, error=SpecError(str(err)))
    except Exception as err:  # a bug met on this spec: a failing check, not a job retried to death
        if crashes.transient(err):
            raise
        crash = crashes.Crash(contract.id, repo, pr.number, pr.head_sha, contract.owner_id)
        return replace(base, error=SpecError(crashes.report(session, err, crash), crashed=True))
    versions.record_judged(session, contract.id, repo, pr.number, pr.head_sha, judged.publishes)
    notes = (judged.failure,) if judged.failure else ()
    base = replace(base, notes=notes + judged.notes, version_failure=judged.failure)
    result = judged.impact
    if result is None:
        return base  # nothing published yet: the first version publishes on merge
    base = replace(base, impact=result, against=result.versions.current)
    proposal = find(session, contract.id, pr.number)
    live = proposal is not None and proposal.state in LIVE
    summary = summary_of(judged)
    if not summary.breaking and not live:
        return base
    if proposal is None or not _unchanged(proposal, pr.head_sha, summary):
        proposal = open_or_update(
            session,
            contract.id,
            pr.number,
            pr.head_sha,
            summary,
            timeout_days=settings.proposal_timeout_days,
        )
    return replace(base, proposal=proposal)


def _unchanged(proposal: Proposal, head_sha: str, summary: ImpactSummary) -> bool:
    """A repeated judgement (rerequest, duplicate event, refresh after an ack)."""
    return (
        proposal.state in LIVE
        and proposal.head_sha == head_sha
        and set(proposal.breaking) == summary.breaking
        and proposal.required == summary.required_json()
        and proposal.proposed_version == summary.proposed_version
        and proposal.version_origin == summary.version_origin
    )


def _spec_error(outcome: Outcome, err: InputError) -> SpecError:
    path = outcome.file_of(err.file) if err.file else None
    if path is None:
        return SpecError(str(err))
    return SpecError(f"{path}{_at(err)}: {err.message}".replace("\n", " "), path, err.line)


def _at(err: InputError) -> str:
    if not err.line:
        return ""
    return f":{err.line}" + (f":{err.column}" if err.column else "")


# --- the sticky comment ---------------------------------------------------------------------------


def post_comment(
    gh: Installation,
    repo: str,
    number: int,
    outcomes: Sequence[Outcome],
    pages: Mapping[str, tuple[str | None, str | None]] | None = None,
) -> int:
    """The one summary comment of the pull request, edited in place (found by its marker): per
    contract what its check says (where the proposal stands, or why the spec could not be
    judged) and each team's standing, with links to its check run and proposal issue
    (``pages``: contract -> (check run page, proposal issue page))."""
    sections = []
    for outcome in outcomes:
        check_url, issue_url = (pages or {}).get(outcome.contract, (None, None))
        shown = checks.view(outcome, issue_url)
        sections.append(
            render.ContractSection(
                contract_id=outcome.contract,
                verdict=shown.verdict,
                required_bump=shown.required_bump,
                teams=shown.teams,
                current_version=shown.current_version,
                proposed_version=shown.proposed_version,
                check_url=check_url,
                proposal_url=issue_url,
                breaking=shown.counts.get("breaking", 0),
                proposal_state=shown.proposal_state,
                waiting_on=shown.waiting_on,
                no_ack_reason=shown.no_ack_reason,
                forced_by=shown.forced_by,
                force_reason=shown.force_reason,
                problem=shown.problem,
                failure=shown.failure,
            )
        )
    view = render.PullRequestCommentView(
        contracts=sections, head_sha=outcomes[0].head_sha if outcomes else None
    )
    return gh.upsert_comment(repo, number, COMMENT_MARKER, render.pull_request_comment(view))


def post_final_comment(
    session: Session, gh: Installation, proposals: Sequence[Proposal]
) -> list[int]:
    """The sticky comment of each pull request whose proposals ended (merged: published as X;
    closed: withdrawn), so that it no longer says what they waited on. The comment ids."""
    from .lifecycle import origin_of
    from .proposal_issues import impact_of_proposal

    pulls: dict[tuple[str, int], list[render.ContractSection]] = {}
    for proposal in proposals:
        contract = session.get(Contract, proposal.contract_id)
        if contract is None or proposal.pull_request <= 0 or proposal.state in LIVE:
            continue
        issue = checks.proposal_issue_url(session, gh, proposal)
        final = checks.final_view(
            session, proposal, issue, impact_of_proposal(session, gh, proposal)
        )
        pulls.setdefault((contract.source_repo, proposal.pull_request), []).append(
            render.ContractSection(
                contract_id=proposal.contract_id,
                verdict=final.verdict,
                required_bump=final.required_bump,
                teams=final.teams,
                current_version=final.current_version,
                proposed_version=final.proposed_version,
                proposal_url=issue,
                breaking=len(proposal.breaking),
                ending=final.ending,
                origin=origin_of(session, gh, proposal),
            )
        )
    return [
        gh.upsert_comment(
            repo,
            number,
            COMMENT_MARKER,
            render.pull_request_comment(render.PullRequestCommentView(sections)),
        )
        for (repo, number), sections in pulls.items()
    ]
