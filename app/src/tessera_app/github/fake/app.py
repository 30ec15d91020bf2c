"""The fake GitHub as an ASGI app: GitHub's REST endpoints under ``/api/v3/`` plus ``/_fake/``.

``create_app(state, description=None)`` serves one ``FakeState``. Every request passes, in
order: fault injection (``POST /_fake/faults``), authentication (an App JWT, RS256 against the
seeded public key, on ``/app/...``; an unexpired installation token with access to the
repository or organisation elsewhere), then one handler under the state's lock, and is logged in
``state.requests``.

Each route names the operation of GitHub's REST description it implements (its operationId).
With a description (``description=``, else the process-wide ``conformance.use``), the request is
checked first: an ``X-GitHub-Api-Version`` other than the description's is answered 400, a path
or query parameter or JSON body the operation does not accept 422 (GitHub's "Invalid request");
then the handler's answer is checked against the schema of its status, and one that does not
match is replaced by a 500 naming the operation and the JSON pointer. Every violation is kept
in ``state.violations`` and on the description (the tests fail on any).

Test-side endpoints: ``POST /_fake/seed`` (see ``FakeState.seed``: users' actions too),
``GET /_fake/state``, ``POST /_fake/faults`` (a ``Fault`` as JSON, or a list) and
``DELETE /_fake/faults``.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tessera_app.github.fake import conformance, webhooks
from tessera_app.github.fake.git import descends
from tessera_app.github.fake.shapes import Json, Shapes
from tessera_app.github.fake.state import (
    CheckRun,
    Comment,
    FakeError,
    FakeState,
    Fault,
    Reaction,
    iso,
)

API = "/api/v3/"
CONTENTS_LIMIT = 1024 * 1024  # the contents API omits files larger than this (encoding "none")


@dataclass
class Ctx:
    """One API request, as a handler sees it."""

    state: FakeState
    shapes: Shapes
    method: str
    args: dict[str, str]
    query: dict[str, str]
    body: Any
    installation: int | None  # None for App (JWT) requests
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers

    def repo_name(self) -> str:
        return f"{self.args['owner']}/{self.args['repo']}"


Handler = Callable[[Ctx], tuple[int, Any]]


@dataclass(frozen=True)
class Endpoint:
    """One REST endpoint: the method, the path template (``{name*}`` spans slashes), the
    operationId of GitHub's description it implements, and its handler."""

    method: str
    template: str
    operation: str
    regex: re.Pattern[str]
    handler: Handler


ROUTES: list[Endpoint] = []


