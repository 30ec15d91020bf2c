"""The ``github.*`` job handlers: one per webhook event the ingress stores and queues.

    configure(app_factory)   tests and the demo inject a ``GitHubApp`` (wired to the fake)
    github_app(settings)     the App client the handlers use (built from the settings)

Each handler loads the stored delivery (``ingress.load``), reads it leniently
(``payloads.parse``), takes the installation client (token cached by the gateway until it
expires) and dispatches:

    pull_request                  closed -> publish (merge, withdrawal); else pull_requests
    pull_request_review           acks.on_review
    issue_comment                 acks.on_issue_comment
    issues                        a proposal issue closed by hand while its proposal is live
                                  is reopened (decisions are made with commands)
    push                          publish.on_push (a direct push to a default branch)
    check_run / check_suite       checks (a "Re-run")
    installation[_repositories]   installations

then marks the delivery ``processed`` with the job's completion. An event about a repository
that is neither the registry nor a contract's source is marked processed without a single
GitHub call. A handler that raises leaves the delivery ``queued`` and the queue retries the job
with backoff; GitHub calls are idempotent (found by marker, by name, or checked before writing)
and decisions are recorded once per command (``acks``), so a retry converges. Failures no retry
can mend (a payload without a field the App needs, GitHub answering 404 or 422) are permanent:
the job is dead at once. A job that dies marks its delivery ``failed`` with the error. Three
more kinds: ``github.direct_push`` (a push judged after its grace period), ``github.reconcile``
(periodic: ``reconcile.run``) and ``github.registry_resync`` (at the worker's start and
periodic: the mirror follows the registry branch on GitHub, ``registry_follow.follow``).

Importing this module registers the handlers (``tessera_app.worker`` imports it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.queue_models import Job
from ..db.registry_models import Contract, Repository
from ..db.workflow_models import Proposal
from ..queue import PermanentError, enqueue, handler
from ..settings import Settings
from ..workflow_state import LIVE
from .gateway_types import GitHubError

if TYPE_CHECKING:
    from .gateway import GitHubApp, Installation

log = logging.getLogger(__name__)

AppFactory = Callable[[Settings], "GitHubApp"]
_factory: AppFactory | None = None
_settings: Settings | None = None
_apps: dict[tuple[int, str], GitHubApp] = {}


class NotConfigured(RuntimeError):
    """The GitHub App settings are missing (``TESSERA_GITHUB_APP_ID``, ``..._PRIVATE_KEY``)."""


def configure(app_factory: AppFactory | None, settings: Settings | None = None) -> None:
    """Use ``app_factory`` (and ``settings``) instead of the environment; None: back to it."""
    global _factory, _settings
    _factory, _settings = app_factory, settings
    _apps.clear()


def settings() -> Settings:
    return _settings if _settings is not None else Settings()


def private_key(value: str) -> str:
    """The PEM text of ``TESSERA_GITHUB_PRIVATE_KEY`` (the text itself, or ``@path``)."""
    if value.startswith("@"):
        return Path(value[1:]).expanduser().read_text(encoding="utf-8")
    return value.replace("\\n", "\n")


def github_app(current: Settings) -> GitHubApp:
    """The App client: the injected factory's, else one built from the settings (kept, so
    installation tokens are reused until they expire)."""
    if _factory is not None:
        return _factory(current)
    if current.github_app_id is None or not current.github_private_key:
        raise NotConfigured(
            "the GitHub App is not configured: set TESSERA_GITHUB_APP_ID and "
            "TESSERA_GITHUB_PRIVATE_KEY (docs/github-app.md)"
        )
    key = (current.github_app_id, current.github_base_url)
    if key not in _apps:
        from .gateway import GitHubApp, GitHubSettings

        _apps[key] = GitHubApp(
            GitHubSettings(
                app_id=current.github_app_id,
                private_key=private_key(current.github_private_key),
                base_url=current.github_base_url,
            )
        )
    return _apps[key]


Dispatch = Callable[[Session, "Installation", Any, Settings], object]


PERMANENT_STATUSES = frozenset({404, 410, 422})
"""GitHub answers that a retry cannot change: not found (or no access), gone, invalid."""


def run(session: Session, payload: dict[str, Any], dispatch: Dispatch) -> None:
    """Load, parse, dispatch and mark one delivery processed."""
    from . import ingress, payloads

    delivery = ingress.load(session, str(payload["delivery"]))
    if delivery.status == "processed":
        return  # already done (an admin re-ran the job)
    try:
        event = payloads.parse(delivery.event, delivery.payload)
    except payloads.PayloadError as err:
        raise PermanentError(f"delivery {delivery.id}: {err}") from err
    if event is None:
        ingress.finish(session, delivery.id)
        return
    current = settings()
    repository = getattr(event, "repository", None)
    if repository is not None and not concerns_tessera(session, repository.full_name, current):
        ingress.finish(session, delivery.id)  # no contract lives there: nothing to ask GitHub
        return
    installation_id = getattr(event, "installation_id", None) or delivery.installation_id
    if installation_id is None:
        log.warning("delivery %s (%s) names no installation: skipped", delivery.id, delivery.event)
        ingress.finish(session, delivery.id)
        return
    gh = github_app(current).installation(int(installation_id))
    with permanent_github_errors():
        dispatch(session, gh, event, current)
    ingress.finish(session, delivery.id)


@contextmanager
def permanent_github_errors() -> Iterator[None]:
    """GitHub's answers that no retry can change become ``PermanentError``."""
    try:
        yield
    except GitHubError as err:
        if err.status in PERMANENT_STATUSES:
            raise PermanentError(str(err)) from err
        raise


