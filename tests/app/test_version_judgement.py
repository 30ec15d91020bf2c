"""A change judged with the producer's version under each versioning policy, against the
registry mirror (``version_judgement.judge_change``), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tessera_app import mirror
from tessera_app.api.registry_engine import ProposedSpec, contract_of
from tessera_app.db.registry_models import Contract
from tessera_app.version_judgement import (
    Found,
    ProducerVersion,
    VersionedImpact,
    judge_change,
    summary_of,
)

TEMPLATE = Path(__file__).resolve().parents[2] / "registry-template"
SPEC = "api/openapi.yaml"
BASE = json.loads((TEMPLATE / "contracts/orders-api/versions/2.1.0.json").read_text())["files"][
    SPEC
]
BREAKING = BASE.replace("        total:\n          type: number\n", "")  # Order.total removed
INSUFFICIENT = "lifecycle.version.bump-insufficient"


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        mirror.resync(session, TEMPLATE)
        session.flush()
        yield session
        session.rollback()


def judge(session: Session, version: str | None, **policy: object) -> VersionedImpact:
    row = session.get(Contract, "orders-api")
    assert row is not None
    for name, value in policy.items():
        setattr(row, name, value)
    session.flush()
    given = ProducerVersion(version, "the test", "command") if version else None
    spec = ProposedSpec(contract_of(row), {SPEC: BREAKING})
    return judge_change(session, "orders-api", spec, Found(given), lambda v: f"write {v} there")


def rules(judged: VersionedImpact) -> set[str]:
    assert judged.impact is not None
    return {f.rule for f in judged.impact.diff.findings}


def test_enforce_checks_the_producers_version(session: Session) -> None:
    judged = judge(session, "2.2.0")  # orders-api is `versioning: enforce` in the template
    assert judged.failure == (
        "breaking changes need 3.0.0 or later; the test says 2.2.0: write 3.0.0 there"
    )
    assert INSUFFICIENT in rules(judged)
    assert judged.impact is not None and judged.impact.versions.proposed == "2.2.0"
    # the too-small version fails the check; it is not a change any consumer must acknowledge
    summary = summary_of(judged)
    assert summary.breaking and set(summary.required) == {"checkout", "data-platform"}
    version_prints = {f.fingerprint for f in judged.impact.diff.findings if f.rule == INSUFFICIENT}
    assert not version_prints & summary.breaking
    assert judged.publishes == "3.0.0"
    assert any(
        n.startswith("merging publishes orders-api 3.0.0: 2.2.0 is too small") for n in judged.notes
    )

    enough = judge(session, "3.0.0")
    assert (enough.failure, enough.publishes) == (None, "3.0.0")
    assert INSUFFICIENT not in rules(enough)
    assert summary_of(enough).version_origin == "given by the producer: the test"


def test_enforce_without_a_version_fails(session: Session) -> None:
    judged = judge(session, None)
    assert judged.failure == "versioning is enforce and no version is given: write 3.0.0 there"
    assert judged.impact is not None and judged.impact.versions.proposed is None


def test_suggest_shows_the_suggestion_instead_of_a_too_small_version(session: Session) -> None:
    judged = judge(session, "2.2.0", versioning="suggest")
    assert judged.failure is None and judged.used is None
    assert INSUFFICIENT not in rules(judged)
    assert judged.impact is not None and judged.impact.versions.proposed == "3.0.0"
    assert (
        "breaking changes need 3.0.0 or later; the test says 2.2.0: Tessera suggests 3.0.0 "
        "(versioning: suggest)"
    ) in judged.notes
    bigger = judge(session, "4.0.0", versioning="suggest")
    assert bigger.used is not None and bigger.publishes == "4.0.0"


def test_auto_ignores_the_producers_version(session: Session) -> None:
    judged = judge(session, "9.0.0", versioning="auto")
    assert (judged.failure, judged.used, judged.publishes) == (None, None, "3.0.0")
    assert judged.impact is not None and judged.impact.versions.proposed == "3.0.0"


def test_pre_releases_follow_the_contracts_policy(session: Session) -> None:
    refused = judge(session, "3.0.0-rc.1", prerelease_allowed=False)
    assert refused.used is None
    assert any("does not allow pre-release versions" in n for n in refused.notes)
    assert refused.failure == (
        "versioning is enforce and no usable version is given: write 3.0.0 there"
    )

    asked = judge(session, "3.0.0-rc.1", prerelease_allowed=True)
    assert asked.failure is None and asked.publishes == "3.0.0-rc.1"
    assert set(summary_of(asked).required) == {"checkout", "data-platform"}

    skipped = judge(
        session, "3.0.0-rc.1", prerelease_allowed=True, prerelease_skip_acknowledgement=True
    )
    summary = summary_of(skipped)
    assert summary.required == {} and summary.breaking
    assert summary.informed == {"checkout", "data-platform"}
    assert any("skips acknowledgement" in n for n in skipped.notes)
