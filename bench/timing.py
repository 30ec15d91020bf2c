"""Whole-process timing: wall time and peak RSS of a child process.

Measured the way ``shared/tools/peers.sh`` measures the peers, so the two sets of figures
compare: the wall time runs from just before the process is spawned until ``os.wait4`` reaps
it (interpreter start-up and output included), and the peak is the child's ``ru_maxrss``
from the same ``wait4`` call.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TIMEOUT = 600.0
"""Seconds before a single run is killed."""


@dataclass(frozen=True)
class Timing:
    """Wall times of the timed runs, the peak RSS over all runs, and the last run's result."""

    walls: tuple[float, ...]
    peak_kib: int
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def low(self) -> float:
        return min(self.walls)

    @property
    def high(self) -> float:
        return max(self.walls)

    @property
    def peak_bytes(self) -> int:
        return self.peak_kib * 1024

    def succeeded(self, ok_codes: Sequence[int] = (0,)) -> bool:
        return not self.timed_out and self.returncode in ok_codes

    def error(self) -> str:
        """A one-line reason for a failed run."""
        if self.timed_out:
            return f"killed after {self.high:.0f} s (timeout)"
        if self.returncode < 0:
            return f"killed by {signal.Signals(-self.returncode).name}"
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else f"exit {self.returncode}"


def measure(
    cmd: Sequence[str],
    runs: int,
    warmup: int = 1,
    ok_codes: Sequence[int] = (0,),
    timeout: float = DEFAULT_TIMEOUT,
) -> Timing:
    """Run ``cmd`` ``warmup`` times untimed, then ``runs`` times timed; stop at the first
    failure (an exit code outside ``ok_codes`` or a timeout) and report that run."""
    walls: list[float] = []
    peak = 0
    with tempfile.TemporaryDirectory(prefix="tessera-bench-") as tmp:
        out, err = Path(tmp, "stdout"), Path(tmp, "stderr")
        for index in range(warmup + runs):
            wall, rss, code, timed_out = _run_once(cmd, out, err, timeout)
            peak = max(peak, rss)
            failed = timed_out or code not in ok_codes
            if index >= warmup or failed:
                walls.append(wall)
            if failed:
                break
        return Timing(
            walls=tuple(walls),
            peak_kib=peak,
            returncode=code,
            stdout=out.read_text(encoding="utf-8", errors="replace"),
            stderr=err.read_text(encoding="utf-8", errors="replace"),
            timed_out=timed_out,
        )


def _run_once(
    cmd: Sequence[str], out: Path, err: Path, timeout: float
) -> tuple[float, int, int, bool]:
    """One run: (wall seconds, peak RSS KiB, exit code, timed out)."""
    killed = threading.Event()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        timer = threading.Timer(timeout, _kill_group, (proc.pid, killed))
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss, proc.returncode, killed.is_set()


def _kill_group(pid: int, killed: threading.Event) -> None:
    killed.set()
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
