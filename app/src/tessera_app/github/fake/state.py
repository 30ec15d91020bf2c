"""In-memory state of the fake GitHub, and the user-side actions that change it.

``FakeState`` holds everything the fake serves: the App (its id, slug and public key), its
installations and their repositories, git objects and refs per repository (a tree per commit,
branches as refs), pull requests (changed files computed from the trees), reviews, issues,
comments, reactions, check runs (annotations accumulated across updates), teams and memberships,
webhook deliveries (and redeliveries under way), installation tokens, injected faults, a log of
every request and the violations of GitHub's REST description seen (``conformance.py``).

The App-side writes arrive through the REST endpoints (``app.py``); the user-side actions that a
test or a demo plays (push, rename, open, close, reopen or merge a pull request, close an issue,
comment, edit a comment, review, join a team) are the methods below, also reachable over HTTP as
``POST /_fake/seed`` (see ``seed``).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tessera_app.github.fake.git import BLOB_MODE, FileChange, ObjectStore, descends, diff


def iso(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeError(Exception):
    """A request the fake refuses: answered with ``status`` and a GitHub-style message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class App:
    id: int = 1
    slug: str = "tessera"
    name: str = "Tessera"
    owner: str = "tessera-org"
    public_key: str = ""  # PEM; JWTs are verified against it (RS256)
    token_ttl_seconds: int = 3600
    webhook_url: str | None = None  # where a redelivery is POSTed, if set
    webhook_secret: str | None = None  # signs it (``X-Hub-Signature-256``)
    webhook_content_type: str = "json"  # "json", or "form": ``payload=<the JSON>``, form-encoded

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"


@dataclass
class Installation:
    id: int
    account: str
    repositories: list[str] = field(default_factory=list)  # "owner/name"


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    default_branch: str = "main"
    git: ObjectStore = field(default_factory=ObjectStore)
    refs: dict[str, str] = field(default_factory=dict)  # "heads/main" -> commit sha
    tree_limit: int | None = None  # a recursive tree listing longer than this is truncated

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def branch_sha(self, branch: str) -> str:
        sha = self.refs.get(f"heads/{branch}")
        if sha is None:
            raise FakeError(404, f"Branch not found: {branch}")
        return sha

    def resolve(self, ref: str) -> str:
        """A commit sha for a branch name, ``heads/...``, ``refs/heads/...`` or a sha."""
        name = ref.removeprefix("refs/")
        for candidate in (name, f"heads/{name}", f"tags/{name}"):
            if candidate in self.refs:
                return self.refs[candidate]
        if ref in self.git.commits:
            return ref
        raise FakeError(404, f"No commit found for the ref {ref}")


@dataclass
class Issue:
    repo: str
    number: int
    title: str
    body: str
    user: str
    labels: list[str] = field(default_factory=list)
    state: str = "open"
    state_reason: str | None = None
    created_at: str = field(default_factory=iso)
    updated_at: str = field(default_factory=iso)
    closed_at: str | None = None
    closed_by: str | None = None
    is_pull_request: bool = False


@dataclass
class Pull:
    repo: str
    number: int
    title: str
    body: str
    user: str
    head_ref: str
    base_ref: str
    base_sha: str
    head_sha: str
    state: str = "open"
    merged: bool = False
    merge_commit_sha: str | None = None
    merged_by: str | None = None
    merged_at: str | None = None
    closed_at: str | None = None
    created_at: str = field(default_factory=iso)
    updated_at: str = field(default_factory=iso)


@dataclass
class Review:
    id: int
    repo: str
    number: int
    user: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
    body: str
    commit_id: str
    submitted_at: str = field(default_factory=iso)


@dataclass
class Comment:
    id: int
    repo: str
    number: int
    user: str
    body: str
    via_app: bool = False
    created_at: str = field(default_factory=iso)
    updated_at: str = field(default_factory=iso)


@dataclass
class Reaction:
    id: int
    comment_id: int
    user: str
    content: str
    created_at: str = field(default_factory=iso)


