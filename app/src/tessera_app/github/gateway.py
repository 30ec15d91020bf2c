"""The GitHub gateway: every call the App makes to GitHub, on githubkit, synchronous.

``GitHubApp(settings)`` authenticates as the App (a fresh JWT per call) for deliveries and
installation tokens; ``app.installation(id)`` is an ``Installation`` whose calls use that
installation's token (cached until shortly before expiry, refreshed after a 401). Every call is
retried on 5xx and rate limits with a bounded wait (``retry.py``); content-creating calls
(comments, issues, reactions) are paced per installation. Errors surface as ``GitHubError``; a 404
is ``None``/``False``/``{}`` where the signature allows.

For tests: ``GitHubApp(settings, transport=SyncASGITransport(create_app(state)))`` talks to the
fake GitHub in-process (see ``tests/app/github/conftest.py``).
"""

from __future__ import annotations

import base64
import functools
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar

import httpx
from githubkit import GitHub, Response
from githubkit.auth import BaseAuthStrategy
from pydantic import ValidationError

from tessera_app.github import retry
from tessera_app.github.auth import (
    AppJWTAuthStrategy,
    InstallationAuthStrategy,
    TokenCache,
)
from tessera_app.github.gateway_types import (
    Annotation,
    CommitInfo,
    Delivery,
    GitHubError,
    GitHubSettings,
    PullRequestInfo,
)
from tessera_app.io_boundary import before_io

T = TypeVar("T")
ANNOTATION_BATCH = 50  # GitHub accepts at most 50 annotations per check-run request
TEXT_LIMIT = 65535  # output title/summary/text and comment bodies
API_VERSION: Final = "2022-11-28"
"""The REST API version the App speaks (``X-GitHub-Api-Version``), chosen on purpose: the
version whose pull requests document ``merge_commit_sha`` (2026-03-10 removed it), supported by
GitHub until at least 2028-03-10, and the one ``@octokit/openapi`` describes, which the fake
GitHub's answers are validated against. Only fields this version documents are read."""
PER_PAGE = 100
COMMIT_ATTEMPTS = 5  # a registry commit rebuilt on a branch that moved meanwhile
MAX_PAGES = 30  # 3000 items: GitHub's own cap for a pull request's files

__all__ = [
    "Annotation",
    "CommitInfo",
    "Delivery",
    "GitHubApp",
    "GitHubError",
    "GitHubSettings",
    "Installation",
    "PullRequestInfo",
]


