"""GraphQL Inspector 8.0.0's verdicts on 5 upstream and 56 authored SDL pairs: the worst
criticality of each pair, in the default mode (``auto``). Target: at least 97% agreement.

Also reported, for information: per change, whether a Tessera finding of a rule whose
``peers.graphql-inspector`` names the change type sits at the same path with the same
criticality."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tessera_engine import DiffOptions, DiffResult, TesseraError, diff
from tessera_engine.catalog import load_catalog

from .deviations import deviations
from .report import Score

TARGET = 0.97
CORPUS = "graphql-inspector"
SUPPRESS = "suppressRemovalOfDeprecatedField"

METHOD = """\
- **GraphQL Inspector** (61 SDL pairs: the 5 plain pairs its repository publishes and 56
  pairs written by Tessera research, each with Inspector 8.0.0's change list): each pair is
  diffed as GraphQL in the default mode (`auto`), and Tessera's worst severity is compared
  with Inspector's worst criticality (BREAKING = breaking, DANGEROUS = dangerous,
  NON_BREAKING = safe, annotation or no finding). Upstream pairs that Inspector also ran
  with `--rule suppressRemovalOfDeprecatedField` are scored on their default run only:
  Tessera has no such rule (removing a field is breaking, deprecated or not); the one
  authored pair that exists only to test that rule is a documented deviation. Per-change
  agreement (Inspector change type mapped to Tessera rules through each rule's
  `peers.graphql-inspector`, same path, same criticality) is reported for information."""

_RANK = {"NON_BREAKING": 0, "DANGEROUS": 1, "BREAKING": 2}
_SEVERITY = {"annotation": "NON_BREAKING", "safe": "NON_BREAKING", "dangerous": "DANGEROUS"}
_SEVERITY["breaking"] = "BREAKING"
_ARGUMENT = re.compile(r"\((\w+):\)")


def run(root: Path) -> list[Score]:
    folder = root / "graphql-inspector"
    verdicts = Score("GraphQL Inspector (worst criticality, auto)", TARGET)
    changes = Score("GraphQL Inspector (per change, for information)", 0.0)
    peers = _peers()
    for part in ("upstream", "authored"):
        for pair in sorted(p for p in (folder / part).iterdir() if p.is_dir()):
            expected = json.loads((pair / "expected.json").read_text(encoding="utf-8"))
            run_ = _default_run(expected)
            case_id = f"{part}/{pair.name}"
            try:
                result = diff(
                    str(pair / "old.graphql"), str(pair / "new.graphql"), DiffOptions("graphql")
                )
            except TesseraError as err:
                verdicts.count(case_id, False, f"{case_id}: error {err}", deviations(CORPUS))
                continue
            worst = _worst(result)
            detail = f"{case_id}: Inspector {run_['verdict']}, Tessera {worst} ({_summary(result)})"
            verdicts.count(case_id, worst == run_["verdict"], detail, deviations(CORPUS))
            for index, change in enumerate(run_["changes"]):
                hit, why = _matches(change, result, peers)
                changes.count(f"{case_id}#{index}", hit, f"{case_id}: {why}", {})
    return [verdicts, changes]


def _default_run(expected: dict[str, Any]) -> dict[str, Any]:
    """The run with Inspector's default rules, or the pair's only run."""
    for run_ in expected.get("runs", []):
        if not run_.get("rules"):
            return dict(run_)
    return expected


def _worst(result: DiffResult) -> str:
    found = [_SEVERITY[f.severity.value] for f in result.findings]
    return max(found, key=_RANK.__getitem__, default="NON_BREAKING")


def _summary(result: DiffResult) -> str:
    return ", ".join(f"{f.rule} {f.severity.value} {f.path}" for f in result.findings) or "none"


def _peers() -> dict[str, set[str]]:
    """Inspector change type -> the Tessera rules that report it."""
    found: dict[str, set[str]] = {}
    for rule in load_catalog():
        for name in rule.peers.get("graphql-inspector", ()):
            found.setdefault(name, set()).add(rule.id)
    return found


def _matches(
    change: dict[str, Any], result: DiffResult, peers: dict[str, set[str]]
) -> tuple[bool, str]:
    rules = peers.get(change["type"], set())
    path = str(change["path"]).split(".@")[0]
    for finding in result.findings:
        ours = _ARGUMENT.sub(r".\1", finding.path).replace("[]", "").split(".@")[0]
        if path.startswith("@"):  # Inspector names directive arguments by their directive
            ours = ours.split(".")[0]
        if finding.rule in rules and (ours == path or change["path"] is None):
            same = _SEVERITY[finding.severity.value] == change["criticality"]
            return same, (
                f"{change['type']} {change['criticality']} at {change['path']}: "
                f"{finding.rule} {finding.severity.value}"
            )
    return change["criticality"] == "NON_BREAKING", (
        f"{change['type']} {change['criticality']} at {change['path']}: no matching finding"
    )
