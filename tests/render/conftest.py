"""The diff results the renderer tests render.

``openapi`` comes from the real engine on ``fixtures/old.yaml`` → ``fixtures/new.yaml`` (one
finding of each severity, plus a failed version check); the engine runs inside ``fixtures/`` so
locations hold bare file names, never machine-specific paths. ``no-findings`` and ``escaping``
are made by hand: the second has a finding without a location and user text that every output
must escape (``|``, ``<``, ``%``, a newline, ``:``, ``,``, a backtick).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tessera_engine import (
    Bump,
    DiffOptions,
    DiffResult,
    Effect,
    Finding,
    Location,
    Position,
    Severity,
    VersionCheck,
    diff,
)

FIXTURES = Path(__file__).parent / "fixtures"

TRICKY_MESSAGE = 'enum value "50% off: a, b | `c` <d>\r\nnext" added'


def engine_result() -> DiffResult:
    options = DiffOptions(current_version="1.4.0", proposed_version="1.5.0")
    with contextlib.chdir(FIXTURES):
        return diff("old.yaml", "new.yaml", options)


def no_findings_result() -> DiffResult:
    check = VersionCheck(
        current="1.4.0",
        proposed="1.4.1",
        required=Bump.NONE,
        actual=Bump.PATCH,
        ok=True,
        reason="patch bump covers the required none bump",
    )
    return _result(findings=(), bump=Bump.NONE, version_check=check)


def escaping_result() -> DiffResult:
    promoted = Finding(
        rule="api.parameter.removed",
        severity=Severity.BREAKING,
        position=Position.INPUT,
        effect=Effect.WIDEN,
        path="GET /items → query.filter",
        pointer="/paths/~1items/get/parameters/0",
        location=Location("./specs/v2,beta: draft.yaml", 3, 5),
        message="query parameter 'filter' was removed",
        fingerprint="00000000000000a1",
        operations=("GET /items", "HEAD /items", "OPTIONS /items"),
        against="v1.yaml",
        promoted_from=Severity.DANGEROUS,
    )
    unlocated = Finding(
        rule="schema.enum.value-added",
        severity=Severity.DANGEROUS,
        position=Position.OUTPUT,
        effect=Effect.WIDEN,
        path="GET /items → 200 → body.kind|type <T>",
        pointer="/components/schemas/Item/properties/kind|type <T>/enum",
        location=None,
        message=TRICKY_MESSAGE,
        fingerprint="00000000000000b2",
        operations=("GET /items",),
    )
    annotation = Finding(
        rule="meta.description.changed",
        severity=Severity.ANNOTATION,
        position=Position.OUTPUT,
        effect=Effect.ANNOTATION,
        path="GET /items",
        pointer="/paths/~1items/get/description",
        location=Location("specs\\v2.yaml", 7, 9),
        message="description changed",
        fingerprint="00000000000000c3",
    )
    return _result(findings=(promoted, unlocated, annotation), bump=Bump.MAJOR)


def many_findings_result(count: int) -> DiffResult:
    """``count`` findings, a quarter of each severity, most severe first."""
    severities = sorted(Severity, reverse=True)
    findings = tuple(
        Finding(
            rule="schema.property.added",
            severity=severities[index * len(severities) // count],
            position=Position.OUTPUT,
            effect=Effect.EXTENSION,
            path=f"GET /orders → 200 → body.field_{index:05d}",
            pointer=f"/components/schemas/Order/properties/field_{index:05d}",
            location=Location("new.yaml", index + 1, 7),
            message=f"new optional property 'field_{index:05d}'",
            fingerprint=f"{index:016x}",
        )
        for index in range(count)
    )
    return _result(findings=findings, bump=Bump.MAJOR)


def _result(
    findings: tuple[Finding, ...], bump: Bump, version_check: VersionCheck | None = None
) -> DiffResult:
    return DiffResult(
        format="openapi",
        mode="auto",
        policy="lenient",
        old=("old.yaml",),
        new="new.yaml",
        findings=findings,
        bump=bump,
        version_check=version_check,
    )


CASES: dict[str, Callable[[], DiffResult]] = {
    "openapi": engine_result,
    "no-findings": no_findings_result,
    "escaping": escaping_result,
}


@pytest.fixture(params=list(CASES))
def case(request: pytest.FixtureRequest) -> tuple[str, DiffResult]:
    """Each golden case in turn, as (name, result)."""
    name: str = request.param
    return name, CASES[name]()


@pytest.fixture
def openapi() -> DiffResult:
    return engine_result()


@pytest.fixture
def escaping() -> DiffResult:
    return escaping_result()


@pytest.fixture
def many_findings() -> DiffResult:
    return many_findings_result(5_000)
