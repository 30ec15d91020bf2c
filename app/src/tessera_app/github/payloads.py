"""Lenient readers of webhook payloads: only the fields the App uses, as frozen dataclasses.

Real payloads vary (older ones lack fields that today's schema marks required, and githubkit's
strict models reject them), so nothing else in a payload is looked at. A field the App cannot
work without (a pull request's number, a comment's body, ...) raises ``PayloadError`` naming
it; an optional one that is missing or of the wrong type reads as ``None``/empty. An integer
read is an id only within the range of the ``BIGINT`` columns ids are stored in, and a pull
request or issue number only within the ``INTEGER`` columns numbers are stored in: outside it,
it is of the wrong type (a number beyond 64 bits is refused here, not by the database), as is
a string holding a NUL character (which PostgreSQL's text columns refuse).

``parse(event, payload)`` returns the typed event for the events the App handles, else None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

T = TypeVar("T")

MIN_ID, MAX_ID = -(2**63), 2**63 - 1
"""The range of a ``BIGINT`` column: every GitHub id the App stores or looks up."""
MAX_NUMBER = 2**31 - 1
"""The largest pull request or issue number (an ``INTEGER`` column); numbers start at 1."""


class PayloadError(ValueError):
    """A webhook payload lacks a field the App needs (or has it with the wrong type)."""


# --- reading ----------------------------------------------------------------------------------

_MISSING = object()


def _get(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _required(data: Mapping[str, Any], path: str, kind: type[T], where: str) -> T:
    value = _get(data, path)
    if value is _MISSING or value is None:
        raise PayloadError(f"{where}: the payload has no {path!r}")
    if not _is(value, kind):
        if kind is int and type(value) is int:
            raise PayloadError(f"{where}: {path!r} is {value}, beyond the 64-bit ids GitHub gives")
        if kind is str and isinstance(value, str):
            raise PayloadError(f"{where}: {path!r} holds a NUL character")
        raise PayloadError(f"{where}: {path!r} is {type(value).__name__}, expected {kind.__name__}")
    return cast(T, value)


def _mapping(data: Mapping[str, Any], path: str, where: str) -> Mapping[str, Any]:
    value: Mapping[str, Any] = _required(data, path, dict, where)
    return value


def _optional(data: Mapping[str, Any], path: str, kind: type[T]) -> T | None:
    value = _get(data, path)
    return cast(T, value) if _is(value, kind) else None


def _is(value: Any, kind: type[Any]) -> bool:
    if kind is int:
        return is_id(value)
    if kind is str:  # PostgreSQL's text columns refuse NUL
        return isinstance(value, str) and "\x00" not in value
    return isinstance(value, kind)


def is_id(value: Any) -> bool:
    """An integer that fits the ``BIGINT`` columns ids are stored in (bool is an int in
    Python, never an id in a payload)."""
    return isinstance(value, int) and not isinstance(value, bool) and MIN_ID <= value <= MAX_ID


def _number(data: Mapping[str, Any], path: str, where: str) -> int:
    """A pull request or issue number: from 1 to ``MAX_NUMBER``."""
    value: int = _required(data, path, int, where)
    if not 1 <= value <= MAX_NUMBER:
        raise PayloadError(f"{where}: {path!r} is {value}, not a pull request or issue number")
    return value


def _strings(data: Mapping[str, Any], path: str) -> tuple[str, ...]:
    value = _get(data, path)
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if _is(item, str))


def _objects(data: Mapping[str, Any], path: str) -> list[Mapping[str, Any]]:
    value = _get(data, path)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


# --- shared parts -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Repository:
    full_name: str  # "owner/name"
    default_branch: str | None
    id: int | None = None

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]


@dataclass(frozen=True, slots=True)
class Actor:
    login: str
    type: str | None  # "User", "Bot", "Organization"

    @property
    def is_bot(self) -> bool:
        return self.type == "Bot" or self.login.endswith("[bot]")


def _repository(data: Mapping[str, Any], where: str, path: str = "repository") -> Repository:
    return Repository(
        full_name=_required(data, f"{path}.full_name", str, where),
        default_branch=_optional(data, f"{path}.default_branch", str),
        id=_optional(data, f"{path}.id", int),
    )


def _actor(data: Mapping[str, Any], path: str, where: str) -> Actor:
    return Actor(_required(data, f"{path}.login", str, where), _optional(data, f"{path}.type", str))


def _maybe_actor(data: Mapping[str, Any], path: str) -> Actor | None:
    login = _optional(data, f"{path}.login", str)
    return Actor(login, _optional(data, f"{path}.type", str)) if login else None


def _installation_id(data: Mapping[str, Any]) -> int | None:
    return _optional(data, "installation.id", int)


def _numbers(data: Mapping[str, Any], path: str) -> tuple[int, ...]:
    return tuple(
        number
        for item in _objects(data, path)
        if (number := _optional(item, "number", int)) is not None and 1 <= number <= MAX_NUMBER
    )


# --- pull requests ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PullRequest:
    number: int
    state: str  # open | closed
    merged: bool
    merge_commit_sha: str | None
    head_sha: str
    head_ref: str
    head_repo: str | None  # None when the fork was deleted; differs from base_repo for forks
    base_ref: str
    base_sha: str | None
    base_repo: str | None
    author: str | None
    title: str
    draft: bool

    @property
    def from_fork(self) -> bool:
        return self.head_repo is not None and self.head_repo != self.base_repo


def _pull_request(data: Mapping[str, Any], where: str) -> PullRequest:
    pr = _mapping(data, "pull_request", where)
    where = f"{where} pull_request"
    return PullRequest(
        number=_number(pr, "number", where),
        state=_optional(pr, "state", str) or "open",
        merged=_optional(pr, "merged", bool) or False,
        merge_commit_sha=_optional(pr, "merge_commit_sha", str),
        head_sha=_required(pr, "head.sha", str, where),
        head_ref=_required(pr, "head.ref", str, where),
        head_repo=_optional(pr, "head.repo.full_name", str),
        base_ref=_required(pr, "base.ref", str, where),
        base_sha=_optional(pr, "base.sha", str),
        base_repo=_optional(pr, "base.repo.full_name", str),
        author=_optional(pr, "user.login", str),
        title=_optional(pr, "title", str) or "",
        draft=_optional(pr, "draft", bool) or False,
    )


@dataclass(frozen=True, slots=True)
class PullRequestEvent:
    """``pull_request``: opened, synchronize, reopened, closed (``merged``), edited, ..."""

    action: str
    installation_id: int | None
    repository: Repository
    pull_request: PullRequest
    sender: Actor | None
    before: str | None  # synchronize: the previous head
    after: str | None  # synchronize: the new head
    base_changed_from: str | None  # edited: the previous base branch, when the base changed
    title_changed_from: str | None = None  # edited: the previous title, when the title changed

    @property
    def merged(self) -> bool:
        return self.action == "closed" and self.pull_request.merged

    @property
    def base_changed(self) -> bool:
        return self.action == "edited" and self.base_changed_from is not None


def pull_request_event(data: Mapping[str, Any]) -> PullRequestEvent:
    where = "pull_request"
    return PullRequestEvent(
        action=_required(data, "action", str, where),
        installation_id=_installation_id(data),
        repository=_repository(data, where),
        pull_request=_pull_request(data, where),
        sender=_maybe_actor(data, "sender"),
        before=_optional(data, "before", str),
        after=_optional(data, "after", str),
        base_changed_from=_optional(data, "changes.base.ref.from", str),
        title_changed_from=_optional(data, "changes.title.from", str),
    )


# --- reviews ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Review:
    id: int
    state: str  # lower-case: approved | changes_requested | commented | dismissed
    user: Actor
    commit_id: str | None  # the head the review was about (staleness)
    body: str
    author_association: str | None


@dataclass(frozen=True, slots=True)
class ReviewEvent:
    """``pull_request_review``: submitted (approved / changes_requested / commented),
    dismissed, edited."""

    action: str
    installation_id: int | None
    repository: Repository
    pull_request: PullRequest
    review: Review
    sender: Actor | None


def review_event(data: Mapping[str, Any]) -> ReviewEvent:
    where = "pull_request_review"
    return ReviewEvent(
        action=_required(data, "action", str, where),
        installation_id=_installation_id(data),
        repository=_repository(data, where),
        pull_request=_pull_request(data, where),
        review=Review(
            id=_required(data, "review.id", int, where),
            state=_required(data, "review.state", str, where).lower(),
            user=_actor(data, "review.user", where),
            commit_id=_optional(data, "review.commit_id", str),
            body=_optional(data, "review.body", str) or "",
            author_association=_optional(data, "review.author_association", str),
        ),
        sender=_maybe_actor(data, "sender"),
    )


# --- comments and issues ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    body: str
    user: Actor
    author_association: str | None
    via_app: str | None  # the slug of the GitHub App that posted it, if one did


@dataclass(frozen=True, slots=True)
class IssueCommentEvent:
    """``issue_comment`` on an issue or a pull request (``on_pull_request``); only
    ``created`` is acted on (edits and deletions are ignored: ``is_new``)."""

    action: str
    installation_id: int | None
    repository: Repository
    issue_number: int
    issue_title: str
    issue_state: str | None
    on_pull_request: bool
    comment: Comment
    sender: Actor | None

    @property
    def is_new(self) -> bool:
        return self.action == "created"


def issue_comment_event(data: Mapping[str, Any]) -> IssueCommentEvent:
    where = "issue_comment"
    return IssueCommentEvent(
        action=_required(data, "action", str, where),
        installation_id=_installation_id(data),
        repository=_repository(data, where),
        issue_number=_number(data, "issue.number", where),
        issue_title=_optional(data, "issue.title", str) or "",
        issue_state=_optional(data, "issue.state", str),
        on_pull_request=isinstance(_get(data, "issue.pull_request"), Mapping),
        comment=Comment(
            id=_required(data, "comment.id", int, where),
            body=_required(data, "comment.body", str, where),
            user=_actor(data, "comment.user", where),
            author_association=_optional(data, "comment.author_association", str),
            via_app=_optional(data, "comment.performed_via_github_app.slug", str),
        ),
        sender=_maybe_actor(data, "sender"),
    )


@dataclass(frozen=True, slots=True)
class Issue:
    number: int
    title: str
    state: str  # open | closed
    state_reason: str | None  # completed | not_planned | reopened
    labels: tuple[str, ...]
    author: str | None


@dataclass(frozen=True, slots=True)
class IssuesEvent:
    """``issues``: opened, closed, reopened, edited, labeled, ..."""

    action: str
    installation_id: int | None
    repository: Repository
    issue: Issue
    sender: Actor | None


def issues_event(data: Mapping[str, Any]) -> IssuesEvent:
    where = "issues"
    issue = _mapping(data, "issue", where)
    return IssuesEvent(
        action=_required(data, "action", str, where),
        installation_id=_installation_id(data),
        repository=_repository(data, where),
        issue=Issue(
            number=_number(issue, "number", f"{where} issue"),
            title=_optional(issue, "title", str) or "",
            state=_optional(issue, "state", str) or "open",
            state_reason=_optional(issue, "state_reason", str),
            labels=tuple(
                name
                for label in _objects(issue, "labels")
                if (name := _optional(label, "name", str))
            ),
            author=_optional(issue, "user.login", str),
        ),
        sender=_maybe_actor(data, "sender"),
    )


# --- pushes -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Commit:
    id: str
    message: str
    added: tuple[str, ...]
    modified: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PushEvent:
    """``push``. The ``commits`` list is capped by GitHub: use the compare API for the full
    change set; ``changed_paths`` is only what the payload lists."""

    ref: str
    before: str
    after: str
    created: bool
    deleted: bool
    forced: bool
    installation_id: int | None
    repository: Repository
    commits: tuple[Commit, ...]
    head_commit: str | None
    pusher: str | None
    sender: Actor | None

    @property
    def branch(self) -> str | None:
        """The branch pushed to, or None for a tag."""
        return self.ref.removeprefix("refs/heads/") if self.ref.startswith("refs/heads/") else None

    @property
    def to_default_branch(self) -> bool:
        return self.branch is not None and self.branch == self.repository.default_branch

    @property
    def changed_paths(self) -> frozenset[str]:
        return frozenset(path for c in self.commits for path in (*c.added, *c.modified, *c.removed))


def push_event(data: Mapping[str, Any]) -> PushEvent:
    where = "push"
    return PushEvent(
        ref=_required(data, "ref", str, where),
        before=_required(data, "before", str, where),
        after=_required(data, "after", str, where),
        created=_optional(data, "created", bool) or False,
        deleted=_optional(data, "deleted", bool) or False,
        forced=_optional(data, "forced", bool) or False,
        installation_id=_installation_id(data),
        repository=_repository(data, where),
        commits=tuple(
            Commit(
                id=_required(commit, "id", str, f"{where} commit"),
                message=_optional(commit, "message", str) or "",
                added=_strings(commit, "added"),
                modified=_strings(commit, "modified"),
                removed=_strings(commit, "removed"),
            )
            for commit in _objects(data, "commits")
        ),
        head_commit=_optional(data, "head_commit.id", str),
        pusher=_optional(data, "pusher.name", str),
        sender=_maybe_actor(data, "sender"),
    )


# --- checks -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckRun:
    id: int
    name: str
    head_sha: str
    external_id: str | None
    app_id: int | None
    pull_requests: tuple[int, ...]  # empty for pushes from forks


@dataclass(frozen=True, slots=True)
class CheckRunEvent:
    """``check_run``: rerequested, requested_action (``requested_action`` is the button's
    identifier), created, completed."""

    action: str
    installation_id: int | None
    repository: Repository
    check_run: CheckRun
    requested_action: str | None
    sender: Actor | None


def check_run_event(data: Mapping[str, Any]) -> CheckRunEvent:
    where = "check_run"
    return CheckRunEvent(
        action=_required(data, "action", str, where),
        installation_id=_installation_id(data),
        repository=_repository(data, where),
        check_run=CheckRun(
            id=_required(data, "check_run.id", int, where),
            name=_required(data, "check_run.name", str, where),
            head_sha=_required(data, "check_run.head_sha", str, where),
            external_id=_optional(data, "check_run.external_id", str) or None,
            app_id=_optional(data, "check_run.app.id", int),
            pull_requests=_numbers(data, "check_run.pull_requests"),
        ),
        requested_action=_optional(data, "requested_action.identifier", str),
        sender=_maybe_actor(data, "sender"),
    )


@dataclass(frozen=True, slots=True)
class CheckSuiteEvent:
    """``check_suite``: requested, rerequested, completed."""

    action: str
    installation_id: int | None
    repository: Repository
    suite_id: int
    head_sha: str
    head_branch: str | None
    app_id: int | None
    pull_requests: tuple[int, ...]
    sender: Actor | None


def check_suite_event(data: Mapping[str, Any]) -> CheckSuiteEvent:
    where = "check_suite"
    return CheckSuiteEvent(
        action=_required(data, "action", str, where),
        installation_id=_installation_id(data),
        repository=_repository(data, where),
        suite_id=_required(data, "check_suite.id", int, where),
        head_sha=_required(data, "check_suite.head_sha", str, where),
        head_branch=_optional(data, "check_suite.head_branch", str),
        app_id=_optional(data, "check_suite.app.id", int),
        pull_requests=_numbers(data, "check_suite.pull_requests"),
        sender=_maybe_actor(data, "sender"),
    )


# --- installations ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RepositoryRef:
    id: int | None
    full_name: str


def _repository_refs(data: Mapping[str, Any], path: str) -> tuple[RepositoryRef, ...]:
    return tuple(
        RepositoryRef(_optional(item, "id", int), name)
        for item in _objects(data, path)
        if (name := _optional(item, "full_name", str))
    )


@dataclass(frozen=True, slots=True)
class InstallationEvent:
    """``installation``: created (``repositories``), deleted, suspend, unsuspend,
    new_permissions_accepted."""

    action: str
    installation_id: int
    account: str
    repository_selection: str | None  # all | selected
    repositories: tuple[RepositoryRef, ...]
    sender: Actor | None


def installation_event(data: Mapping[str, Any]) -> InstallationEvent:
    where = "installation"
    return InstallationEvent(
        action=_required(data, "action", str, where),
        installation_id=_required(data, "installation.id", int, where),
        account=_required(data, "installation.account.login", str, where),
        repository_selection=_optional(data, "installation.repository_selection", str),
        repositories=_repository_refs(data, "repositories"),
        sender=_maybe_actor(data, "sender"),
    )


@dataclass(frozen=True, slots=True)
class InstallationRepositoriesEvent:
    """``installation_repositories``: added, removed."""

    action: str
    installation_id: int
    account: str
    repository_selection: str | None
    added: tuple[RepositoryRef, ...]
    removed: tuple[RepositoryRef, ...]
    sender: Actor | None


def installation_repositories_event(data: Mapping[str, Any]) -> InstallationRepositoriesEvent:
    where = "installation_repositories"
    return InstallationRepositoriesEvent(
        action=_required(data, "action", str, where),
        installation_id=_required(data, "installation.id", int, where),
        account=_required(data, "installation.account.login", str, where),
        repository_selection=_optional(data, "repository_selection", str),
        added=_repository_refs(data, "repositories_added"),
        removed=_repository_refs(data, "repositories_removed"),
        sender=_maybe_actor(data, "sender"),
    )


# --- dispatch ---------------------------------------------------------------------------------

Event = (
    PullRequestEvent
    | ReviewEvent
    | IssueCommentEvent
    | IssuesEvent
    | PushEvent
    | CheckRunEvent
    | CheckSuiteEvent
    | InstallationEvent
    | InstallationRepositoriesEvent
)

READERS: Mapping[str, Callable[[Mapping[str, Any]], Event]] = {
    "pull_request": pull_request_event,
    "pull_request_review": review_event,
    "issue_comment": issue_comment_event,
    "issues": issues_event,
    "push": push_event,
    "check_run": check_run_event,
    "check_suite": check_suite_event,
    "installation": installation_event,
    "installation_repositories": installation_repositories_event,
}
"""``X-GitHub-Event`` -> its reader (the same events as ``ingress.HANDLED_EVENTS``)."""


def parse(event: str, payload: Mapping[str, Any]) -> Event | None:
    """The typed event, or None for an event the App does not handle; ``PayloadError`` when
    a required field is missing."""
    reader = READERS.get(event)
    if reader is None:
        return None
    if not isinstance(payload, Mapping):
        raise PayloadError(f"{event}: the payload is not a JSON object")
    return reader(payload)
