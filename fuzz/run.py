"""Run every fuzz target for a given time and print what was found (``make fuzz``).

    .venv/bin/python fuzz/run.py [--seconds 60] [--jobs 2] [--targets openapi,avro]
                                 [--shared ../shared] [--out .fuzz]

Builds the seed corpora (``seeds.py``), then runs each target under libFuzzer, ``--jobs`` at a
time, for ``--seconds`` each. Everything goes under ``--out`` (``.fuzz/``, ignored by git):

    seeds/<target>/     the seeds, rebuilt on every run
    corpus/<target>/    the inputs libFuzzer kept for new coverage (kept between runs)
    findings/<target>/  one input and report per finding (``harness.py``)
    unconfirmed/        findings only the instrumented code shows (``harness._confirm``)
    crashes/<target>/   libFuzzer's artifacts: timeout-*, oom-*, crash-* (a hard crash);
                        slow-unit-* (over 10 s of wall time) are listed apart
    slow/, memory/      per-input outliers (``harness.py``)
    logs/<target>.log   libFuzzer's output
    summary.json        the table printed at the end

A target that libFuzzer stops (a hang over ``--timeout`` seconds, over ``--rss-limit-mb``, a
segfault) or that dies without a word (the kernel's OOM killer) is started again on its
corpus until its time is up. Exit status 1 when this run
found something new, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from seeds import TARGETS, build

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MAX_LEN = 256 * 1024
_RUNS = re.compile(r"stat::number_of_executed_units:\s*(\d+)")
_ARTIFACT = re.compile(r"(?:Test unit|artifact) written to (\S+)", re.IGNORECASE)


@dataclass
class Outcome:
    target: str
    inputs: int = 0
    starts: int = 0
    corpus: int = 0
    findings: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    slow_units: list[str] = field(default_factory=list)  # over 10 s of wall time (a busy machine?)
    unconfirmed: list[str] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    slowest_ms: float = 0.0
    largest_rss_growth_mb: float = 0.0


def run_target(target: str, args: argparse.Namespace) -> Outcome:
    out: Path = args.out
    corpus = out / "corpus" / target
    crashes = out / "crashes" / target
    for folder in (corpus, crashes, out / "logs"):
        folder.mkdir(parents=True, exist_ok=True)
    findings_before = _listing(out / "findings" / target)
    unconfirmed_before = _listing(out / "unconfirmed" / target)
    crashes_before = _listing(crashes)
    outcome = Outcome(target)
    deadline = time.monotonic() + args.seconds
    log = (out / "logs" / f"{target}.log").open("w", encoding="utf-8")
    env = {
        **os.environ,
        "TESSERA_FUZZ_OUT": str(out),
        "TESSERA_FUZZ_MEMORY_MB": str(args.memory_mb),
        "PYTHONHASHSEED": "0",
    }
    with log:
        while (remaining := int(deadline - time.monotonic())) >= 5:
            command = [
                sys.executable,
                str(HERE / f"fuzz_{target}.py"),
                str(corpus),
                str(out / "seeds" / target),
                f"-max_total_time={remaining}",
                f"-max_len={MAX_LEN}",
                f"-timeout={args.timeout}",
                f"-rss_limit_mb={args.rss_limit_mb}",
                f"-artifact_prefix={crashes}/",
                f"-seed={args.seed + outcome.starts}",
                "-print_final_stats=1",
            ]
            outcome.starts += 1
            started = time.monotonic()
            process = subprocess.run(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False
            )
            text = process.stdout.decode("utf-8", "replace")
            log.write(f"{text}\n[run.py] exit status {process.returncode}\n")
            log.flush()
            outcome.inputs += sum(int(n) for n in _RUNS.findall(text))
            if process.returncode == 0:
                break  # time is up
            if not _ARTIFACT.search(text):
                # killed without a word (the kernel's OOM killer sends SIGKILL), or failed
                outcome.crashes.append(f"exit status {process.returncode} (see the log)")
                if time.monotonic() - started < 10:
                    break  # it cannot start: the log says why
    outcome.corpus = len(_listing(corpus))
    outcome.findings = sorted(_listing(out / "findings" / target) - findings_before)
    outcome.unconfirmed = sorted(_listing(out / "unconfirmed" / target) - unconfirmed_before)
    artifacts = sorted(_listing(crashes) - crashes_before)
    outcome.crashes += [a for a in artifacts if not a.startswith("slow-unit-")]
    outcome.slow_units = [a for a in artifacts if a.startswith("slow-unit-")]
    stats_file = out / "stats" / f"{target}.json"
    if stats_file.is_file():
        stats = json.loads(stats_file.read_text(encoding="utf-8"))
        outcome.outcomes = stats.get("outcomes", {})
        outcome.slowest_ms = stats.get("slowest_ms", 0.0)
        outcome.largest_rss_growth_mb = stats.get("largest_rss_growth_mb", 0.0)
    return outcome


def _listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="per target (default 60)")
    parser.add_argument("--jobs", type=int, default=2, help="targets at a time (default 2)")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--out", type=Path, default=REPO / ".fuzz")
    parser.add_argument("--timeout", type=int, default=30, help="seconds one input may take")
    parser.add_argument("--rss-limit-mb", type=int, default=4096, help="libFuzzer's, per target")
    parser.add_argument(
        "--memory-mb", type=int, default=8192, help="address space per target (MemoryError)"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    targets = [t for t in args.targets.split(",") if t]
    unknown = sorted(set(targets) - set(TARGETS))
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)} (choose from {', '.join(TARGETS)})")
    args.out = args.out.resolve()
    shared = args.shared if args.shared.is_dir() else None
    counts = build(args.out / "seeds", shared, targets=tuple(targets))
    print(f"seeds from the repository{' and ' + str(shared) if shared else ''}: ", end="")
    print(", ".join(f"{t} {counts[t]}" for t in targets))
    print(f"fuzzing {len(targets)} targets for {args.seconds} s each, {args.jobs} at a time")
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(pool.map(lambda t: run_target(t, args), targets))
    (args.out / "summary.json").write_text(
        json.dumps([asdict(o) for o in outcomes], indent=1) + "\n", encoding="utf-8"
    )
    print(f"\n{'target':<22} {'inputs':>9} {'corpus':>7} {'slowest':>9} {'rss+':>7}  new findings")
    for o in outcomes:
        found = [*o.findings, *o.crashes]
        print(
            f"{o.target:<22} {o.inputs:>9,} {o.corpus:>7} {o.slowest_ms:>7.0f}ms"
            f" {o.largest_rss_growth_mb:>5.0f}MB  {', '.join(found) or '-'}"
        )
    new = sum(len(o.findings) + len(o.crashes) for o in outcomes)
    print(f"\n{new} new finding(s); inputs and reports under {args.out}/findings and crashes")
    unconfirmed = sum(len(o.unconfirmed) for o in outcomes)
    if unconfirmed:
        print(f"{unconfirmed} not reproduced without instrumentation: {args.out}/unconfirmed")
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
