"""The GitHub Actions runner's side: inputs from ``INPUT_*``, annotations as workflow commands,
step outputs (``$GITHUB_OUTPUT``) and the job summary (``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from typing import TextIO

from ..render.github import escape_data, escape_property
from .reasons import ERROR, NOTICE, WARNING, Check

FAIL_ON = ("breaking", "dangerous", "never")


def read_input(name: str, default: str = "", env: Mapping[str, str] | None = None) -> str:
    """An input as the runner passes it: ``INPUT_<NAME>``, upper case, ``-`` kept."""
    env = os.environ if env is None else env
    return env.get(f"INPUT_{name.upper()}", default).strip() or default


def annotation(check: Check) -> str:
    """``::error file=...,line=...,col=...,title=CODE::message`` for one check."""
    command = {ERROR: "error", WARNING: "warning", NOTICE: "notice"}[check.level]
    properties: list[tuple[str, str]] = []
    if check.file:
        properties.append(("file", check.file))
        if check.line:
            properties.append(("line", str(check.line)))
        if check.column:
            properties.append(("col", str(check.column)))
    properties.append(("title", f"tessera {check.code}"))
    text = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{command} {text}::{escape_data(check.message)}"


def write_annotations(checks: list[Check], out: TextIO) -> None:
    for check in checks:
        out.write(annotation(check) + "\n")


def write_outputs(outputs: Mapping[str, str], env: Mapping[str, str] | None = None) -> None:
    """Append to ``$GITHUB_OUTPUT`` (a heredoc per value, as the toolkit writes them)."""
    env = os.environ if env is None else env
    path = env.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        for name, value in outputs.items():
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def write_summary(markdown: str, env: Mapping[str, str] | None = None) -> None:
    env = os.environ if env is None else env
    path = env.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(markdown)


def fails(checks: list[Check], fail_on: str) -> bool:
    """Whether the job fails: ``breaking`` on any error, ``dangerous`` on a warning too,
    ``never`` not at all."""
    if fail_on == "never":
        return False
    levels = {ERROR} if fail_on == "breaking" else {ERROR, WARNING}
    return any(check.level in levels for check in checks)
