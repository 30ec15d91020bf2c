"""Check runs: one per contract (``tessera/<contract-id>``) on the pull request's head commit.

    conclusion(outcome)                     success | neutral | action_required | failure
    publish(session, gh, outcome, settings) create or update the check run (idempotent)
    refresh_checks(session, gh, proposal)   after a decision: judge the pull request again,
                                            so the check says ``success`` once approved; a
                                            finished proposal gets its final check
    on_check_run / on_check_suite           "Re-run" on GitHub: judge the pull request again

Conclusions: ``failure`` when the spec does not parse (the engine's one-line error, annotated
at file:line), is missing at its registered path (removed or renamed), or could not be judged
because Tessera failed on it (a bug, ``crashes``: ``failure`` rather than ``action_required``,
which asks people for acknowledgements, as nothing the producer or a consumer does can make
the change judged; the check must not let it merge unjudged), or when the contract
is versioned ``enforce`` and the producer's version is missing, unusable or smaller than the
findings require (the first note says which version is needed); ``action_required``
while the proposal waits on acknowledgements (or a hold); ``success`` when compatible or
approved; ``neutral`` when only dangerous findings remain, or when a break concerns no declared
consumer (it publishes on merge, with a note).

The title says in one line what a person must know (``1 breaking change, waiting on 2 teams``,
``The spec was deleted``, ``Published as 3.0.0``); the summary says where the proposal stands
and what to do; the text lists the findings. The final check of a published, withdrawn or
expired proposal says how it ended, and a published one lists the findings it published (the
diff of the two versions), so its counts and its findings agree. ``details_url`` is the
proposal issue when there is one, else tessera-app's ``/checks/help`` page
(``TESSERA_PUBLIC_URL``; unset: no link).

A check run is found again by (repository, head commit, name): first in the ``check_runs``
bookkeeping table, then by the gateway's own lookup; annotations (findings with a location in
the proposed spec) go in batches of 50 through the gateway.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from tessera_engine.model import Finding, Severity
from tessera_engine.registry.impact_result import ImpactResult

from ..db.github_models import CheckRunRecord
from ..db.registry_models import Contract
from ..db.workflow_models import Proposal
from ..settings import Settings
from ..workflow_state import LIVE, NO_CONSUMERS_NOTE
from . import lifecycle, links, render, standing
from .gateway import Annotation, Installation

if TYPE_CHECKING:
    from .payloads import CheckRunEvent, CheckSuiteEvent
    from .pull_requests import Outcome, SpecError

PREFIX = "tessera/"
LEVELS = {
    Severity.BREAKING: "failure",
    Severity.DANGEROUS: "warning",
    Severity.SAFE: "notice",
    Severity.ANNOTATION: "notice",
}


def check_name(contract_id: str) -> str:
    return PREFIX + contract_id


def conclusion(outcome: Outcome) -> str:
    if outcome.error is not None or outcome.version_failure is not None:
        return "failure"  # the spec, or its version under ``versioning: enforce``
    proposal = outcome.proposal
    if proposal is not None and proposal.state in LIVE and proposal.breaking:
        if proposal.state == "open":
            return "action_required"
        if not proposal.required and proposal.forced_by is None:
            return "neutral"  # a break nobody declared a use of: publishes with a note
        return "success"
    if outcome.breaking:  # defensive: a break always has a proposal
        return "action_required"
    return "neutral" if outcome.dangerous else "success"


def verdict(outcome: Outcome) -> str:
    """The verdict of the templates: breaking, dangerous, safe or unchanged."""
    if outcome.breaking:
        return "breaking"
    if outcome.dangerous:
        return "dangerous"
    return "safe" if outcome.findings else "unchanged"


def problem_of(error: SpecError | None) -> render.SpecProblem | None:
    """What the messages say about a spec that could not be judged: it does not parse (the
    engine's error, its ``file:line[:column]`` apart), was deleted by the pull request, is
    not at its registered path, or Tessera failed judging it."""
    if error is None:
        return None
    if getattr(error, "crashed", False):
        return render.SpecProblem("crashed", error.message)
    if error.missing:
        kind = "deleted" if getattr(error, "deleted", False) else "missing"
        return render.SpecProblem(kind, error.message, error.path)
    location, message = None, error.message
    if error.path and error.message.startswith(error.path + ":"):
        location, _, message = error.message.partition(": ")
    return render.SpecProblem("unparsable", message, error.path, location)


def error_title(error: SpecError) -> str:
    problem = problem_of(error)
    return problem.title if problem is not None else ""


def annotations_of(outcome: Outcome) -> list[Annotation]:
    """The findings located in the proposed spec, and the spec error, as annotations."""
    found: list[Annotation] = []
    if outcome.error is not None and outcome.error.path is not None:
        found.append(
            Annotation(
                path=outcome.error.path,
                start_line=outcome.error.line or 1,
                end_line=outcome.error.line or 1,
                level="failure",
                message=outcome.error.message,
                title=error_title(outcome.error),
            )
        )
    for finding in outcome.findings:
        if finding.location is None or finding.severity is Severity.ANNOTATION:
            continue
        path = outcome.file_of(finding.location.file)
        if path is None:
            continue
        found.append(
            Annotation(
                path=path,
                start_line=finding.location.line,
                end_line=finding.location.line,
                level=LEVELS[finding.severity],
                message=f"{finding.message} ({finding.path})",
                title=f"{finding.severity.value}: {finding.rule}",
            )
        )
    return found


TOLD_ELSEWHERE = (NO_CONSUMERS_NOTE, "merged before approval", "force-published by")
"""Proposal notes the messages already say in their own words (no acknowledgement needed,
how a publication went): not repeated as notes."""


def view(outcome: Outcome, proposal_url: str | None = None) -> render.CheckRunView:
    """What the check run of one judgement shows: the counts and findings, each team's
    standing and what breaks for it, what the proposal waits on (or why it needs nobody), or
    why the spec could not be judged."""
    impact = outcome.impact
    proposal = outcome.proposal
    live = proposal if proposal is not None and proposal.state in LIVE else None
    failure = getattr(outcome, "version_failure", None)
    notes = [n for n in outcome.notes if n != failure]
    if proposal is not None:
        notes += [n for n in proposal.notes if n not in notes and n != failure]
    return render.CheckRunView(
        contract_id=outcome.contract,
        verdict=verdict(outcome),
        conclusion=conclusion(outcome),
        counts=impact.diff.counts() if impact is not None else {},
        findings=[
            render.FindingRow(
                severity=f.severity.value,
                rule=f.rule,
                where=f.path,
                message=f.message,
                location=_location(outcome, f),
            )
            for f in outcome.findings
        ],
        required_bump=impact.diff.bump.value if impact is not None else "none",
        current_version=outcome.against,
        proposed_version=impact.versions.proposed if impact is not None else None,
        teams=team_rows(outcome),
        proposal_url=proposal_url,
        notes=[n for n in notes if not n.startswith(TOLD_ELSEWHERE)],
        proposal_state=live.state if live is not None else None,
        waiting_on=standing.waiting_on(live) if live is not None else (),
        no_ack_reason=standing.no_ack_reason(live, impact) if live is not None else None,
        forced_by=live.forced_by if live is not None else None,
        force_reason=live.force_reason if live is not None else None,
        problem=problem_of(outcome.error),
        failure=failure,
    )


def _location(outcome: Outcome, finding: Finding) -> str | None:
    if finding.location is None:
        return None
    path = outcome.file_of(finding.location.file)
    return f"{path}:{finding.location.line}" if path is not None else None


def team_rows(outcome: Outcome) -> list[render.TeamRow]:
    """Each team the proposal asks (with its standing) or informs, and what breaks for it."""
    if outcome.proposal is None:
        return []
    return standing.team_rows(outcome.proposal, standing.broken_usages(outcome.impact))


def proposal_issue_url(session: Session, gh: Installation, proposal: Proposal | None) -> str | None:
    """The web page of ``proposal``'s issue in the registry repository, if it has one."""
    if proposal is None:
        return None
    from .proposal_issues import issue_of

    row = issue_of(session, proposal)
    return links.issue_url(gh, row.repo, row.issue) if row is not None else None


def publish(
    session: Session, gh: Installation, outcome: Outcome, settings: Settings | None = None
) -> int:
    """Create or update the check run of ``outcome`` (one per head commit and contract). Its
    details link is the proposal issue, else tessera-app's page that explains the check
    conclusions (``TESSERA_PUBLIC_URL``), else none."""
    issue = proposal_issue_url(session, gh, outcome.proposal)
    output = render.check_run(view(outcome, issue))
    return upsert(
        session,
        gh,
        outcome.repo,
        outcome.head_sha,
        check_name(outcome.contract),
        conclusion(outcome),
        output,
        annotations_of(outcome),
        details_url=issue or links.check_help_url(settings),
    )


def upsert(
    session: Session,
    gh: Installation,
    repo: str,
    head_sha: str,
    name: str,
    result: str,
    output: render.CheckRunOutput,
    notes: Sequence[Annotation] = (),
    details_url: str | None = None,
) -> int:
    check_id = gh.upsert_check_run(
        repo,
        head_sha,
        name,
        status="completed",
        conclusion=result,
        title=output.title,
        summary=output.summary,
        text=output.text,
        annotations=notes,
        details_url=details_url,
    )
    record = session.get(CheckRunRecord, (repo, head_sha, name))
    if record is None:
        session.add(CheckRunRecord(repo=repo, head_sha=head_sha, name=name, check_run_id=check_id))
    elif record.check_run_id != check_id:
        record.check_run_id = check_id
    session.flush()
    return check_id


# --- after decisions, and "Re-run" ----------------------------------------------------------


def refresh_checks(
    session: Session, gh: Installation, proposal: Proposal, settings: Settings | None = None
) -> None:
    """The checks (and comment, and proposal issue) of ``proposal``'s pull request, again:
    a live proposal is judged again at the pull request's current head; a finished one gets
    its final check (published: success; withdrawn or expired: neutral)."""
    contract = session.get(Contract, proposal.contract_id)
    if contract is None:
        return  # the contract left the registry: nothing to say on GitHub
    if proposal.pull_request <= 0:
        return  # a direct push's proposal: no pull request, no check to refresh
    if proposal.state in LIVE:
        from .pull_requests import evaluate

        evaluate(session, gh, contract.source_repo, proposal.pull_request, settings or Settings())
        return
    if proposal.state == "superseded":
        return  # its successor's check is the one that counts
    from .proposal_issues import impact_of_proposal

    issue = proposal_issue_url(session, gh, proposal)
    final = final_view(session, proposal, issue, impact_of_proposal(session, gh, proposal))
    upsert(
        session,
        gh,
        contract.source_repo,
        proposal.head_sha,
        check_name(proposal.contract_id),
        final.conclusion,
        render.check_run(final),
        details_url=issue or links.check_help_url(settings),
    )


def final_view(
    session: Session,
    proposal: Proposal,
    proposal_url: str | None = None,
    judged: ImpactResult | None = None,
) -> render.CheckRunView:
    """The last check of a finished proposal: how it ended (published as X, withdrawn,
    expired), where each team stood and what breaks for it (``judged``: the proposal's impact,
    ``proposal_issues.impact_of_proposal``), and for a publication the findings it published
    (judged again between the two published versions), so its counts and its findings agree."""
    published = _published_findings(proposal, judged) if proposal.state == "published" else []
    counts = dict(Counter(f.severity for f in published)) or {"breaking": len(proposal.breaking)}
    return render.CheckRunView(
        contract_id=proposal.contract_id,
        verdict="breaking" if proposal.breaking else "safe",
        conclusion="success" if proposal.state == "published" else "neutral",
        counts=counts,
        findings=published,
        required_bump=proposal.bump,
        current_version=proposal.current_version,
        proposed_version=proposal.published_version or proposal.proposed_version,
        teams=standing.team_rows(proposal, standing.broken_usages(judged)),
        proposal_url=proposal_url,
        notes=[n for n in proposal.notes if not n.startswith(TOLD_ELSEWHERE)],
        ending=lifecycle.ending_of(session, proposal),
    )


def _published_findings(proposal: Proposal, judged: ImpactResult | None) -> list[render.FindingRow]:
    """The findings a publication published, located in its version's files."""
    if judged is None:
        return []
    prefix = f"{proposal.contract_id}@{proposal.published_version}:"
    return [
        render.FindingRow(
            f.severity.value,
            f.rule,
            f.path,
            f.message,
            f"{f.location.file.removeprefix(prefix)}:{f.location.line}" if f.location else None,
        )
        for f in judged.diff.findings
    ]


def on_check_run(
    session: Session, gh: Installation, event: CheckRunEvent, settings: Settings
) -> None:
    """A "Re-run" of one of our checks: judge its pull requests again."""
    if event.action not in ("rerequested", "requested_action"):
        return
    if not event.check_run.name.startswith(PREFIX):
        return
    _rerun(session, gh, event.repository.full_name, event.check_run.pull_requests, settings)


def on_check_suite(
    session: Session, gh: Installation, event: CheckSuiteEvent, settings: Settings
) -> None:
    """ "Re-run all checks": judge the suite's pull requests again."""
    if event.action != "rerequested":
        return
    _rerun(session, gh, event.repository.full_name, event.pull_requests, settings)


def _rerun(
    session: Session, gh: Installation, repo: str, numbers: Sequence[int], settings: Settings
) -> None:
    from .pull_requests import evaluate
    from .registry_prs import validate_pull_request

    for number in sorted(set(numbers)):
        if settings.registry_repo and repo == settings.registry_repo:
            validate_pull_request(session, gh, repo, number, settings)
        else:
            evaluate(session, gh, repo, number, settings)
