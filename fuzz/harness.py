"""What every fuzz target shares: the property it checks, where findings go, and the run.

The property: whatever bytes a target is given, the engine either succeeds or raises an
``InputError`` or ``UsageError`` (``tessera_engine.errors``), the errors the CLI turns into
exit 2 and the API into 422. Any other exception (``KeyError``, ``TypeError``,
``RecursionError``, an ``InternalError``, ...) is a finding. Findings are caught here rather than
handed to libFuzzer, so one run collects every distinct finding instead of stopping at the
first; each is written once per signature (exception type and the innermost engine frame):

    $TESSERA_FUZZ_OUT/findings/<target>/<signature>/input     the input, as the target read it
    $TESSERA_FUZZ_OUT/findings/<target>/<signature>/report.txt the exception and its traceback
    $TESSERA_FUZZ_OUT/unconfirmed/<target>/<signature>/        findings not reproduced without
                                                              coverage instrumentation
    $TESSERA_FUZZ_OUT/slow/<target>/<ms>ms-<hash>             inputs over TESSERA_FUZZ_SLOW_MS
                                                              of CPU time
    $TESSERA_FUZZ_OUT/memory/<target>/<mb>mb-<hash>           inputs that raised the peak RSS
                                                              by more than TESSERA_FUZZ_GROWTH_MB
    $TESSERA_FUZZ_OUT/stats/<target>.json                     inputs run, findings, outliers

Settings (environment): TESSERA_FUZZ_OUT (default ``.fuzz/``), TESSERA_FUZZ_SLOW_MS (1000),
TESSERA_FUZZ_GROWTH_MB (200), TESSERA_FUZZ_MEMORY_MB (address-space cap, none by default;
``run.py`` sets 8192, the CI pass 4096).

Hangs, out-of-memory and hard crashes (a segfault) are libFuzzer's to catch (``-timeout``,
``-rss_limit_mb``): it writes the input under ``-artifact_prefix`` and stops; ``run.py``
starts the target again with the corpus it has built.

Two ways to run a target:

    fuzz_openapi.py CORPUS SEEDS -max_total_time=60 ...   libFuzzer, guided by coverage
    fuzz_openapi.py --replay SEEDS --runs 300 --seed 1     the fixed-seed pass (``replay``)

libFuzzer is guided by the engine's bytecode, instrumented by atheris as it is imported, which
costs two to three seconds per target at start-up (and libFuzzer keeps only the inputs that
add coverage, seeds included, so it cannot run uninstrumented). The replay runs the same
test and mutators without libFuzzer or instrumentation: it starts in a fraction of a second,
which is what CI needs.
"""

from __future__ import annotations

import argparse
import faulthandler
import hashlib
import importlib
import json
import os
import pkgutil
import random
import resource
import subprocess
import sys
import tempfile
import time
import traceback
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import atheris

HERE = str(Path(__file__).resolve().parent)
REPO = Path(__file__).resolve().parent.parent
OUT = Path(os.environ.get("TESSERA_FUZZ_OUT") or REPO / ".fuzz")
SLOW_MS = float(os.environ.get("TESSERA_FUZZ_SLOW_MS") or 1000)
GROWTH_MB = float(os.environ.get("TESSERA_FUZZ_GROWTH_MB") or 200)
CORE = (
    "tessera_engine.engine",
    "tessera_engine.errors",
    "tessera_engine.limits",
    "tessera_engine.model",
    "tessera_engine.documents",
    "tessera_engine.diff",
    "tessera_engine.checks",
    "tessera_engine.catalog",
    "tessera_engine.fingerprint",
    "tessera_engine.modes",
    "tessera_engine.semver",
    "tessera_engine.render",
    "tessera_engine.formats.native",
)
"""The modules every diff goes through (instrumented for every target)."""

UNINSTRUMENTED = ("tessera_engine.formats.graphql_positions",)
"""Modules atheris 2.3.0 instruments wrongly (see ``_confirm``): left as they are, so the
fuzzed code behaves as it does in production."""

PAIR_SEPARATOR = b"\n\x00\x00tessera-fuzz:new\x00\x00\n"
"""Between the old and the new version in a pair target's input. An input without it is
compared with itself."""


class _Run:
    """How this process fuzzes: with coverage (libFuzzer) or replaying with a seeded RNG."""

    coverage = True
    replay_rng: random.Random | None = None