def concerns_tessera(session: Session, repo: str, current: Settings) -> bool:
    """Whether events of ``repo`` can matter: it is the registry, or a contract's source."""
    if current.registry_repo and repo.lower() == current.registry_repo.lower():
        return True
    found = session.scalars(
        select(Contract.id).where(func.lower(Contract.source_repo) == repo.lower()).limit(1)
    ).first()
    return found is not None


def delivery_failed(session: Session, job: Job) -> None:
    """A ``github.<event>`` job died: its delivery is ``failed``, with the job's last error."""
    from . import ingress

    delivery_id = job.payload.get("delivery") if isinstance(job.payload, dict) else None
    if delivery_id is None:
        return
    try:
        ingress.finish(session, str(delivery_id), job.last_error or "the job died")
    except LookupError:
        log.warning("job %s died for delivery %s, which is not stored", job.id, delivery_id)


# --- the dispatchers ---------------------------------------------------------------------------


def _pull_request(session: Session, gh: Installation, event: Any, current: Settings) -> None:
    if event.action == "closed":
        from .publish import on_pull_request_closed

        on_pull_request_closed(session, gh, event, current)
        return
    from .pull_requests import on_pull_request

    on_pull_request(session, gh, event, current)


def _review(session: Session, gh: Installation, event: Any, current: Settings) -> None:
    from .acks import on_review

    on_review(session, gh, event, current)


def _comment(session: Session, gh: Installation, event: Any, current: Settings) -> None:
    from .acks import on_issue_comment

    on_issue_comment(session, gh, event, current)


def _issues(session: Session, gh: Installation, event: Any, current: Settings) -> None:
    from .acks import on_issues

    on_issues(session, gh, event, current)


def _push(session: Session, gh: Installation, event: Any, current: Settings) -> None:
    from .publish import on_push

    on_push(session, gh, event, current)


def _check_run(session: Session, gh: Installation, event: Any, current: Settings) -> None:
    from .checks import on_check_run

    on_check_run(session, gh, event, current)


def _check_suite(session: Session, gh: Installation, event: Any, current: Settings) -> None:
    from .checks import on_check_suite

    on_check_suite(session, gh, event, current)


def _installation(session: Session, gh: Installation, event: Any, current: Settings) -> None:
    from .installations import on_installation

    on_installation(session, gh, event, current)
    if event.action == "created":
        _follow_registry_if_covered(session, event.repositories, current)


def _installation_repositories(
    session: Session, gh: Installation, event: Any, current: Settings
) -> None:
    from .installations import on_installation_repositories

    on_installation_repositories(session, gh, event, current)
    _follow_registry_if_covered(session, event.added, current)


def _follow_registry_if_covered(session: Session, repos: Any, current: Settings) -> None:
    """The App now covers the registry repository: the mirror follows it at once."""
    registry = (current.registry_repo or "").lower()
    if registry and any(ref.full_name.lower() == registry for ref in repos):
        from ..queue import enqueue

        enqueue(session, "github.registry_resync", {}, key=f"github.registry_resync@{uuid4()}")


