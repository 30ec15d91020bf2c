"""The fake GitHub itself: seed and state over HTTP (users' actions too), fault injection, auth,
diffs like git's (renames, patches), redelivery later, and standalone."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tessera_app.github.fake import FakeState, SyncASGITransport, create_app
from tessera_app.github.fake.git import ObjectStore, Patch, diff, patch
from tessera_app.github.fake.state import FakeError
from tessera_app.github.gateway import GitHubApp, GitHubError, GitHubSettings

from ..polling import wait_until
from .conftest import DESCRIPTION, FakeGitHub

SEED = {
    "repos": [
        {
            "full_name": "acme/api",
            "installation": 1,
            "branches": {"main": {"spec.yaml": "v1", "docs/readme.md": "hi"}},
        }
    ],
    "pushes": [
        {"repo": "acme/api", "branch": "feature", "from": "main", "files": {"spec.yaml": "v2"}}
    ],
    "pull_requests": [{"repo": "acme/api", "head": "feature", "title": "Bump", "author": "alice"}],
    "comments": [{"repo": "acme/api", "number": 1, "user": "bob", "body": "/tessera ack"}],
    "reviews": [{"repo": "acme/api", "number": 1, "user": "bob", "state": "approved"}],
    "teams": [{"org": "acme", "slug": "payments", "members": ["bob"]}],
    "deliveries": [{"event": "pull_request", "action": "opened", "status_code": 500}],
}


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    transport = SyncASGITransport(create_app(FakeState()))
    with httpx.Client(transport=transport, base_url="http://fake") as http:
        yield http
    transport.close()


def test_seed_and_state_over_http(client: httpx.Client) -> None:
    made = client.post("/_fake/seed", json=SEED).json()
    assert made["pull_requests"] == [1] and len(made["pushes"]) == 1
    state = client.get("/_fake/state").json()
    repo = state["repos"]["acme/api"]
    assert repo["branches"]["main"]["files"] == {"docs/readme.md": "hi", "spec.yaml": "v1"}
    assert repo["branches"]["feature"]["files"]["spec.yaml"] == "v2"
    (pull,) = state["pull_requests"]
    assert (pull["user"], pull["files"]) == ("alice", {"spec.yaml": "modified"})
    assert state["comments"][0]["body"] == "/tessera ack"
    assert state["reviews"][0]["state"] == "APPROVED"
    assert state["teams"][0]["members"] == {"bob": "active"}
    assert state["deliveries"][0]["status_code"] == 500
    client.post("/_fake/seed", json={"merges": [{"repo": "acme/api", "number": 1, "by": "carol"}]})
    after = client.get("/_fake/state").json()
    assert after["pull_requests"][0]["merged"] is True
    assert after["repos"]["acme/api"]["branches"]["main"]["files"]["spec.yaml"] == "v2"


def test_api_requires_credentials(client: httpx.Client) -> None:
    client.post("/_fake/seed", json=SEED)
    assert client.get("/api/v3/repos/acme/api/pulls/1").status_code == 401
    bad = {"Authorization": "token ghs_not-a-token"}
    assert client.get("/api/v3/repos/acme/api/pulls/1", headers=bad).status_code == 401
    jwt_less = client.post("/api/v3/app/installations/1/access_tokens")
    assert jwt_less.status_code == 401 and "JSON web token" in jwt_less.json()["message"]


def test_faults_over_http(client: httpx.Client) -> None:
    answer = client.post(
        "/_fake/faults",
        json=[{"path": "pulls", "kind": "secondary_rate_limit", "retry_after": 7}, {"path": "x"}],
    )
    assert answer.json() == {"faults": 2}
    limited = client.get("/api/v3/repos/acme/api/pulls/1")
    assert (limited.status_code, limited.headers["retry-after"]) == (403, "7")
    assert "secondary rate limit" in limited.json()["message"]
    assert client.get("/api/v3/repos/acme/api/pulls/1").status_code == 401  # the fault is spent
    assert client.delete("/_fake/faults").json() == {"faults": 0}
    assert client.get("/_fake/state").json()["faults"] == []


def test_git_objects_hash_like_git() -> None:
    store = ObjectStore()
    # `printf 'hello\n' | git hash-object --stdin`
    assert store.put_blob(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"
    # the tree of a repository holding only hello.txt (`git write-tree`)
    tree = store.tree_from_files({"hello.txt": b"hello\n"})
    assert tree == "aaa96ced2d9a1c8e72c56b253a0e2fe78393feb7"


def test_check_run_annotations_accumulate(fake_github: FakeGitHub) -> None:
    fake_github.seed(
        {"repos": [{"full_name": "acme/api", "installation": 1, "branches": {"main": {"a": "b"}}}]}
    )
    gh = fake_github.gh
    sha = fake_github.state.repo("acme/api").refs["heads/main"]
    run = gh.rest.checks.create(
        "acme",
        "api",
        data={
            "name": "n",
            "head_sha": sha,
            "status": "in_progress",
            "output": {
                "title": "t",
                "summary": "s",
                "annotations": [
                    {
                        "path": "a",
                        "start_line": 1,
                        "end_line": 1,
                        "annotation_level": "notice",
                        "message": "m1",
                    }
                ],
            },
        },
    ).parsed_data
    gh.rest.checks.update(
        "acme",
        "api",
        run.id,
        data={
            "conclusion": "success",
            "output": {
                "title": "t",
                "summary": "s",
                "annotations": [
                    {
                        "path": "a",
                        "start_line": 2,
                        "end_line": 2,
                        "annotation_level": "notice",
                        "message": "m2",
                    }
                ],
            },
        },
    )
    listed = gh.rest.checks.list_annotations("acme", "api", run.id).parsed_data
    assert [a.message for a in listed] == ["m1", "m2"]
    stored = fake_github.state.check_runs[run.id]
    assert (stored.status, stored.conclusion) == ("completed", "success")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_standalone_over_real_http(app_private_key: tuple[str, str]) -> None:
    private, public = app_private_key
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tessera_app.github.fake",
            "--port",
            str(port),
            "--description",
            str(DESCRIPTION),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def answers() -> bool:
            assert process.poll() is None, "the fake GitHub exited"
            try:
                return httpx.get(f"{base}/_fake/state", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until("the fake GitHub to answer", answers, timeout=20)
        httpx.post(f"{base}/_fake/seed", json={"app": {"id": 7, "public_key": public}, **SEED})
        settings = GitHubSettings(
            app_id=7, private_key=private, base_url=f"{base}/api/v3", content_pacing_seconds=0
        )
        app = GitHubApp(settings)
        try:
            gh = app.installation(1)
            assert gh.read_file("acme/api", "spec.yaml", "main") == "v1"
            assert gh.pull_request("acme/api", 1).head_ref == "feature"
            sha = gh.commit_files("acme/api", "main", "publish", {"published/x.yaml": "x"})
            assert [d.status_code for d in app.deliveries()] == [500]
            with pytest.raises(GitHubError):
                gh.pull_request("acme/api", 2)
        finally:
            app.close()
        state = httpx.get(f"{base}/_fake/state").json()
        assert state["repos"]["acme/api"]["branches"]["main"]["sha"] == sha
        assert state["violations"] == []  # checked against GitHub's REST description
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def test_users_actions_over_http(client: httpx.Client) -> None:
    (comment,) = client.post("/_fake/seed", json=SEED).json()["comments"]
    answer = client.post(
        "/_fake/seed",
        json={
            "repos": [{"full_name": "acme/api", "tree_limit": 1}],
            "pushes": [
                {"repo": "acme/api", "branch": "feature", "renames": {"docs/readme.md": "README"}},
                {"repo": "acme/api", "branch": "other", "from": "main", "files": {"x": "y"}},
            ],
            "pull_requests": [{"repo": "acme/api", "head": "other", "title": "Second"}],
            "issues": [{"repo": "acme/api", "title": "A question", "user": "carol"}],
            "comment_edits": [{"id": comment, "body": "/tessera ack migrating"}],
            "closes": [{"repo": "acme/api", "number": 2, "by": "alice"}],
            "issue_closes": [{"repo": "acme/api", "number": 3, "state_reason": "not_planned"}],
        },
    )
    assert answer.status_code == 200, answer.text
    made = answer.json()
    assert made["pull_requests"] == [2] and made["issues"] == [3]
    assert made["comment_edits"] == ["/tessera ack"]  # the body before the edit
    state = client.get("/_fake/state").json()
    assert state["repos"]["acme/api"]["tree_limit"] == 1
    pulls = {p["number"]: p for p in state["pull_requests"]}
    assert pulls[1]["files"] == {"README": "renamed", "spec.yaml": "modified"}
    assert pulls[2]["state"] == "closed" and pulls[2]["merged"] is False
    assert state["comments"][0]["body"] == "/tessera ack migrating"
    (issue,) = state["issues"]
    assert (issue["state"], issue["state_reason"], issue["closed_by"]) == (
        "closed",
        "not_planned",
        "octocat",
    )
    client.post("/_fake/seed", json={"reopens": [{"repo": "acme/api", "number": 2}]})
    reopened = {p["number"]: p for p in client.get("/_fake/state").json()["pull_requests"]}
    assert reopened[2]["state"] == "open" and reopened[2]["closed_at"] is None
    refused = client.post("/_fake/seed", json={"reopens": [{"repo": "acme/api", "number": 2}]})
    assert refused.status_code == 422 and "not closed" in refused.json()["message"]


def test_diffs_detect_renames_and_count_lines_like_git() -> None:
    store = ObjectStore()
    base = store.put_commit(
        store.tree_from_files(
            {
                "same.txt": b"one\ntwo\n",
                "moved.txt": b"a\nb\nc\nd\n",
                "edited-move.txt": b"1\n2\n3\n4\n5\n6\n",
                "gone.txt": b"x\n",
            }
        ),
        (),
        "base",
        "octocat",
        "2026-01-01T00:00:00Z",
    )
    head = store.put_commit(
        store.tree_from_files(
            {
                "same.txt": b"one\nTWO\nthree\n",
                "dir/moved.txt": b"a\nb\nc\nd\n",  # the same blob: a rename
                "renamed.txt": b"1\n2\n3\n4\n5\nsix\n",  # 5 of 6 lines kept: a rename
                "new.txt": b"fresh\n",  # nothing like gone.txt: added, and gone.txt removed
            }
        ),
        (base,),
        "head",
        "octocat",
        "2026-01-01T00:00:00Z",
    )
    changes = {c.path: c for c in diff(store, base, head)}
    assert {p: (c.status, c.previous_path) for p, c in changes.items()} == {
        "dir/moved.txt": ("renamed", "moved.txt"),
        "renamed.txt": ("renamed", "edited-move.txt"),
        "new.txt": ("added", None),
        "gone.txt": ("removed", None),
        "same.txt": ("modified", None),
    }
    edited = patch(store, changes["same.txt"].old_sha, changes["same.txt"].new_sha)
    assert (edited.additions, edited.deletions) == (2, 1)
    assert edited.text == "@@ -1,2 +1,3 @@\n one\n-two\n+TWO\n+three"
    moved = changes["dir/moved.txt"]
    assert patch(store, moved.old_sha, moved.new_sha) == Patch(None, 0, 0)
    gone = changes["gone.txt"]
    assert patch(store, gone.old_sha, gone.new_sha) == Patch("@@ -1 +0,0 @@\n-x", 0, 1)


def test_pull_request_files_and_the_pulls_of_a_commit(fake_github: FakeGitHub) -> None:
    state = fake_github.state
    state.seed(SEED)
    rest = fake_github.gh.rest
    (entry,) = rest.pulls.list_files("acme", "api", 1).parsed_data
    assert (entry.filename, entry.status, entry.additions, entry.deletions) == (
        "spec.yaml",
        "modified",
        1,
        1,
    )
    assert entry.changes == 2  # git's own words for a file without a final newline, as GitHub's
    assert entry.patch == (
        "@@ -1 +1 @@\n-v1\n\\ No newline at end of file\n+v2\n\\ No newline at end of file"
    )
    head = state.pull("acme/api", 1).head_sha
    base = state.repo("acme/api").refs["heads/main"]

    def pulls_of(sha: str) -> list[int]:
        found = rest.repos.list_pull_requests_associated_with_commit("acme", "api", sha)
        return [p.number for p in found.parsed_data]

    assert (pulls_of(head), pulls_of(base)) == ([1], [])
    merge = state.merge_pull_request("acme/api", 1)
    assert pulls_of(merge) == [1]  # the merge commit names its pull request
    with pytest.raises(FakeError, match="cannot be reopened"):
        state.reopen_pull_request("acme/api", 1)


def test_redelivery_is_accepted_then_delivered_later(fake_github: FakeGitHub) -> None:
    """202 at once; the signed POST to the webhook URL happens afterwards, and the delivery
    list shows the attempt only once it happened."""
    received: list[tuple[dict[str, str], bytes]] = []
    release = threading.Event()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            release.wait(10)
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        state = fake_github.state
        state.app.webhook_url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/github"
        state.app.webhook_secret = "s3cret"
        lost = state.add_delivery(
            "issues", action="closed", status_code=502, payload={"action": "closed"}
        )
        fake_github.app.redeliver(lost.id)  # 202: accepted, not yet delivered
        wait_until("the redelivery to arrive", lambda: received, timeout=10)
        assert [d.redelivery for d in fake_github.app.deliveries()] == [False]  # under way
        release.set()
        state.wait_for_redeliveries()
        listed = fake_github.app.deliveries()
        assert [(d.guid, d.redelivery, d.status_code) for d in listed] == [
            (lost.guid, False, 502),
            (lost.guid, True, 202),
        ]
        headers, body = received[0]
        assert json.loads(body) == {"action": "closed"}
        assert headers["X-GitHub-Delivery"] == lost.guid and headers["X-GitHub-Event"] == "issues"
        expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert headers["X-Hub-Signature-256"] == f"sha256={expected}"
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        serving.join(10)


def test_a_pull_request_counts_its_commits_lines_and_comments(fake_github: FakeGitHub) -> None:
    state = fake_github.state
    state.seed(SEED)
    state.push("acme/api", "feature", {"spec.yaml": "v3\nmore\n", "new.txt": "n\n"})
    pr = fake_github.gh.rest.pulls.get("acme", "api", 1).parsed_data
    assert (pr.commits, pr.changed_files, pr.comments) == (2, 2, 1)
    assert (pr.additions, pr.deletions) == (3, 1)  # v1 -> v3, more; new.txt