class _SharedTransport(httpx.BaseTransport):
    """A transport githubkit cannot close: githubkit makes (and closes) an httpx client per
    request, and closing the client closes its transport; sharing one keeps connections alive."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        pass


class _Client:
    """githubkit with one auth strategy, wrapped in the retry policy."""

    def __init__(
        self,
        settings: GitHubSettings,
        auth: BaseAuthStrategy,
        transport: httpx.BaseTransport | None,
    ) -> None:
        self.gh: GitHub[BaseAuthStrategy] = GitHub(
            auth,
            base_url=settings.base_url,
            transport=transport,
            timeout=settings.timeout_seconds,
            auto_retry=False,  # retries are ours: bounded, and the wait is testable
            http_cache=False,  # GitHub's max-age=60 would serve stale pull request state
            user_agent="tessera-app",
        )
        self.rest = self.gh.rest(API_VERSION)
        self.policy = retry.RetryPolicy(
            max_attempts=settings.max_attempts,
            backoff_seconds=settings.backoff_seconds,
            max_total_wait_seconds=settings.max_retry_wait_seconds,
        )

    def call(self, method: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        before_io()  # no database transaction stays open while GitHub answers
        result = retry.call(functools.partial(fn, *args, **kwargs), self.policy, method=method)
        if isinstance(result, Response):
            _check_shape(result)
        return result


def _check_shape(response: Response[Any]) -> None:
    """The answer has the shape REST API ``API_VERSION`` documents, or a ``GitHubError`` that
    says what differs (never a half-read answer: a missing field is not a default)."""
    try:
        response.parsed_data  # noqa: B018  (validated once, cached by githubkit)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the body"
        request = response.raw_request
        raise GitHubError(
            502,
            f"GitHub's answer to {request.method} {request.url.path} does not match REST API "
            f"{API_VERSION}: {where}: {first['msg']}",
        ) from None


class GitHubApp:
    """The App: installation clients, webhook deliveries and redelivery (App JWT)."""

    def __init__(
        self, settings: GitHubSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self._transport = _SharedTransport(transport or httpx.HTTPTransport())
        self._client = _Client(
            settings, AppJWTAuthStrategy(settings.app_id, settings.private_key), self._transport
        )
        self.tokens = TokenCache(
            self._fetch_token, margin=timedelta(seconds=settings.token_refresh_margin_seconds)
        )
        self._installations: dict[int, Installation] = {}
        self._lock = threading.Lock()
        self._bot_login: str | None = None

    def _fetch_token(self, installation_id: int) -> tuple[str, datetime]:
        rest = self._client.rest
        response = self._client.call(
            "POST", rest.apps.create_installation_access_token, installation_id
        )
        token = response.parsed_data
        expires = datetime.strptime(token.expires_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return token.token, expires

    def close(self) -> None:
        """Close the connections (the transport given to the constructor included)."""
        self._transport.inner.close()

    def installation(self, installation_id: int) -> Installation:
        """The client for one installation (one per id: tokens and pacing are shared)."""
        with self._lock:
            if installation_id not in self._installations:
                self._installations[installation_id] = Installation(self, installation_id)
            return self._installations[installation_id]

    def bot_login(self) -> str:
        """The App's bot user (``<slug>[bot]``), who authors its comments and issues."""
        if self._bot_login is None:
            rest = self._client.rest
            app = self._client.call("GET", rest.apps.get_authenticated).parsed_data
            if app is None:
                raise GitHubError(404, "GET /app returned nothing")
            self._bot_login = f"{app.slug}[bot]"
        return self._bot_login

    def deliveries(self, since_id: int | None = None) -> list[Delivery]:
        """Webhook deliveries newer than ``since_id`` (all kept ones when None), oldest first."""
        rest = self._client.rest
        out: list[Delivery] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            response = self._client.call(
                "GET", rest.apps.list_webhook_deliveries, per_page=PER_PAGE, cursor=cursor
            )
            done = False
            for item in response.parsed_data:
                if since_id is not None and item.id <= since_id:
                    done = True
                    break
                out.append(
                    Delivery(
                        id=item.id,
                        guid=item.guid,
                        event=item.event,
                        action=item.action,
                        status=item.status,
                        status_code=item.status_code,
                        delivered_at=str(item.delivered_at),
                        redelivery=item.redelivery,
                        installation_id=item.installation_id,
                        repository_id=item.repository_id,
                    )
                )
            cursor = _next_cursor(response.headers.get("link", ""))
            if done or cursor is None:
                break
        return sorted(out, key=lambda d: d.id)

    def redeliver(self, delivery_id: int) -> None:
        rest = self._client.rest
        self._client.call("POST", rest.apps.redeliver_webhook_delivery, delivery_id)


def _next_cursor(link: str) -> str | None:
    match = re.search(r'<([^<>]+)>;\s*rel="next"', link)
    if match is None:
        return None
    cursor = httpx.URL(match.group(1)).params.get("cursor")
    return cursor or None


