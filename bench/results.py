"""What one benchmark run measured, as plain values for the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaling import SpecPair
from timing import Timing

SEVERITIES = ("breaking", "dangerous", "safe", "annotation")
BREAKDOWN_PAIR = "github-rest"
"""The pair measured in-process and cut into prefixes for the scaling series."""


@dataclass(frozen=True)
class Pair:
    """One corpus pair, named as in shared/tools/peers.sh so peer rows line up."""

    name: str
    old: Path
    new: Path

    @property
    def syntax(self) -> str:
        return "yaml" if self.new.suffix.lower() in (".yaml", ".yml") else "json"


@dataclass(frozen=True)
class Floor:
    """A parse-only or start-up run: what ran, on what, and its timing."""

    label: str
    subject: str
    timing: Timing


@dataclass(frozen=True)
class PairResult:
    pair: Pair
    tessera: Timing
    findings: dict[str, int] | None
    floors: list[Floor]


@dataclass(frozen=True)
class ScaleResult:
    spec: SpecPair
    tessera: Timing
    findings: dict[str, int] | None

    @property
    def total_findings(self) -> int | None:
        return sum(self.findings.values()) if self.findings is not None else None


@dataclass
class Run:
    """Everything measured by one ``bench/run.py`` invocation."""

    date: str
    machine: dict[str, object]
    engine: str
    load_average: list[tuple[float, float, float]]
    """``os.getloadavg()`` at the start and at the end of the run."""
    runs: int
    pairs: list[PairResult] = field(default_factory=list)
    startup: list[Floor] = field(default_factory=list)
    pyyaml: bool = False
    breakdown: dict[str, float] | None = None
    breakdown_error: str | None = None
    prefixes: list[ScaleResult] = field(default_factory=list)
    synthetic: list[ScaleResult] = field(default_factory=list)
    peers: dict[str, Any] | None = None
    peers_rerun: bool = False
