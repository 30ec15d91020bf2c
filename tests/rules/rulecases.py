"""Loading, running and checking the rule case files in ``cases/`` (see ``README.md``).

Shared by ``test_rule_cases.py`` (one test per case) and ``test_catalog.py`` (the guard that
every catalog rule has cases). Everything is located relative to this file, never the working
directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml_rs

from tessera_engine import (
    DiffOptions,
    DiffResult,
    Effect,
    Finding,
    Mode,
    Position,
    Severity,
    UsageError,
    diff,
)

CASES_DIR = Path(__file__).parent / "cases"

FORMATS = ("openapi", "swagger", "jsonschema", "graphql", "protobuf", "avro", "dbt")
VERDICTS = ("breaking", "compatible")
TODAY = date(2025, 1, 1)
"""The date sunset dates are judged against, unless a case sets ``options.today``."""

FILE_KEYS = frozenset({"rule", "cases"})
CASE_KEYS = frozenset({"name", "format", "options", "old", "new", "expect", "verdict"})
OPTION_KEYS = frozenset(
    {
        "mode",
        "policy",
        "fail_on",
        "current_version",
        "proposed_version",
        "today",
        "proto_level",
        "guarantees",
    }
)
SINGLE_FILE = {
    "graphql": "schema.graphql",
    "protobuf": "test.proto",
    "avro": "schema.avsc",
    "dbt": "manifest.json",
}
"""For a native format, the file name a one-document case is written to (in ``old/`` and
``new/``); a case may instead give ``old``/``new`` as a mapping of file names to texts."""
EXPECT_KEYS = frozenset(
    {"severity", "position", "effect", "path", "pointer", "line", "message_contains", "args"}
)


class CaseFileError(Exception):
    """A case file that does not follow the format in README.md."""


@dataclass(frozen=True)
class Case:
    rule: str
    name: str
    file: Path
    format: str
    options: dict[str, Any]
    old: str | dict[str, str]
    new: str | dict[str, str]
    expect: tuple[dict[str, Any], ...]
    verdict: str | None

    @property
    def id(self) -> str:
        return f"{self.rule}::{self.name}"

    @property
    def fires(self) -> bool:
        """A "fail" case: the rule must be reported. Otherwise a "pass" case: it must not."""
        return bool(self.expect)


@dataclass
class CaseFile:
    path: Path
    rule: str
    cases: list[Case] = field(default_factory=list)


def case_paths() -> list[Path]:
    return sorted(CASES_DIR.rglob("*.yaml"))


def load_file(path: Path) -> CaseFile:
    """Parse and validate one case file; raises ``CaseFileError`` naming the problem."""
    where = path.name
    try:
        data = yaml_rs.loads(path.read_text(encoding="utf-8"), parse_datetime=False)
    except yaml_rs.YAMLDecodeError as err:
        raise CaseFileError(f"{where}: invalid YAML: {err}") from None
    if not isinstance(data, dict):
        raise CaseFileError(f"{where}: expected a mapping with 'rule' and 'cases'")
    _no_unknown(data, FILE_KEYS, where)
    rule = data.get("rule")
    if not isinstance(rule, str) or not rule:
        raise CaseFileError(f"{where}: 'rule' must be a rule id")
    raw_cases = data.get("cases")
    if not isinstance(raw_cases, list) or not raw_cases:
        raise CaseFileError(f"{where}: 'cases' must be a non-empty list")
    result = CaseFile(path, rule)
    names: set[str] = set()
    for index, raw in enumerate(raw_cases):
        case = _case(path, rule, index, raw)
        if case.name in names:
            raise CaseFileError(f"{where}: two cases are named {case.name!r}")
        names.add(case.name)
        result.cases.append(case)
    return result


def _no_unknown(data: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise CaseFileError(
            f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
        )


def _case(path: Path, rule: str, index: int, raw: Any) -> Case:
    where = f"{path.name}, case {index + 1}"
    if not isinstance(raw, dict):
        raise CaseFileError(f"{where}: expected a mapping")
    _no_unknown(raw, CASE_KEYS, where)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CaseFileError(f"{where}: 'name' is required")
    where = f"{path.name}, case {name!r}"
    fmt = raw.get("format", "openapi")
    if fmt not in FORMATS:
        raise CaseFileError(f"{where}: 'format' must be one of {', '.join(FORMATS)}")
    options = raw.get("options") or {}
    if not isinstance(options, dict):
        raise CaseFileError(f"{where}: 'options' must be a mapping")
    _no_unknown(options, OPTION_KEYS, f"{where}, options")
    _check_options(options, where)
    for side in ("old", "new"):
        value = raw.get(side)
        if fmt in SINGLE_FILE and isinstance(value, dict) and value:
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
                raise CaseFileError(f"{where}: '{side}' must map file names to texts")
        elif not isinstance(value, str) or not value.strip():
            raise CaseFileError(f"{where}: '{side}' must be a document (a YAML block literal)")
    if "expect" not in raw:
        raise CaseFileError(f"{where}: 'expect' is required ([] when the rule must not fire)")
    expect = raw["expect"]
    if not isinstance(expect, list):
        raise CaseFileError(f"{where}: 'expect' must be a list")
    for item in expect:
        if not isinstance(item, dict):
            raise CaseFileError(f"{where}: each expectation must be a mapping")
        _no_unknown(item, EXPECT_KEYS, f"{where}, expect")
        _check_expectation(item, where)
    verdict = raw.get("verdict")
    if verdict is not None and verdict not in VERDICTS:
        raise CaseFileError(f"{where}: 'verdict' must be one of {', '.join(VERDICTS)}")
    return Case(
        rule=rule,
        name=name.strip(),
        file=path,
        format=fmt,
        options=options,
        old=raw["old"],
        new=raw["new"],
        expect=tuple(expect),
        verdict=verdict,
    )


def _check_options(options: dict[str, Any], where: str) -> None:
    try:
        if "mode" in options:
            Mode.parse(str(options["mode"]))
        if "today" in options:
            date.fromisoformat(str(options["today"]))
    except (UsageError, ValueError) as err:
        raise CaseFileError(f"{where}: bad option: {err}") from None
    if options.get("policy", "strict") not in ("strict", "lenient"):
        raise CaseFileError(f"{where}: 'policy' must be strict or lenient")
    if options.get("fail_on", "breaking") not in ("dangerous", "breaking"):
        raise CaseFileError(f"{where}: 'fail_on' must be dangerous or breaking")


_ENUMS: dict[str, tuple[str, ...]] = {
    "severity": tuple(s.value for s in Severity),
    "position": tuple(p.value for p in Position),
    "effect": tuple(e.value for e in Effect),
}


def _check_expectation(item: dict[str, Any], where: str) -> None:
    if not item:
        raise CaseFileError(f"{where}: an empty expectation matches anything; give some keys")
    for key, choices in _ENUMS.items():
        if key in item and item[key] not in choices:
            raise CaseFileError(f"{where}: '{key}' must be one of {', '.join(choices)}")
    for key in ("path", "pointer", "message_contains"):
        if key in item and not isinstance(item[key], str):
            raise CaseFileError(f"{where}: '{key}' must be a string")
    if "line" in item and (not isinstance(item["line"], int) or isinstance(item["line"], bool)):
        raise CaseFileError(f"{where}: 'line' must be a number")
    if "args" in item and not isinstance(item["args"], dict):
        raise CaseFileError(f"{where}: 'args' of an expectation must be a mapping")


# -- running ----------------------------------------------------------------------------------


def diff_options(case: Case) -> DiffOptions:
    opts = case.options
    today = date.fromisoformat(str(opts["today"])) if "today" in opts else TODAY
    return DiffOptions(
        format=case.format,
        mode=Mode.parse(str(opts["mode"])) if "mode" in opts else None,
        policy=opts.get("policy"),
        fail_on=Severity(opts.get("fail_on", "breaking")),
        current_version=_str_or_none(opts.get("current_version")),
        proposed_version=_str_or_none(opts.get("proposed_version")),
        today=today,
        proto_level=_str_or_none(opts.get("proto_level")),
        guarantees=_str_or_none(opts.get("guarantees")),
    )


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def run(case: Case, workdir: Path) -> DiffResult:
    """Write both versions into ``workdir`` and diff them. A native format's versions are
    the directories ``old/`` and ``new/`` (protobuf modules, or several SDL files), or the
    single files ``old/<name>`` and ``new/<name>``."""
    if case.format not in SINGLE_FILE:
        old, new = workdir / "old.yaml", workdir / "new.yaml"
        assert isinstance(case.old, str) and isinstance(case.new, str)
        old.write_text(case.old, encoding="utf-8")
        new.write_text(case.new, encoding="utf-8")
        return diff(str(old), str(new), diff_options(case))
    paths = [
        _write_version(workdir / side, text, case.format)
        for side, text in (("old", case.old), ("new", case.new))
    ]
    return diff(str(paths[0]), str(paths[1]), diff_options(case))


def _write_version(folder: Path, version: str | dict[str, str], fmt: str) -> Path:
    files = version if isinstance(version, dict) else {SINGLE_FILE[fmt]: version}
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if fmt == "protobuf" or isinstance(version, dict):
        return folder
    return folder / SINGLE_FILE[fmt]


# -- checking ---------------------------------------------------------------------------------


def matches(finding: Finding, expected: dict[str, Any]) -> bool:
    """Whether ``finding`` agrees with every key ``expected`` gives."""
    for key, want in expected.items():
        if key in ("severity", "position", "effect"):
            if getattr(finding, key).value != want:
                return False
        elif key in ("path", "pointer"):
            if getattr(finding, key) != want:
                return False
        elif key == "line":
            if finding.location is None or finding.location.line != want:
                return False
        elif key == "message_contains":
            if str(want) not in finding.message:
                return False
        elif key == "args":
            for name, value in want.items():
                if name not in finding.args or not _same(finding.args[name], value):
                    return False
        else:  # rejected when loading
            raise CaseFileError(f"unknown expectation key {key!r}")
    return True


def _same(actual: Any, want: Any) -> bool:
    if isinstance(actual, tuple | set | frozenset):
        actual = list(actual) if isinstance(actual, tuple) else sorted(actual, key=str)
    return bool(actual == want and type(actual) is type(want)) or (
        # 1 and 1.0 are the same JSON number; True is not 1
        isinstance(actual, int | float)
        and isinstance(want, int | float)
        and not isinstance(actual, bool)
        and not isinstance(want, bool)
        and actual == want
    )


def assign(findings: list[Finding], expected: list[dict[str, Any]]) -> list[int]:
    """Match every expectation to a distinct finding (bipartite matching). Returns the indexes
    of the expectations left unmatched."""
    candidates = [[i for i, f in enumerate(findings) if matches(f, e)] for e in expected]
    owner: dict[int, int] = {}  # finding index -> expectation index

    def augment(e: int, seen: set[int]) -> bool:
        for i in candidates[e]:
            if i in seen:
                continue
            seen.add(i)
            if i not in owner or augment(owner[i], seen):
                owner[i] = e
                return True
        return False

    return [e for e in range(len(expected)) if not augment(e, set())]


def describe(result: DiffResult) -> str:
    """Every finding produced, one a line, for failure messages."""
    if not result.findings:
        return "  (no findings)"
    lines = []
    for f in result.findings:
        line = f.location.line if f.location else "-"
        lines.append(
            f"  {f.rule} [{f.severity.value}, {f.position.value}, {f.effect.value}] "
            f"{f.path!r} line {line}: {f.message}  args={dict(f.args)}"
        )
    return "\n".join(lines)


def problems(case: Case, result: DiffResult) -> list[str]:
    """What is wrong with ``result`` for ``case``; empty when it passes."""
    found = [f for f in result.findings if f.rule == case.rule]
    issues: list[str] = []
    if not case.expect:
        if found:
            issues.append(f"{case.rule} must not be reported, but was reported {len(found)}x")
    else:
        for index in assign(found, list(case.expect)):
            issues.append(f"no finding of {case.rule} matches {case.expect[index]}")
    if case.verdict is not None and result.verdict != case.verdict:
        issues.append(f"verdict is {result.verdict}, expected {case.verdict}")
    return issues
