"""Timing helper for ``timing.measure``: spawn a command, reap it, report its wall time and
peak RSS.

It runs as its own small process because Linux counts the RSS of the spawning process, as
it was when the child started, in the child's ``ru_maxrss``; for the same reason it imports as
little as it can (it stays near 10 MiB, like peers.sh's helper). Usage::

    python -I spawn.py '{"cmd": [...], "runs": 5, "warmup": 1, "ok": [0, 1],
                         "timeout": 600, "out": PATH, "err": PATH}'

prints ``{"walls": [...], "peak_kib": N, "returncode": N, "timed_out": BOOL}``.
"""

import contextlib
import json
import os
import signal
import sys
import time
from typing import Any

NOT_STARTED = 127  # the shell's code for a command that could not be run


def main(job: dict[str, Any]) -> dict[str, Any]:
    walls: list[float] = []
    peak = code = 0
    timed_out = False
    for index in range(job["warmup"] + job["runs"]):
        wall, rss, code, timed_out = run_once(job["cmd"], job["out"], job["err"], job["timeout"])
        peak = max(peak, rss)
        failed = timed_out or code not in job["ok"]
        if index >= job["warmup"] or failed:
            walls.append(wall)
        if failed:
            break
    return {"walls": walls, "peak_kib": peak, "returncode": code, "timed_out": timed_out}


def run_once(cmd: list[str], out: str, err: str, timeout: float) -> tuple[float, int, int, bool]:
    """One run in its own session, stdout to ``out`` and stderr to ``err``: (wall seconds, peak
    RSS KiB, exit code, timed out). After ``timeout`` seconds its process group is killed."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    out_fd, err_fd = os.open(out, flags, 0o644), os.open(err, flags, 0o644)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    actions = [(os.POSIX_SPAWN_DUP2, null_fd, 0), (os.POSIX_SPAWN_DUP2, out_fd, 1),
               (os.POSIX_SPAWN_DUP2, err_fd, 2)]  # fmt: skip
    killed: list[bool] = []
    try:
        start = time.perf_counter()
        pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=actions, setsid=True)
    except OSError as error:
        os.write(err_fd, f"cannot run {cmd[0]}: {error}\n".encode())
        return 0.0, 0, NOT_STARTED, False
    finally:
        for fd in (out_fd, err_fd, null_fd):
            os.close(fd)
    signal.signal(signal.SIGALRM, lambda *_: _kill_group(pid, killed))
    signal.setitimer(signal.ITIMER_REAL, timeout)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    signal.setitimer(signal.ITIMER_REAL, 0)
    return wall, usage.ru_maxrss, os.waitstatus_to_exitcode(status), bool(killed)


def _kill_group(pid: int, killed: list[bool]) -> None:
    killed.append(True)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
