"""The Tessera GitHub App, end to end, on this machine: a scripted scenario.

    python demo/scenario.py [--keep]      (``make demo``; exits 0 only when it ends as expected)

It starts the bundled fake GitHub (``python -m tessera_app.github.fake``) and ``tessera-app
serve`` (API + worker, SQLite in a temporary directory) on free loopback ports, seeds the fake
(an installation, the registry repository from ``registry-template/``, the producer
``acme/orders-service``, the teams ``acme/checkout`` and ``acme/data-platform``), installs the
App on both repositories (the ``installation`` webhook), then plays a pull request that removes
``Order.total`` from the Orders API. The App runs in its safe configuration: no local registry
checkout (``TESSERA_REGISTRY_PATH`` unset), the mirror follows the registry repository on the
fake GitHub, which the App publishes into. Every step is a user action on
the fake followed by the signed webhook GitHub would send (the vendored payloads under
``tests/app/github/fixtures/``, rewritten), and the script waits for, and prints, what the App
did on GitHub: the check run, the proposal issue, the reactions, the published version.

With ``--keep`` both servers stay up at the end (Ctrl-C stops them), so you can look around:
``curl -s localhost:<fake>/_fake/state | jq``, ``curl -s localhost:<app>/api/v1/proposals``.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[1]
DESCRIPTION = ROOT / "tests/app/github/rest_description/github-rest-2022-11-28.json"
TEMPLATE = ROOT / "registry-template"
FIXTURES = ROOT / "tests/app/github/fixtures"
SECRET = "demo-webhook-secret-not-for-production"
INSTALLATION = 7
REGISTRY, PRODUCER, SPEC = "acme/registry", "acme/orders-service", "api/openapi.yaml"
BIN = Path(sys.executable).parent


class ScenarioFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def say(text: str) -> None:
    print(text, flush=True)


def keys() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = probe()
        except (httpx.HTTPError, KeyError, IndexError, StopIteration):
            found = None
        if found:
            return found
        time.sleep(0.3)
    raise ScenarioFailed(f"timed out waiting for {what}")


class Demo:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.fake_port, self.app_port = free_port(), free_port()
        self.fake = httpx.Client(base_url=f"http://127.0.0.1:{self.fake_port}", timeout=10)
        self.app = httpx.Client(base_url=f"http://127.0.0.1:{self.app_port}", timeout=10)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.private_key, self.public_key = keys()

    # --- processes ------------------------------------------------------------------------

    def start(self) -> None:
        log = (self.workdir / "fake.log").open("wb")
        self.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "tessera_app.github.fake", "--port", str(self.fake_port)]
                + (["--description", str(DESCRIPTION)] if DESCRIPTION.is_file() else []),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        wait_for("the fake GitHub", lambda: self.fake.get("/_fake/state").status_code == 200)
        say(f"fake GitHub  http://127.0.0.1:{self.fake_port}  (GET /_fake/state)")
        inherited = {k: v for k, v in os.environ.items() if k != "TESSERA_REGISTRY_PATH"}
        env = dict(
            inherited,
            TESSERA_DATABASE_URL=f"sqlite:///{self.workdir / 'tessera.db'}",
            TESSERA_WEBHOOK_SECRETS=SECRET,
            TESSERA_GITHUB_APP_ID="1",
            TESSERA_GITHUB_PRIVATE_KEY=f"@{self.workdir / 'app.pem'}",
            TESSERA_GITHUB_BASE_URL=f"http://127.0.0.1:{self.fake_port}/api/v3",
            TESSERA_GITHUB_BOT_LOGIN="tessera[bot]",
            TESSERA_REGISTRY_REPO=REGISTRY,
            TESSERA_WORKER_POLL_SECONDS="0.2",
        )
        (self.workdir / "app.pem").write_text(self.private_key)
        self.schema(env)
        log = (self.workdir / "app.log").open("wb")
        self.processes.append(
            subprocess.Popen(
                [str(BIN / "tessera-app"), "serve", "--no-migrate", "--port", str(self.app_port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        wait_for("tessera-app serve", lambda: self.app.get("/readyz").status_code == 200)
        say(f"tessera-app  http://127.0.0.1:{self.app_port}  (logs: {self.workdir}/app.log)")

    def schema(self, env: dict[str, str]) -> None:
        """Migrate, then create any table no migration makes yet (a no-op once they do)."""
        code = (
            "from tessera_app.migrations import upgrade\n"
            "from tessera_app.db.base import make_engine\n"
            "from tessera_app.db.models import load_all\n"
            "import os\n"
            "url = os.environ['TESSERA_DATABASE_URL']\n"
            "upgrade(url)\n"
            "load_all().metadata.create_all(make_engine(url))\n"
        )
        subprocess.run([sys.executable, "-c", code], env=env, check=True)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()

    # --- GitHub's side ----------------------------------------------------------------------

    def seed(self, doc: dict[str, Any]) -> dict[str, Any]:
        response = self.fake.post("/_fake/seed", json=doc)
        response.raise_for_status()
        return dict(response.json())

    def state(self) -> dict[str, Any]:
        return dict(self.fake.get("/_fake/state").json())

    def send(self, event: str, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        response = self.app.post(
            "/webhooks/github",
            content=body,
            headers={
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": signature,
                "Content-Type": "application/json",
            },
        )
        say(f"  -> webhook {event}/{payload.get('action')}: {response.status_code}")
        if response.status_code != 202:
            raise ScenarioFailed(f"the App answered {response.status_code}: {response.text}")

    # --- payloads: the vendored real ones, rewritten ------------------------------------------

    def pull(self, number: int) -> dict[str, Any]:
        return next(
            p
            for p in self.state()["pull_requests"]
            if p["repo"] == PRODUCER and p["number"] == number
        )

    def pr_payload(self, number: int, action: str) -> dict[str, Any]:
        name = "pull_request.closed.json" if action == "closed" else "opened.payload.json"
        data = json.loads((FIXTURES / "pull_request" / name).read_text())
        pull = self.pull(number)
        data.update(action=action, number=number, installation={"id": INSTALLATION})
        data["repository"].update(full_name=PRODUCER, default_branch="main")
        pr = data["pull_request"]
        pr.update(number=number, state=pull["state"], merged=pull["merged"])
        pr["merge_commit_sha"] = pull["merge_commit_sha"]
        pr["head"].update(sha=pull["head_sha"], ref=pull["head_ref"])
        pr["base"].update(sha=pull["base_sha"], ref=pull["base_ref"])
        pr["head"]["repo"]["full_name"] = pr["base"]["repo"]["full_name"] = PRODUCER
        return dict(data)

    def comment_payload(self, number: int, comment_id: int, user: str, body: str) -> dict[str, Any]:
        data = json.loads((FIXTURES / "issue_comment/githubIssueCommentEvent.json").read_text())
        data["installation"] = {"id": INSTALLATION}
        data["repository"].update(full_name=PRODUCER, default_branch="main")
        data["issue"]["number"] = number
        data["comment"].update(id=comment_id, body=body, user={"login": user, "type": "User"})
        data["sender"] = {"login": user, "type": "User"}
        return dict(data)

    def review_payload(self, number: int, user: str) -> dict[str, Any]:
        data = json.loads(
            (FIXTURES / "pull_request_review/pull_request_review.35.submitted.json").read_text()
        )
        review = next(r for r in self.state()["reviews"] if r["user"] == user)
        data["pull_request"] = self.pr_payload(number, "opened")["pull_request"]
        data["installation"] = {"id": INSTALLATION}
        data["repository"].update(full_name=PRODUCER, default_branch="main")
        data["review"].update(
            id=review["id"], state="approved", body="", commit_id=review["commit_id"]
        )
        data["review"]["user"] = {"login": user, "type": "User"}
        return dict(data)

    def installation_payload(self, repos: list[str]) -> dict[str, Any]:
        """``installation.created``: what GitHub sends when the App is installed on ``repos``."""
        data = json.loads((FIXTURES / "installation/created.payload.json").read_text())
        data["installation"].update(id=INSTALLATION)
        data["installation"]["account"]["login"] = "acme"
        data["repositories"] = [
            {"id": 100 + n, "name": name.split("/")[1], "full_name": name, "private": True}
            for n, name in enumerate(repos)
        ]
        return dict(data)

    def check(self) -> dict[str, Any] | None:
        runs = [c for c in self.state()["check_runs"] if c["name"] == "tessera/orders-api"]
        return max(runs, key=lambda c: c["id"]) if runs else None

    def reactions(self, comment_id: int) -> list[str]:
        return [r["content"] for r in self.state()["reactions"] if r["comment_id"] == comment_id]


def scenario(demo: Demo) -> None:
    registry_files = {
        p.relative_to(TEMPLATE).as_posix(): p.read_text()
        for p in TEMPLATE.rglob("*")
        if p.is_file()
    }
    published = json.loads((TEMPLATE / "contracts/orders-api/versions/2.1.0.json").read_text())
    base = published["files"][SPEC]
    breaking = base.replace("        total:\n          type: number\n", "").replace(
        "version: 2.1.0", "version: 3.0.0"
    )
    say("\n1. seed GitHub: the registry, acme/orders-service (Orders API 2.1.0), two teams")
    demo.seed(
        {
            "app": {"id": 1, "slug": "tessera", "public_key": demo.public_key},
            "installations": [{"id": INSTALLATION, "account": "acme"}],
            "repos": [
                {
                    "full_name": REGISTRY,
                    "installation": INSTALLATION,
                    "branches": {"main": registry_files},
                },
                {
                    "full_name": PRODUCER,
                    "installation": INSTALLATION,
                    "branches": {"main": {SPEC: base}},
                },
            ],
            "teams": [
                {"org": "acme", "slug": "checkout", "members": ["carol"]},
                {"org": "acme", "slug": "data-platform", "members": ["dave"]},
            ],
        }
    )
    say("   the App is installed on both: the mirror follows the registry repository on GitHub")
    demo.send("installation", demo.installation_payload([REGISTRY, PRODUCER]))
    wait_for(
        "the registry mirror (the worker's github.registry_resync)",
        lambda: demo.app.get("/api/v1/contracts/orders-api").status_code == 200,
    )
    source = demo.app.get("/readyz").json()["registry"]["sources"][0]
    say(f"  mirror: {source['source']} at {str(source['commit'])[:12]}")

    say("\n2. alice opens a pull request that removes Order.total")
    made = demo.seed(
        {
            "pushes": [
                {
                    "repo": PRODUCER,
                    "branch": "drop-total",
                    "from": "main",
                    "files": {SPEC: breaking},
                    "message": "Drop Order.total",
                }
            ],
            "pull_requests": [
                {
                    "repo": PRODUCER,
                    "head": "drop-total",
                    "title": "Drop Order.total",
                    "author": "alice",
                }
            ],
        }
    )
    number = made["pull_requests"][0]
    demo.send("pull_request", demo.pr_payload(number, "opened"))
    run = wait_for("the check run", demo.check)
    say(f"  check tessera/orders-api: {run['conclusion']} - {run['title']}")
    if run["conclusion"] != "action_required":
        raise ScenarioFailed(f"expected action_required, got {run['conclusion']}")
    issue = wait_for(
        "the proposal issue",
        lambda: next(i for i in demo.state()["issues"] if i["repo"] == REGISTRY),
    )
    say(f"  proposal issue {REGISTRY}#{issue['number']}: {issue['title']}")

    say("\n3. carol (acme/checkout) comments /tessera ack; mallory (no team) tries too")
    made = demo.seed(
        {
            "comments": [
                {"repo": PRODUCER, "number": number, "user": "carol", "body": "/tessera ack"},
                {"repo": PRODUCER, "number": number, "user": "mallory", "body": "/tessera ack"},
            ]
        }
    )
    carol, mallory = made["comments"]
    demo.send("issue_comment", demo.comment_payload(number, carol, "carol", "/tessera ack"))
    demo.send("issue_comment", demo.comment_payload(number, mallory, "mallory", "/tessera ack"))
    wait_for("carol's +1", lambda: "+1" in demo.reactions(carol))
    wait_for("mallory's confused", lambda: "confused" in demo.reactions(mallory))
    say(f"  carol: {demo.reactions(carol)}   mallory: {demo.reactions(mallory)}")

    say("\n4. dave (acme/data-platform) approves the pull request")
    demo.seed(
        {"reviews": [{"repo": PRODUCER, "number": number, "user": "dave", "state": "APPROVED"}]}
    )
    demo.send("pull_request_review", demo.review_payload(number, "dave"))
    run = wait_for(
        "the check to pass", lambda: (c := demo.check()) and c["conclusion"] == "success" and c
    )
    say(f"  check tessera/orders-api: {run['conclusion']} - {run['title']}")

    say("\n5. alice merges: the App publishes the new version into the registry")
    demo.seed({"merges": [{"repo": PRODUCER, "number": number, "by": "alice"}]})
    demo.send("pull_request", demo.pr_payload(number, "closed"))
    path = "contracts/orders-api/versions/3.0.0.json"

    def published_file() -> dict[str, Any] | None:
        branch = demo.state()["repos"][REGISTRY]["branches"]["main"]
        return branch if path in branch["files"] else None

    branch = wait_for("the registry commit", published_file)
    say(f"  registry commit {branch['sha'][:12]}: {branch['message'].splitlines()[0]}")
    issue = wait_for(
        "the proposal issue to close",
        lambda: next(
            i for i in demo.state()["issues"] if i["repo"] == REGISTRY and i["state"] == "closed"
        ),
    )
    say(f"  proposal issue {REGISTRY}#{issue['number']}: closed")
    proposals = demo.app.get("/api/v1/proposals").json()
    say(f"  proposals: {json.dumps(proposals)[:300]}")
    violations = demo.state()["violations"]
    if violations:  # the fake checks its traffic against GitHub's REST description
        raise ScenarioFailed("GitHub's REST description rejects:\n" + "\n".join(violations))
    contract = demo.app.get("/api/v1/contracts/orders-api").json()
    say(f"  orders-api: active {contract['active_version']}, published {contract['versions']}")
    if contract["active_version"] != "3.0.0":
        raise ScenarioFailed(f"expected 3.0.0 active, got {contract['active_version']}")
    registry = demo.app.get("/readyz").json()["registry"]
    if not registry["consistent"]:
        raise ScenarioFailed(f"the mirror reports inconsistencies: {registry['findings']}")
    say("\nThe scenario ended as expected: the version was published.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep both servers up at the end")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tessera-demo-") as tmp:
        demo = Demo(Path(tmp))
        try:
            demo.start()
            scenario(demo)
            if args.keep:
                say("\n--keep: both servers are up; Ctrl-C stops them")
                signal.pause()
        except ScenarioFailed as err:
            say(f"\nFAILED: {err}")
            for name in ("app.log", "fake.log"):
                say(f"--- {name} (tail)\n" + (Path(tmp) / name).read_text()[-3000:])
            return 1
        except KeyboardInterrupt:
            pass
        finally:
            demo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
