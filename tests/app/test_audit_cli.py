"""``tessera audit``: found by the engine's CLI through the ``tessera.commands`` entry point.
``verify`` exits 0 intact, 1 broken (with the first bad sequence number), 2 error (an
unreadable database, anchor file or key, named with its file and line; no key to trust, since
a key derived from a placeholder secret is trusted only with ``--trust-development-key``); a
registry commit with malformed trailers is a warning; ``checkpoint`` prints the signed head and
appends it to a file, never signing anything; ``public-key`` prints the key that verifies."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pygit2
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tessera_app import audit, cli_audit
from tessera_app.audit_checkpoints import committed_head
from tessera_app.audit_keys import AuditKey, public_keys
from tessera_app.audit_trailers import with_trailers
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.base import transaction
from tessera_engine import cli

SECRET = "a-real-secret-for-the-audit-cli-tests"


@pytest.fixture(autouse=True)
def real_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service and the auditor share a real TESSERA_SECRET_KEY (a test that needs the
    placeholder removes it)."""
    monkeypatch.setenv("TESSERA_SECRET_KEY", SECRET)


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


def test_checkpoint_never_signs_unsigned_rows(
    database_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _events(sessions, 2)
    with transaction(sessions) as session:
        session.execute(text("UPDATE audit_events SET key_id = NULL, signature = NULL"))
    target = tmp_path / "checkpoints.jsonl"
    code, out, _ = tessera(
        "audit", "checkpoint", "--database-url", database_url, "--file", str(target)
    )
    assert (code, out) == (0, "")
    assert "the audit log has no signed event (2 events, none signed" in capsys.readouterr().err
    assert not target.exists()
    with sessions() as session:
        assert audit.count(session) == 2
    code, out, _ = tessera("audit", "verify", "--database-url", database_url)
    assert code == 1 and out.startswith("audit log broken at event 1: rows 1 to 2 are not signed")


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


def _commit(repo: pygit2.Repository, message: str) -> str:
    author = pygit2.Signature("tessera[bot]", "bot@example.com")
    parents = [] if repo.head_is_unborn else [repo.head.target]
    return str(
        repo.create_commit("HEAD", author, author, message, repo.TreeBuilder().write(), parents)
    )


def test_malformed_registry_trailers_are_warnings_not_errors(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """Anyone who can push to the registry can write trailers: the commits whose trailers are
    incomplete or malformed are left out with a warning naming them, and the well-formed
    anchors are still checked."""
    _events(sessions, 2)
    with sessions() as session:
        head = committed_head(session)
    assert head is not None
    repo = pygit2.init_repository(str(tmp_path / "registry"))
    incomplete = _commit(repo, "Publish x 1.0.0\n\nTessera-Audit-Seq: 3\nTessera-Audit-Hash: abc\n")
    good = _commit(repo, with_trailers("Publish x 1.1.0\n", head))
    bad_hash = _commit(repo, with_trailers("Publish x 1.2.0\n", head).replace(head.hash, "f" * 10))
    argv = [
        "audit",
        "verify",
        "--database-url",
        database_url,
        "--registry",
        str(tmp_path / "registry"),
    ]
    code, out, err = tessera(*argv)
    assert (code, err) == (0, ""), err
    assert out.startswith("audit log intact: 2 events")
    assert "anchors: 1 of 1 agree, the newest at event 2" in out
    assert (
        f"warning: registry commit {incomplete[:12]}: the trailer Tessera-Audit-Key is missing: "
        "not used as an anchor"
    ) in out
    assert f"warning: registry commit {bad_hash[:12]}: hash must be 64 lowercase hex digits" in out
    assert good[:12] not in out
    code, out, _ = tessera(*argv, "-o", "json")
    report = json.loads(out)
    assert code == 0 and report["anchors"] == report["anchors_given"] == 1
    assert [w.split(":")[0] for w in report["warnings"]] == [
        f"registry commit {incomplete[:12]}",
        f"registry commit {bad_hash[:12]}",
    ]


def test_a_flood_of_malformed_trailers_is_summed_up(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    _events(sessions, 1)
    repo = pygit2.init_repository(str(tmp_path / "registry"))
    for n in range(cli_audit.SHOWN_WARNINGS + 3):
        _commit(repo, f"Junk {n}\n\nTessera-Audit-Seq: {n}\n")
    argv = [
        "audit",
        "verify",
        "--database-url",
        database_url,
        "--registry",
        str(tmp_path / "registry"),
    ]
    code, out, _ = tessera(*argv)
    warnings = [line for line in out.splitlines() if line.startswith("warning: ")]
    assert code == 0 and len(warnings) == cli_audit.SHOWN_WARNINGS + 1
    assert warnings[-1] == "warning: … and 3 more (-o json lists all)"
    code, out, _ = tessera(*argv, "-o", "json")
    assert len(json.loads(out)["warnings"]) == cli_audit.SHOWN_WARNINGS + 3


# --- which keys an auditor trusts ----------------------------------------------------------


def test_a_key_derived_from_a_placeholder_secret_is_not_trusted(
    database_url: str,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A log forged and signed with the key anyone can derive from the default secret
    ("development"): an auditor without the service's secret is refused (exit 2, one line
    saying how to give a key) instead of being told that the log is intact."""
    monkeypatch.delenv("TESSERA_SECRET_KEY")  # the default: "development"
    public = AuditKey.derive("development")
    _events(sessions, 2)  # signed with the development key, as a forger would
    with sessions() as session:
        assert {row.key_id for row in session.scalars(select(AuditEvent))} == {public.key_id}
    code, out, _ = tessera("audit", "verify", "--database-url", database_url)
    assert (code, out) == (2, "")
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("tessera: error: no audit key to trust: TESSERA_SECRET_KEY is unset")
    assert "--public-key" in line and "`tessera audit public-key`" in line
    assert "--trust-development-key" in line

    service = AuditKey.derive(SECRET)  # what the real service signs with
    monkeypatch.setenv("TESSERA_AUDIT_PUBLIC_KEYS", service.public.pem)
    code, out, _ = tessera("audit", "verify", "--database-url", database_url, "-o", "json")
    report = json.loads(out)
    assert code == 1 and report["first_bad_seq"] == 1
    assert f"signed with key {public.key_id}, which is not a trusted key" in report["problem"]
    assert report["trusted_key_ids"] == [service.key_id]
    assert f"key {public.key_id}, derived from a placeholder" in report["warnings"][0]


def test_the_development_key_is_trusted_only_when_asked(
    database_url: str, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSERA_SECRET_KEY", "dev")
    development = AuditKey.derive("dev")
    _events(sessions, 2)
    base = ("audit", "verify", "--database-url", database_url)
    code, out, _ = tessera(*base, "--trust-development-key")
    assert code == 0 and f"trusted keys: {development.key_id}\n" in out
    assert f"warning: key {development.key_id} is trusted although it is derived from" in out
    code, out, _ = tessera(*base, "--public-key", development.public.pem)
    assert code == 0 and "warning" not in out  # the caller named the key itself


def test_the_report_names_the_trusted_keys(
    database_url: str, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    older = AuditKey.generate()
    monkeypatch.setenv("TESSERA_AUDIT_PUBLIC_KEYS", older.public.pem)
    current = AuditKey.derive(SECRET)
    _events(sessions, 2)
    ids = sorted([current.key_id, older.key_id])
    code, out, err = tessera("audit", "verify", "--database-url", database_url)
    assert (code, err) == (0, "") and f"trusted keys: {', '.join(ids)}\n" in out
    code, out, _ = tessera("audit", "verify", "--database-url", database_url, "-o", "json")
    assert code == 0 and json.loads(out)["trusted_key_ids"] == ids
    assert json.loads(out)["warnings"] == []
    with transaction(sessions) as session:
        session.execute(text("DELETE FROM audit_events WHERE seq = 1"))
    _events(sessions, 1)
    code, out, _ = tessera("audit", "verify", "--database-url", database_url)
    assert code == 1 and out.splitlines()[1] == f"trusted keys: {', '.join(ids)}"
