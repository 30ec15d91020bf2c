"""buf's breaking-change test cases (``bufcheck/testdata/breaking``): every annotation buf's
own tests expect must be matched by a Tessera finding at the same file and line whose rule
names that buf rule among its ``peers.buf``. Target: at least 95% of the annotations; and no
false positives (a breaking finding of an enabled buf rule where buf expects nothing)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import yaml_rs

from tessera_engine import DiffOptions, TesseraError, diff, load_catalog
from tessera_engine.model import Finding, Severity

from .deviations import deviations
from .report import Score

TARGET = 0.95
LEVELS = ("file", "package", "wire_json", "wire")
# Rules buf renamed: the old names still work in configurations.
_ALIASES = {
    "FIELD_SAME_LABEL": (
        "FIELD_SAME_CARDINALITY",
        "FIELD_WIRE_COMPATIBLE_CARDINALITY",
        "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY",
    ),
    "FIELD_SAME_CTYPE": ("FIELD_SAME_CPP_STRING_TYPE",),
}
_UNSTABLE = re.compile(r"^v\d+(?:(?:alpha|beta)\d*|test\w*)$")
_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.MULTILINE)

METHOD = (
    "- **buf** (`buf.py`): the 58 previous/current module pairs of buf's own breaking-change "
    "tests. Each case's `buf.yaml` picks the rules; Tessera runs once per case at the "
    "`--proto-level` that holds them (a case enabling the FILE or PACKAGE category uses that "
    "level) and an expected annotation counts as matched when a finding at the same file and "
    "line (no line: the same file, or no location) has a rule whose `peers.buf` names the "
    "annotation's rule. `ignore` paths and `ignore_unstable_packages` are honoured. A second "
    "score counts false positives: breaking findings of an enabled buf rule where buf expects "
    "no annotation. Cases that need buf check plugins are skipped."
)


def run(root: Path) -> list[Score]:
    folder = root / "buf"
    rules = json.loads((folder / "rules.json").read_text(encoding="utf-8"))["rules"]
    matched = Score("buf breaking annotations (same file, line and rule)", TARGET)
    false_positives = Score("buf false positives (cases with one)", 1e-9, at_most=True)
    documented = deviations("buf")
    peers = {rule.id: set(rule.peers.get("buf", ())) for rule in load_catalog()}
    for case_dir in sorted(p for p in (folder / "cases").iterdir() if p.is_dir()):
        expected = json.loads((case_dir / "expected.json").read_text(encoding="utf-8"))
        if _skipped(expected):
            continue
        enabled = _enabled(expected, rules)
        level = _level(expected, enabled, rules)
        try:
            findings = _run(case_dir, level)
        except TesseraError as err:
            for index, _ in enumerate(expected["expected_annotations"]):
                matched.count(f"{case_dir.name}#{index}", False, f"{case_dir.name}: {err}", {})
            continue
        findings = _honour_ignores(findings, expected, case_dir)
        _score_case(case_dir, expected, findings, peers, enabled, level, matched, documented)
        extra = _false_positives(case_dir, expected, findings, peers, enabled)
        detail = f"{case_dir.name} (level {level}): unexpected {extra}"
        false_positives.count(case_dir.name, bool(extra), detail, documented)
    return [matched, false_positives]


def _skipped(expected: dict[str, Any]) -> bool:
    """Cases that need buf's check plugins, or that no buf test asserts."""
    note = expected.get("note") or ""
    return expected.get("expected_annotations") is None or "plugins" in note


def _enabled(expected: dict[str, Any], rules: list[dict[str, Any]]) -> set[str]:
    used = expected.get("rules_used") or ["FILE"]
    names: set[str] = set()
    categories = {c for r in rules for c in r["categories"]}
    for name in used:
        if name in categories:
            names |= {r["id"] for r in rules if name in r["categories"]}
        else:
            names |= set(_ALIASES.get(name, (name,)))
    return names - set(expected.get("rules_except") or ())


