"""The fake GitHub as an ASGI app: GitHub's REST endpoints under ``/api/v3/`` plus ``/_fake/``.

``create_app(state)`` serves one ``FakeState``. Every request passes, in order: fault injection
(``POST /_fake/faults``), authentication (an App JWT, RS256 against the seeded public key, on
``/app/...``; an unexpired installation token with access to the repository or organisation
elsewhere), then one handler under the state's lock, and is logged in ``state.requests``.

Test-side endpoints: ``POST /_fake/seed`` (see ``FakeState.seed``), ``GET /_fake/state``,
``POST /_fake/faults`` (a ``Fault`` as JSON, or a list) and ``DELETE /_fake/faults``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

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
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        regex = re.sub(r"\{(\w+)\*\}", r"(?P<\1>.+)", pattern)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        ROUTES.append((method, re.compile(f"^{regex}$"), handler))
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


@route("GET", "app")
def get_app(ctx: Ctx) -> tuple[int, Any]:
    return 200, ctx.shapes.app(ctx.state.app)


@route("POST", "app/installations/{id}/access_tokens")
def access_token(ctx: Ctx) -> tuple[int, Any]:
    token, expires = ctx.state.issue_token(int(ctx.args["id"]))
    return 201, ctx.shapes.token(token, iso(expires))


@route("GET", "app/hook/deliveries")
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


@route("POST", "app/hook/deliveries/{id}/attempts")
def redeliver(ctx: Ctx) -> tuple[int, Any]:
    original = next((d for d in ctx.state.deliveries if d.id == int(ctx.args["id"])), None)
    if original is None:
        raise FakeError(404, "Not Found")
    status = _post_webhook(ctx.state, original.event, original.guid, original.payload)
    ctx.state.add_delivery(
        original.event,
        guid=original.guid,
        action=original.action,
        status_code=status,
        installation_id=original.installation_id,
        repository_id=original.repository_id,
        payload=original.payload,
        redelivery=True,
    )
    return 202, {}


def _post_webhook(state: FakeState, event: str, guid: str, payload: dict[str, Any]) -> int:
    """POST a redelivery to the App's webhook URL when one is seeded (standalone runs)."""
    if not state.app.webhook_url:
        return 200
    body = json.dumps(payload).encode()
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": guid}
    if state.app.webhook_secret:
        digest = hmac.new(state.app.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature-256"] = f"sha256={digest}"
    try:
        return httpx.post(
            state.app.webhook_url, content=body, headers=headers, timeout=10
        ).status_code
    except httpx.HTTPError:
        return 502


# -- contents and the Git Data API -------------------------------------------------------------


@route("GET", "repos/{owner}/{repo}/contents/{path*}")
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


@route("GET", "repos/{owner}/{repo}/git/trees/{sha*}")
def get_tree(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    sha = ctx.args["sha"]
    if sha not in repo.git.trees:
        sha = repo.git.commits[repo.resolve(sha)].tree
    recursive = ctx.query.get("recursive", "") not in ("", "0", "false")
    return 200, ctx.shapes.tree(repo, sha, recursive=recursive)


@route("GET", "repos/{owner}/{repo}/git/blobs/{sha}")
def get_blob(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    data = repo.git.blobs.get(ctx.args["sha"])
    if data is None:
        raise FakeError(404, "Not Found")
    return 200, {
        "content": base64.encodebytes(data).decode(),
        "encoding": "base64",
        "url": f"{ctx.shapes.api}/repos/{repo.full_name}/git/blobs/{ctx.args['sha']}",
        "sha": ctx.args["sha"],
        "size": len(data),
        "node_id": f"B_{ctx.args['sha']}",
    }


@route("POST", "repos/{owner}/{repo}/git/blobs")
def create_blob(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    content = ctx.body["content"]
    data = base64.b64decode(content) if ctx.body.get("encoding") == "base64" else content.encode()
    sha = repo.git.put_blob(data)
    return 201, {"url": f"{ctx.shapes.api}/repos/{repo.full_name}/git/blobs/{sha}", "sha": sha}


@route("POST", "repos/{owner}/{repo}/git/trees")
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


@route("POST", "repos/{owner}/{repo}/git/commits")
def create_commit(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    parents = tuple(ctx.body.get("parents", []))
    if ctx.body["tree"] not in repo.git.trees or any(p not in repo.git.commits for p in parents):
        raise FakeError(422, "Tree SHA or parent SHA does not exist")
    author = (ctx.body.get("author") or {}).get("name") or ctx.state.app.bot_login
    sha = repo.git.put_commit(ctx.body["tree"], parents, ctx.body["message"], author, iso())
    return 201, ctx.shapes.commit(repo, sha)


@route("GET", "repos/{owner}/{repo}/git/commits/{sha}")
def get_commit(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    if ctx.args["sha"] not in repo.git.commits:
        raise FakeError(404, "Not Found")
    return 200, ctx.shapes.commit(repo, ctx.args["sha"])


@route("GET", "repos/{owner}/{repo}/git/ref/{ref*}")
def get_ref(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    if ctx.args["ref"] not in repo.refs:
        raise FakeError(404, "Not Found")
    return 200, ctx.shapes.ref(repo, ctx.args["ref"])


@route("PATCH", "repos/{owner}/{repo}/git/refs/{ref*}")
def update_ref(ctx: Ctx) -> tuple[int, Any]:
    repo = ctx.state.repo(ctx.repo_name())
    name, new = ctx.args["ref"], ctx.body["sha"]
    if name not in repo.refs:
        raise FakeError(422, "Reference does not exist")
    if new not in repo.git.commits:
        raise FakeError(422, "Object does not exist")
    if not ctx.body.get("force") and not _descends(repo.git.commits, new, repo.refs[name]):
        raise FakeError(422, "Update is not a fast forward")
    repo.refs[name] = new
    if name.startswith("heads/"):
        for pull in ctx.state.pulls.values():
            branch = name.removeprefix("heads/")
            if (pull.repo, pull.state, pull.head_ref) == (repo.full_name, "open", branch):
                pull.head_sha = new
    return 200, ctx.shapes.ref(repo, name)


def _descends(commits: dict[str, Any], sha: str, ancestor: str) -> bool:
    todo, seen = [sha], set()
    while todo:
        current = todo.pop()
        if current == ancestor:
            return True
        if current not in seen and current in commits:
            seen.add(current)
            todo.extend(commits[current].parents)
    return False


# -- pull requests --------------------------------------------------------------------------------


@route("GET", "repos/{owner}/{repo}/pulls")
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


@route("GET", "repos/{owner}/{repo}/pulls/{number}")
def get_pull(ctx: Ctx) -> tuple[int, Any]:
    return 200, ctx.shapes.pull(ctx.state.pull(ctx.repo_name(), int(ctx.args["number"])), full=True)


@route("GET", "repos/{owner}/{repo}/pulls/{number}/files")
def pull_files(ctx: Ctx) -> tuple[int, Any]:
    pull = ctx.state.pull(ctx.repo_name(), int(ctx.args["number"]))
    repo = ctx.state.repo(pull.repo)
    entries = [
        ctx.shapes.diff_entry(repo, pull.head_sha, path, status)
        for path, status in ctx.state.pull_files(pull).items()
    ]
    url = f"{ctx.shapes.api}/repos/{repo.full_name}/pulls/{pull.number}/files"
    return 200, paginate(ctx, entries, url)


@route("GET", "repos/{owner}/{repo}/pulls/{number}/reviews")
def pull_reviews(ctx: Ctx) -> tuple[int, Any]:
    pull = ctx.state.pull(ctx.repo_name(), int(ctx.args["number"]))
    reviews = [
        ctx.shapes.review(r)
        for r in ctx.state.reviews
        if (r.repo, r.number) == (pull.repo, pull.number)
    ]
    url = f"{ctx.shapes.api}/repos/{pull.repo}/pulls/{pull.number}/reviews"
    return 200, paginate(ctx, reviews, url)


# -- check runs ------------------------------------------------------------------------------------


@route("GET", "repos/{owner}/{repo}/commits/{ref*}/check-runs")
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


@route("POST", "repos/{owner}/{repo}/check-runs")
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


@route("PATCH", "repos/{owner}/{repo}/check-runs/{id}")
def update_check_run(ctx: Ctx) -> tuple[int, Any]:
    run = ctx.state.check_runs.get(int(ctx.args["id"]))
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


@route("GET", "repos/{owner}/{repo}/check-runs/{id}/annotations")
def check_run_annotations(ctx: Ctx) -> tuple[int, Any]:
    run = ctx.state.check_runs.get(int(ctx.args["id"]))
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


@route("POST", "repos/{owner}/{repo}/issues")
def create_issue(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.state.create_issue(
        ctx.repo_name(),
        ctx.body["title"],
        ctx.body.get("body") or "",
        user=ctx.state.app.bot_login,
        labels=[str(label) for label in ctx.body.get("labels", [])],
    )
    return 201, ctx.shapes.issue(issue)


@route("GET", "repos/{owner}/{repo}/issues/{number}")
def get_issue(ctx: Ctx) -> tuple[int, Any]:
    return 200, ctx.shapes.issue(ctx.state.issue(ctx.repo_name(), int(ctx.args["number"])))


@route("PATCH", "repos/{owner}/{repo}/issues/{number}")
def update_issue(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.state.issue(ctx.repo_name(), int(ctx.args["number"]))
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


@route("GET", "repos/{owner}/{repo}/issues/{number}/comments")
def list_comments(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.state.issue(ctx.repo_name(), int(ctx.args["number"]))
    comments = [
        c for c in ctx.state.comments.values() if (c.repo, c.number) == (issue.repo, issue.number)
    ]
    url = f"{ctx.shapes.api}/repos/{issue.repo}/issues/{issue.number}/comments"
    return 200, [ctx.shapes.comment(c) for c in paginate(ctx, comments, url)]


@route("POST", "repos/{owner}/{repo}/issues/{number}/comments")
def create_comment(ctx: Ctx) -> tuple[int, Any]:
    issue = ctx.state.issue(ctx.repo_name(), int(ctx.args["number"]))
    if len(ctx.body["body"]) > 65536:
        raise FakeError(422, "Body is too long (maximum is 65536 characters)")
    comment = Comment(
        ctx.state.next_id(), issue.repo, issue.number, ctx.state.app.bot_login, ctx.body["body"]
    )
    comment.via_app = True
    ctx.state.comments[comment.id] = comment
    return 201, ctx.shapes.comment(comment)


@route("PATCH", "repos/{owner}/{repo}/issues/comments/{id}")
def update_comment(ctx: Ctx) -> tuple[int, Any]:
    comment = ctx.state.comments.get(int(ctx.args["id"]))
    if comment is None or comment.repo != ctx.state.repo(ctx.repo_name()).full_name:
        raise FakeError(404, "Not Found")
    if comment.user != ctx.state.app.bot_login:
        raise FakeError(403, "Resource not accessible by integration")
    if len(ctx.body["body"]) > 65536:
        raise FakeError(422, "Body is too long (maximum is 65536 characters)")
    comment.body, comment.updated_at = ctx.body["body"], iso()
    return 200, ctx.shapes.comment(comment)


@route("POST", "repos/{owner}/{repo}/issues/comments/{id}/reactions")
def add_reaction(ctx: Ctx) -> tuple[int, Any]:
    comment = ctx.state.comments.get(int(ctx.args["id"]))
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


@route("GET", "orgs/{org}/teams/{slug}/memberships/{user}")
def team_membership(ctx: Ctx) -> tuple[int, Any]:
    team = ctx.state.teams.get((ctx.args["org"].lower(), ctx.args["slug"].lower()))
    if team is None or ctx.args["user"] not in team.members:
        raise FakeError(404, "Not Found")
    url = f"{ctx.shapes.api}/organizations/{team.org}/team/{team.id}/memberships/{ctx.args['user']}"
    return 200, {"url": url, "role": "member", "state": team.members[ctx.args["user"]]}


# -- plumbing --------------------------------------------------------------------------------------


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
    return JSONResponse(body, status_code=status, headers=headers)


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


def create_app(state: FakeState | None = None) -> Starlette:
    """The fake GitHub serving ``state`` (a fresh one when omitted) as ``app.state.fake``."""
    fake = state or FakeState()

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

    def _dispatch(
        fake: FakeState, request: Request, method: str, path: str, raw: bytes
    ) -> Response:
        auth_label = "none"
        try:
            installation, auth_label = _authenticate(
                fake, path, request.headers.get("authorization", "")
            )
            for verb, regex, handler in ROUTES:
                match = regex.match(path)
                if match and verb == method:
                    api_base = str(request.base_url).rstrip("/") + API.rstrip("/")
                    ctx = Ctx(
                        fake,
                        Shapes(fake, api_base),
                        method,
                        match.groupdict(),
                        dict(request.query_params),
                        json.loads(raw) if raw else {},
                        installation,
                    )
                    status, body = handler(ctx)
                    headers = {
                        "x-ratelimit-limit": "5000",
                        "x-ratelimit-remaining": "4999",
                        "x-ratelimit-reset": str(int(time.time()) + 3600),
                        **ctx.headers,
                    }
                    fake.log(method, path, status, auth_label)
                    return JSONResponse(body, status_code=status, headers=headers)
            raise FakeError(404, "Not Found")
        except FakeError as exc:
            fake.log(method, path, exc.status, auth_label)
            return _error(exc.status, exc.message)
        except (KeyError, ValueError, TypeError) as exc:
            fake.log(method, path, 422, auth_label)
            return _error(422, f"Invalid request: {exc!r}")

    async def seed(request: Request) -> Response:
        return JSONResponse(fake.seed(await request.json()))

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
