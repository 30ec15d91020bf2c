"""The four rewrites the hash chain alone cannot see, on SQLite and PostgreSQL: (a) the newest
rows cut off, (b) every row from some point rewritten with recomputed hashes, (c) a correctly
hashed row forged and appended, (d) the whole log emptied. Each leaves a chain that the walk
of the chain alone accepts (``chain_alone_accepts``: what ``tessera audit verify`` checked
before signatures and anchors), and each now fails ``tessera audit verify`` with the right
first bad event; the untouched log verifies against the same anchors."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2
import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from tessera_app import audit, audit_checkpoints, audit_keys
from tessera_app.audit_keys import AuditKey
from tessera_app.audit_trailers import with_trailers
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.base import transaction
from tessera_engine import cli

TABLE = AuditEvent.__table__


@pytest.fixture(autouse=True)
def real_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service and the auditor share a real TESSERA_SECRET_KEY (a key derived from the
    placeholder default is not trusted by ``tessera audit verify``)."""
    monkeypatch.setenv("TESSERA_SECRET_KEY", "a-real-secret-for-the-audit-anchor-tests")


def tessera(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def chain_alone_accepts(sessions: sessionmaker[Session]) -> bool:
    """The walk of the hash chain alone: consecutive sequence numbers, each row pointing at the
    previous row's hash and hashing to its own."""
    expected, prev = 1, audit.GENESIS
    with sessions() as session:
        for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
            if (event.seq, event.prev_hash, audit.event_hash(event)) != (
                expected,
                prev,
                event.hash,
            ):
                return False
            expected, prev = event.seq + 1, event.hash
    return True


@dataclass
class Anchored:
    """A log of 6 events in two transactions, a checkpoint file written after each, and a
    registry repository whose commits carry the same checkpoints as trailers."""

    database_url: str
    sessions: sessionmaker[Session]
    checkpoints: Path
    registry: Path

    def verify(self, *extra: str) -> tuple[int, dict[str, Any]]:
        code, out, err = tessera(
            "audit",
            "verify",
            "--database-url",
            self.database_url,
            "--checkpoints",
            str(self.checkpoints),
            "--registry",
            str(self.registry),
            "-o",
            "json",
            *extra,
        )
        assert code in (0, 1), err
        return code, json.loads(out)


def _append(sessions: sessionmaker[Session], start: int, n: int) -> None:
    with transaction(sessions) as session:
        for i in range(start, start + n):
            audit.record(
                session, action="t.done", actor=f"u{i}", subject=f"s:{i}", details={"i": i}
            )


def _registry_commit(repo: pygit2.Repository, message: str) -> None:
    signature = pygit2.Signature("tessera[bot]", "bot@example.com")
    tree = repo.TreeBuilder().write()
    parents = [] if repo.head_is_unborn else [repo.head.target]
    repo.create_commit("HEAD", signature, signature, message, tree, parents)


@pytest.fixture
def anchored(database_url: str, sessions: sessionmaker[Session], tmp_path: Path) -> Anchored:
    checkpoints = tmp_path / "checkpoints.jsonl"
    repo = pygit2.init_repository(str(tmp_path / "registry"))
    for start in (1, 4):
        _append(sessions, start, 3)
        with sessions() as session:
            head = audit_checkpoints.committed_head(session)
        assert head is not None and head.seq == start + 2
        assert audit_checkpoints.append(checkpoints, head)
        _registry_commit(repo, with_trailers(f"Publish orders-api 1.{start}.0\n", head))
    return Anchored(database_url, sessions, checkpoints, tmp_path / "registry")


def _rows(sessions: sessionmaker[Session]) -> list[AuditEvent]:
    with sessions() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def _rewrite_from(
    sessions: sessionmaker[Session], first: int, signing: AuditKey | None, strip: bool = False
) -> None:
    """Change row ``first`` and recompute the hashes from there on, as someone with the
    database but not the key would: signatures kept as they were, stripped (``strip``), or
    made with another key (``signing``)."""
    rows = _rows(sessions)
    prev = rows[first - 2].hash if first > 1 else audit.GENESIS
    with transaction(sessions) as session:
        for row in rows[first - 1 :]:
            actor = "mallory" if row.seq == first else row.actor
            fields = {
                "seq": row.seq,
                "occurred_at": row.occurred_at,
                "action": row.action,
                "actor": actor,
                "team": row.team,
                "subject": row.subject,
                "details": row.details,
                "prev_hash": prev,
            }
            digest = audit.compute_hash(**fields)
            values: dict[str, Any] = {"actor": actor, "prev_hash": prev, "hash": digest}
            if signing is not None:
                values.update(key_id=signing.key_id, signature=signing.sign(row.seq, digest))
            elif strip:
                values.update(key_id=None, signature=None)
            session.execute(update(TABLE).where(TABLE.c.seq == row.seq).values(**values))
            prev = digest


def _forge_append(
    sessions: sessionmaker[Session], signing: AuditKey | None, signature: str | None = None
) -> int:
    """Append a correctly hashed row without the service: unsigned, signed with another key, or
    carrying a copied ``signature``."""
    last = _rows(sessions)[-1]
    fields = {
        "seq": last.seq + 1,
        "occurred_at": last.occurred_at,
        "action": "ack.approved",
        "actor": "mallory",
        "team": "payments",
        "subject": "proposal:1",
        "details": {"forged": True},
        "prev_hash": last.hash,
    }
    digest = audit.compute_hash(**fields)
    if signing is not None:
        key_id, signature = signing.key_id, signing.sign(last.seq + 1, digest)
    else:
        key_id = last.key_id if signature else None
    with transaction(sessions) as session:
        session.execute(
            insert(TABLE).values(**fields, hash=digest, key_id=key_id, signature=signature)
        )
    return last.seq + 1


def test_the_untouched_log_agrees_with_every_anchor(anchored: Anchored) -> None:
    code, report = anchored.verify()
    assert code == 0 and report["ok"], report
    assert report["checked"] == report["signed"] == report["head_seq"] == 6
    assert report["anchors"] == report["anchors_given"] == 4
    assert report["newest_anchor"] == 6 and report["first_bad_seq"] is None
    code, out, _ = tessera(
        "audit",
        "verify",
        "--database-url",
        anchored.database_url,
        "--registry",
        str(anchored.registry),
    )
    assert code == 0
    assert out.splitlines()[0].startswith("audit log intact: 6 events, head ")
    assert "anchors: 2 of 2 agree, the newest at event 6" in out


def test_a_truncated_log_is_caught_by_its_anchors(anchored: Anchored) -> None:
    """(a) the newest rows removed."""
    with transaction(anchored.sessions) as session:
        session.execute(delete(TABLE).where(TABLE.c.seq > 4))
    assert chain_alone_accepts(anchored.sessions)
    code, report = anchored.verify()
    assert code == 1 and report["first_bad_seq"] == 5
    assert "rows 5 to 6 are missing" in report["problem"]
    assert "ends at row 4" in report["problem"]


def test_a_rewritten_tail_is_caught_by_its_signatures(anchored: Anchored) -> None:
    """(b) every row from row 3 on rewritten with recomputed hashes, signatures as they were."""
    _rewrite_from(anchored.sessions, 3, signing=None)
    assert chain_alone_accepts(anchored.sessions)
    code, report = anchored.verify()
    assert code == 1 and report["first_bad_seq"] == 3
    assert "does not match its signature" in report["problem"]


def test_a_rewritten_tail_signed_with_another_key_is_caught(anchored: Anchored) -> None:
    """(b) with the attacker's own key."""
    _rewrite_from(anchored.sessions, 3, signing=AuditKey.generate())
    assert chain_alone_accepts(anchored.sessions)
    code, report = anchored.verify()
    assert code == 1 and report["first_bad_seq"] == 3
    assert "not a trusted key" in report["problem"]


def test_a_rewritten_tail_stripped_of_signatures_is_caught(anchored: Anchored) -> None:
    """(b) with the signatures removed from the rewritten rows."""
    _rewrite_from(anchored.sessions, 3, signing=None, strip=True)
    assert chain_alone_accepts(anchored.sessions)
    code, report = anchored.verify()
    assert code == 1 and report["first_bad_seq"] == 3
    assert "row 3 is not signed, although row 2 before it is" in report["problem"]


def test_a_log_stripped_of_every_signature_is_caught_by_its_anchors(anchored: Anchored) -> None:
    """(b) rewritten from row 5 with every signature stripped, so that the whole log looks as
    if it came from before signing: the anchors still know rows 3 and 6 were signed."""
    _rewrite_from(anchored.sessions, 5, signing=None, strip=True)
    with transaction(anchored.sessions) as session:
        session.execute(update(TABLE).values(key_id=None, signature=None))
    assert chain_alone_accepts(anchored.sessions)
    code, report = anchored.verify()
    assert code == 1 and report["first_bad_seq"] == 3
    assert "row 3 has lost its signature" in report["problem"]


def test_a_forged_unsigned_row_is_caught_even_after_later_events(anchored: Anchored) -> None:
    """(c) a correctly hashed row appended without the key, then a genuine event on top."""
    forged = _forge_append(anchored.sessions, signing=None)
    _append(anchored.sessions, 100, 1)  # the service signs the next event, chained to it
    assert chain_alone_accepts(anchored.sessions)
    code, report = anchored.verify()
    assert code == 1 and report["first_bad_seq"] == forged == 7
    assert "row 7 is not signed, although row 6 before it is" in report["problem"]


@pytest.mark.parametrize("how", ["another key", "a copied signature"])
def test_a_forged_signed_row_is_caught(anchored: Anchored, how: str) -> None:
    """(c) with the attacker's key, or with the signature of the row before it."""
    if how == "another key":
        forged = _forge_append(anchored.sessions, signing=AuditKey.generate())
        expected = "not a trusted key"
    else:
        copied = _rows(anchored.sessions)[-1].signature
        forged = _forge_append(anchored.sessions, signing=None, signature=copied)
        expected = "does not match its signature"
    assert chain_alone_accepts(anchored.sessions)
    code, report = anchored.verify()
    assert code == 1 and report["first_bad_seq"] == forged
    assert expected in report["problem"]


def test_an_emptied_log_is_caught_by_its_anchors(anchored: Anchored) -> None:
    """(d) every row deleted: an empty chain is a valid chain."""
    with transaction(anchored.sessions) as session:
        session.execute(delete(TABLE))
    assert chain_alone_accepts(anchored.sessions)
    code, report = anchored.verify()
    assert code == 1 and report["first_bad_seq"] == 1
    assert "rows 1 to 6 are missing" in report["problem"] and "is empty" in report["problem"]
    code, out, _ = tessera(
        "audit", "verify", "--database-url", anchored.database_url, "--checkpoints",
        str(anchored.checkpoints),
    )  # fmt: skip
    assert code == 1 and out.startswith("audit log broken at event 1: rows 1 to 6 are missing")


def test_an_anchor_made_without_the_key_is_refused(anchored: Anchored) -> None:
    """A checkpoint line added by someone without the key (to hide a truncation, or to make
    the log look broken) is itself reported."""
    last = _rows(anchored.sessions)[-1]
    stranger = AuditKey.generate()
    line = {
        "seq": 6,
        "hash": last.hash,
        "key_id": last.key_id,
        "signature": stranger.sign(6, last.hash),
    }
    with anchored.checkpoints.open("a") as handle:
        handle.write(json.dumps(line) + "\n")
    code, report = anchored.verify()
    assert code == 1 and report["first_bad_seq"] == 6
    assert f"{anchored.checkpoints}:3 (row 6) has an invalid signature" in report["problem"]


def test_a_rotated_key_needs_the_older_public_key(
    anchored: Anchored, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rotation: after the signing key changes, the events and anchors of the older key verify
    only when its public key is trusted too (``TESSERA_AUDIT_PUBLIC_KEYS`` or
    ``--public-key``)."""
    old = audit_keys.process_key()
    new = AuditKey.generate()
    monkeypatch.setenv("TESSERA_AUDIT_SIGNING_KEY", new.pem)
    _append(anchored.sessions, 7, 2)
    rows = _rows(anchored.sessions)
    assert [r.key_id for r in rows] == [old.key_id] * 6 + [new.key_id] * 2
    code, report = anchored.verify()
    assert code == 1 and report["first_bad_seq"] == 1
    assert f"signed with key {old.key_id}, which is not a trusted key" in report["problem"]
    code, report = anchored.verify("--public-key", new.public.pem)
    assert code == 1 and report["first_bad_seq"] == 1
    code, report = anchored.verify("--public-key", new.public.pem, "--public-key", old.public.pem)
    assert code == 0 and report["key_ids"] == sorted([old.key_id, new.key_id])
    monkeypatch.setenv("TESSERA_AUDIT_PUBLIC_KEYS", old.public.pem)
    code, report = anchored.verify()
    assert code == 0 and report["signed"] == 8 and report["anchors"] == 4


def test_a_malformed_trailer_on_any_ref_does_not_stop_verification(anchored: Anchored) -> None:
    """Anyone who can push a branch to the registry adds a commit with broken trailers: it is
    a warning, and the well-formed anchors still catch a truncation."""
    repo = pygit2.Repository(str(anchored.registry))
    author = pygit2.Signature("someone", "someone@example.com")
    junk = "Fix typo\n\nTessera-Audit-Seq: 99\nTessera-Audit-Hash: nothex\n"
    repo.create_commit(
        "refs/heads/prank", author, author, junk, repo.TreeBuilder().write(), [repo.head.target]
    )
    code, report = anchored.verify()
    assert code == 0 and report["anchors"] == 4
    (warning,) = report["warnings"]
    assert "the trailer Tessera-Audit-Key is missing: not used as an anchor" in warning
    with transaction(anchored.sessions) as session:
        session.execute(delete(TABLE).where(TABLE.c.seq > 4))
    code, report = anchored.verify()
    assert code == 1 and report["first_bad_seq"] == 5 and len(report["warnings"]) == 1
