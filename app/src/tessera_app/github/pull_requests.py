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
on the registry's default branch), never with anything from the pull request.

Events arrive late, twice or out of order: the pull request is re-read from GitHub before
deciding, and a judgement that changes nothing leaves the proposal (and its audit log) alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from tessera_engine.errors import InputError, TesseraError
from tessera_engine.model import Finding, Severity
from tessera_engine.registry.impact_result import ImpactResult

from ..api.registry_engine import PROPOSED, NothingToCompare, impact_of
from ..db.registry_models import Contract
from ..db.workflow_models import Proposal
from ..settings import Settings
from ..workflow import ImpactSummary, find, open_or_update
from ..workflow_state import LIVE
from . import checks, proposal_issues, render
from .gateway import Installation, PullRequestInfo
from .payloads import PullRequestEvent

ACTIONS = frozenset({"opened", "synchronize", "reopened", "edited"})
COMMENT_MARKER = render.PR_COMMENT_MARKER


@dataclass(frozen=True)
class SpecError:
    """The spec does not parse (or is missing): the engine's one-line error and where."""

    message: str
    path: str | None = None
    line: int | None = None
    missing: bool = False  # no file or directory at the registered path (removed, renamed)


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
    """Judge the pull request again after ``event`` (closed / merged is G4's ``publish``)."""
    repo = event.repository.full_name
    if settings.registry_repo and repo == settings.registry_repo:
        from . import registry_prs

        registry_prs.on_registry_pull_request(session, gh, event, settings)
        return []
    if event.action not in ACTIONS:
        return []
    if event.action == "edited" and not event.base_changed:
        return []  # a title or body edit changes nothing Tessera judges
    return evaluate(session, gh, repo, event.pull_request.number, settings)


def evaluate(
    session: Session, gh: Installation, repo: str, number: int, settings: Settings
) -> list[Outcome]:
    """Judge pull request ``number`` of ``repo`` as it is now on GitHub: one check run per
    contract, the proposals, the proposal issues and the sticky comment."""
    pr = gh.pull_request(repo, number)
    if pr.state != "open":
        return []  # closed: the merge (or withdrawal) is handled by the closed event
    contracts = changed_contracts(session, repo, pr, gh.pull_request_files(repo, number))
    outcomes = [judge(session, gh, repo, pr, contract, settings) for contract in contracts]
    for outcome in outcomes:
        checks.publish(session, gh, outcome)
        if outcome.proposal is not None:
            proposal_issues.sync(session, gh, outcome, settings)
    if outcomes:
        post_comment(gh, repo, number, outcomes)
    return outcomes


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
) -> Outcome:
    """Read, diff and assess one contract at the pull request's head; open or update its
    proposal when the change is breaking (or a live proposal must follow the push)."""
    base = Outcome(
        contract.id, repo, pr.number, pr.head_sha, tuple(contract.source_paths), pr.title
    )
    try:
        files = read_spec(gh, repo, pr.head_sha, contract.source_paths)
    except MissingSpec as err:
        path = _clean(contract.source_paths[0])
        return replace(base, error=SpecError(str(err), path, None, missing=True))
    base = replace(base, paths=tuple(sorted(files)))
    try:
        result = impact_of(session, contract.id, files, None)
    except NothingToCompare as err:
        return replace(base, notes=(str(err) + ": the first version is published on merge",))
    except InputError as err:
        return replace(base, error=_spec_error(base, err))
    except TesseraError as err:
        return replace(base, error=SpecError(str(err)))
    base = replace(base, impact=result, against=result.versions.current)
    proposal = find(session, contract.id, pr.number)
    live = proposal is not None and proposal.state in LIVE
    if not result.diff.breaking and not live:
        return base
    summary = ImpactSummary.from_impact(result)
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


def post_comment(gh: Installation, repo: str, number: int, outcomes: Sequence[Outcome]) -> int:
    """The one summary comment of the pull request, edited in place (found by its marker)."""
    view = render.PullRequestCommentView(
        contracts=[
            render.ContractSection(
                contract_id=o.contract,
                verdict=checks.verdict(o),
                required_bump=o.impact.diff.bump.value if o.impact is not None else "none",
                teams=checks.team_rows(o),
                current_version=o.against,
                proposed_version=o.impact.versions.proposed if o.impact is not None else None,
            )
            for o in outcomes
        ],
        head_sha=outcomes[0].head_sha if outcomes else None,
    )
    return gh.upsert_comment(repo, number, COMMENT_MARKER, render.pull_request_comment(view))
