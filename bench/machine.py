"""What a measurement ran on: cores, memory, CPU model, OS and runtime versions."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return platform.processor() or "unknown"
    models = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return models[0] if models else "unknown"


def memory_gib() -> float | None:
    try:
        lines = Path("/proc/meminfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024**2
    return None


def os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()


def tool_version(*cmd: str) -> str | None:
    """The first line ``cmd`` prints (for ``node --version`` and the like), or None."""
    if shutil.which(cmd[0]) is None:
        return None
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else None


def describe(python: str) -> dict[str, object]:
    """The machine as stored next to results: ``python`` is the interpreter's version."""
    memory = memory_gib()
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(memory, 1) if memory is not None else None,
        "cpu": cpu_model(),
        "os": os_name(),
        "python": python,
        "node": tool_version("node", "--version"),
    }


def summary(info: dict[str, object]) -> str:
    """One line for a report, from ``describe``'s result."""
    parts = [
        f"{info['nproc']} cores",
        f"{info['memory_gib']} GiB RAM",
        str(info["cpu"]),
        str(info["os"]),
        f"Python {info['python']}",
    ]
    if info.get("node"):
        parts.append(f"Node {str(info['node']).lstrip('v')}")
    return ", ".join(parts)
