"""oasdiff's OpenAPI pairs.

- Cases where oasdiff's tests expect an ERR-level rule must be breaking for Tessera
  (target: at least 95%).
- Cases where they expect only INFO-level rules, or nothing at WARN and above, must not be
  (target: fewer than 5% breaking).

A test that runs a single oasdiff check only says what that check reports; its fixture may hold
other changes. Such cases are judged on the Tessera findings that report the same kind of
change (``oasdiff_map``). Tests that diff a file against itself are left out: they mutate the
spec in Go code, which the extracted manifest cannot reproduce.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from tessera_engine import DiffOptions, Finding, Mode, Position, Severity, TesseraError, diff
from tessera_engine.catalog import load_catalog
from tessera_engine.modes import severity

from .deviations import deviations
from .oasdiff_map import matches
from .report import Score

ERR_TARGET = 0.95
INFO_TARGET = 0.05


def run(root: Path) -> list[Score]:
    folder = root / "oasdiff"
    cases = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["cases"]
    coverage = _check_coverage(cases)
    errors = Score("oasdiff ERR cases reported breaking", ERR_TARGET)
    infos = Score("oasdiff INFO-only cases reported breaking", INFO_TARGET, at_most=True)
    documented = deviations("oasdiff")
    for case in cases:
        kind = classify(case)
        if kind is None or case["base"] == case["revision"]:
            continue
        try:
            result = diff(str(folder / case["base"]), str(folder / case["revision"]), DiffOptions())
            findings: list[Finding] = list(result.findings)
        except TesseraError as err:
            findings, failure = [], str(err)
        else:
            failure = ""
        if case["checks"] == "all":
            breaking = sorted({f.rule for f in findings if f.severity is Severity.BREAKING})
        else:
            ids = _judged_ids(case, kind, coverage)
            side = _direction(case["checks"])
            breaking = sorted(
                {
                    f.rule
                    for f in findings
                    if matches(f.rule, dict(f.args), ids) and _breaking_at(f, side)
                }
            )
        expected = ", ".join(case["expected_ids"]) or f"nothing at {case['min_level']}"
        label = f"{case['id']} [{case['checks']}] ({expected})"
        score = errors if kind == "err" else infos
        detail = f"{label}: " + (f"breaking {breaking}" if breaking else f"not breaking {failure}")
        score.count(case["id"], bool(breaking), detail, documented)
    return [errors, infos]


def _judged_ids(case: dict[str, Any], kind: str, coverage: dict[str, set[str]]) -> set[str]:
    """The oasdiff ids a single-check case speaks for: its ERR ids for an ERR case; for an
    INFO case its expected ids, or everything the check covers when the test pins the count
    to zero (the check reports nothing at all)."""
    if kind == "err":
        return {i for i, level in case["expected_levels"].items() if level == "ERR"}
    if case["expected_ids"]:
        return set(case["expected_ids"])
    return coverage[case["checks"]]


def _direction(check: str) -> Position | None:
    """The side an oasdiff check looks at: ``Request...`` checks see inputs, ``Response...``
    checks outputs; others (``API...``) everything."""
    if check.startswith("Request"):
        return Position.INPUT
    if check.startswith("Response"):
        return Position.OUTPUT
    return None


def _breaking_at(finding: Finding, side: Position | None) -> bool:
    """Whether a finding is breaking on ``side``. A change in a schema shared by requests and
    responses (position both) is judged on that side alone."""
    if side is None or finding.position is Position.NONE:
        return finding.severity is Severity.BREAKING
    if finding.position not in (side, Position.BOTH):
        return False
    if finding.position is side:
        return finding.severity is Severity.BREAKING
    rule = load_catalog()[finding.rule]
    return severity(rule, finding.effect, side, Mode.AUTO) is Severity.BREAKING


def _check_coverage(cases: list[dict[str, Any]]) -> dict[str, set[str]]:
    """The oasdiff ids each single check is seen to report or rule out in the manifest."""
    coverage: dict[str, set[str]] = defaultdict(set)
    for case in cases:
        coverage[case["checks"]].update(case["expected_ids"], case["expected_absent_ids"])
    return coverage


def classify(case: dict[str, Any]) -> str | None:
    """``err`` when oasdiff expects an ERR-level rule, ``info`` when it expects only
    INFO-level ones or nothing at WARN and above, None otherwise."""
    levels = set(case["expected_levels"].values())
    if "ERR" in levels:
        return "err"
    if levels == {"INFO"}:
        return "info"
    if not levels and case["expected_count"] == 0 and case["min_level"] in ("WARN", "INFO"):
        return "info"
    return None