def _level(expected: dict[str, Any], enabled: set[str], rules: list[dict[str, Any]]) -> str:
    """The level for a case: the category it enables, or the first level whose category
    holds all its enabled rules (else the one that holds most of them)."""
    for name in expected.get("rules_used") or ["FILE"]:
        if name.lower() in LEVELS:
            return str(name.lower())
    categories = {r["id"]: {c.lower() for c in r["categories"]} for r in rules}
    return max(
        LEVELS,
        key=lambda level: (
            sum(level in categories.get(rule, ()) for rule in enabled),
            -LEVELS.index(level),
        ),
    )


def _module(side: Path) -> Path:
    """A side's module root (buf v1beta1 configurations name ``roots``)."""
    config = side / "buf.yaml"
    if config.is_file():
        data = yaml_rs.loads(config.read_text(encoding="utf-8"), parse_datetime=False) or {}
        roots = (data.get("build") or {}).get("roots") or []
        if roots:
            return side / roots[0]
    return side


def _run(case_dir: Path, level: str) -> list[Finding]:
    old, new = _module(case_dir / "previous"), _module(case_dir / "current")
    result = diff(str(old), str(new), DiffOptions(format="protobuf", proto_level=level))
    return [f for f in result.findings if f.severity is Severity.BREAKING]


def _where(finding: Finding, case_dir: Path) -> tuple[str, int]:
    if finding.location is None:
        return ("", 0)
    module = _module(case_dir / "current")
    return (os.path.relpath(os.path.abspath(finding.location.file), module), finding.location.line)


def _at(annotation: dict[str, Any], finding_where: tuple[str, int]) -> bool:
    path, line = finding_where
    if not annotation["start_line"]:
        if not annotation["path"]:
            return path == ""
        return path in ("", annotation["path"]) and line in (0, 1)
    return (path, line) == (annotation["path"], annotation["start_line"])


def _score_case(
    case_dir: Path,
    expected: dict[str, Any],
    findings: list[Finding],
    peers: dict[str, set[str]],
    enabled: set[str],
    level: str,
    score: Score,
    documented: dict[str, str],
) -> None:
    used: set[tuple[int, str]] = set()  # each finding matches one annotation per buf rule
    wheres = [_where(f, case_dir) for f in findings]
    for index, annotation in enumerate(expected["expected_annotations"]):
        kind = annotation["type"]
        hit = next(
            (
                i
                for i, finding in enumerate(findings)
                if kind in peers[finding.rule]
                and (i, kind) not in used
                and _at(annotation, wheres[i])
            ),
            None,
        )
        if hit is not None:
            used.add((hit, kind))
        detail = (
            f"{case_dir.name} (level {level}): {kind} at {annotation['path']}:"
            f"{annotation['start_line']} not matched"
        )
        score.count(f"{case_dir.name}#{index}", hit is not None, detail, documented)


def _false_positives(
    case_dir: Path,
    expected: dict[str, Any],
    findings: list[Finding],
    peers: dict[str, set[str]],
    enabled: set[str],
) -> list[str]:
    extra = []
    for finding in findings:
        names = peers[finding.rule] & enabled
        if not names:
            continue
        where = _where(finding, case_dir)
        if not any(a["type"] in names and _at(a, where) for a in expected["expected_annotations"]):
            extra.append(f"{finding.rule} at {where[0]}:{where[1]}")
    return extra


def _honour_ignores(
    findings: list[Finding], expected: dict[str, Any], case_dir: Path
) -> list[Finding]:
    ignored = [p.rstrip("/") for p in expected.get("ignore") or ()]
    unstable = bool(expected.get("ignore_unstable_packages"))
    kept = []
    for finding in findings:
        path, _ = _where(finding, case_dir)
        name = path or str(finding.args.get("file", ""))
        if any(name == p or name.startswith(p + "/") for p in ignored):
            continue
        if unstable and _unstable(finding, case_dir):
            continue
        kept.append(finding)
    return kept


def _unstable(finding: Finding, case_dir: Path) -> bool:
    package = str(finding.args.get("package", ""))
    if not package:
        file = str(finding.args.get("file", "")) or _where(finding, case_dir)[0]
        for side in ("current", "previous"):
            candidate = _module(case_dir / side) / file
            if file and candidate.is_file():
                found = _PACKAGE.search(candidate.read_text(encoding="utf-8"))
                package = found.group(1) if found else ""
                break
    return any(_UNSTABLE.match(part) for part in package.split("."))
