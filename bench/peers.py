"""The OpenAPI peers (Optic, openapi-diff, specshift, ...) as timed by ``shared/tools/peers.sh``.

``run`` starts peers.sh on the OpenAPI pairs only; ``parse_run`` reads what it left in its
output directory (``results.tsv`` and each peer's raw output, for the error of a failed run)
into one JSON-ready dict with the date, the machine and the installed tool versions.
``bench/peers-openapi.json`` keeps the latest such run, so that reports without ``--peers``
can show the peers next to Tessera without spending ten minutes or more rerunning them.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import machine

# peers.sh's ONLY filter matches "PAIR PEER"; the OpenAPI pairs' names never contain "openapi"
# (ONLY=openapi would run the openapi-diff rows only), so select them by pair name.
ONLY = "^(github-rest|stripe|stripe-yaml|kubernetes-swagger) "
RUNS = 3
SLOW_RUNS = 1
COMMAND = f"ONLY='{ONLY}' RUNS={RUNS} SLOW_RUNS={SLOW_RUNS} bash shared/tools/peers.sh"

NOT_RUN = {
    ("kubernetes-swagger", "optic"): "not run: Optic does not accept Swagger 2 (peers.sh skips it)",
}

# Where peers.sh installs each peer under PEERS_PREFIX: npm package dirs and (venv, dist) pairs.
NPM_PACKAGES = {
    "optic": "optic/node_modules/@useoptic/optic",
    "openapi-diff": "node_modules/openapi-diff",
}
PYPI_PACKAGES = {
    "specshift": ("venv-specshift", "specshift"),
    "api-schema-diff": ("venv-api-schema-diff", "api_schema_diff"),
    "swagger-spec-compatibility": ("venv-ssc", "swagger_spec_compatibility"),
}

KNOWN_ERRORS = (
    ("JavaScript heap out of memory", "V8 heap out of memory"),
    ("Circular $ref pointer", "Circular $ref pointer found"),
    ("Set maximum size exceeded", "Set maximum size exceeded"),
    ("Maximum call stack size exceeded", "Maximum call stack size exceeded"),
    ("RecursionError", "RecursionError"),
)
ERROR_LINE = re.compile(r"\b(error|exception)\b", re.IGNORECASE)


def run(shared: Path) -> dict[str, Any]:
    """Run peers.sh on the OpenAPI pairs and parse the result. Its progress goes to stderr; its
    Markdown table, TSV and raw outputs stay in a temporary OUTDIR that it names at the end."""
    script = shared / "tools" / "peers.sh"
    outdir = Path(tempfile.mkdtemp(prefix="tessera-peers-"))
    env = {
        **os.environ,
        "ONLY": ONLY,
        "RUNS": str(RUNS),
        "SLOW_RUNS": str(SLOW_RUNS),
        "OUTDIR": str(outdir),
    }
    with (outdir / "table.md").open("w", encoding="utf-8") as table:
        subprocess.run(["bash", str(script)], env=env, stdout=table, check=False)
    return parse_run(outdir)


def parse_run(outdir: Path) -> dict[str, Any]:
    """The run peers.sh left in ``outdir`` (started with ``COMMAND``'s settings)."""
    tsv = outdir / "results.tsv"
    with tsv.open(encoding="utf-8") as handle:
        rows = [_row(raw, outdir) for raw in csv.DictReader(handle, delimiter="\t")]
    started = (outdir / "helpers.py").stat().st_mtime
    prefix = Path(os.environ.get("PEERS_PREFIX", "/tmp/peers"))
    python = machine.tool_version("python3", "--version") or "unknown"
    return {
        "date": _utc(started),
        "finished": _utc(tsv.stat().st_mtime),
        "command": COMMAND,
        "machine": machine.describe(python.removeprefix("Python ")),
        "tools": tool_versions(prefix),
        "rows": rows,
    }


def tool_versions(prefix: Path) -> dict[str, str]:
    versions = {}
    for peer, package in NPM_PACKAGES.items():
        manifest = prefix / package / "package.json"
        if manifest.is_file():
            versions[peer] = json.loads(manifest.read_text(encoding="utf-8"))["version"]
    for peer, (venv, dist) in PYPI_PACKAGES.items():
        found = sorted(prefix.glob(f"{venv}/lib/python*/site-packages/{dist}-*.dist-info"))
        if found:
            versions[peer] = found[-1].name.removesuffix(".dist-info").split("-", 1)[1]
    return versions


def load(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def save(data: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def find(data: dict[str, Any] | None, pair: str, peer: str) -> dict[str, Any] | None:
    rows = data["rows"] if data else []
    return next((r for r in rows if r["pair"] == pair and r["peer"] == peer), None)


def _row(raw: dict[str, str], outdir: Path) -> dict[str, Any]:
    row: dict[str, Any] = {
        "pair": raw["pair"],
        "peer": raw["peer"],
        "median_s": _number(raw["median_s"]),
        "min_s": _number(raw["min_s"]),
        "max_s": _number(raw["max_s"]),
        "runs": int(raw["n"] or 0),
        "peak_mib": _number(raw["peak_MB"]),  # peers.sh divides KiB by 1024
        "exit": _integer(raw["rc"]),
        "changes": _integer(raw["changes"]),
        "breaking": _integer(raw["breaking"]),
        "note": raw["note"],
    }
    row["outcome"], row["error"] = _outcome(row, outdir / f"{raw['pair']}__{raw['peer']}.out")
    return row


def _outcome(row: dict[str, Any], output: Path) -> tuple[str, str | None]:
    """("ok" | "failed" | "not run", error). A run that printed a known fatal error failed
    whatever its exit code: Optic exits 1 both for failed checks and for crashing."""
    note: str = row["note"]
    if note.startswith(("missing", "skipped")):
        return "not run", note
    if "TIMED OUT" in note:
        return "failed", f"killed at the timeout after {row['max_s']:.0f} s"
    text = output.read_text(encoding="utf-8", errors="replace") if output.is_file() else ""
    crashed = any(marker in text for marker, _ in KNOWN_ERRORS)
    counted = row["breaking"] is not None and not note.startswith("no result")
    if row["exit"] in (0, 1) and counted and not crashed:
        return "ok", None
    return "failed", _error(text, row["exit"])


def _error(text: str, code: int | None) -> str:
    """The most telling line of a failed peer's output, and the signal that ended it."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    known = next((summary for marker, summary in KNOWN_ERRORS if marker in text), None)
    line = known or next((x for x in lines if ERROR_LINE.search(x)), lines[-1] if lines else "")
    line = line[:160] or f"exit {code}"
    if code is not None and code < 0:
        line += f" ({signal.Signals(-code).name})"
    return line


def _number(text: str) -> float | None:
    return float(text) if text else None


def _integer(text: str) -> int | None:
    return int(text) if text else None


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