class Rejected(Exception):
    """The input is one the engine never sees (a descriptor set protoc would not write)."""


def split_pair(data: bytes) -> tuple[bytes, bytes]:
    """The old and the new version held in one input."""
    old, separator, new = data.partition(PAIR_SEPARATOR)
    return (old, new) if separator else (data, data)


def join_pair(old: bytes, new: bytes) -> bytes:
    return old + PAIR_SEPARATOR + new


def choice(data: bytes, options: tuple[Any, ...]) -> Any:
    """One of ``options``, picked by the input's checksum (the same input, the same pick)."""
    return options[zlib.crc32(data) % len(options)]


class MemorySource:
    """Files held in memory (the engine's ``Source``): a target reads nothing from disk, so
    a ``$ref`` to ``/etc/passwd`` is simply a missing file. A path that is a prefix of other
    paths is a directory."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.blobs = files

    def read(self, path: str) -> bytes:
        path = os.path.normpath(path)
        if path not in self.blobs:
            if self.files(path, ("",)):
                raise IsADirectoryError(path)
            raise FileNotFoundError(path)
        return self.blobs[path]

    def size(self, path: str) -> int | None:
        blob = self.blobs.get(os.path.normpath(path))
        return None if blob is None else len(blob)

    def display(self, path: str) -> str:
        return path

    def files(self, path: str, suffixes: tuple[str, ...]) -> list[str] | None:
        prefix = os.path.normpath(path).rstrip("/") + "/"
        inside = [name for name in self.blobs if name.startswith(prefix)]
        if not inside:
            return None
        return sorted(name for name in inside if name.endswith(suffixes))


def instrument(prefixes: Iterable[str]) -> None:
    """Import the engine's modules under ``prefixes`` (and the core), instrumented for
    coverage unless replaying. The engine imports many modules lazily; only modules imported
    here are instrumented."""
    wanted = (*CORE, *prefixes)

    def load() -> None:
        import tessera_engine

        for module in pkgutil.walk_packages(tessera_engine.__path__, "tessera_engine."):
            if module.name.startswith(wanted) and not module.name.endswith("__main__"):
                importlib.import_module(module.name)

    if _Run.coverage:
        with atheris.instrument_imports(include=["tessera_engine"], exclude=list(UNINSTRUMENTED)):
            load()
    else:
        load()


class Recorder:
    """Counts inputs, keeps one input per finding signature and the outliers (see the
    module docstring)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.runs = 0
        self.outcomes: dict[str, int] = {}
        self.signatures: set[str] = set()
        self.slowest_ms = 0.0
        self.peak_growth_mb = 0.0
        self.started = time.monotonic()
        self._saved_at = 0.0
        # libFuzzer ends the process without returning to Python: save at every input once
        # the end is near (the last of -runs, the last seconds of -max_total_time).
        self._last_run = _flag("-runs")
        total_time = _flag("-max_total_time")
        self._ending_at = self.started + total_time - 3 if total_time else None
        self._peak_rss_mb = _rss_mb()
        findings = OUT / "findings" / target
        self.signatures = {p.name for p in findings.iterdir()} if findings.is_dir() else set()

    def finding(self, data: bytes, error: BaseException) -> None:
        signature, summary = _signature(error)
        if signature in self.signatures:
            return
        self.signatures.add(signature)
        report = f"{summary}\n\n{''.join(traceback.format_exception(error))}"
        kind = "findings"
        if _Run.coverage:
            confirmed = _confirm(data)
            if confirmed is None:
                kind = "unconfirmed"
                report += f"\n{UNCONFIRMED}\n"
            else:
                report = confirmed
        folder = OUT / kind / self.target / signature
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "input").write_bytes(data)
        (folder / "report.txt").write_text(report, encoding="utf-8")
        label = "FINDING" if kind == "findings" else "UNCONFIRMED"
        print(f"{label} {self.target} {signature}: {summary}", file=sys.stderr, flush=True)
        self.save(force=True)

    def measured(self, data: bytes, elapsed_ms: float, outcome: str, rss_before_mb: float) -> None:
        """Count one input: its CPU time, and how far it raised the process's peak RSS (a
        high-water mark, read just before the input ran: the mutator's own peaks are not
        the input's)."""
        self.runs += 1
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if elapsed_ms > SLOW_MS and elapsed_ms > self.slowest_ms * 0.9:
            self._keep("slow", f"{elapsed_ms:.0f}ms", data)
        self.slowest_ms = max(self.slowest_ms, elapsed_ms)
        rss = _rss_mb()
        growth = rss - rss_before_mb
        if growth > GROWTH_MB:
            self._keep("memory", f"{growth:.0f}mb", data)
        self.peak_growth_mb = max(self.peak_growth_mb, growth)
        self._peak_rss_mb = rss
        self.save()

    def save(self, *, force: bool = False) -> None:
        now = time.monotonic()
        ending = (self._last_run is not None and self.runs >= self._last_run) or (
            self._ending_at is not None and now >= self._ending_at
        )
        if not force and not ending and now - self._saved_at < 2.0:
            return
        self._saved_at = now
        stats = {
            "target": self.target,
            "runs": self.runs,
            "seconds": round(now - self.started, 1),
            "outcomes": dict(sorted(self.outcomes.items())),
            "findings": sorted(self.signatures),
            "slowest_ms": round(self.slowest_ms, 1),
            "peak_rss_mb": round(self._peak_rss_mb),
            "largest_rss_growth_mb": round(self.peak_growth_mb),
        }
        path = OUT / "stats" / f"{self.target}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")

    def _keep(self, kind: str, label: str, data: bytes) -> None:
        folder = OUT / kind / self.target
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha1(data).hexdigest()[:12]
        (folder / f"{label}-{digest}").write_bytes(data)


