"""The fixed-seed pass of every fuzz target (``fuzz/``): each target's seeds from the
repository, then a fixed number of inputs made by its mutators from a fixed seed
(``--replay``: no libFuzzer, no coverage instrumentation, so each starts in a fraction of a
second). Every input must either go through or be refused with an ``InputError`` or a
``UsageError``; anything else is a finding and fails the test with the report's path.
``make fuzz`` runs the same targets under libFuzzer, guided by coverage, for longer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FUZZ = REPO / "fuzz"
SEEDS_PER_TARGET = 8
RUNS = {
    "documents": 200,
    "openapi": 150,
    "swagger": 150,
    "jsonschema": 150,
    "graphql_sdl": 200,
    "graphql_introspection": 60,
    "avro": 150,
    "dbt": 150,
    "registry": 40,
    "protobuf_descriptors": 200,
    "protobuf_text": 12,  # a protoc process per version: about 0.2 s an input
}
"""Inputs per target (seeds included), sized so that each target takes a second or two."""
BACKSTOP = 300  # seconds: only a hang gets near it
MEMORY_MB = 4096  # address space per target: an input that allocates more is a finding


def _run(args: list[str], out: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TESSERA_FUZZ_OUT": str(out),
        "TESSERA_FUZZ_MEMORY_MB": str(MEMORY_MB),
        "PYTHONHASHSEED": "0",
    }
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=BACKSTOP,
        check=False,
    )


def test_every_target_is_run() -> None:
    targets = {p.stem.removeprefix("fuzz_") for p in FUZZ.glob("fuzz_*.py")}
    assert set(RUNS) == targets


@pytest.mark.parametrize("target", sorted(RUNS))
def test_fixed_seed_pass(target: str, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    built = _run(
        [
            str(FUZZ / "seeds.py"),
            f"--out={seeds}",
            f"--quick={SEEDS_PER_TARGET}",
            f"--targets={target}",
            f"--shared={tmp_path / 'no-shared'}",
        ],
        tmp_path,
    )
    assert built.returncode == 0, built.stderr
    assert any((seeds / target).iterdir()), f"no seeds for {target}"
    ran = _run(
        [
            str(FUZZ / f"fuzz_{target}.py"),
            "--replay",
            str(seeds / target),
            f"--runs={RUNS[target]}",
            "--seed=1",
        ],
        tmp_path,
    )
    reports = sorted((tmp_path / "findings" / target).glob("*/report.txt"))
    details = "\n\n".join(r.read_text(encoding="utf-8")[-3000:] for r in reports)
    assert ran.returncode == 0, f"{ran.stdout}\n{ran.stderr[-3000:]}\n{details}"
    assert f"{target}: {RUNS[target]} inputs" in ran.stdout, ran.stdout
