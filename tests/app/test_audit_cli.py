"""``tessera audit verify``: found by the engine's CLI through the ``tessera.commands`` entry
point, exit 0 intact, 1 broken (with the first bad sequence number), 2 error."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tessera_app import audit, cli_audit
from tessera_app.db.base import transaction
from tessera_engine import cli


def tessera(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _events(sessions: sessionmaker[Session], n: int = 3) -> None:
    with transaction(sessions) as session:
        for i in range(n):
            audit.record(session, action="t", actor="a", subject=f"s{i}", details={"i": i})


def test_verify_intact_and_broken(database_url: str, sessions: sessionmaker[Session]) -> None:
    _events(sessions)
    code, out, err = tessera("audit", "verify", "--database-url", database_url)
    assert (code, err) == (0, "") and out.startswith("audit log intact: 3 events, head ")
    with transaction(sessions) as session:
        session.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    code, out, _ = tessera("audit", "verify", "--database-url", database_url)
    assert code == 1 and out.startswith("audit log broken at event 2: row 2 is missing")
    code, out, _ = tessera("audit", "verify", "--database-url", database_url, "-o", "json")
    assert code == 1 and json.loads(out)["first_bad_seq"] == 2


def test_the_database_url_comes_from_the_environment(
    database_url: str, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    _events(sessions, 1)
    monkeypatch.setenv("TESSERA_DATABASE_URL", database_url)
    out = io.StringIO()
    assert cli_audit.main(["verify"], stdout=out) == 0
    assert "1 events" in out.getvalue()


def test_an_unreadable_database_is_exit_2(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = tessera("audit", "verify", "--database-url", f"sqlite:///{tmp_path}/empty.db")
    assert code == 2
    assert "cannot read the audit log" in capsys.readouterr().err
    assert cli_audit.main(["verify", "--database-url", "nonsense://"]) == 2
    assert cli_audit.main(["nope"]) == 2


def test_the_subcommand_is_absent_without_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [])
    code, _, err = tessera("audit", "verify")
    assert code == 2 and "invalid choice: 'audit'" in err
