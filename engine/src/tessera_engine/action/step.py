"""What every entry point shares: inputs, paths, the finish (annotations, outputs, summary,
report, exit status) and one-line errors."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from ..documents.files import FileSource, OutsideRoot
from ..errors import TesseraError
from ..render.github import escape_data
from .reasons import Check
from .report import Report
from .runner import FAIL_ON, fails, read_input, write_annotations, write_outputs, write_summary

EXIT_OK, EXIT_FAIL, EXIT_ERROR = 0, 1, 2


def workspace(env: Mapping[str, str]) -> Path:
    return Path(env.get("GITHUB_WORKSPACE") or os.getcwd())


def in_workspace(path: str, env: Mapping[str, str]) -> Path:
    """An input path, relative to the workspace unless absolute. A relative one must stay in
    the workspace once its symbolic links are resolved: the checkout is a pull request's, and
    a folder it turns into a link (``registry -> /``) must not take the check elsewhere."""
    root = workspace(env)
    joined = root / path
    if not Path(path).is_absolute() and not inside(root, joined):
        raise TesseraError(f"{path}: leads outside the workspace through a symbolic link: not read")
    return joined


def inside(root: Path, path: Path) -> bool:
    """Whether ``path``, its symbolic links resolved, is ``root`` or under it (as a source
    confined to ``root`` decides)."""
    try:
        FileSource(root).resolve(str(path))
    except OutsideRoot:
        return False
    return True


def fail_on(env: Mapping[str, str]) -> str:
    value = read_input("fail_on", "breaking", env)
    if value not in FAIL_ON:
        raise TesseraError(f"fail-on must be one of {', '.join(FAIL_ON)}, not {value!r}")
    return value


def finish(report: Report, env: Mapping[str, str]) -> int:
    """Annotate, write the outputs, summary and report; the exit status ``fail-on`` asks for."""
    when = fail_on(env)
    default = str(Path(env.get("RUNNER_TEMP") or workspace(env)) / "tessera-report.json")
    report_path = read_input("report_path", default, env)
    report.checks = [_relative(check, workspace(env)) for check in report.checks]
    report.write_json(in_workspace(report_path, env))
    write_annotations(report.checks, sys.stdout)
    write_outputs(report.outputs(report_path), env)
    write_summary(report.markdown(), env)
    failing = fails(report.checks, when)
    print(
        f"tessera: {report.verdict} — {report.breaking} breaking, {report.dangerous} dangerous"
        f" (fail-on: {when}){'; failing the job' if failing else ''}"
    )
    return EXIT_FAIL if failing else EXIT_OK


def _relative(check: Check, root: Path) -> Check:
    """A file inside the workspace as GitHub wants it in an annotation: relative, with ``/``."""
    if not check.file or not os.path.isabs(check.file):
        return check
    try:
        inside = Path(check.file).resolve().relative_to(root.resolve())
    except ValueError:
        return check
    return replace(check, file=inside.as_posix())


def main(run: Callable[[Mapping[str, str]], Report]) -> int:
    env = os.environ
    try:
        return finish(run(env), env)
    except TesseraError as err:
        print(f"::error title=tessera::{escape_data(str(err))}")
        write_outputs({"verdict": "error"}, env)
        return EXIT_ERROR