UNCONFIRMED = (
    "Not reproduced without coverage instrumentation (--replay): an artefact of atheris' "
    "bytecode rewriting, not of the engine."
)


def _confirm(data: bytes) -> str | None:
    """The uninstrumented report of ``data`` (this target run with ``--replay``), or None
    when it does not fail there. atheris 2.3.0 rewrites bytecode for coverage and has been
    seen to get it wrong on Python 3.11 (a tuple assignment in a loop read a ``bool`` where
    a ``str`` was), so every finding is run again without it."""
    with tempfile.TemporaryDirectory(prefix="tessera-fuzz-confirm-") as work:
        given = Path(work) / "input"
        given.write_bytes(data)
        env = {**os.environ, "TESSERA_FUZZ_OUT": work}
        command = [sys.executable, sys.argv[0], "--replay", str(given), "--runs=1"]
        subprocess.run(command, env=env, capture_output=True, timeout=600, check=False)
        reports = sorted(Path(work).glob("findings/*/*/report.txt"))
        return reports[0].read_text(encoding="utf-8") if reports else None


def _limit_memory() -> None:
    """Cap this process's address space at TESSERA_FUZZ_MEMORY_MB, if set: an input that
    allocates gigabytes at once then raises ``MemoryError`` (a finding, with its input)
    before the kernel's OOM killer ends the process without a word, or another one."""
    megabytes = int(os.environ.get("TESSERA_FUZZ_MEMORY_MB") or 0)
    if megabytes > 0:
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _flag(name: str) -> int | None:
    """The value of libFuzzer's ``-name=N`` on the command line (positive), if given."""
    for argument in sys.argv[1:]:
        key, _, value = argument.partition("=")
        if key == name and value.isdigit() and int(value) > 0:
            return int(value)
    return None


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _signature(error: BaseException) -> tuple[str, str]:
    """A short stable name for a finding: the exception type and the innermost frame in the
    engine (or in a target: a bug of the harness), hashed; with a one-line summary."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "tessera_engine" in f.filename or f.filename.startswith(HERE)]
    frame = (ours or frames or [None])[-1]
    where = "?"
    if frame is not None:
        path = frame.filename
        if "tessera_engine" in path:
            path = "tessera_engine" + path.split("tessera_engine", 1)[1]
        where = f"{path}:{frame.lineno}"
    kind = type(error).__name__
    digest = hashlib.sha1(f"{kind} {where}".encode()).hexdigest()[:10]
    message = str(error).replace("\n", " ")[:200]
    return f"{kind}-{digest}", f"{kind} at {where}: {message}"


def fuzz(
    target: str,
    test: Callable[[bytes], object],
    *,
    mutator: Callable[[bytes, int, int], bytes] | None = None,
    modules: Iterable[str] = (),
    ready: Callable[[], None] | None = None,
) -> None:
    """Run ``test`` under atheris with libFuzzer's arguments from the command line, or
    replay (``--replay``, see ``replay``). ``test`` may succeed, raise an allowed error, or
    raise ``Rejected``; anything else is recorded as a finding and fuzzing goes on.
    ``ready`` runs once the engine is imported."""
    replaying = "--replay" in sys.argv
    _limit_memory()
    faulthandler.enable()  # a segfault (a C stack overflow) shows the Python stack in the log
    _Run.coverage = _Run.coverage and not replaying
    instrument(modules)
    if ready is not None:
        ready()
    from tessera_engine.errors import InputError, UsageError

    allowed = (InputError, UsageError, Rejected)
    recorder = Recorder(target)
    limit = sys.getrecursionlimit()

    def one_input(data: bytes) -> str:
        rss_before = _rss_mb()
        started = time.process_time()  # CPU time: wall time says more about the machine
        outcome = "ok"
        try:
            test(data)
        except allowed as error:
            outcome = type(error).__name__
        except Exception as error:
            outcome = "finding"
            recorder.finding(data, error)
        finally:
            sys.setrecursionlimit(limit)  # a target must not leak a raised limit
            elapsed_ms = (time.process_time() - started) * 1000
            recorder.measured(data, elapsed_ms, outcome, rss_before)
        return outcome

    if replaying:
        sys.exit(replay(target, one_input, mutator, recorder))
    if mutator is None:
        atheris.Setup(sys.argv, one_input)
    else:
        atheris.Setup(sys.argv, one_input, custom_mutator=mutator)
    try:
        atheris.Fuzz()
    finally:
        recorder.save(force=True)


def replay(
    target: str,
    one_input: Callable[[bytes], str],
    mutator: Callable[[bytes, int, int], bytes] | None,
    recorder: Recorder,
) -> int:
    """The fixed-seed pass (no libFuzzer, no coverage, so it starts in a fraction of a
    second): every seed, then ``--runs`` inputs in all, each made by the target's mutator
    from a seed or from an earlier input that went through without an error, with byte
    mutations in Python. The same ``--seed`` gives the same inputs. Exit status 1 when
    there is a finding.

        fuzz_openapi.py --replay SEEDS_DIR_OR_FILE... [--runs N] [--seed N] [--max-len N]
    """
    parser = argparse.ArgumentParser(prog=f"fuzz_{target}.py --replay")
    parser.add_argument("--replay", action="store_true")
    parser.add_argument("inputs", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-len", type=int, default=256 * 1024)
    args = parser.parse_args()
    rng = _Run.replay_rng = random.Random(args.seed)
    seeds = [
        p.read_bytes()
        for given in args.inputs
        for p in (sorted(given.iterdir()) if given.is_dir() else [given])
        if p.is_file()
    ]
    found_before = set(recorder.signatures)
    pool = list(seeds) or [b""]
    runs = 0
    for seed in seeds:
        one_input(seed)
        runs += 1
    while runs < args.runs and mutator is not None:
        data = mutator(rng.choice(pool), args.max_len, rng.randrange(2**32))
        small = len(data) <= 64 * 1024
        if one_input(data) == "ok" and small and len(pool) < 4 * len(seeds) + 100:
            pool.append(data)
        runs += 1
    recorder.save(force=True)
    new = sorted(recorder.signatures - found_before)
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(recorder.outcomes.items()))
    print(f"{target}: {runs} inputs ({len(seeds)} seeds; {outcomes}); findings: {len(new)}")
    for signature in new:
        print(f"  {OUT / 'findings' / target / signature}")
    return 1 if new else 0


def byte_mutate(data: bytes, max_size: int) -> bytes:
    """libFuzzer's byte mutations while fuzzing; a few random ones when replaying."""
    rng = _Run.replay_rng
    if rng is None:
        return bytes(atheris.Mutate(data, max_size))
    out = bytearray(data)
    for _ in range(rng.choice((1, 2, 4))):
        position = rng.randrange(len(out) + 1)
        kind = rng.randrange(4)
        if kind == 0 and out:
            del out[position : position + rng.randrange(1, 9)]
        elif kind == 1:
            out[position:position] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5)))
        elif kind == 2 and out:
            out[min(position, len(out) - 1)] = rng.randrange(256)
        elif out:
            start = rng.randrange(len(out))
            out[position:position] = out[start : start + rng.randrange(1, 65)]
    return bytes(out[:max_size])
