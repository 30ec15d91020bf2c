"""Whole-process timing: wall time and peak RSS of a child process.

Measured the way ``shared/tools/peers.sh`` measures the peers, so the two sets of figures
compare: the wall time runs from just before the process is spawned until ``os.wait4`` reaps
it (interpreter start-up and output included), and the peak is the child's ``ru_maxrss``
from the same ``wait4`` call.

The child is spawned by a small helper process (``spawn.py``), not by the benchmark itself:
Linux counts the RSS the spawning process had when the child started in the child's
``ru_maxrss``, and the benchmark grows to 100+ MiB while it builds the scaling specs. The
helper, a fresh interpreter of about 10 MiB, sets the same floor peers.sh's helper does.
"""

from __future__ import annotations

import json
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SPAWN = Path(__file__).with_name("spawn.py")
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
    ok_codes: tuple[int, ...] = (0,)

    @property
    def succeeded(self) -> bool:
        """Whether the last run exited with an accepted code (and was not killed)."""
        return not self.timed_out and self.returncode in self.ok_codes

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
    with tempfile.TemporaryDirectory(prefix="tessera-bench-") as tmp:
        out, err = Path(tmp, "stdout"), Path(tmp, "stderr")
        job = {
            "cmd": list(cmd),
            "runs": runs,
            "warmup": warmup,
            "ok": list(ok_codes),
            "timeout": timeout,
            "out": str(out),
            "err": str(err),
        }
        helper = [sys.executable, "-I", str(SPAWN), json.dumps(job)]
        done = subprocess.run(helper, capture_output=True, text=True, check=True)
        result = json.loads(done.stdout)
        return Timing(
            walls=tuple(result["walls"]),
            peak_kib=result["peak_kib"],
            returncode=result["returncode"],
            stdout=out.read_text(encoding="utf-8", errors="replace"),
            stderr=err.read_text(encoding="utf-8", errors="replace"),
            timed_out=result["timed_out"],
            ok_codes=tuple(ok_codes),
        )
