"""A proposal's life as its messages tell it: where the change came from (a pull request, or a
direct push: its commit, branch and who pushed it), whether it was withdrawn and came back
when its pull request was reopened, and how it ended.

    record_direct_push(session, proposal, branch, pusher)   the audit event that says who
                                                            pushed (``proposal.direct_push``)
    origin_of(session, gh, proposal, title="")              render.Origin
    was_reopened(session, proposal)                         withdrawn once, live again
    ending_of(session, proposal, replaced_by=None)          render.Ending (None while live)

The facts come from the proposal and the audit log (who pushed, from which state a proposal
was published, whether it was withdrawn), never from a message written earlier.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import audit
from ..db.audit_models import AuditEvent
from ..db.registry_models import Contract
from ..db.workflow_models import Proposal
from ..workflow_state import LIVE, status
from . import links
from .render import Ending, Origin

if TYPE_CHECKING:
    from .gateway import Installation

DIRECT_PUSH = "proposal.direct_push"
CLOSED_UNMERGED = "the pull request was closed without merging"


def _subject(proposal_id: int) -> str:
    return f"proposal:{proposal_id}"


def record_direct_push(
    session: Session, proposal: Proposal, branch: str, pusher: str | None, actor: str
) -> None:
    """Write once, in the audit log, which push opened a direct-push proposal and who made it
    (a job run twice records it once)."""
    if _event(session, proposal.id, DIRECT_PUSH) is not None:
        return
    audit.record(
        session,
        action=DIRECT_PUSH,
        actor=actor,
        subject=_subject(proposal.id),
        details={
            "contract": proposal.contract_id,
            "commit": proposal.head_sha,
            "branch": branch,
            "pusher": pusher,
        },
    )


def origin_of(
    session: Session, gh: Installation | None, proposal: Proposal, title: str = ""
) -> Origin:
    """Where ``proposal``'s change comes from: its pull request (number, title, page), or the
    direct push (commit, branch, pusher) that opened it."""
    contract = session.get(Contract, proposal.contract_id)
    repo = contract.source_repo if contract is not None else ""
    if proposal.pull_request > 0:
        page = links.pull_request_url(gh, repo, proposal.pull_request) if gh and repo else None
        return Origin(repo, proposal.pull_request, title, page)
    pushed = _event(session, proposal.id, DIRECT_PUSH)
    details = pushed.details if pushed is not None else {}
    branch = details.get("branch") or (contract.source_branch if contract is not None else None)
    return Origin(
        repo,
        None,
        commit=str(details.get("commit") or proposal.head_sha),
        branch=branch,
        pusher=details.get("pusher"),
    )


def was_reopened(session: Session, proposal: Proposal) -> bool:
    """The live ``proposal`` (or one it superseded) was withdrawn when its pull request closed
    unmerged, and is live again because the pull request was reopened."""
    if proposal.state not in LIVE or proposal.pull_request <= 0:
        return False
    subjects = [_subject(i) for i in _lineage(session, proposal)]
    found = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.subject.in_(subjects), AuditEvent.action == "proposal.withdrawn")
    )
    return bool(found)


def ending_of(
    session: Session, proposal: Proposal, replaced_by: str | None = None
) -> Ending | None:
    """How ``proposal`` ended, or None while it is live (or superseded: its successor goes
    on). ``replaced_by``: the later direct push that withdrew it."""
    when = proposal.closed_at.date().isoformat() if proposal.closed_at else None
    if proposal.state == "published":
        published = _event(session, proposal.id, "proposal.published")
        before = published.details.get("from_state") if published is not None else "approved"
        waiting = status(proposal).waiting_on if before != "approved" else ()
        return Ending(
            "published",
            version=proposal.published_version,
            commit=proposal.merge_commit,
            when=when,
            waiting_on=() if proposal.forced_by else waiting,
            forced_by=proposal.forced_by,
            force_reason=proposal.force_reason,
        )
    if proposal.state == "withdrawn" and proposal.pull_request < 0:
        later = f" (commit `{replaced_by[:12]}`)" if replaced_by else ""
        return Ending(
            "replaced",
            reason=f"a later direct push{later} changes {proposal.contract_id} again",
            when=when,
        )
    if proposal.state == "withdrawn":
        return Ending("withdrawn", reason=CLOSED_UNMERGED, when=when)
    if proposal.state == "expired":
        return Ending("expired", when=when, waiting_on=status(proposal).waiting_on)
    return None


def _event(session: Session, proposal_id: int, action: str) -> AuditEvent | None:
    return session.scalars(
        select(AuditEvent)
        .where(AuditEvent.subject == _subject(proposal_id), AuditEvent.action == action)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()


def _lineage(session: Session, proposal: Proposal) -> list[int]:
    """``proposal`` and the proposals it superseded, newest first."""
    found = [proposal.id]
    earlier = proposal.supersedes_id
    while earlier is not None and earlier not in found:
        found.append(earlier)
        previous = session.get(Proposal, earlier)
        earlier = previous.supersedes_id if previous is not None else None
    return found
