"""``tessera audit``: found by the engine's CLI through the ``tessera.commands`` entry point.
``verify`` exits 0 intact, 1 broken (with the first bad sequence number), 2 error (an
unreadable database, anchor or key, named with its file and line or commit); ``checkpoint``
prints the signed head and appends it to a file; ``public-key`` prints the key that verifies."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pygit2
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tessera_app import audit, cli_audit
from tessera_app.audit_keys import AuditKey, public_keys
from tessera_app.db.audit_models import AuditEvent
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


def test_checkpoint_prints_and_appends_the_signed_head(
    database_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "checkpoints.jsonl"
    code, out, _ = tessera("audit", "checkpoint", "--database-url", database_url)
    assert (code, out) == (0, "")
    assert "the audit log is empty" in capsys.readouterr().err
    _events(sessions, 2)
    code, out, _ = tessera(
        "audit", "checkpoint", "--database-url", database_url, "--file", str(target)
    )
    assert code == 0 and f"appended to {target}" in capsys.readouterr().err
    printed = json.loads(out)
    with sessions() as session:
        head = session.get(AuditEvent, 2)
    assert head is not None and (printed["seq"], printed["hash"]) == (2, head.hash)
    assert printed["signature"] == head.signature and printed["key_id"] == head.key_id
    assert target.read_text().splitlines() == [out.strip()]
    code, again, _ = tessera(
        "audit", "checkpoint", "--database-url", database_url, "--file", str(target)
    )
    assert code == 0 and "already the last line of" in capsys.readouterr().err
    assert {**json.loads(again), "taken_at": None} == {**printed, "taken_at": None}
    assert len(target.read_text().splitlines()) == 1
    code, out, _ = tessera(
        "audit", "verify", "--database-url", database_url, "--checkpoints", str(target)
    )
    assert code == 0 and "anchors: 1 of 1 agree, the newest at event 2" in out


def test_checkpoint_signs_a_log_from_before_signing(
    database_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _events(sessions, 2)
    with transaction(sessions) as session:
        session.execute(text("UPDATE audit_events SET key_id = NULL, signature = NULL"))
    code, _, _ = tessera("audit", "verify", "--database-url", database_url)
    assert code == 1
    target = tmp_path / "checkpoints.jsonl"
    monkeypatch.setenv("TESSERA_AUDIT_CHECKPOINT_FILE", str(target))
    code, out, _ = tessera("audit", "checkpoint", "--database-url", database_url)
    assert code == 0 and json.loads(out)["seq"] == 3
    with sessions() as session:
        cover = session.get(AuditEvent, 3)
    assert cover is not None and cover.action == "audit.signing_started"
    assert cover.actor.startswith("cli:")
    code, out, _ = tessera("audit", "verify", "--database-url", database_url)
    assert code == 0 and "2 events from before signing, covered by the first signed one" in out
    assert len(target.read_text().splitlines()) == 1


def test_public_key_prints_the_key_that_verifies(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = AuditKey.generate()
    monkeypatch.setenv("TESSERA_AUDIT_SIGNING_KEY", key.pem)
    code, out, _ = tessera("audit", "public-key")
    assert code == 0 and out == key.public.pem
    assert f"audit key id {key.key_id}" in capsys.readouterr().err
    assert [k.key_id for k in public_keys([out], "stdout")] == [key.key_id]
    code, out, _ = tessera("audit", "public-key", "-o", "json")
    assert json.loads(out) == {"key_id": key.key_id, "public_key": key.public.pem}
    monkeypatch.setenv("TESSERA_AUDIT_SIGNING_KEY", "garbage")
    code, _, _ = tessera("audit", "public-key")
    assert code == 2
    assert "TESSERA_AUDIT_SIGNING_KEY: not a PEM private key" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "content", "message"),
    [
        ("--checkpoints", '{"seq": 1}\n', "{path}:1: hash must be 64 lowercase hex digits"),
        ("--checkpoints", None, "{path}: cannot read: No such file or directory"),
        ("--registry", None, "{path}: not a git repository"),
        ("--public-key", None, "--public-key: "),
    ],
)
def test_unreadable_anchors_and_keys_are_exit_2(
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    content: str | None,
    message: str,
) -> None:
    path = tmp_path / "anchor"
    if content is not None:
        path.write_text(content)
    code, out, _ = tessera("audit", "verify", "--database-url", database_url, option, str(path))
    assert (code, out) == (2, "")
    assert message.format(path=path) in capsys.readouterr().err


def test_a_malformed_registry_trailer_names_its_commit(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = pygit2.init_repository(str(tmp_path / "registry"))
    author = pygit2.Signature("tessera[bot]", "bot@example.com")
    message = "Publish x 1.0.0\n\nTessera-Audit-Seq: 3\nTessera-Audit-Hash: abc\n"
    sha = repo.create_commit("HEAD", author, author, message, repo.TreeBuilder().write(), [])
    code, _, _ = tessera(
        "audit", "verify", "--database-url", database_url, "--registry", str(tmp_path / "registry")
    )
    assert code == 2
    err = capsys.readouterr().err
    assert f"registry commit {str(sha)[:12]}: the trailer Tessera-Audit-Key is missing" in err
