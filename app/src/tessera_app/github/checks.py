"""Check runs: one per contract (``tessera/<contract-id>``) on the pull request's head commit.

    conclusion(outcome)                     success | neutral | action_required | failure
    publish(session, gh, outcome)           create or update the check run (idempotent)
    refresh_checks(session, gh, proposal)   after a decision (G4): judge the pull request
                                            again, so the check says ``success`` once approved
    on_check_run / on_check_suite           "Re-run" on GitHub: judge the pull request again

Conclusions: ``failure`` when the spec does not parse (the engine's one-line error, annotated
at file:line) or is missing at its registered path (removed or renamed); ``action_required``
while the proposal waits on acknowledgements (or a hold); ``success`` when compatible or
approved; ``neutral`` when only dangerous findings remain, or when a break concerns no declared
consumer (it publishes on merge, with a note).

A check run is found again by (repository, head commit, name): first in the ``check_runs``
bookkeeping table, then by the gateway's own lookup; annotations (findings with a location in
the proposed spec) go in batches of 50 through the gateway.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from tessera_engine.model import Finding, Severity

from ..db.github_models import CheckRunRecord
from ..db.registry_models import Contract
from ..db.workflow_models import Proposal
from ..settings import Settings
from ..workflow_state import LIVE, status
from . import render
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
    if outcome.error is not None:
        return "failure"
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


def error_title(error: SpecError) -> str:
    return "The spec is missing" if error.missing else "The spec does not parse"


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


def view(outcome: Outcome) -> render.CheckRunView:
    """What the check run shows (G2's template input)."""
    impact = outcome.impact
    notes = list(outcome.notes)
    if outcome.error is not None:
        notes.insert(0, f"{error_title(outcome.error)}: {outcome.error.message}")
    if outcome.proposal is not None:
        notes += [n for n in outcome.proposal.notes if n not in notes]
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
        notes=notes,
    )


def _location(outcome: Outcome, finding: Finding) -> str | None:
    if finding.location is None:
        return None
    path = outcome.file_of(finding.location.file)
    return f"{path}:{finding.location.line}" if path is not None else None


def team_rows(outcome: Outcome) -> list[render.TeamRow]:
    """Each team the proposal asks (with its standing) or informs, and what breaks for it."""
    proposal = outcome.proposal
    if proposal is None:
        return []
    breaks = broken_usages(outcome)
    rows: list[render.TeamRow] = []
    for team in status(proposal).teams:
        ack, waiver = team.acknowledgement, team.waiver
        note = None
        if ack is not None and ack.kind == "blocked":
            note = ack.reason
        elif ack is not None and ack.target_date is not None:
            note = f"until {ack.target_date.date().isoformat()}"
        elif waiver is not None:
            note = f"waived until {waiver.until.date().isoformat()}: {waiver.reason or ''}"
        actor = ack.actor if ack is not None else (waiver.actor if waiver is not None else None)
        usages = [f"{b.consumer}: {b.usage}" for b in breaks.get(team.team, [])]
        rows.append(render.TeamRow(team.team, team.state, None, usages, actor, note))
    rows += [render.TeamRow(team, "informed") for team in sorted(proposal.informed)]
    return rows


def broken_usages(outcome: Outcome) -> dict[str, list[render.BrokenUsage]]:
    """Per team, the declared usages a breaking finding meets (from the impact)."""
    found: dict[str, list[render.BrokenUsage]] = {}
    if outcome.impact is None:
        return found
    for consumer in outcome.impact.consumers:
        for match in consumer.matches:
            if match.needs_acknowledgement:
                usage = match.usage or "everything (no declared uses)"
                found.setdefault(consumer.team, []).append(
                    render.BrokenUsage(
                        consumer.consumer, usage, f"{match.finding.path}: {match.finding.message}"
                    )
                )
    return found


def publish(session: Session, gh: Installation, outcome: Outcome) -> int:
    """Create or update the check run of ``outcome`` (one per head commit and contract)."""
    output = render.check_run(view(outcome))
    title = error_title(outcome.error) if outcome.error is not None else output.title
    return upsert(
        session,
        gh,
        outcome.repo,
        outcome.head_sha,
        check_name(outcome.contract),
        conclusion(outcome),
        render.CheckRunOutput(title, output.summary, output.text),
        annotations_of(outcome),
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
    final = render.CheckRunView(
        contract_id=proposal.contract_id,
        verdict="breaking" if proposal.breaking else "safe",
        conclusion="success" if proposal.state == "published" else "neutral",
        counts={"breaking": len(proposal.breaking)},
        findings=[],
        required_bump=proposal.bump,
        current_version=proposal.current_version,
        proposed_version=proposal.published_version or proposal.proposed_version,
        notes=[_final_note(proposal), *proposal.notes],
    )
    output = render.check_run(final)
    upsert(
        session,
        gh,
        contract.source_repo,
        proposal.head_sha,
        check_name(proposal.contract_id),
        final.conclusion,
        render.CheckRunOutput(_final_note(proposal), output.summary, output.text),
    )


def _final_note(proposal: Proposal) -> str:
    if proposal.state == "published":
        return f"Published as {proposal.published_version}"
    if proposal.state == "withdrawn":
        return "Withdrawn: the pull request was closed without merging"
    return f"The proposal is {proposal.state}: push again or /tessera recheck to judge anew"


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
