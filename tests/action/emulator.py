"""Run a composite action's steps the way the GitHub runner does, locally.

Reads ``action.yml``, fills the ``inputs`` (defaults, then ``with``), and runs each ``run:``
step through ``bash -e -o pipefail`` in its ``working-directory`` with the variables the runner
sets (``GITHUB_WORKSPACE``, ``GITHUB_ACTION_PATH``, ``GITHUB_OUTPUT`` (one file per step),
``GITHUB_STEP_SUMMARY``, ``RUNNER_TEMP``, ...) and the step's ``env:``, every ``${{ }}``
expanded from ``inputs``, ``github``, ``runner`` and earlier ``steps.<id>.outputs``. Steps that
use another action (``actions/setup-python``) are skipped: the test's Python is already set
up. An expression the emulator does not know fails the test instead of being guessed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACTION = Path(__file__).resolve().parents[2] / "action"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
OUTPUT_HEREDOC = re.compile(r"^([^=<\s]+)<<(.+)$")


@dataclass
class Run:
    outputs: dict[str, str]
    steps: dict[str, dict[str, str]]
    stdout: str
    stderr: str
    summary: str
    failed_step: str | None
    exit_code: int
    skipped: list[str] = field(default_factory=list)


def load_action(path: Path = ACTION) -> dict[str, Any]:
    data = yaml.safe_load((path / "action.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def run_action(
    workspace: Path, with_: dict[str, str], *, github: dict[str, str] | None = None
) -> Run:
    action = load_action()
    temp = workspace.parent / "runner-temp"
    temp.mkdir(exist_ok=True)
    summary = temp / "step-summary.md"
    summary.touch()
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    unknown = set(with_) - set(inputs)
    assert not unknown, f"inputs the action does not declare: {unknown}"
    context: dict[str, Any] = {
        "github": {
            "workspace": str(workspace),
            "action_path": str(ACTION),
            "repository": "acme/billing-worker",
            "sha": "0123456789abcdef0123456789abcdef01234567",
            "server_url": "https://github.com",
            "token": "",
            **(github or {}),
        },
        "runner": {"temp": str(temp), "os": "Linux"},
        "steps": {},
    }
    context["inputs"] = {k: expand(v, context) for k, v in inputs.items()}
    context["inputs"].update(with_)
    base = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", str(temp)),
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_ACTION_PATH": str(ACTION),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_REPOSITORY": context["github"]["repository"],
        "GITHUB_SHA": context["github"]["sha"],
        "GITHUB_SERVER_URL": context["github"]["server_url"],
        "RUNNER_TEMP": str(temp),
    }
    stdout, stderr, skipped = [], [], []
    failed, code = None, 0
    for number, step in enumerate(action["runs"]["steps"]):
        name = step.get("name", f"step {number}")
        if "uses" in step:
            skipped.append(name)
            continue
        assert "if" not in step, "the emulator does not evaluate `if:` on run steps"
        output_file = temp / f"output-{number}"
        output_file.write_text("")
        env = {**base, "GITHUB_OUTPUT": str(output_file)}
        env.update({k: expand(str(v), context) for k, v in step.get("env", {}).items()})
        script = temp / f"step-{number}.sh"
        script.write_text(expand(step["run"], context))
        assert step.get("shell") == "bash", f"{name}: composite run steps need `shell: bash`"
        cwd = expand(step.get("working-directory", "${{ github.workspace }}"), context)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", str(script)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        stdout.append(done.stdout)
        stderr.append(done.stderr)
        if "id" in step:
            context["steps"][step["id"]] = {"outputs": read_outputs(output_file)}
        if done.returncode:
            failed, code = name, done.returncode
            break
    outputs = {
        name: expand(str(spec["value"]), context) for name, spec in action["outputs"].items()
    }
    steps = {k: v["outputs"] for k, v in context["steps"].items()}
    return Run(
        outputs,
        steps,
        "".join(stdout),
        "".join(stderr),
        summary.read_text(encoding="utf-8"),
        failed,
        code,
        skipped,
    )


def expand(text: str, context: dict[str, Any]) -> str:
    return EXPRESSION.sub(lambda m: evaluate(m.group(1), context), text)


def evaluate(expression: str, context: dict[str, Any]) -> str:
    """A context property (``inputs.fail-on``, ``steps.check.outputs.verdict``): what the
    action uses; a missing step output is empty, as on the runner."""
    parts = expression.split(".")
    assert re.fullmatch(r"[A-Za-z_][\w.-]*", expression), f"unsupported: {expression!r}"
    value: Any = context
    for number, part in enumerate(parts):
        if not isinstance(value, dict):
            raise AssertionError(f"unsupported expression: {expression!r}")
        if part not in value:
            if parts[0] == "steps" and number >= 1:
                return ""
            raise AssertionError(f"unknown in the emulator: {expression!r}")
        value = value[part]
    return str(value)


def read_outputs(path: Path) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIMITER`` heredocs, as the runner reads them."""
    outputs: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        heredoc = OUTPUT_HEREDOC.match(lines[i])
        if heredoc:
            name, delimiter = heredoc.groups()
            end = lines.index(delimiter, i + 1)
            outputs[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        name, _, value = lines[i].partition("=")
        if name:
            outputs[name] = value
        i += 1
    return outputs