@dataclass
class CheckRun:
    id: int
    repo: str
    head_sha: str
    name: str
    app_id: int
    status: str = "queued"
    conclusion: str | None = None
    external_id: str | None = None
    details_url: str | None = None
    title: str | None = None
    summary: str | None = None
    text: str | None = None
    annotations: list[dict[str, Any]] = field(default_factory=list)
    started_at: str = field(default_factory=iso)
    completed_at: str | None = None


@dataclass
class Team:
    id: int
    org: str
    slug: str
    name: str
    members: dict[str, str] = field(default_factory=dict)  # login -> "active" | "pending"


@dataclass
class Delivery:
    id: int
    guid: str
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    status_code: int
    payload: dict[str, Any] = field(default_factory=dict)
    redelivery: bool = False
    delivered_at: str = field(default_factory=iso)

    @property
    def status(self) -> str:
        return "OK" if 200 <= self.status_code < 300 else f"failed ({self.status_code})"


@dataclass
class Fault:
    """The next ``count`` requests matching ``method`` and the ``path`` regex misbehave.

    ``kind``: ``error`` (answer ``status``, default 502), ``secondary_rate_limit`` (403 with
    ``retry-after``), ``rate_limit`` (403 with ``x-ratelimit-remaining: 0`` and
    ``x-ratelimit-reset``), ``too_many`` (429 with ``retry-after``), ``hang`` (sleep
    ``hang_seconds`` before answering normally).
    """

    path: str
    kind: str = "error"
    method: str = "*"
    count: int = 1
    status: int = 502
    retry_after: int = 0
    hang_seconds: float = 30.0

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and re.search(self.path, path) is not None


@dataclass
class RequestRecord:
    method: str
    path: str
    status: int
    at: float  # time.monotonic()
    auth: str  # "app", "installation:<id>", "none"
    api_version: str | None = None  # the request's X-GitHub-Api-Version header
    operation: str | None = None  # the operationId in GitHub's REST description