def _split(repo: str) -> tuple[str, str]:
    owner, sep, name = repo.partition("/")
    if not sep or not owner or not name:
        raise ValueError(f"repository must be 'owner/name', got {repo!r}")
    return owner, name


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _clip(text: str, limit: int = TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Installation:
    """Calls as one installation of the App (repositories, checks, issues, teams, git data)."""

    def __init__(self, app: GitHubApp, installation_id: int) -> None:
        self.app = app
        self.id = installation_id
        self._client = _Client(
            app.settings, InstallationAuthStrategy(app.tokens, installation_id), app._transport
        )
        self.gh = self._client.gh
        self.rest = self._client.rest
        self.pacer = retry.Pacer(app.settings.content_pacing_seconds)

    def _call(self, method: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A call with a valid token; after a 401 the token is dropped and the call tried again."""
        for attempt in (1, 2):
            self.app.tokens.token(self.id)  # fetched (with its own retries) outside the request
            try:
                return self._client.call(method, fn, *args, **kwargs)
            except GitHubError as exc:
                if exc.status != 401 or attempt == 2:
                    raise
                self.app.tokens.invalidate(self.id)
        raise AssertionError("unreachable")

    def _content(self, method: str, fn: Callable[..., Response[T]], *args: Any, **kwargs: Any) -> T:
        """A content-creating call: paced, at least ``content_pacing_seconds`` after the last."""
        with self.pacer:
            return self._call(method, fn, *args, **kwargs).parsed_data

    def _get(self, fn: Callable[..., Response[T]], *args: Any, **kwargs: Any) -> T:
        return self._call("GET", fn, *args, **kwargs).parsed_data

    def _get_or_none(self, fn: Callable[..., Response[T]], *args: Any, **kwargs: Any) -> T | None:
        try:
            return self._get(fn, *args, **kwargs)
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise

    def _pages(self, fn: Callable[..., Response[list[T]]], *args: Any, **kwargs: Any) -> list[T]:
        out: list[T] = []
        for page in range(1, MAX_PAGES + 1):
            items = self._get(fn, *args, per_page=PER_PAGE, page=page, **kwargs)
            out.extend(items)
            if len(items) < PER_PAGE:
                break
        return out

    # -- contents ------------------------------------------------------------------------------

    def read_file(self, repo: str, path: str, ref: str) -> str | None:
        """The text of ``path`` at ``ref``; None when the file (or the ref) does not exist."""
        owner, name = _split(repo)
        content: Any = self._get_or_none(
            self.rest.repos.get_content, owner, name, path.strip("/"), ref=ref
        )
        if content is None or isinstance(content, list) or getattr(content, "type", "") != "file":
            return None  # missing, or a directory, symlink or submodule
        if content.encoding == "base64" and (content.content or not content.size):
            return _decode(base64.b64decode(content.content))
        return self._blob(owner, name, content.sha)  # over 1 MB: the contents API omits it

    def _blob(self, owner: str, name: str, sha: str) -> str:
        blob = self._get(self.rest.git.get_blob, owner, name, sha)
        if blob.encoding == "base64":
            return _decode(base64.b64decode(blob.content))
        return blob.content

    def list_files(self, repo: str, ref: str, directory: str) -> dict[str, str]:
        """Every file below ``directory`` at ``ref`` (recursive): repository path -> text.

        ``{}`` when the directory does not exist; ``GitHubError`` when the ref does not.
        """
        owner, name = _split(repo)
        tree_sha: str | None = ref
        parts = [p for p in directory.strip("/").split("/") if p and p != "."]
        for part in parts:
            assert tree_sha is not None
            tree = self._get(self.rest.git.get_tree, owner, name, tree_sha)
            tree_sha = next(
                (e.sha for e in tree.tree if e.path == part and e.type == "tree" and e.sha), None
            )
            if tree_sha is None:
                return {}
        assert tree_sha is not None
        prefix = "/".join(parts) + "/" if parts else ""
        blobs = self._tree_blobs(owner, name, tree_sha, prefix)
        return {path: self._blob(owner, name, sha) for path, sha in sorted(blobs.items())}

    def _tree_blobs(self, owner: str, name: str, tree_sha: str, prefix: str) -> dict[str, str]:
        tree = self._get(self.rest.git.get_tree, owner, name, tree_sha, recursive="1")
        if not tree.truncated:
            return {prefix + e.path: e.sha for e in tree.tree if e.type == "blob" and e.sha}
        # A truncated listing: walk the tree one level at a time instead.
        top = self._get(self.rest.git.get_tree, owner, name, tree_sha)
        out: dict[str, str] = {}
        for entry in top.tree:
            if entry.type == "blob" and entry.sha:
                out[prefix + entry.path] = entry.sha
            elif entry.type == "tree" and entry.sha:
                out.update(self._tree_blobs(owner, name, entry.sha, f"{prefix}{entry.path}/"))
        return out

    # -- pull requests -----------------------------------------------------------------------------

    def pull_request(self, repo: str, number: int) -> PullRequestInfo:
        owner, name = _split(repo)
        pr = self._get(self.rest.pulls.get, owner, name, number)
        return PullRequestInfo(
            number=pr.number,
            state=pr.state,
            merged=bool(pr.merged),
            merge_commit_sha=pr.merge_commit_sha if pr.merged else None,
            head_sha=pr.head.sha,
            head_ref=pr.head.ref,
            base_ref=pr.base.ref,
            base_sha=pr.base.sha,
            author=pr.user.login if pr.user else "",
            title=pr.title,
        )

    def pull_request_files(self, repo: str, number: int) -> list[str]:
        """The paths a pull request changes (removed files, and renamed files' old paths too)."""
        owner, name = _split(repo)
        paths: list[str] = []
        entries: list[Any] = self._pages(self.rest.pulls.list_files, owner, name, number)
        for entry in entries:
            paths.append(entry.filename)
            previous = getattr(entry, "previous_filename", None)
            if isinstance(previous, str) and previous:
                paths.append(previous)
        return paths

    def open_pull_requests(self, repo: str) -> list[PullRequestInfo]:
        owner, name = _split(repo)
        pulls = self._pages(self.rest.pulls.list, owner, name, state="open")
        return [_simple(pr) for pr in pulls]

    def pull_requests_of_commit(self, repo: str, sha: str) -> list[PullRequestInfo]:
        """The pull requests a commit belongs to (``GET .../commits/{sha}/pulls``): for a
        commit on the default branch, the merged pull request that brought it there."""
        owner, name = _split(repo)
        listing = self.rest.repos.list_pull_requests_associated_with_commit
        return [_simple(pr) for pr in self._pages(listing, owner, name, sha)]

    # -- check runs --------------------------------------------------------------------------------

    def upsert_check_run(
        self,
        repo: str,
        head_sha: str,
        name: str,
        *,
        status: str,
        conclusion: str | None,
        title: str,
        summary: str,
        text: str = "",
        annotations: Sequence[Annotation] = (),
        details_url: str | None = None,
        external_id: str | None = None,
    ) -> int:
        """The App's check run ``name`` on ``head_sha``, created or updated; returns its id.

        Annotations go 50 per request. GitHub appends annotations on every update, so when the
        existing run already carries some and new ones are given, a fresh run with the same name
        replaces it (GitHub shows the latest run of a name) instead of piling them up.
        """
        owner, repo_name = _split(repo)
        app_id = self.app.settings.app_id
        found = self._get(
            self.rest.checks.list_for_ref,
            owner,
            repo_name,
            head_sha,
            check_name=name,
            app_id=app_id,
        )
        latest = max(found.check_runs, key=lambda run: run.id, default=None)
        batches = [
            list(annotations[i : i + ANNOTATION_BATCH])
            for i in range(0, len(annotations), ANNOTATION_BATCH)
        ] or [[]]
        fields: dict[str, Any] = {"status": status}
        if conclusion is not None:
            fields |= {"status": "completed", "conclusion": conclusion}
        if details_url is not None:
            fields["details_url"] = details_url
        if external_id is not None:
            fields["external_id"] = external_id
        first = {**fields, "output": _output(title, summary, text, batches[0])}
        if latest is None or (annotations and (latest.output.annotations_count or 0) > 0):
            data = {"name": name, "head_sha": head_sha, **first}
            create = self.rest.checks.create
            run_id = self._call("POST", create, owner, repo_name, data=data).parsed_data.id
        else:
            run_id = latest.id
            self._call("PATCH", self.rest.checks.update, owner, repo_name, run_id, data=first)
        for batch in batches[1:]:
            data = {"output": _output(title, summary, text, batch)}
            self._call("PATCH", self.rest.checks.update, owner, repo_name, run_id, data=data)
        return run_id

    # -- comments and issues -----------------------------------------------------------------------

    def upsert_comment(self, repo: str, number: int, marker: str, body: str) -> int:
        """The App's one comment on issue/PR ``number`` containing ``marker``, edited in place.

        ``marker`` is a hidden HTML comment (``<!-- tessera:summary -->``); it is put first in
        the body when missing. Comments by anyone but the App's bot are never touched.
        """
        owner, name = _split(repo)
        if marker not in body:
            body = f"{marker}\n{body}"
        body = _clip(body)
        bot = self.app.bot_login()
        comments: list[Any] = self._pages(self.rest.issues.list_comments, owner, name, number)
        for comment in comments:
            mine = comment.user is not None and comment.user.login == bot
            if mine and marker in (comment.body or ""):
                if comment.body != body:
                    update = self.rest.issues.update_comment
                    self._content("PATCH", update, owner, name, comment.id, data={"body": body})
                return int(comment.id)
        return self.create_comment(repo, number, body)

    def create_comment(self, repo: str, number: int, body: str) -> int:
        owner, name = _split(repo)
        create = self.rest.issues.create_comment
        return self._content("POST", create, owner, name, number, data={"body": _clip(body)}).id

    def create_issue(self, repo: str, title: str, body: str, labels: Sequence[str] = ()) -> int:
        owner, name = _split(repo)
        data: dict[str, Any] = {"title": _clip(title, 256), "body": _clip(body)}
        if labels:
            data["labels"] = list(labels)
        return self._content("POST", self.rest.issues.create, owner, name, data=data).number

    def update_issue(
        self,
        repo: str,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: str | None = None,
        state_reason: str | None = None,
    ) -> None:
        """Edit an issue; ``state`` ``open``/``closed``, ``state_reason`` ``completed``,
        ``not_planned`` or ``reopened``."""
        owner, name = _split(repo)
        data: dict[str, Any] = {}
        if title is not None:
            data["title"] = _clip(title, 256)
        if body is not None:
            data["body"] = _clip(body)
        if state is not None:
            data["state"] = state
        if state_reason is not None:
            data["state_reason"] = state_reason
        if data:
            self._content("PATCH", self.rest.issues.update, owner, name, number, data=data)

    def add_reaction(self, repo: str, comment_id: int, content: str) -> None:
        """React to an issue or PR comment (``+1``, ``-1``, ``laugh``, ``confused``, ``heart``,
        ``hooray``, ``rocket``, ``eyes``); reacting twice is harmless."""
        owner, name = _split(repo)
        create = self.rest.reactions.create_for_issue_comment
        self._content("POST", create, owner, name, comment_id, data={"content": content})

    # -- teams -------------------------------------------------------------------------------------

    def team_member(self, org: str, team_slug: str, login: str) -> bool:
        """Whether ``login`` is an active member of ``org/team_slug`` (pending invites are not)."""
        get = self.rest.teams.get_membership_for_user_in_org
        membership = self._get_or_none(get, org, team_slug, login)
        return membership is not None and membership.state == "active"

    # -- git data ----------------------------------------------------------------------------------

    def branch_head(self, repo: str, branch: str) -> str | None:
        """The commit ``branch`` points at; None when the branch (or the repository) is gone."""
        owner, name = _split(repo)
        ref = self._get_or_none(self.rest.git.get_ref, owner, name, f"heads/{branch}")
        return ref.object_.sha if ref is not None else None

    def commit(self, repo: str, sha: str) -> CommitInfo | None:
        """A commit's parents and committer date; None when there is no such commit."""
        owner, name = _split(repo)
        found = self._get_or_none(self.rest.git.get_commit, owner, name, sha)
        if found is None:
            return None
        parents = tuple(parent.sha for parent in found.parents)
        return CommitInfo(sha=found.sha, parents=parents, committed_at=found.committer.date)

    def commit_files(self, repo: str, branch: str, message: str, files: Mapping[str, str]) -> str:
        """One commit on ``branch`` writing ``files`` (path -> text); returns the commit sha.

        Through the Git Data API: blobs, a tree on the branch tip's tree, a commit, then a
        fast-forward of the ref; when the branch moved meanwhile (422), rebuilt on the new tip,
        up to ``COMMIT_ATTEMPTS`` times. A branch that keeps moving is a ``GitHubError`` 409
        (a conflict to try again later, never a refusal: the publication must reach the
        registry).
        """
        owner, name = _split(repo)
        entries = [
            {"path": path, "mode": "100644", "type": "blob", "sha": self._put_blob(repo, text)}
            for path, text in sorted(files.items())
        ]
        for _ in range(COMMIT_ATTEMPTS):
            sha = self._commit_on_tip(owner, name, branch, message, entries)
            try:
                update = self.rest.git.update_ref
                data = {"sha": sha, "force": False}
                self._call("PATCH", update, owner, name, f"heads/{branch}", data=data)
                return sha
            except GitHubError as exc:
                if exc.status != 422:
                    raise
        raise GitHubError(
            409, f"{repo}: {branch} moved under each of {COMMIT_ATTEMPTS} commits; try again"
        )

    def _put_blob(self, repo: str, text: str) -> str:
        owner, name = _split(repo)
        data = {"content": text, "encoding": "utf-8"}
        return self._call("POST", self.rest.git.create_blob, owner, name, data=data).parsed_data.sha

    def _commit_on_tip(
        self, owner: str, name: str, branch: str, message: str, entries: list[dict[str, str]]
    ) -> str:
        parent = self._get(self.rest.git.get_ref, owner, name, f"heads/{branch}").object_.sha
        base_tree = self._get(self.rest.git.get_commit, owner, name, parent).tree.sha
        data: dict[str, Any] = {"base_tree": base_tree, "tree": entries}
        tree = self._call("POST", self.rest.git.create_tree, owner, name, data=data).parsed_data
        data = {"message": message, "tree": tree.sha, "parents": [parent]}
        commit = self._call("POST", self.rest.git.create_commit, owner, name, data=data)
        return commit.parsed_data.sha


def _simple(pr: Any) -> PullRequestInfo:
    """A pull request from a listing (``pull-request-simple``: merged when ``merged_at``)."""
    merged = pr.merged_at is not None
    return PullRequestInfo(
        number=pr.number,
        state=pr.state,
        merged=merged,
        merge_commit_sha=pr.merge_commit_sha if merged else None,
        head_sha=pr.head.sha,
        head_ref=pr.head.ref,
        base_ref=pr.base.ref,
        base_sha=pr.base.sha,
        author=pr.user.login if pr.user else "",
        title=pr.title,
    )


def _output(title: str, summary: str, text: str, batch: list[Annotation]) -> dict[str, Any]:
    out: dict[str, Any] = {"title": _clip(title, 1000), "summary": _clip(summary)}
    if text:
        out["text"] = _clip(text)
    if batch:
        out["annotations"] = [_annotation(a) for a in batch]
    return out


def _annotation(a: Annotation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": a.path,
        "start_line": a.start_line,
        "end_line": a.end_line,
        "annotation_level": a.level,
        "message": _clip(a.message, 64000),
    }
    if a.title:
        out["title"] = _clip(a.title, 255)
    if a.raw_details:
        out["raw_details"] = _clip(a.raw_details, 64000)
    return out
