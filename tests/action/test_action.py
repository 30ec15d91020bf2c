"""The composite action (``action/action.yml``), its steps run as the GitHub runner runs them
(``emulator``), on the fixture repositories in ``fixtures/``: a registry, consumer repositories
(satisfied, stale, invalid) and a producer repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tessera_engine.action import consumer
from tessera_engine.action.reasons import REASONS, Check
from tessera_engine.action.runner import annotation, fails

from .emulator import ACTION, load_action, read_outputs, run_action

FIXTURES = Path(__file__).parent / "fixtures"


def workspace(tmp_path: Path, repo: str) -> Path:
    """A checkout of fixture ``repo`` with the registry checked out beside its files."""
    root = tmp_path / "work" / repo
    shutil.copytree(FIXTURES / repo, root)
    shutil.copytree(FIXTURES / "registry", root / "registry")
    return root


def annotations(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("::")]


def test_every_input_has_a_default_and_a_description() -> None:
    action = load_action()
    assert action["runs"]["using"] == "composite"
    for name, spec in action["inputs"].items():
        assert "default" in spec and spec.get("description"), name
    for name, spec in action["outputs"].items():
        assert spec.get("description") and "${{ steps." in spec["value"], name
    readme = (ACTION / "README.md").read_text(encoding="utf-8")
    for name in [*action["inputs"], *action["outputs"], *REASONS]:
        assert f"`{name}`" in readme, f"{name} is not documented in action/README.md"


def test_consumer_mode_reports_an_open_proposal_on_the_used_line(tmp_path: Path) -> None:
    ws = workspace(tmp_path, "consumer-ok")
    run = run_action(ws, {"mode": "consumer"})
    assert run.failed_step is None, run.stdout + run.stderr
    assert run.skipped == ["Set up Python", "Cache pip"]
    assert run.steps["engine"]["path"] == str(ACTION.parent / "engine")
    assert run.outputs["verdict"] == "warn"
    assert run.outputs["breaking-count"] == "0"
    assert run.outputs["dangerous-count"] == "1"
    assert run.outputs["can-i-deploy"] == "true"
    assert run.outputs["reasons"] == "PENDING_BREAKING_PROPOSAL"
    assert run.outputs["registry-path"] == "registry"
    [warning] = annotations(run.stdout)
    assert warning.startswith(
        "::warning file=tessera/consumer.yaml,line=11,col=11,"
        "title=tessera PENDING_BREAKING_PROPOSAL::proposal #12 (pull request #34) breaking: "
    )
    assert "required property 'email' was removed, which billing-worker declares it uses" in warning
    assert "proposal #9" not in run.stdout  # withdrawn
    report = json.loads((ws / run.outputs["report-path"]).read_text())
    assert report["verdict"] == "warn" and report["checks"][0]["proposal"] == 12
    assert "## Tessera consumer check: can billing-worker deploy (0123456789ab)?" in run.summary
    assert "| ⚠️ | `PENDING_BREAKING_PROPOSAL` | orders-api | `tessera/consumer.yaml:11` |" in (
        run.summary
    )
    assert "can-i-deploy: yes" in run.summary


def test_consumer_mode_fails_only_where_asked(tmp_path: Path) -> None:
    ws = workspace(tmp_path, "consumer-ok")
    run = run_action(ws, {"mode": "consumer", "fail-on": "dangerous"})
    assert run.failed_step == "Check (${{ inputs.mode }} mode)" and run.exit_code == 1
    assert run.outputs["verdict"] == "warn"


def test_can_i_deploy_names_each_reason_at_its_line(tmp_path: Path) -> None:
    ws = workspace(tmp_path, "consumer-stale")
    run = run_action(ws, {"declarations": "tessera/consumers", "fail-on": "never"})
    assert run.failed_step is None, run.stdout + run.stderr
    assert run.outputs["verdict"] == "fail" and run.outputs["can-i-deploy"] == "false"
    assert run.outputs["reasons"] == "VERSION_OUT_OF_RANGE,USAGE_BROKEN,CONTRACT_NOT_PUBLISHED"
    where = [line.split("::")[1] for line in annotations(run.stdout)]
    file = "file=tessera/consumers/billing-worker.yaml"
    assert where == [
        f"error {file},line=5,col=15,title=tessera VERSION_OUT_OF_RANGE",
        f"error {file},line=9,col=15,title=tessera VERSION_OUT_OF_RANGE",
        f"error {file},line=13,col=11,title=tessera USAGE_BROKEN",
        f"error {file},line=14,col=5,title=tessera CONTRACT_NOT_PUBLISHED",
    ]
    assert "customers-api 2.0.0 (active, since 1.1.0)" in run.stdout
    assert "can-i-deploy: no" in run.summary


def test_producer_mode_with_the_registry_fetched_by_git(tmp_path: Path) -> None:
    remote = tmp_path / "registry.git"
    shutil.copytree(FIXTURES / "registry", remote)
    git = ["git", "-C", str(remote), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    for command in (["init", "-q", "-b", "release"], ["add", "-A"], ["commit", "-qm", "r"]):
        subprocess.run([*git, *command], check=True, env=env)
    ws = tmp_path / "work" / "producer"
    shutil.copytree(FIXTURES / "producer", ws)
    run = run_action(
        ws,
        {"mode": "producer", "registry-repository": str(remote), "registry-ref": "release"},
        github={"repository": "acme/orders-service"},
    )
    assert run.failed_step == "Check (${{ inputs.mode }} mode)" and run.exit_code == 1
    fetched = tmp_path / "work" / "runner-temp" / "tessera-registry"
    assert run.outputs["registry-path"] == str(fetched)
    assert run.outputs["verdict"] == "fail" and run.outputs["breaking-count"] == "1"
    [error] = annotations(run.stdout)
    assert error.startswith(
        "::error file=api/openapi.yaml,line=33,col=11,title=tessera SPEC_BREAKING::"
    )
    assert "type changed from number to string" in error
    assert "concerns billing-worker, storefront" in error
    assert "orders-api: breaking, 1.1.0 → 2.0.0" in run.summary


def test_an_invalid_declaration_is_annotated_where_it_is_wrong(tmp_path: Path) -> None:
    ws = workspace(tmp_path, "consumer-invalid")
    outputs = tmp_path / "out"
    env = {"GITHUB_WORKSPACE": str(ws), "GITHUB_OUTPUT": str(outputs), "INPUT_FAIL_ON": "never"}
    report = consumer.run(env)
    lines = [annotation(c) for c in report.checks]
    assert lines == [
        "::error file=" + str(ws / "tessera/consumer.yaml") + ",line=5,col=15,title=tessera "
        "DECLARATION_INVALID::unknown contract 'payments-api': no contracts/payments-api.yaml",
        "::error file=" + str(ws / "tessera/consumer.yaml") + ",line=8,col=15,title=tessera "
        "DECLARATION_INVALID::invalid version range: 'not' is not a version or version range",
    ]


@pytest.fixture
def api() -> Iterator[tuple[str, list[str]]]:
    """A stand-in for the service's ``GET /api/v1/proposals``: one open proposal that asks
    team billing to acknowledge two findings."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(f"{self.path} {self.headers.get('Authorization')}")
            item: dict[str, Any] = {
                "id": 41,
                "contract": "orders-api",
                "pull_request": 77,
                "state": "open",
                "required": {"billing": ["f1", "f2"]},
                "informed": ["web"],
            }
            body = json.dumps({"items": [item], "total": 1, "limit": 500, "offset": 0}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", asked
    server.shutdown()
    server.server_close()


def test_open_proposals_from_the_service_api(tmp_path: Path, api: tuple[str, list[str]]) -> None:
    url, asked = api
    ws = workspace(tmp_path, "consumer-ok")
    env = {
        "GITHUB_WORKSPACE": str(ws),
        "INPUT_API_URL": url,
        "INPUT_API_TOKEN": "tsk_secret",
    }
    report = consumer.run(env)
    assert [(c.code, c.proposal, c.line) for c in report.checks] == [
        ("PENDING_BREAKING_PROPOSAL", 41, 7)
    ]
    assert report.checks[0].message == (
        "proposal #41 (pull request #77) on orders-api has 2 breaking change(s) that team "
        "billing must acknowledge"
    )
    assert asked == [
        "/api/v1/proposals?state=open&contract=orders-api&limit=500&offset=0 Bearer tsk_secret"
    ]


def test_fail_on_and_outputs(tmp_path: Path) -> None:
    warning = Check("PENDING_BREAKING_PROPOSAL", "m")
    error = Check("USAGE_BROKEN", "a, b: c%\nd", file="x,y.yaml", line=3)
    assert (fails([warning], "breaking"), fails([warning], "dangerous")) == (False, True)
    assert (fails([error], "breaking"), fails([error], "never")) == (True, False)
    assert annotation(error) == (
        "::error file=x%2Cy.yaml,line=3,title=tessera USAGE_BROKEN::a, b: c%25%0Ad"
    )
    path = tmp_path / "out"
    path.write_text("a=1\nb<<EOF\nx\ny\nEOF\n")
    assert read_outputs(path) == {"a": "1", "b": "x\ny"}


def test_the_selftest_workflow_uses_the_local_action_with_declared_inputs() -> None:

    workflow = Path(__file__).parents[2] / ".github" / "workflows" / "action-selftest.yml"
    data = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    inputs = set(load_action()["inputs"])
    uses = [s for job in data["jobs"].values() for s in job["steps"] if s.get("uses") == "./action"]
    assert len(uses) >= 3
    for step in uses:
        assert set(step.get("with", {})) <= inputs, step
    for example in (ACTION / "examples").glob("*.yml"):
        steps = [
            s
            for j in yaml.safe_load(example.read_text())["jobs"].values()
            for s in j.get("steps", [])
        ]
        used = [s for s in steps if "tessera/action@" in str(s.get("uses", ""))]
        assert used and all(set(s.get("with", {})) <= inputs for s in used), example.name


def test_a_declarations_folder_linked_out_of_the_checkout_is_not_read(tmp_path: Path) -> None:
    """A pull request that turns the declarations folder into a link (to the runner's other
    files) gets an error, and the linked folder is never read."""
    ws = workspace(tmp_path, "consumer-ok")
    outside = tmp_path / "outside"
    shutil.move(ws / "tessera", outside)
    (ws / "tessera").symlink_to(outside, target_is_directory=True)
    run = run_action(ws, {"mode": "consumer", "fail-on": "never"})
    assert run.exit_code != 0
    assert "tessera/consumer.yaml: leads outside the workspace through a symbolic link" in (
        run.stdout + run.stderr
    )
    assert "PENDING_BREAKING_PROPOSAL" not in run.stdout


def test_a_spec_folder_linked_out_of_the_checkout_is_not_read(tmp_path: Path) -> None:
    ws = tmp_path / "work" / "producer"
    shutil.copytree(FIXTURES / "producer", ws)
    shutil.copytree(FIXTURES / "registry", ws / "registry")
    outside = tmp_path / "outside"
    shutil.move(ws / "api", outside)
    (ws / "api").symlink_to(outside, target_is_directory=True)
    run = run_action(
        ws, {"mode": "producer", "fail-on": "never"}, github={"repository": "acme/orders-service"}
    )
    [error] = annotations(run.stdout)
    assert "SPEC_UNREADABLE" in error
    assert "leads outside the checkout through a symbolic link" in error
    assert "SPEC_BREAKING" not in run.stdout
