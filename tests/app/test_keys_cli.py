"""``tessera-app keys``: a key is made only with the principal its scope needs (a write key's
team, known to the registry mirror; an admin key's owner), the listing shows the principal, and
creating a key is audited with who made it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tessera_app.cli import main
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.auth_models import ApiKey
from tessera_app.db.base import make_engine, session_factory, transaction
from tessera_app.db.registry_models import Team


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'tessera.db'}"
    monkeypatch.setenv("TESSERA_DATABASE_URL", url)
    assert main(["migrate"]) == 0
    engine = make_engine(url)
    try:
        with transaction(session_factory(engine)) as session:
            session.add(Team(id="checkout", github_team="acme/checkout"))
    finally:
        engine.dispose()
    return url


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--scopes", "write"], "a write key acts for one registry team: give its team"),
        (["--scopes", "write", "--team", "chekout"], "did you mean checkout?"),
        (["--scopes", "write", "--team", "billing"], "(teams: checkout)"),
        (["--scopes", "admin"], "an admin key needs a named owner"),
        (["--scopes", "admin", "--owner", "al", "--team", "checkout"], "a team is for write"),
        (["--scopes", "read", "--team", "checkout"], "a read key acts for nobody"),
    ],
)
def test_a_key_without_its_principal_is_refused(
    database: str, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert main(["keys", "create", "--name", "x", *arguments]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err
    assert captured.out == ""
    engine = make_engine(database)
    try:
        with session_factory(engine)() as session:
            assert session.scalars(select(ApiKey)).all() == []
            assert session.scalars(select(AuditEvent)).all() == []
    finally:
        engine.dispose()


def test_keys_carry_their_principal(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--name", "ci", "--scopes", "write", "--team", "checkout"]) == 0
    created = capsys.readouterr()
    assert created.out.startswith("tsk_") and "team checkout" in created.err
    assert main(["keys", "create", "--name", "ops", "--scopes", "admin", "--owner", "alice"]) == 0
    assert main(["keys", "create", "--name", "dash", "--scopes", "read"]) == 0
    capsys.readouterr()
    assert main(["keys", "list"]) == 0
    listed = [line.split("\t")[2:] for line in capsys.readouterr().out.splitlines()]
    assert listed == [
        ["ci", "write", "team checkout", "active"],
        ["ops", "admin", "admin alice", "active"],
        ["dash", "read", "read", "active"],
    ]
    engine = make_engine(database)
    try:
        with session_factory(engine)() as session:
            events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
            assert [e.action for e in events] == ["api_key.created"] * 3
            assert all(e.actor.startswith("cli:") for e in events)
            assert (events[0].details["team"], events[1].details["owner"]) == ("checkout", "alice")
    finally:
        engine.dispose()


def test_an_expiry_out_of_range_is_refused(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["--name", "x", "--scopes", "read", "--expires-in-days", "1e12"]
    assert main(["keys", "create", *arguments]) == 2
    assert "--expires-in-days is out of range" in capsys.readouterr().err
