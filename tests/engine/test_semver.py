"""Semantic versions: the bump a set of findings requires, and whether a proposed version
carries it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tessera_engine import Bump, Severity, UsageError, diff, load_catalog
from tessera_engine.modes import bump
from tessera_engine.semver import check, next_version

from .helpers import openapi, operation, write

ITEM = {"type": "object", "properties": {"kind": {"type": "string", "enum": ["a", "b"]}}}


def api(request: Any = ITEM, response: Any = ITEM, **paths: Any) -> dict[str, Any]:
    return openapi({"/items": {"post": operation(request=request, response=response)}, **paths})


def _edit(where: str, change: str) -> dict[str, Any]:
    request, response = copy.deepcopy(ITEM), copy.deepcopy(ITEM)
    target = request if where == "request" else response
    if change == "enum value removed":
        target["properties"]["kind"]["enum"].remove("b")
    elif change == "enum value added":
        target["properties"]["kind"]["enum"].append("c")
    elif change == "description":
        target["description"] = "An item."
    elif change == "optional property":
        target["properties"]["note"] = {"type": "string"}
    return api(request, response)


REQUIRED = {
    # name: (new document, bump, highest severity)
    "breaking": (_edit("request", "enum value removed"), "major", "breaking"),
    "dangerous": (_edit("response", "enum value added"), "minor", "dangerous"),
    "new operation": (api(**{"/other": {"get": operation()}}), "minor", "safe"),
    "new optional property": (_edit("response", "optional property"), "minor", "safe"),
    "annotation": (_edit("response", "description"), "patch", "annotation"),
    "nothing": (api(), "none", None),
}


@pytest.mark.parametrize("case", list(REQUIRED))
def test_required_bump_from_findings(tmp_path: Path, case: str) -> None:
    new, expected, severity = REQUIRED[case]
    write(tmp_path / "old.json", api())
    write(tmp_path / "new.json", new)
    result = diff(str(tmp_path / "old.json"), str(tmp_path / "new.json"))
    assert result.bump is Bump(expected)
    highest = max((f.severity for f in result.findings), default=None)
    assert highest == (Severity(severity) if severity else None)


def test_the_highest_bump_wins(tmp_path: Path) -> None:
    new = _edit("request", "enum value removed")
    new["paths"]["/items"]["post"]["description"] = "changed"
    new["paths"]["/other"] = {"get": operation()}
    write(tmp_path / "old.json", api())
    write(tmp_path / "new.json", new)
    result = diff(str(tmp_path / "old.json"), str(tmp_path / "new.json"))
    assert {f.severity for f in result.findings} == {
        Severity.BREAKING,
        Severity.SAFE,
        Severity.ANNOTATION,
    }
    assert result.bump is Bump.MAJOR


def test_bump_per_finding() -> None:
    catalog = load_catalog()
    assert bump(catalog["schema.enum.value-removed"], Severity.BREAKING) is Bump.MAJOR
    assert bump(catalog["schema.enum.value-added"], Severity.DANGEROUS) is Bump.MINOR
    assert bump(catalog["api.operation.added"], Severity.SAFE) is Bump.MINOR
    assert bump(catalog["meta.description.changed"], Severity.ANNOTATION) is Bump.PATCH
    assert Bump.highest([]) is Bump.NONE
    assert Bump.highest([Bump.PATCH, Bump.MAJOR, Bump.MINOR]) is Bump.MAJOR


CHECKS = [
    # (current, proposed, required, ok)
    ("1.2.3", "2.0.0", Bump.MAJOR, True),
    ("1.2.3", "1.3.0", Bump.MAJOR, False),
    ("1.2.3", "1.2.4", Bump.MAJOR, False),
    ("1.2.3", "1.3.0", Bump.MINOR, True),
    ("1.2.3", "1.2.4", Bump.MINOR, False),
    ("1.2.3", "1.2.4", Bump.PATCH, True),
    ("1.2.3", "2.0.0", Bump.NONE, True),
    ("1.2.3", "1.2.3", Bump.NONE, True),  # nothing changed, nothing bumped
    # pre-releases make no promises
    ("2.0.0-beta.1", "2.0.0-beta.2", Bump.MAJOR, True),
    ("2.0.0-rc.1", "2.0.0", Bump.MAJOR, True),
    ("1.2.3", "2.0.0-rc.1", Bump.MAJOR, True),
    ("1.2.3", "1.3.0-rc.1", Bump.MAJOR, False),  # a pre-release of a minor is still minor
    ("1.2.3", "1.3.0-rc.1", Bump.MINOR, True),
    # 0.x: the minor number is the major one
    ("0.3.1", "0.4.0", Bump.MAJOR, True),
    ("0.3.1", "1.0.0", Bump.MAJOR, True),
    ("0.3.1", "0.3.2", Bump.MAJOR, False),
    # not greater
    ("1.2.3", "1.2.3", Bump.PATCH, False),
    ("1.2.3", "1.2.2", Bump.NONE, False),
    ("1.2.3", "0.9.0", Bump.MAJOR, False),
    ("2.0.0-beta.2", "2.0.0-beta.1", Bump.NONE, False),
    ("2.0.0", "2.0.0-rc.1", Bump.NONE, False),
    # a "v" prefix and build metadata are fine
    ("v1.2.3", "v2.0.0", Bump.MAJOR, True),
    ("1.2.3+build.1", "1.3.0+build.2", Bump.MINOR, True),
]


@pytest.mark.parametrize(("current", "proposed", "required", "ok"), CHECKS)
def test_version_check(current: str, proposed: str, required: Bump, ok: bool) -> None:
    result = check(current, proposed, required)
    assert result.ok is ok, result.reason
    assert result.required is required
    assert result.reason
    assert result.to_dict()["ok"] is ok


def test_version_check_explains_what_is_needed() -> None:
    result = check("1.2.3", "1.3.0", Bump.MAJOR)
    assert result.actual is Bump.MINOR
    assert "2.0.0" in result.reason
    assert "not greater" in check("1.2.3", "1.2.3", Bump.PATCH).reason
    assert (result.current, result.proposed) == ("1.2.3", "1.3.0")


@pytest.mark.parametrize(
    ("current", "required", "expected"),
    [
        ("1.2.3", Bump.MAJOR, "2.0.0"),
        ("1.2.3", Bump.MINOR, "1.3.0"),
        ("1.2.3", Bump.PATCH, "1.2.4"),
        ("1.2.3", Bump.NONE, "1.2.3"),
        ("0.3.1", Bump.MAJOR, "0.4.0"),
        ("2.0.0-rc.1", Bump.MAJOR, "2.0.0"),
    ],
)
def test_next_version(current: str, required: Bump, expected: str) -> None:
    assert next_version(current, required) == expected


INVALID = ["1.2", "abc", "", "1.2.3.4", "01.2.3", "1.2.3-", "1.2.x", "latest"]


@pytest.mark.parametrize("text", INVALID)
def test_invalid_versions_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="not a semantic version"):
        check(text, "2.0.0", Bump.MAJOR)
    with pytest.raises(UsageError, match="not a semantic version"):
        check("1.0.0", text, Bump.MAJOR)
