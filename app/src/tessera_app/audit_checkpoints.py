"""Checkpoints: the signed head of the audit log, kept outside the database.

    committed_head(session) -> Checkpoint | None     the newest committed signed event
    append(path, checkpoint) -> bool                 add it to a JSON-lines file (no repeat)
    read_file(path) -> list[Checkpoint]              every checkpoint of such a file
    write(session, path)                             the worker's ``audit.checkpoint`` job

A checkpoint is ``(seq, hash, key_id, signature)``: the sequence number and hash of an event
and that event's own signature (``audit_keys.message``). It is only ever taken from a signed
event as stored, never signed afresh, so a checkpoint proves that the event was signed by the
service when it was appended: rows cut off after it, rewritten before it, or stripped of their
signatures are caught by ``tessera audit verify`` against it. Taking a checkpoint never
appends or signs an event: unsigned rows are covered only once, by the migration that
introduced signing (``audit_signing_start``). Checkpoints live in the
registry's commits (``audit_trailers``), in an append-only file written by the worker's
``audit.checkpoint`` job (``TESSERA_AUDIT_CHECKPOINT_FILE``), and with whoever stores the
answers of ``GET /api/v1/audit/checkpoint``.

One checkpoint per line in the file: ``{"seq": 42, "hash": "…", "key_id": "…", "signature":
"…", "taken_at": "…"}`` (``taken_at`` is informative, not signed).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .db.audit_models import AuditEvent
from .db.base import utcnow

_HASH = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_SIGNATURE = re.compile(r"[A-Za-z0-9+/]{86}==")
_TAIL = 8192  # bytes read from the end of a checkpoint file to find its last line


class CheckpointError(ValueError):
    """A checkpoint that cannot be read (the message says where and why)."""


@dataclass(frozen=True)
class Checkpoint:
    """A signed head of the audit log, and where it was found (for messages)."""

    seq: int
    hash: str
    key_id: str
    signature: str
    source: str = "the database"
    taken_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "seq": self.seq,
            "hash": self.hash,
            "key_id": self.key_id,
            "signature": self.signature,
        }
        if self.taken_at is not None:
            data["taken_at"] = self.taken_at.isoformat()
        return data

    @classmethod
    def parse(cls, data: Any, source: str) -> Checkpoint:
        """A checkpoint from its JSON form; ``CheckpointError`` naming ``source`` when a field
        is missing or malformed."""
        if not isinstance(data, dict):
            raise CheckpointError(f"{source}: a checkpoint is a JSON object")
        seq = data.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise CheckpointError(f"{source}: seq must be a positive integer")
        fields = {}
        for name, pattern, what in (
            ("hash", _HASH, "64 lowercase hex digits"),
            ("key_id", _KEY_ID, "16 lowercase hex digits"),
            ("signature", _SIGNATURE, "88 characters of base64"),
        ):
            value = data.get(name)
            if not isinstance(value, str) or not pattern.fullmatch(value):
                raise CheckpointError(f"{source}: {name} must be {what}")
            fields[name] = value
        taken_at = None
        if isinstance(data.get("taken_at"), str):
            try:
                taken_at = datetime.fromisoformat(data["taken_at"])
            except ValueError:
                raise CheckpointError(f"{source}: taken_at is not an ISO 8601 time") from None
        return cls(seq=seq, source=source, taken_at=taken_at, **fields)


def committed_head(session: Session) -> Checkpoint | None:
    """The newest signed event that is committed (the rows ``session`` appended in its open
    transaction could still roll back, so they are left out); None when no committed event
    is signed."""
    query = (
        select(AuditEvent.seq, AuditEvent.hash, AuditEvent.key_id, AuditEvent.signature)
        .where(AuditEvent.signature.is_not(None), AuditEvent.key_id.is_not(None))
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )
    own = audit.appended_from(session)
    if own is not None:
        query = query.where(AuditEvent.seq < own)
    row = session.execute(query).first()
    if row is None:
        return None
    return Checkpoint(
        seq=row.seq, hash=row.hash, key_id=row.key_id, signature=row.signature, taken_at=utcnow()
    )


def _tail(path: Path) -> bytes:
    """The last bytes of the file at ``path`` (empty when there is no file)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - _TAIL))
            return handle.read()
    except FileNotFoundError:
        return b""


def _last(tail: bytes) -> Checkpoint | None:
    """The checkpoint on the last line of ``tail`` (None: no line, or not a checkpoint)."""
    lines = [line for line in tail.decode(errors="replace").splitlines() if line.strip()]
    if not lines:
        return None
    try:
        return Checkpoint.parse(json.loads(lines[-1]), "the last line")
    except (json.JSONDecodeError, CheckpointError):
        return None


def append(path: str | Path, checkpoint: Checkpoint) -> bool:
    """Append ``checkpoint`` as one JSON line to the file at ``path`` (created if missing;
    its directory must exist), unless the file's last checkpoint is the same event. One
    ``write`` in append mode, then ``fsync``: writers never interleave within a line, and a
    line cut short by a crash stays on its own line (``read_file`` names it). True when a line
    was written."""
    target = Path(path)
    tail = _tail(target)
    last = _last(tail)
    if last is not None and (last.seq, last.hash) == (checkpoint.seq, checkpoint.hash):
        return False
    line = json.dumps(checkpoint.to_dict(), separators=(",", ":")) + "\n"
    if tail and not tail.endswith(b"\n"):
        line = "\n" + line
    descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return True


def read_file(path: str | Path) -> list[Checkpoint]:
    """Every checkpoint in the JSON-lines file at ``path`` (blank lines are skipped);
    ``CheckpointError`` with ``path:line`` for a line that is not a checkpoint."""
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise CheckpointError(f"{target}: cannot read: {reason}") from None
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{target}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as err:
            raise CheckpointError(f"{where}: not JSON ({err.msg})") from None
        found.append(Checkpoint.parse(data, where))
    return found


def write(session: Session, path: str | Path, actor: str | None = None) -> Checkpoint | None:
    """The ``audit.checkpoint`` job: append the newest committed signed event to the file at
    ``path`` (nothing when no event is signed). It only reads the log, so ``actor`` (who runs
    the job) is not recorded anywhere."""
    head = committed_head(session)
    if head is not None:
        append(path, head)
    return head
