"""Shared helpers: running the CLI (in process and as a real process), writing documents,
building small OpenAPI documents, and reading results."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tessera_engine.cli import main

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
HEX16 = re.compile(r"^[0-9a-f]{16}$")
SEVERITIES = ("annotation", "safe", "dangerous", "breaking")
POSITIONS = ("input", "output", "both", "none")
FINDING_KEYS = (
    "rule",
    "severity",
    "position",
    "path",
    "pointer",
    "location",
    "message",
    "fingerprint",
)


# -- running the CLI ------------------------------------------------------------------------


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float
    max_rss_mb: float = 0.0

    @property
    def data(self) -> dict[str, Any]:
        """stdout as exactly one JSON object (``json.loads`` refuses trailing data)."""
        text = self.out.strip()
        assert text.startswith("{") and text.endswith("}"), self.out[:500]
        value = json.loads(text)
        assert isinstance(value, dict)
        return value


def cli(*args: str | os.PathLike[str], cwd: Path | None = None) -> Run:
    """``tessera ARGS`` through ``cli.main`` in this process."""
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext():
        code = main([os.fspath(a) for a in args], stdout=out, stderr=err)
    return Run(code, out.getvalue(), err.getvalue(), time.perf_counter() - start)


def diff_json(
    old: str | os.PathLike[str],
    new: str | os.PathLike[str],
    *options: str,
    cwd: Path | None = None,
) -> dict[str, Any]:
    """``tessera diff OLD NEW --output json OPTIONS``; checks the output contract and returns
    the parsed object."""
    run = cli("diff", old, new, "--output", "json", *options, cwd=cwd)
    assert run.code in (0, 1), run.err
    assert run.err == ""
    data = run.data
    check_contract(data)
    assert run.code == (1 if data["verdict"] == "breaking" else 0)
    return data


def check_contract(data: dict[str, Any]) -> None:
    """The JSON output every consumer relies on."""
    assert data["verdict"] in ("breaking", "compatible")
    assert data["bump"] in ("none", "patch", "minor", "major")
    assert isinstance(data["findings"], list)
    for finding in data["findings"]:
        for key in FINDING_KEYS:
            assert key in finding, (key, finding)
        assert isinstance(finding["rule"], str) and finding["rule"].count(".") == 2
        assert finding["severity"] in SEVERITIES
        assert finding["position"] in POSITIONS
        assert isinstance(finding["path"], str) and finding["path"]
        assert isinstance(finding["pointer"], str)
        assert finding["pointer"] == "" or finding["pointer"].startswith("/")
        assert isinstance(finding["message"], str) and finding["message"]
        assert HEX16.match(finding["fingerprint"]), finding["fingerprint"]
        location = finding["location"]
        if location is not None:
            assert set(location) == {"file", "line", "column"}
            assert isinstance(location["file"], str) and location["file"]
            assert isinstance(location["line"], int) and location["line"] >= 1
            assert isinstance(location["column"], int) and location["column"] >= 1
    breaking = any(f["severity"] == "breaking" for f in data["findings"])
    assert data["verdict"] == ("breaking" if breaking else "compatible")


@dataclass
class Process:
    code: int
    out: str
    err: str
    seconds: float
    max_rss_mb: float


_WATCH = """
import json, os, subprocess, sys, time
job = json.loads(sys.argv[1])
with open(job["out"], "wb") as out, open(job["err"], "wb") as err:
    proc = subprocess.Popen(job["cmd"], cwd=job["cwd"], env=job["env"],
                            stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    start = time.monotonic()
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > job["timeout"]:
            proc.kill()
            os.wait4(proc.pid, 0)
            print(json.dumps({"timeout": True}))
            sys.exit(0)
        time.sleep(0.005)
print(json.dumps({"timeout": False, "code": os.waitstatus_to_exitcode(status),
                  "seconds": time.monotonic() - start, "maxrss_kib": usage.ru_maxrss}))
"""
"""Runs the command and reports its exit status, time and peak memory. It is a fresh, small
process: Linux counts the memory the *spawning* process had at fork time in the child's peak,
and a pytest worker grows to hundreds of MB, so the command must not be forked from it."""


def spawn(
    *args: str | os.PathLike[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 20.0,
) -> Process:
    """Run ``python -m tessera_engine ARGS`` (what ``.venv/bin/tessera`` runs) as a real
    process, with its own peak memory (``os.wait4``) and a hard timeout."""
    environment = {k: v for k, v in os.environ.items() if k != "TESSERA_DEBUG"}
    environment.update(env or {})
    command = [sys.executable, "-m", "tessera_engine", *(os.fspath(a) for a in args)]
    with tempfile.TemporaryDirectory() as tmp:
        out, err = Path(tmp, "out"), Path(tmp, "err")
        job = {
            "cmd": command,
            "cwd": os.fspath(cwd),
            "env": environment,
            "timeout": timeout,
            "out": os.fspath(out),
            "err": os.fspath(err),
        }
        watcher = subprocess.run(
            [sys.executable, "-I", "-c", _WATCH, json.dumps(job)],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(watcher.stdout)
        if result["timeout"]:
            raise AssertionError(f"tessera {args} still running after {timeout} s")
        return Process(
            result["code"],
            out.read_bytes().decode("utf-8", "replace"),
            err.read_bytes().decode("utf-8", "replace"),
            result["seconds"],
            result["maxrss_kib"] / 1024,  # Linux: kilobytes
        )


def assert_one_line_error(err: str, file: str, line: int | None = None) -> str:
    """stderr is exactly one ``tessera: error:`` line naming ``file`` (and ``line``)."""
    assert "Traceback" not in err, err
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    prefix = f"tessera: error: {file}"
    assert err.startswith(prefix), (err, prefix)
    if line is not None:
        assert err.startswith(f"{prefix}:{line}:"), (err, f"line {line}")
    return err.rstrip("\n")


# -- writing documents ----------------------------------------------------------------------


def write(path: Path, data: Any) -> Path:
    """Write ``data``: text as is, else JSON (``.json``) or block-style YAML."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    elif isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    elif path.suffix == ".json":
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def openapi(
    paths: dict[str, Any] | None = None,
    schemas: dict[str, Any] | None = None,
    version: str = "3.0.3",
    **extra: Any,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "openapi": version,
        "info": {"title": "Test API", "version": "1.0.0"},
        "paths": paths if paths is not None else {},
    }
    if schemas is not None:
        doc["components"] = {"schemas": schemas}
    doc.update(extra)
    return doc


def operation(
    request: Any = None,
    response: Any = None,
    parameters: list[Any] | None = None,
    status: str = "200",
) -> dict[str, Any]:
    op: dict[str, Any] = {}
    if parameters is not None:
        op["parameters"] = parameters
    if request is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": request}}}
    answer: dict[str, Any] = {"description": "ok"}
    if response is not None:
        answer["content"] = {"application/json": {"schema": response}}
    op["responses"] = {status: answer}
    return op


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


# -- reading results ------------------------------------------------------------------------


def rules(data: dict[str, Any]) -> list[str]:
    return [f["rule"] for f in data["findings"]]


def summary(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(rule, severity, position) of every finding, for readable assertions."""
    return [(f["rule"], f["severity"], f["position"]) for f in data["findings"]]


def only(data: dict[str, Any], rule: str) -> dict[str, Any]:
    found = [f for f in data["findings"] if f["rule"] == rule]
    assert len(found) == 1, [(f["rule"], f["path"]) for f in data["findings"]]
    return found[0]


def line_of(text: str, snippet: str, *, after: str | None = None) -> int:
    """1-based number of the first line containing ``snippet`` (below the first line that
    contains ``after``)."""
    lines = text.splitlines()
    start = 0
    if after is not None:
        start = next(i for i, line in enumerate(lines) if after in line)
    return next(i + 1 for i in range(start, len(lines)) if snippet in lines[i])


def column_of(text: str, line: int, snippet: str) -> int:
    return text.splitlines()[line - 1].index(snippet) + 1