class FakeState:
    """Everything the fake GitHub knows. Thread-safe through ``lock`` (one request at a time)."""

    def __init__(self, app: App | None = None) -> None:
        self.lock = threading.RLock()
        self.app = app or App()
        self.installations: dict[int, Installation] = {}
        self.repos: dict[str, Repo] = {}
        self.issues: dict[tuple[str, int], Issue] = {}
        self.pulls: dict[tuple[str, int], Pull] = {}
        self.reviews: list[Review] = []
        self.comments: dict[int, Comment] = {}
        self.reactions: list[Reaction] = []
        self.check_runs: dict[int, CheckRun] = {}
        self.teams: dict[tuple[str, str], Team] = {}
        self.deliveries: list[Delivery] = []
        self.tokens: dict[str, tuple[int, datetime]] = {}
        self.faults: list[Fault] = []
        self.requests: list[RequestRecord] = []
        self.users: dict[str, int] = {}
        self.violations: list[str] = []  # of GitHub's REST description (``conformance.py``)
        self.redeliveries: list[threading.Thread] = []  # attempts started (``webhooks.py``)
        self.webhook_transport: httpx.BaseTransport | None = None  # reaches the webhook URL
        self._ids = iter(range(1000, 10**12))

    # -- identities -------------------------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

    def user_id(self, login: str) -> int:
        if login not in self.users:
            self.users[login] = self.next_id()
        return self.users[login]

    def repo(self, full_name: str) -> Repo:
        found = self.repos.get(full_name.lower())
        if found is None:
            raise FakeError(404, "Not Found")
        return found

    def installation_of(self, full_name: str) -> int | None:
        for inst in self.installations.values():
            if full_name.lower() in (r.lower() for r in inst.repositories):
                return inst.id
        return None

    def issue_token(self, installation_id: int) -> tuple[str, datetime]:
        if installation_id not in self.installations:
            raise FakeError(404, "Not Found")
        token = "ghs_" + secrets.token_hex(18)
        expires = datetime.now(UTC).replace(microsecond=0) + timedelta(
            seconds=self.app.token_ttl_seconds
        )
        self.tokens[token] = (installation_id, expires)
        return token, expires

    def token_installation(self, token: str) -> int:
        found = self.tokens.get(token)
        if found is None or found[1] <= datetime.now(UTC):
            raise FakeError(401, "Bad credentials")
        return found[0]

    # -- repositories and git ---------------------------------------------------------------

    def add_installation(self, installation_id: int, account: str) -> Installation:
        inst = self.installations.setdefault(
            installation_id, Installation(installation_id, account)
        )
        return inst

    def add_repo(
        self, full_name: str, *, installation_id: int | None = None, default_branch: str = "main"
    ) -> Repo:
        key = full_name.lower()
        if key not in self.repos:
            owner, name = full_name.split("/", 1)
            self.repos[key] = Repo(self.next_id(), owner, name, default_branch)
        if installation_id is not None:
            inst = self.add_installation(installation_id, full_name.split("/", 1)[0])
            if full_name not in inst.repositories:
                inst.repositories.append(full_name)
        return self.repos[key]

    def push(
        self,
        full_name: str,
        branch: str,
        files: Mapping[str, str | None],
        *,
        message: str = "update",
        author: str = "octocat",
        replace: bool = False,
        from_branch: str | None = None,
        renames: Mapping[str, str] | None = None,
    ) -> str:
        """Commit ``files`` (path -> text, None deletes) on ``branch``; returns the commit sha.

        The parent is the branch tip (or ``from_branch``'s tip when the branch is new); with
        ``replace`` the commit holds exactly ``files``. ``renames`` (old path -> new path) moves
        files first (``git mv``); ``files`` may then also change the new path's text.
        """
        repo = self.repo(full_name)
        parent = repo.refs.get(f"heads/{branch}")
        if parent is None and from_branch is not None:
            parent = repo.branch_sha(from_branch)
        base_tree = None if replace or parent is None else repo.git.commits[parent].tree
        changes: dict[str, str | None] = {}
        for old, new in (renames or {}).items():
            found = repo.git.lookup(base_tree, old) if base_tree else None
            if found is None or found[0] != BLOB_MODE:
                raise FakeError(422, f"cannot rename {old}: no such file on {branch}")
            changes[old], changes[new] = None, found[1]
        changes |= {
            path: None if text is None else repo.git.put_blob(text.encode())
            for path, text in files.items()
        }
        tree = repo.git.with_changes(base_tree, changes)
        parents = () if parent is None else (parent,)
        sha = repo.git.put_commit(tree, parents, message, author, iso())
        repo.refs[f"heads/{branch}"] = sha
        self._follow_heads(repo, branch, sha)
        return sha

    def _follow_heads(self, repo: Repo, branch: str, sha: str) -> None:
        for pull in self.pulls.values():
            if pull.repo == repo.full_name and pull.state == "open" and pull.head_ref == branch:
                pull.head_sha = sha
                pull.updated_at = iso()

    def files_at(self, full_name: str, ref: str) -> dict[str, str]:
        repo = self.repo(full_name)
        return {
            p: b.decode("utf-8", "replace") for p, b in repo.git.files_at(repo.resolve(ref)).items()
        }

    # -- issues and pull requests -------------------------------------------------------------

    def _next_number(self, full_name: str) -> int:
        taken = [n for (r, n) in self.issues if r == full_name]
        return max(taken, default=0) + 1

    def create_issue(
        self,
        full_name: str,
        title: str,
        body: str = "",
        *,
        user: str,
        labels: Sequence[str] = (),
    ) -> Issue:
        repo = self.repo(full_name)
        number = self._next_number(repo.full_name)
        issue = Issue(repo.full_name, number, title, body, user, list(labels))
        self.issues[(repo.full_name, number)] = issue
        return issue

    def issue(self, full_name: str, number: int) -> Issue:
        found = self.issues.get((self.repo(full_name).full_name, number))
        if found is None:
            raise FakeError(404, "Not Found")
        return found

    def open_pull_request(
        self,
        full_name: str,
        head: str,
        base: str | None = None,
        *,
        title: str = "A change",
        body: str = "",
        author: str = "octocat",
    ) -> Pull:
        repo = self.repo(full_name)
        base = base or repo.default_branch
        issue = self.create_issue(repo.full_name, title, body, user=author)
        issue.is_pull_request = True
        pull = Pull(
            repo.full_name,
            issue.number,
            title,
            body,
            author,
            head,
            base,
            repo.branch_sha(base),
            repo.branch_sha(head),
        )
        self.pulls[(repo.full_name, issue.number)] = pull
        return pull

    def pull(self, full_name: str, number: int) -> Pull:
        found = self.pulls.get((self.repo(full_name).full_name, number))
        if found is None:
            raise FakeError(404, "Not Found")
        return found

    def pull_changes(self, pull: Pull) -> list[FileChange]:
        """The files the pull request changes (its base commit against its head)."""
        return diff(self.repo(pull.repo).git, pull.base_sha, pull.head_sha)

    def pull_files(self, pull: Pull) -> dict[str, str]:
        """The changed paths and their status (``renamed`` at the new path)."""
        return {change.path: change.status for change in self.pull_changes(pull)}

    def pulls_with_commit(self, full_name: str, sha: str) -> list[Pull]:
        """The pull requests a commit belongs to: merged by it, or one of their commits (on the
        head side, not on the base), newest first."""
        repo = self.repo(full_name)
        found = []
        for pull in self.pulls.values():
            if pull.repo != repo.full_name:
                continue
            if pull.merge_commit_sha == sha or (
                descends(repo.git.commits, pull.head_sha, sha)
                and not descends(repo.git.commits, pull.base_sha, sha)
            ):
                found.append(pull)
        return sorted(found, key=lambda p: p.number, reverse=True)

    def merge_pull_request(self, full_name: str, number: int, *, merged_by: str = "octocat") -> str:
        """Merge (a merge commit on the base branch holding the PR's changes); returns its sha."""
        pull = self.pull(full_name, number)
        if pull.state != "open":
            raise FakeError(405, "Pull Request is not mergeable")
        repo = self.repo(pull.repo)
        changes: dict[str, str | None] = {}
        for change in self.pull_changes(pull):
            if change.previous_path is not None:
                changes[change.previous_path] = None
            changes[change.path] = change.new_sha
        base_tip = repo.branch_sha(pull.base_ref)
        tree = repo.git.with_changes(repo.git.commits[base_tip].tree, changes)
        message = f"Merge pull request #{number} from {pull.head_ref}\n\n{pull.title}"
        sha = repo.git.put_commit(tree, (base_tip, pull.head_sha), message, merged_by, iso())
        repo.refs[f"heads/{pull.base_ref}"] = sha
        pull.state, pull.merged, pull.merge_commit_sha = "closed", True, sha
        pull.merged_by, pull.merged_at = merged_by, iso()
        pull.closed_at = pull.updated_at = pull.merged_at
        self._close_issue(self.issue(pull.repo, number), None, merged_by)
        self._follow_heads(repo, pull.base_ref, sha)
        return sha

    def close_pull_request(self, full_name: str, number: int, *, by: str = "octocat") -> Pull:
        """Close an open pull request without merging it ("Close pull request")."""
        pull = self.pull(full_name, number)
        if pull.state != "open":
            raise FakeError(422, f"pull request #{number} is not open")
        pull.state, pull.closed_at = "closed", iso()
        pull.updated_at = pull.closed_at
        self._close_issue(self.issue(pull.repo, number), None, by)
        return pull

    def reopen_pull_request(self, full_name: str, number: int) -> Pull:
        """Reopen a pull request closed without merging; its head follows the branch again
        (a push made while it was closed is now part of it)."""
        pull = self.pull(full_name, number)
        if pull.merged:
            raise FakeError(422, f"pull request #{number} is merged: it cannot be reopened")
        if pull.state != "closed":
            raise FakeError(422, f"pull request #{number} is not closed")
        repo = self.repo(pull.repo)
        pull.head_sha = repo.branch_sha(pull.head_ref)
        pull.state, pull.closed_at, pull.updated_at = "open", None, iso()
        self._reopen_issue(self.issue(pull.repo, number))
        return pull

    def close_issue(
        self,
        full_name: str,
        number: int,
        *,
        state_reason: str = "completed",
        by: str = "octocat",
    ) -> Issue:
        """Close an issue by hand ("Close as completed" or "Close as not planned")."""
        if state_reason not in ("completed", "not_planned"):
            raise FakeError(422, f"state_reason {state_reason!r}: completed or not_planned")
        issue = self.issue(full_name, number)
        if issue.is_pull_request:
            raise FakeError(422, f"#{number} is a pull request: close_pull_request closes it")
        if issue.state != "closed":
            self._close_issue(issue, state_reason, by)
        return issue

    def reopen_issue(self, full_name: str, number: int) -> Issue:
        issue = self.issue(full_name, number)
        if issue.state != "open":
            self._reopen_issue(issue)
        return issue

    def _close_issue(self, issue: Issue, reason: str | None, by: str | None = None) -> None:
        issue.state, issue.state_reason, issue.closed_at = "closed", reason, iso()
        issue.updated_at, issue.closed_by = issue.closed_at, by

    def _reopen_issue(self, issue: Issue) -> None:
        issue.state, issue.closed_at, issue.closed_by = "open", None, None
        issue.state_reason = None if issue.is_pull_request else "reopened"
        issue.updated_at = iso()

    def add_comment(self, full_name: str, number: int, body: str, *, user: str) -> Comment:
        issue = self.issue(full_name, number)
        comment = Comment(self.next_id(), issue.repo, number, user, body)
        self.comments[comment.id] = comment
        return comment

    def edit_comment(self, comment_id: int, body: str) -> tuple[Comment, str]:
        """A user edits their comment; the comment and its body before the edit (what an
        ``issue_comment`` ``edited`` event carries in ``changes.body.from``)."""
        comment = self.comments.get(comment_id)
        if comment is None:
            raise FakeError(404, f"no comment {comment_id}")
        before = comment.body
        comment.body, comment.updated_at = body, iso()
        return comment, before

    def add_review(
        self, full_name: str, number: int, *, user: str, state: str = "APPROVED", body: str = ""
    ) -> Review:
        pull = self.pull(full_name, number)
        review = Review(self.next_id(), pull.repo, number, user, state.upper(), body, pull.head_sha)
        self.reviews.append(review)
        return review

    # -- teams, deliveries, faults ----------------------------------------------------------------

    def add_team_member(
        self, org: str, slug: str, login: str, *, state: str = "active", name: str | None = None
    ) -> Team:
        key = (org.lower(), slug.lower())
        if key not in self.teams:
            self.teams[key] = Team(self.next_id(), org, slug, name or slug)
        self.teams[key].members[login] = state
        return self.teams[key]

    def add_delivery(
        self,
        event: str,
        *,
        guid: str | None = None,
        action: str | None = None,
        status_code: int = 200,
        installation_id: int | None = None,
        repository_id: int | None = None,
        payload: dict[str, Any] | None = None,
        redelivery: bool = False,
    ) -> Delivery:
        delivery = Delivery(
            self.next_id(),
            guid or secrets.token_hex(16),
            event,
            action,
            installation_id,
            repository_id,
            status_code,
            payload or {},
            redelivery,
        )
        self.deliveries.append(delivery)
        return delivery

    def wait_for_redeliveries(self, timeout: float = 10.0) -> None:
        """Wait until every redelivery started so far has been attempted (and recorded)."""
        deadline = time.monotonic() + timeout
        with self.lock:
            started = list(self.redeliveries)
        for thread in started:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                raise TimeoutError(f"a redelivery is still under way after {timeout} s")
        with self.lock:
            self.redeliveries = [t for t in self.redeliveries if t.is_alive()]

    def take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.count > 0 and fault.matches(method, path):
                fault.count -= 1
                return fault
        return None

    def requests_to(self, method: str, pattern: str) -> list[RequestRecord]:
        """The logged requests with ``method`` whose path matches the ``pattern`` regex."""
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    # -- seed and snapshot ------------------------------------------------------------------------

    def seed(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Apply a seed document (all keys optional, applied in this order); returns what it made.

        ```
        {"app": {"id": 1, "slug": "tessera", "public_key": "<PEM>", "token_ttl_seconds": 3600},
         "installations": [{"id": 1, "account": "acme", "repositories": ["acme/api"]}],
         "repos": [{"full_name": "acme/api", "installation": 1, "default_branch": "main",
                    "branches": {"main": {"a.yaml": "..."}}, "tree_limit": 1000}],
         "pushes": [{"repo": "acme/api", "branch": "feature", "from": "main",
                     "files": {"a.yaml": "...", "old.yaml": null}, "message": "...",
                     "renames": {"b.yaml": "c.yaml"}}],
         "pull_requests": [{"repo": "acme/api", "head": "feature", "base": "main",
                            "title": "...", "author": "alice"}],
         "issues": [{"repo": "acme/api", "title": "...", "body": "...", "user": "carol"}],
         "comments": [{"repo": "acme/api", "number": 1, "user": "bob", "body": "/tessera ack"}],
         "comment_edits": [{"id": 1001, "body": "/tessera ack migrating"}],
         "reviews": [{"repo": "acme/api", "number": 1, "user": "bob", "state": "APPROVED"}],
         "merges": [{"repo": "acme/api", "number": 1, "by": "alice"}],
         "closes": [{"repo": "acme/api", "number": 2, "by": "alice"}],
         "reopens": [{"repo": "acme/api", "number": 2}],
         "issue_closes": [{"repo": "acme/registry", "number": 3, "by": "bob",
                           "state_reason": "not_planned"}],
         "teams": [{"org": "acme", "slug": "payments", "members": ["bob"]}],
         "deliveries": [{"event": "pull_request", "action": "opened", "status_code": 500}]}
        ```

        ``tree_limit``: a recursive tree listing with more entries is cut and says
        ``truncated: true`` (GitHub truncates huge trees). ``closes`` closes a pull request
        without merging, ``reopens`` reopens it, ``issue_closes`` closes an issue by hand
        (``state_reason`` ``completed`` or ``not_planned``). What it made: the pushed commit
        shas, the pull request and issue numbers, the comment ids, the merge commit shas, and
        each edited comment's body before the edit.
        """
        made: dict[str, Any] = {
            "pushes": [],
            "pull_requests": [],
            "issues": [],
            "comments": [],
            "merges": [],
            "comment_edits": [],
        }
        with self.lock:
            if "app" in doc:
                for key, value in doc["app"].items():
                    setattr(self.app, key, value)
            for inst in doc.get("installations", []):
                created = self.add_installation(int(inst["id"]), inst["account"])
                for full_name in inst.get("repositories", []):
                    self.add_repo(full_name, installation_id=created.id)
            for spec in doc.get("repos", []):
                repo = self.add_repo(
                    spec["full_name"],
                    installation_id=spec.get("installation"),
                    default_branch=spec.get("default_branch", "main"),
                )
                for branch, files in spec.get("branches", {}).items():
                    self.push(repo.full_name, branch, files, message="seed", replace=True)
                if "tree_limit" in spec:
                    repo.tree_limit = spec["tree_limit"]
            for spec in doc.get("pushes", []):
                made["pushes"].append(
                    self.push(
                        spec["repo"],
                        spec["branch"],
                        spec.get("files", {}),
                        message=spec.get("message", "update"),
                        author=spec.get("author", "octocat"),
                        from_branch=spec.get("from"),
                        renames=spec.get("renames"),
                    )
                )
            for spec in doc.get("pull_requests", []):
                pull = self.open_pull_request(
                    spec["repo"],
                    spec["head"],
                    spec.get("base"),
                    title=spec.get("title", "A change"),
                    body=spec.get("body", ""),
                    author=spec.get("author", "octocat"),
                )
                made["pull_requests"].append(pull.number)
            for spec in doc.get("issues", []):
                issue = self.create_issue(
                    spec["repo"],
                    spec["title"],
                    spec.get("body", ""),
                    user=spec.get("user", "octocat"),
                    labels=spec.get("labels", []),
                )
                made["issues"].append(issue.number)
            for spec in doc.get("comments", []):
                comment = self.add_comment(
                    spec["repo"], spec["number"], spec["body"], user=spec["user"]
                )
                made["comments"].append(comment.id)
            for spec in doc.get("comment_edits", []):
                _, before = self.edit_comment(int(spec["id"]), spec["body"])
                made["comment_edits"].append(before)
            for spec in doc.get("reviews", []):
                self.add_review(
                    spec["repo"],
                    spec["number"],
                    user=spec["user"],
                    state=spec.get("state", "APPROVED"),
                    body=spec.get("body", ""),
                )
            for spec in doc.get("merges", []):
                made["merges"].append(
                    self.merge_pull_request(
                        spec["repo"], spec["number"], merged_by=spec.get("by", "octocat")
                    )
                )
            for spec in doc.get("closes", []):
                self.close_pull_request(spec["repo"], spec["number"], by=spec.get("by", "octocat"))
            for spec in doc.get("reopens", []):
                self.reopen_pull_request(spec["repo"], spec["number"])
            for spec in doc.get("issue_closes", []):
                self.close_issue(
                    spec["repo"],
                    spec["number"],
                    state_reason=spec.get("state_reason", "completed"),
                    by=spec.get("by", "octocat"),
                )
            for spec in doc.get("teams", []):
                for login in spec.get("members", []):
                    self.add_team_member(spec["org"], spec["slug"], login, name=spec.get("name"))
                for login in spec.get("pending", []):
                    self.add_team_member(spec["org"], spec["slug"], login, state="pending")
            for spec in doc.get("deliveries", []):
                self.add_delivery(
                    spec["event"],
                    guid=spec.get("guid"),
                    action=spec.get("action"),
                    status_code=spec.get("status_code", 200),
                    installation_id=spec.get("installation_id"),
                    payload=spec.get("payload"),
                )
        return made

    def snapshot(self) -> dict[str, Any]:
        """Everything, as JSON-ready data (``GET /_fake/state``)."""
        with self.lock:
            return {
                "app": {k: v for k, v in asdict(self.app).items() if k != "public_key"},
                "installations": [asdict(i) for i in self.installations.values()],
                "repos": {
                    repo.full_name: {
                        "id": repo.id,
                        "default_branch": repo.default_branch,
                        "tree_limit": repo.tree_limit,
                        "refs": dict(repo.refs),
                        "branches": {
                            ref.removeprefix("heads/"): {
                                "sha": sha,
                                "message": repo.git.commits[sha].message,
                                "files": self.files_at(repo.full_name, sha),
                            }
                            for ref, sha in repo.refs.items()
                            if ref.startswith("heads/")
                        },
                    }
                    for repo in self.repos.values()
                },
                "pull_requests": [
                    {**asdict(p), "files": self.pull_files(p)} for p in self.pulls.values()
                ],
                "issues": [asdict(i) for i in self.issues.values() if not i.is_pull_request],
                "comments": [asdict(c) for c in self.comments.values()],
                "reviews": [asdict(r) for r in self.reviews],
                "reactions": [asdict(r) for r in self.reactions],
                "check_runs": [asdict(c) for c in self.check_runs.values()],
                "teams": [asdict(t) for t in self.teams.values()],
                "deliveries": [asdict(d) for d in self.deliveries],
                "faults": [asdict(f) for f in self.faults if f.count > 0],
                "requests": len(self.requests),
                "violations": list(self.violations),
            }

    def log(
        self,
        method: str,
        path: str,
        status: int,
        auth: str,
        *,
        api_version: str | None = None,
        operation: str | None = None,
    ) -> None:
        self.requests.append(
            RequestRecord(method, path, status, time.monotonic(), auth, api_version, operation)
        )