DISPATCH: dict[str, Dispatch] = {
    "pull_request": _pull_request,
    "pull_request_review": _review,
    "issue_comment": _comment,
    "issues": _issues,
    "push": _push,
    "check_run": _check_run,
    "check_suite": _check_suite,
    "installation": _installation,
    "installation_repositories": _installation_repositories,
}


def _register(event: str, dispatch: Dispatch) -> None:
    def job(session: Session, payload: dict[str, Any]) -> None:
        run(session, payload, dispatch)

    job.__name__ = f"github_{event}"
    job.__doc__ = f"Process a stored ``{event}`` delivery."
    handler(f"github.{event}", on_dead=delivery_failed)(job)


for _event, _dispatch in DISPATCH.items():
    _register(_event, _dispatch)


@handler("github.direct_push")
def direct_push(session: Session, payload: dict[str, Any]) -> None:
    """A push to a default branch, after its grace period: a direct push opens proposals."""
    from .publish import judge_direct_push

    current = settings()
    gh = github_app(current).installation(int(payload["installation"]))
    with permanent_github_errors():
        judge_direct_push(session, gh, payload, current)


PROPOSAL_CHANGED_JOB = "github.proposal_changed"


def app_configured(current: Settings) -> bool:
    """Whether a GitHub App is there to tell (configured, or injected by tests and the demo)."""
    return _factory is not None or current.github_app_id is not None


def tell_github(session: Session, proposals: Sequence[Proposal]) -> None:
    """Enqueue what GitHub must be told about proposals the clock changed (expired, or open
    again because a waiver lapsed): one job each, serialized with their pull request's."""
    if not app_configured(settings()):
        return
    for proposal in proposals:
        contract = session.get(Contract, proposal.contract_id)
        if contract is None:
            continue
        serial = (
            f"{contract.source_repo}#{proposal.pull_request}" if proposal.pull_request > 0 else None
        )
        enqueue(
            session,
            PROPOSAL_CHANGED_JOB,
            {"proposal": proposal.id},
            key=f"{PROPOSAL_CHANGED_JOB}:{proposal.id}:{proposal.state}:{proposal.updated_at.isoformat()}",
            serial=serial,
        )


@handler(PROPOSAL_CHANGED_JOB)
def proposal_changed(session: Session, payload: dict[str, Any]) -> None:
    """A proposal the clock changed: a live one is judged again (checks, comment, issue); an
    expired one gets its final check, its issue closed saying so, its comment finished."""
    from .acks import refresh
    from .publish import finish

    proposal = session.get(Proposal, int(payload["proposal"]))
    contract = session.get(Contract, proposal.contract_id) if proposal is not None else None
    if proposal is None or contract is None:
        return
    installation = session.scalars(
        select(Repository.installation_id).where(
            func.lower(Repository.full_name) == contract.source_repo.lower()
        )
    ).first()
    if installation is None:
        log.warning("%s: no installation covers %s", PROPOSAL_CHANGED_JOB, contract.source_repo)
        return
    current = settings()
    gh = github_app(current).installation(installation)
    with permanent_github_errors():
        if proposal.state in LIVE:
            refresh(session, gh, [proposal], current)
        else:
            finish(session, gh, [proposal], current)


@handler("github.reconcile")
def reconcile(session: Session, payload: dict[str, Any]) -> None:
    """Periodic: judge open pull requests that have no check, redeliver failed deliveries."""
    from . import reconcile as reconciliation

    current = settings()
    if _factory is None and current.github_app_id is None:
        return  # no GitHub App configured: nothing to reconcile
    report = reconciliation.run(session, github_app(current), current)
    log.info("github reconcile: %s", report)


@handler("github.registry_resync")
def registry_resync(session: Session, payload: dict[str, Any]) -> None:
    """At start and periodic: the mirror follows the head of the registry branch on GitHub."""
    from . import registry_follow

    current = settings()
    if (_factory is None and current.github_app_id is None) or not current.registry_repo:
        return  # the App does not publish: the registry is not read from GitHub
    registry_follow.follow(session, github_app(current), current)