def route(method: str, template: str, operation: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        regex = re.sub(r"\{(\w+)\*\}", r"(?P<\1>.+)", template)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        ROUTES.append(Endpoint(method, template, operation, re.compile(f"^{regex}$"), handler))
        return handler

    return register


def paginate(ctx: Ctx, items: list[Any], url: str) -> list[Any]:
    per_page = min(int(ctx.query.get("per_page", 30)), 100)
    page = max(int(ctx.query.get("page", 1)), 1)
    chunk = items[(page - 1) * per_page : page * per_page]
    if page * per_page < len(items):
        ctx.headers["link"] = f'<{url}?per_page={per_page}&page={page + 1}>; rel="next"'
    return chunk


# -- the App (JWT) ----------------------------------------------------------------------------


@route("GET", "app", "apps/get-authenticated")
def get_app(ctx: Ctx) -> tuple[int, Any]:
    return 200, ctx.shapes.app(ctx.state.app)


@route(
    "POST",
    "app/installations/{installation_id}/access_tokens",
    "apps/create-installation-access-token",
)
def access_token(ctx: Ctx) -> tuple[int, Any]:
    token, expires = ctx.state.issue_token(int(ctx.args["installation_id"]))
    return 201, ctx.shapes.token(token, iso(expires))


@route("GET", "app/hook/deliveries", "apps/list-webhook-deliveries")
def list_deliveries(ctx: Ctx) -> tuple[int, Any]:
    items = sorted(ctx.state.deliveries, key=lambda d: d.id, reverse=True)
    per_page = min(int(ctx.query.get("per_page", 30)), 100)
    if ctx.query.get("cursor"):
        items = [d for d in items if d.id < int(ctx.query["cursor"])]
    chunk = items[:per_page]
    if len(items) > per_page:
        url = f"{ctx.shapes.api}/app/hook/deliveries"
        ctx.headers["link"] = f'<{url}?per_page={per_page}&cursor={chunk[-1].id}>; rel="next"'
    return 200, [ctx.shapes.delivery(d) for d in chunk]


@route("POST", "app/hook/deliveries/{delivery_id}/attempts", "apps/redeliver-webhook-delivery")
def redeliver(ctx: Ctx) -> tuple[int, Any]:
    """Accepted now, delivered later (``webhooks.redeliver_later``), as GitHub does."""
    wanted = int(ctx.args["delivery_id"])
    original = next((d for d in ctx.state.deliveries if d.id == wanted), None)
    if original is None:
        raise FakeError(404, "Not Found")
    webhooks.redeliver_later(ctx.state, original)
    return 202, {}


# -- contents and the Git Data API -------------------------------------------------------------


@route("GET", "repos/{owner}/{repo}/contents/{path*}", "repos/get-content")
def get_contents(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    commit = repo.resolve(ctx.query.get("ref", repo.default_branch))
    path = ctx.args["path"].strip("/")
    found = repo.git.lookup(repo.git.commits[commit].tree, path)
    if found is None or found[0] == "040000":
        raise FakeError(404, "Not Found")
    data = repo.git.blobs[found[1]]
    url = f"{ctx.shapes.api}/repos/{repo.full_name}/contents/{path}?ref={commit}"
    big = len(data) > CONTENTS_LIMIT
    git_url = f"{ctx.shapes.api}/repos/{repo.full_name}/git/blobs/{found[1]}"
    html = f"{ctx.shapes.web}/{repo.full_name}/blob/{commit}/{path}"
    return 200, {
        "type": "file",
        "encoding": "none" if big else "base64",
        "size": len(data),
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "content": "" if big else base64.encodebytes(data).decode(),
        "sha": found[1],
        "url": url,
        "git_url": git_url,
        "html_url": html,
        "download_url": f"{ctx.shapes.web}/{repo.full_name}/raw/{commit}/{path}",
        "_links": {"git": git_url, "html": html, "self": url},
    }


@route("GET", "repos/{owner}/{repo}/git/trees/{tree_sha*}", "git/get-tree")
def get_tree(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    sha = ctx.args["tree_sha"]
    if sha not in repo.git.trees:
        sha = repo.git.commits[repo.resolve(sha)].tree
    recursive = "recursive" in ctx.query  # GitHub: any value, even "0" or "false"
    return 200, ctx.shapes.tree(repo, sha, recursive=recursive, limit=repo.tree_limit)


@route("GET", "repos/{owner}/{repo}/git/blobs/{file_sha}", "git/get-blob")
def get_blob(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    data = repo.git.blobs.get(ctx.args["file_sha"])
    if data is None:
        raise FakeError(404, "Not Found")
    return 200, {
        "content": base64.encodebytes(data).decode(),
        "encoding": "base64",
        "url": f"{ctx.shapes.api}/repos/{repo.full_name}/git/blobs/{ctx.args['file_sha']}",
        "sha": ctx.args["file_sha"],
        "size": len(data),
        "node_id": f"B_{ctx.args['file_sha']}",
    }


@route("POST", "repos/{owner}/{repo}/git/blobs", "git/create-blob")
def create_blob(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    content = ctx.body["content"]
    data = base64.b64decode(content) if ctx.body.get("encoding") == "base64" else content.encode()
    sha = repo.git.put_blob(data)
    return 201, {"url": f"{ctx.shapes.api}/repos/{repo.full_name}/git/blobs/{sha}", "sha": sha}


@route("POST", "repos/{owner}/{repo}/git/trees", "git/create-tree")
def create_tree(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    base = ctx.body.get("base_tree")
    if base is not None and base not in repo.git.trees:
        raise FakeError(422, "Invalid tree info")
    changes: dict[str, str | None] = {}
    for entry in ctx.body["tree"]:
        if entry.get("type", "blob") != "blob":
            raise FakeError(422, "only blob entries are supported by the fake")
        if "content" in entry:
            changes[entry["path"]] = repo.git.put_blob(entry["content"].encode())
        elif entry.get("sha") is None:
            changes[entry["path"]] = None
        elif entry["sha"] in repo.git.blobs:
            changes[entry["path"]] = entry["sha"]
        else:
            raise FakeError(422, f"Invalid tree info: unknown blob {entry['sha']}")
    sha = repo.git.with_changes(base, changes)
    return 201, ctx.shapes.tree(repo, sha, recursive=False)


@route("POST", "repos/{owner}/{repo}/git/commits", "git/create-commit")
def create_commit(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    parents = tuple(ctx.body.get("parents", []))
    if ctx.body["tree"] not in repo.git.trees or any(p not in repo.git.commits for p in parents):
        raise FakeError(422, "Tree SHA or parent SHA does not exist")
    author = (ctx.body.get("author") or {}).get("name") or ctx.state.app.bot_login
    sha = repo.git.put_commit(ctx.body["tree"], parents, ctx.body["message"], author, iso())
    return 201, ctx.shapes.commit(repo, sha)


@route("GET", "repos/{owner}/{repo}/git/commits/{commit_sha*}", "git/get-commit")
def get_commit(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    if ctx.args["commit_sha"] not in repo.git.commits:
        raise FakeError(404, "Not Found")
    return 200, ctx.shapes.commit(repo, ctx.args["commit_sha"])


@route("GET", "repos/{owner}/{repo}/git/ref/{ref*}", "git/get-ref")
def get_ref(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    if ctx.args["ref"] not in repo.refs:
        raise FakeError(404, "Not Found")
    return 200, ctx.shapes.ref(repo, ctx.args["ref"])


@route("PATCH", "repos/{owner}/{repo}/git/refs/{ref*}", "git/update-ref")
def update_ref(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    name, new = ctx.args["ref"], ctx.body["sha"]
    if name not in repo.refs:
        raise FakeError(422, "Reference does not exist")
    if new not in repo.git.commits:
        raise FakeError(422, "Object does not exist")
    if not ctx.body.get("force") and not descends(repo.git.commits, new, repo.refs[name]):
        raise FakeError(422, "Update is not a fast forward")
    repo.refs[name] = new
    if name.startswith("heads/"):
        for pull in ctx.state.pulls.values():
            branch = name.removeprefix("heads/")
            if (pull.repo, pull.state, pull.head_ref) == (repo.full_name, "open", branch):
                pull.head_sha = new
    return 200, ctx.shapes.ref(repo, name)


# -- pull requests --------------------------------------------------------------------------------


@route("GET", "repos/{owner}/{repo}/pulls", "pulls/list")
def list_pulls(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    wanted = ctx.query.get("state", "open")
    pulls = [
        p
        for p in ctx.state.pulls.values()
        if p.repo == repo.full_name and wanted in ("all", p.state)
    ]
    pulls.sort(key=lambda p: p.number, reverse=True)
    url = f"{ctx.shapes.api}/repos/{repo.full_name}/pulls"
    return 200, [ctx.shapes.pull(p, full=False) for p in paginate(ctx, pulls, url)]


@route("GET", "repos/{owner}/{repo}/pulls/{pull_number}", "pulls/get")
def get_pull(ctx: Ctx) -> tuple[int, Any]:
    return 200, ctx.shapes.pull(
        ctx.state.pull(ctx.repo_name(), int(ctx.args["pull_number"])), full=True
    )


@route("GET", "repos/{owner}/{repo}/pulls/{pull_number}/files", "pulls/list-files")
def pull_files(ctx: Ctx) -> tuple[int, Any]:
    pull = ctx.state.pull(ctx.repo_name(), int(ctx.args["pull_number"]))
    repo = ctx.state.repo(pull.repo)
    entries = [
        ctx.shapes.diff_entry(repo, pull.head_sha, change)
        for change in ctx.state.pull_changes(pull)
    ]
    url = f"{ctx.shapes.api}/repos/{repo.full_name}/pulls/{pull.number}/files"
    return 200, paginate(ctx, entries, url)


@route("GET", "repos/{owner}/{repo}/pulls/{pull_number}/reviews", "pulls/list-reviews")
def pull_reviews(ctx: Ctx) -> tuple[int, Any]:
    pull = ctx.state.pull(ctx.repo_name(), int(ctx.args["pull_number"]))
    reviews = [
        ctx.shapes.review(r)
        for r in ctx.state.reviews
        if (r.repo, r.number) == (pull.repo, pull.number)
    ]
    url = f"{ctx.shapes.api}/repos/{pull.repo}/pulls/{pull.number}/reviews"
    return 200, paginate(ctx, reviews, url)


@route(
    "GET",
    "repos/{owner}/{repo}/commits/{commit_sha*}/pulls",
    "repos/list-pull-requests-associated-with-commit",
)
def commit_pulls(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    sha = ctx.args["commit_sha"]
    if sha not in repo.git.commits:
        sha = repo.resolve(sha)  # a branch name works too
    pulls = ctx.state.pulls_with_commit(repo.full_name, sha)
    url = f"{ctx.shapes.api}/repos/{repo.full_name}/commits/{sha}/pulls"
    return 200, [ctx.shapes.pull(p, full=False) for p in paginate(ctx, pulls, url)]


# -- check runs ------------------------------------------------------------------------------------


@route("GET", "repos/{owner}/{repo}/commits/{ref*}/check-runs", "checks/list-for-ref")
def list_check_runs(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    sha = repo.resolve(ctx.args["ref"])
    runs = [
        r
        for r in ctx.state.check_runs.values()
        if r.repo == repo.full_name
        and r.head_sha == sha
        and ctx.query.get("check_name", r.name) == r.name
        and int(ctx.query.get("app_id", r.app_id)) == r.app_id
    ]
    runs.sort(key=lambda r: r.id, reverse=True)
    url = f"{ctx.shapes.api}/repos/{repo.full_name}/commits/{sha}/check-runs"
    page = paginate(ctx, runs, url)
    return 200, {"total_count": len(runs), "check_runs": [ctx.shapes.check_run(r) for r in page]}


@route("POST", "repos/{owner}/{repo}/check-runs", "checks/create")
def create_check_run(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    if ctx.body["head_sha"] not in repo.git.commits:
        raise FakeError(422, "No commit found for SHA: " + ctx.body["head_sha"])
    run = CheckRun(
        ctx.state.next_id(),
        repo.full_name,
        ctx.body["head_sha"],
        ctx.body["name"],
        ctx.state.app.id,
    )
    _apply_check_run(run, ctx.body)
    ctx.state.check_runs[run.id] = run
    return 201, ctx.shapes.check_run(run)


@route("PATCH", "repos/{owner}/{repo}/check-runs/{check_run_id}", "checks/update")
def update_check_run(ctx: Ctx) -> tuple[int, Any]:
    run = ctx.state.check_runs.get(int(ctx.args["check_run_id"]))
    if run is None or run.repo != ctx.state.repo(ctx.repo_name()).full_name:
        raise FakeError(404, "Not Found")
    _apply_check_run(run, ctx.body)
    return 200, ctx.shapes.check_run(run)


def _apply_check_run(run: CheckRun, body: dict[str, Any]) -> None:
    for key in ("name", "external_id", "details_url", "status"):
        if key in body:
            setattr(run, key, body[key])
    if body.get("conclusion") is not None:
        run.conclusion, run.status = body["conclusion"], "completed"
    if run.status == "completed":
        run.completed_at = body.get("completed_at") or run.completed_at or iso()
    output = body.get("output")
    if output:
        run.title, run.summary = output.get("title", run.title), output.get("summary", run.summary)
        run.text = output.get("text", run.text)
        annotations = output.get("annotations", [])
        if len(annotations) > 50:
            raise FakeError(422, "Only 50 annotations are allowed per request")
        run.annotations.extend(annotations)  # GitHub appends annotations on every update


@route(
    "GET", "repos/{owner}/{repo}/check-runs/{check_run_id}/annotations", "checks/list-annotations"
)
def check_run_annotations(ctx: Ctx) -> tuple[int, Any]:
    run = ctx.state.check_runs.get(int(ctx.args["check_run_id"]))
    if run is None:
        raise FakeError(404, "Not Found")
    url = f"{ctx.shapes.api}/repos/{run.repo}/check-runs/{run.id}/annotations"
    return 200, [
        {
            "title": None,
            "raw_details": None,
            "start_column": None,
            "end_column": None,
            **a,
            "blob_href": f"{ctx.shapes.web}/{run.repo}/blob/{run.head_sha}/{a['path']}",
        }
        for a in paginate(ctx, run.annotations, url)
    ]


# -- issues, comments, reactions -------------------------------------------------------------------


@route("POST", "repos/{owner}/{repo}/issues", "issues/create")
def create_issue(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.state.create_issue(
        ctx.repo_name(),
        ctx.body["title"],
        ctx.body.get("body") or "",
        user=ctx.state.app.bot_login,
        labels=[str(label) for label in ctx.body.get("labels", [])],
    )
    return 201, ctx.shapes.issue(issue)


@route("GET", "repos/{owner}/{repo}/issues/{issue_number}", "issues/get")
def get_issue(ctx: Ctx) -> tuple[int, Any]:
    return 200, ctx.shapes.issue(ctx.state.issue(ctx.repo_name(), int(ctx.args["issue_number"])))


@route("PATCH", "repos/{owner}/{repo}/issues/{issue_number}", "issues/update")
def update_issue(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.state.issue(ctx.repo_name(), int(ctx.args["issue_number"]))
    for key in ("title", "body"):
        if ctx.body.get(key) is not None:
            setattr(issue, key, ctx.body[key])
    if "labels" in ctx.body:
        issue.labels = [str(label) for label in ctx.body["labels"]]
    state = ctx.body.get("state")
    if state == "closed" and issue.state != "closed":
        issue.state, issue.closed_at = "closed", iso()
        issue.state_reason = ctx.body.get("state_reason") or "completed"
    elif state == "open" and issue.state != "open":
        issue.state, issue.closed_at, issue.state_reason = "open", None, "reopened"
    issue.updated_at = iso()
    return 200, ctx.shapes.issue(issue)


@route("GET", "repos/{owner}/{repo}/issues/{issue_number}/comments", "issues/list-comments")
def list_comments(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.state.issue(ctx.repo_name(), int(ctx.args["issue_number"]))
    comments = [
        c for c in ctx.state.comments.values() if (c.repo, c.number) == (issue.repo, issue.number)
    ]
    url = f"{ctx.shapes.api}/repos/{issue.repo}/issues/{issue.number}/comments"
    return 200, [ctx.shapes.comment(c) for c in paginate(ctx, comments, url)]


@route("POST", "repos/{owner}/{repo}/issues/{issue_number}/comments", "issues/create-comment")
def create_comment(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.state.issue(ctx.repo_name(), int(ctx.args["issue_number"]))
    if len(ctx.body["body"]) > 65536:
        raise FakeError(422, "Body is too long (maximum is 65536 characters)")
    comment = Comment(
        ctx.state.next_id(), issue.repo, issue.number, ctx.state.app.bot_login, ctx.body["body"]
    )
    comment.via_app = True
    ctx.state.comments[comment.id] = comment
    return 201, ctx.shapes.comment(comment)


@route("PATCH", "repos/{owner}/{repo}/issues/comments/{comment_id}", "issues/update-comment")
def update_comment(ctx: Ctx) -> tuple[int, Any]:
    comment = ctx.state.comments.get(int(ctx.args["comment_id"]))
    if comment is None or comment.repo != ctx.state.repo(ctx.repo_name()).full_name:
        raise FakeError(404, "Not Found")
    if comment.user != ctx.state.app.bot_login:
        raise FakeError(403, "Resource not accessible by integration")
    if len(ctx.body["body"]) > 65536:
        raise FakeError(422, "Body is too long (maximum is 65536 characters)")
    comment.body, comment.updated_at = ctx.body["body"], iso()
    return 200, ctx.shapes.comment(comment)


@route(
    "POST",
    "repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
    "reactions/create-for-issue-comment",
)
def add_reaction(ctx: Ctx) -> tuple[int, Any]:
    comment = ctx.state.comments.get(int(ctx.args["comment_id"]))
    if comment is None or comment.repo != ctx.state.repo(ctx.repo_name()).full_name:
        raise FakeError(404, "Not Found")
    user, content = ctx.state.app.bot_login, ctx.body["content"]
    for reaction in ctx.state.reactions:
        if (reaction.comment_id, reaction.user, reaction.content) == (comment.id, user, content):
            return 200, ctx.shapes.reaction(reaction)
    reaction = Reaction(ctx.state.next_id(), comment.id, user, content)
    ctx.state.reactions.append(reaction)
    return 201, ctx.shapes.reaction(reaction)


# -- teams -----------------------------------------------------------------------------------------


@route(
    "GET",
    "orgs/{org}/teams/{team_slug}/memberships/{username}",
    "teams/get-membership-for-user-in-org",
)
def team_membership(ctx: Ctx) -> tuple[int, Any]:
    team = ctx.state.teams.get((ctx.args["org"].lower(), ctx.args["team_slug"].lower()))
    user = ctx.args["username"]
    if team is None or user not in team.members:
        raise FakeError(404, "Not Found")
    url = f"{ctx.shapes.api}/organizations/{team.org}/team/{team.id}/memberships/{user}"
    return 200, {"url": url, "role": "member", "state": team.members[user]}


# -- plumbing --------------------------------------------------------------------------------------


def _error_body(status: int, message: str) -> Json:
    """GitHub's error body (``basic-error``)."""
    return {
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": str(status),
    }


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(_error_body(status, message), status_code=status, headers=headers)


def _fault_response(fault: Fault) -> Response:
    reset = str(int(time.time()) + fault.retry_after)
    if fault.kind == "secondary_rate_limit":
        return _error(
            403,
            "You have exceeded a secondary rate limit. "
            "Please wait a few minutes before you try again.",
            {"retry-after": str(fault.retry_after)},
        )
    if fault.kind == "too_many":
        return _error(429, "Too many requests", {"retry-after": str(fault.retry_after)})
    if fault.kind == "rate_limit":
        headers = {
            "x-ratelimit-remaining": "0",
            "x-ratelimit-limit": "5000",
            "x-ratelimit-reset": reset,
        }
        return _error(403, "API rate limit exceeded for installation.", headers)
    return _error(fault.status, "Server Error" if fault.status >= 500 else "Injected fault")


def _authenticate(state: FakeState, path: str, header: str) -> tuple[int | None, str]:
    """The installation id a request acts as (None for the App itself) and a log label."""
    scheme, _, credential = header.partition(" ")
    if path.startswith("app/") or path == "app":
        if scheme.lower() != "bearer" or not state.app.public_key:
            raise FakeError(401, "A JSON web token could not be decoded")
        try:
            claims = jwt.decode(credential, state.app.public_key, algorithms=["RS256"], leeway=60)
        except jwt.PyJWTError as exc:
            raise FakeError(401, f"A JSON web token could not be decoded: {exc}") from exc
        if str(claims.get("iss")) != str(state.app.id):
            raise FakeError(401, "'Issuer' claim ('iss') must be an Integer")
        return None, "app"
    if scheme.lower() not in ("token", "bearer") or not credential:
        raise FakeError(401, "Requires authentication")
    installation = state.token_installation(credential)
    match = re.match(r"(repos/[^/]+/[^/]+|orgs/[^/]+)", path)
    if match:
        inst = state.installations[installation]
        target = match.group(1)
        if target.startswith("repos/"):
            allowed = target.removeprefix("repos/").lower() in (
                r.lower() for r in inst.repositories
            )
        else:
            allowed = target.removeprefix("orgs/").lower() == inst.account.lower()
        if not allowed:
            raise FakeError(404, "Not Found")
    return installation, f"installation:{installation}"


def find_route(method: str, path: str) -> tuple[Endpoint, dict[str, str]] | None:
    """The endpoint serving ``method path`` (``path`` below ``/api/v3/``) and its arguments."""
    for endpoint in ROUTES:
        match = endpoint.regex.match(path)
        if match and endpoint.method == method:
            return endpoint, match.groupdict()
    return None


def _violations_message(violations: list[conformance.Violation], version: str) -> str:
    listed = "; ".join(str(v) for v in violations)
    return f"does not match GitHub's REST description ({version}): {listed}"


def create_app(
    state: FakeState | None = None, *, description: conformance.Description | None = None
) -> Starlette:
    """The fake GitHub serving ``state`` (a fresh one when omitted) as ``app.state.fake``;
    requests and answers are checked against ``description`` (else ``conformance.active()``)."""
    fake = state or FakeState()

    def referee() -> conformance.Description | None:
        return description if description is not None else conformance.active()

    async def api(request: Request) -> Response:
        path = request.url.path.removeprefix(API.rstrip("/")).strip("/")
        method = request.method
        fault = fake.take_fault(method, path)
        if fault is not None and fault.kind == "hang":
            await anyio.sleep(fault.hang_seconds)
        elif fault is not None:
            response = _fault_response(fault)
            fake.log(method, path, response.status_code, "fault")
            return response
        raw = await request.body()
        with fake.lock:
            response = _dispatch(fake, request, method, path, raw)
        return response

    def _record(rules: conformance.Description, found: list[conformance.Violation]) -> None:
        rules.record(found)
        fake.violations.extend(str(v) for v in found)

    def _dispatch(
        fake: FakeState, request: Request, method: str, path: str, raw: bytes
    ) -> Response:
        auth_label = "none"
        version = request.headers.get("x-github-api-version")
        rules = referee()
        endpoint: Endpoint | None = None

        def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
            operation = rules.operation(endpoint.operation) if rules and endpoint else None
            if rules is not None and operation is not None:
                found = operation.check_response(status, body)
                if found:
                    _record(rules, found)
                    message = "The fake GitHub's answer " + _violations_message(
                        found, rules.api_version
                    )
                    status, body, headers = 500, _error_body(500, message), None
            name = endpoint.operation if endpoint else None
            fake.log(method, path, status, auth_label, api_version=version, operation=name)
            return JSONResponse(body, status_code=status, headers=headers)

        try:
            installation, auth_label = _authenticate(
                fake, path, request.headers.get("authorization", "")
            )
            found_route = find_route(method, path)
            if found_route is None:
                raise FakeError(404, "Not Found")
            endpoint, args = found_route
            try:
                body = json.loads(raw) if raw else None
            except ValueError as exc:
                raise FakeError(400, "Problems parsing JSON") from exc
            if rules is not None:
                _check_request(
                    rules, endpoint, version, args, dict(request.query_params), body, raw
                )
            ctx = Ctx(
                fake,
                Shapes(fake, str(request.base_url).rstrip("/") + API.rstrip("/")),
                method,
                args,
                dict(request.query_params),
                body if body is not None else {},
                installation,
            )
            status, out = endpoint.handler(ctx)
            headers = {
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "4999",
                "x-ratelimit-reset": str(int(time.time()) + 3600),
                **ctx.headers,
            }
            if version:
                headers["x-github-api-version-selected"] = version
            return answer(status, out, headers)
        except FakeError as exc:
            return answer(exc.status, _error_body(exc.status, exc.message))
        except (KeyError, ValueError, TypeError) as exc:
            return answer(422, _error_body(422, f"Invalid request: {exc!r}"))

    def _check_request(
        rules: conformance.Description,
        endpoint: Endpoint,
        version: str | None,
        args: dict[str, str],
        query: dict[str, str],
        body: Any,
        raw: bytes,
    ) -> None:
        if version is not None and version != rules.api_version:
            _record(
                rules,
                [
                    conformance.Violation(
                        endpoint.operation,
                        "request",
                        None,
                        "/header/X-GitHub-Api-Version",
                        f"{version} is not the described version {rules.api_version}",
                    )
                ],
            )
            raise FakeError(400, f"API version '{version}' is not supported.")
        operation = rules.operation(endpoint.operation)
        if operation is None:
            missing = conformance.Violation(
                endpoint.operation, "request", None, "", "the description has no such operation"
            )
            _record(rules, [missing])
            raise FakeError(500, str(missing))
        found = operation.check_request(args, query, body, has_body=bool(raw))
        if found:
            _record(rules, found)
            details = "\n".join(str(v) for v in found)
            raise FakeError(422, f"Invalid request.\n\n{details}")

    async def seed(request: Request) -> Response:
        """Apply a seed (``FakeState.seed``); a refused action answers 422 with the reason
        (the keys before it are applied)."""
        try:
            return JSONResponse(fake.seed(await request.json()))
        except FakeError as exc:
            return _error(422 if exc.status < 500 else exc.status, exc.message)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            return _error(422, f"bad seed document: {exc!r}")

    async def snapshot(request: Request) -> Response:
        return JSONResponse(fake.snapshot())

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            with fake.lock:
                fake.faults.clear()
            return JSONResponse({"faults": 0})
        doc = await request.json()
        with fake.lock:
            for item in doc if isinstance(doc, list) else [doc]:
                fake.faults.append(Fault(**item))
            return JSONResponse({"faults": sum(1 for f in fake.faults if f.count > 0)})

    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    app = Starlette(
        routes=[
            Route("/_fake/seed", seed, methods=["POST"]),
            Route("/_fake/state", snapshot, methods=["GET"]),
            Route("/_fake/faults", faults, methods=["POST", "DELETE"]),
            Route(API + "{rest:path}", api, methods=methods),
        ]
    )
    app.state.fake = fake
    return app


__all__ = ["Json", "create_app"]
