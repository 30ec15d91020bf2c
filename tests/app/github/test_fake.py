"""The fake GitHub itself: seed and state over HTTP, fault injection, auth, and standalone."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tessera_app.github.fake import FakeState, SyncASGITransport, create_app
from tessera_app.github.fake.git import ObjectStore
from tessera_app.github.gateway import GitHubApp, GitHubError, GitHubSettings

from .conftest import FakeGitHub

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
    run = gh.gh.rest.checks.create(
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
    gh.gh.rest.checks.update(
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
    listed = gh.gh.rest.checks.list_annotations("acme", "api", run.id).parsed_data
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
        [sys.executable, "-m", "tessera_app.github.fake", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/_fake/state", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
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
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
