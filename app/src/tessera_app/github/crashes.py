"""A bug in Tessera met while judging a spec: a failing check that says so, not a job retried
until it is dead-lettered.

    transient(err) -> bool                   the world around the judgement failed (the
                                             database, GitHub, the network, the job's lease):
                                             the job is retried, as for any handler
    report(session, err, crash) -> str       anything else (``RecursionError``, ``MemoryError``,
                                             a ``KeyError`` deep in a comparator): logged with
                                             its traceback, audited once (``judging.crashed``),
                                             and the one-line message of the failing check

Retrying such an error only repeats it: the same spec crashes the same code on every attempt.
The check run says what is known (the exception's class and the innermost place in Tessera's
code it came from, with a hint for recursion and memory) and the report id under which the
traceback was logged, so whoever runs tessera-app finds it. The id is derived from what
crashed (contract, repository, head commit, error, place): judging the same head again logs
again, under the same id, and audits nothing new.
"""

from __future__ import annotations

import hashlib
import logging
import traceback
from dataclasses import dataclass
from pathlib import PurePath

import httpx
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .. import audit
from ..db.audit_models import AuditEvent
from ..queue import LeaseLost, PermanentError
from .gateway_types import GitHubError

log = logging.getLogger(__name__)

ACTION = "judging.crashed"
ACTOR = "tessera-github"
PACKAGES = ("tessera_engine", "tessera_app")
HINTS = {
    RecursionError: "the spec nests deeper than Tessera follows",
    MemoryError: "judging the spec needs more memory than Tessera has",
}
TRANSIENT = (SQLAlchemyError, GitHubError, httpx.HTTPError, OSError, LeaseLost, PermanentError)
"""What a retry may mend, or what the worker handles itself: never reported as a crash."""


@dataclass(frozen=True, slots=True)
class Crash:
    """Where judging crashed: one contract's spec at one head commit of a pull request."""

    contract: str
    repo: str
    number: int
    head_sha: str
    team: str | None = None  # the contract's owner, for the audit event


def transient(err: BaseException) -> bool:
    """Whether ``err`` came from the world around the judgement rather than from judging."""
    return isinstance(err, TRANSIENT)


def report(session: Session, err: BaseException, crash: Crash) -> str:
    """Log ``err`` with its traceback, audit it (once per report id) and return the failing
    check's message: ``Tessera could not judge this spec: <class> in `<where>`; this is a bug
    in Tessera, reported as `<id>```."""
    kind, where = type(err).__name__, place_of(err)
    seed = f"{crash.contract}\0{crash.repo}\0{crash.head_sha}\0{kind}\0{where}"
    report_id = "judge-" + hashlib.sha256(seed.encode()).hexdigest()[:12]
    log.error(
        "judging %s in %s#%s at %s crashed (reported as %s)",
        crash.contract,
        crash.repo,
        crash.number,
        crash.head_sha[:12],
        report_id,
        exc_info=err,
    )
    subject = f"pull_request:{crash.repo}#{crash.number}"
    if not _audited(session, subject, report_id):
        audit.record(
            session,
            action=ACTION,
            actor=ACTOR,
            team=crash.team,
            subject=subject,
            details={
                "contract": crash.contract,
                "head_sha": crash.head_sha,
                "report": report_id,
                "error": kind,
                "where": where,
            },
        )
    hint = next((f", {text}" for cls, text in HINTS.items() if isinstance(err, cls)), "")
    return (
        f"Tessera could not judge this spec: {kind} in `{where}`{hint}; this is a bug in "
        f"Tessera, reported as `{report_id}`"
    )


def place_of(err: BaseException) -> str:
    """The innermost frame of Tessera's own code in ``err``'s traceback, as
    ``function (package/module.py:line)``; the innermost frame at all when none is ours."""
    frames = traceback.extract_tb(err.__traceback__)
    ours = [(frame, path) for frame in frames if (path := _within_packages(frame.filename))]
    if ours:
        frame, path = ours[-1]
    elif frames:
        frame, path = frames[-1], PurePath(frames[-1].filename).name
    else:
        return "an unknown place"
    return f"{frame.name} ({path}:{frame.lineno})"


def _within_packages(filename: str) -> str | None:
    parts = PurePath(filename).parts
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] in PACKAGES:
            return "/".join(parts[index:])
    return None


def _audited(session: Session, subject: str, report_id: str) -> bool:
    """Whether this crash was audited already (a judgement of the same head, again)."""
    found = session.scalars(
        select(AuditEvent.details).where(AuditEvent.action == ACTION, AuditEvent.subject == subject)
    )
    return any(isinstance(d, dict) and d.get("report") == report_id for d in found)
