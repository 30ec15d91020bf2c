"""Verifying the audit log: the chain, every signature, and the checkpoints kept elsewhere.

    verify(session, keys=None, anchors=()) -> VerifyReport

The walk goes through the rows in sequence order and stops at the first one that is out of
place, with what is wrong with it:

- the chain: a row missing (a gap), out of order, not following the previous row's hash, or
  changed (its content no longer hashes to its ``hash``);
- its signature: made with a key that is not trusted, or not a signature of this row (a row
  forged, or rewritten with recomputed hashes, without the key); a row without a signature
  after signed rows (added or rewritten without the key). Unsigned rows are accepted only at
  the start of the log and only when the first signed row is the ``audit.signing_started``
  event that covers exactly them (``audit_signing_start``: appended once, by the migration
  that introduced signing); otherwise they were written without the key, and the walk stops
  at row 1;
- its anchors (checkpoints from registry commits, a checkpoint file, a witness): the
  checkpoint's signature must be valid and its hash the row's, and the row must still carry
  its signature; a checkpoint of a row beyond the end of the log means the newest rows were
  removed (or all of them, when the log is empty).

Without anchors the walk cannot see the newest rows cut off or the whole log emptied: the
report says how many anchors agreed, and up to which row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import BATCH, GENESIS, event_hash
from .audit_checkpoints import Checkpoint
from .audit_keys import TrustedKeys, process_trusted_keys
from .audit_signing_start import ACTION as SIGNING_STARTED
from .audit_signing_start import covers
from .db.audit_models import AuditEvent


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of the walk: ``ok``, how many rows were checked, and for a broken log the
    first bad sequence number and what is wrong with it. ``head`` and ``head_seq`` are the
    last good row's; ``signed`` rows carry a valid signature (by ``key_ids``), ``unsigned``
    rows are from before signing existed, covered by the ``audit.signing_started`` event at
    row ``signing_started``; ``anchors`` checkpoints agreed, the newest of them at row
    ``newest_anchor``; ``trusted_key_ids`` are the keys whose signatures counted."""

    ok: bool
    checked: int
    head: str
    first_bad_seq: int | None = None
    problem: str | None = None
    head_seq: int = 0
    signed: int = 0
    unsigned: int = 0
    key_ids: tuple[str, ...] = ()
    anchors: int = 0
    newest_anchor: int | None = None
    signing_started: int | None = None
    trusted_key_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head": self.head,
            "head_seq": self.head_seq,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "signed": self.signed,
            "unsigned": self.unsigned,
            "key_ids": list(self.key_ids),
            "anchors": self.anchors,
            "newest_anchor": self.newest_anchor,
            "signing_started": self.signing_started,
            "trusted_key_ids": list(self.trusted_key_ids),
        }


def verify(
    session: Session, keys: TrustedKeys | None = None, anchors: Iterable[Checkpoint] = ()
) -> VerifyReport:
    """Walk the log; ``keys`` are the public keys whose signatures count (default: the keys
    this process's environment trusts), ``anchors`` the checkpoints to hold the rows to."""
    walk = _Walk(process_trusted_keys() if keys is None else keys, anchors)
    result = session.execute(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=BATCH)
    )
    try:  # a server-side cursor on PostgreSQL: closed even when the walk stops early
        for event in result.scalars():
            problem = walk.step(event)
            if problem:
                return walk.report(problem)
    finally:
        result.close()
    return walk.report(walk.finish())


Problem = tuple[int, str] | None
"""The first bad sequence number and what is wrong (None: nothing)."""


@dataclass
class _Walk:
    keys: TrustedKeys
    given: Iterable[Checkpoint]
    anchored: dict[int, list[Checkpoint]] = field(default_factory=lambda: defaultdict(list))
    expected_seq: int = 1
    prev_hash: str = GENESIS
    good_seq: int = 0
    good_hash: str = GENESIS
    """The last row accepted: unsigned rows wait for the event that covers them."""
    checked: int = 0
    signed: int = 0
    unsigned: int = 0
    pending: int = 0
    """Unsigned rows at the start of the log, not yet covered."""
    last_signed: int | None = None
    signing_started: int | None = None
    key_ids: set[str] = field(default_factory=set)
    anchors: int = 0
    newest_anchor: int | None = None
    verified: set[tuple[int, str, str, str]] = field(default_factory=set)
    """(seq, hash, key id, signature) found valid that a checkpoint may repeat: a checkpoint
    is its row's signature, and the same checkpoint is often kept in several places."""

    def __post_init__(self) -> None:
        for checkpoint in self.given:
            self.anchored[checkpoint.seq].append(checkpoint)

    def report(self, problem: Problem) -> VerifyReport:
        bad, reason = problem if problem else (None, None)
        return VerifyReport(
            ok=problem is None,
            checked=self.checked,
            head=self.good_hash,
            first_bad_seq=bad,
            problem=reason,
            head_seq=self.good_seq,
            signed=self.signed,
            unsigned=self.unsigned,
            key_ids=tuple(sorted(self.key_ids)),
            anchors=self.anchors,
            newest_anchor=self.newest_anchor,
            signing_started=self.signing_started,
            trusted_key_ids=tuple(sorted(self.keys)),
        )

    def step(self, event: AuditEvent) -> Problem:
        """Check ``event`` as the row after the last good one; on success it becomes that
        (an unsigned row only once the event covering it is found)."""
        problem = (
            self._chain(event)
            or self._signature(event)
            or self._history(event)
            or self._anchors(event)
        )
        if problem:
            return problem
        self.expected_seq, self.prev_hash = event.seq + 1, event.hash
        if event.signature is None:
            self.pending += 1
            return None
        if self.pending:
            self.signing_started = event.seq
            self.unsigned, self.checked, self.pending = self.pending, self.pending, 0
        self.signed += 1
        self.last_signed = event.seq
        self.key_ids.add(str(event.key_id))
        self.checked += 1
        self.good_seq, self.good_hash = event.seq, event.hash
        return None

    def _chain(self, event: AuditEvent) -> Problem:
        expected = self.expected_seq
        if event.seq > expected:
            gap = f"row {expected} is missing: the row after {expected - 1} is {event.seq}"
            return expected, gap
        if event.seq < expected:
            return event.seq, f"sequence number {event.seq} is out of order"
        if event.prev_hash != self.prev_hash:
            return (
                event.seq,
                f"row {event.seq} does not follow row {event.seq - 1}: its previous hash "
                "differs (a row was removed, replaced or reordered)",
            )
        if event_hash(event) != event.hash:
            return event.seq, f"row {event.seq} was changed: its content does not match its hash"
        return None

    def _signature(self, event: AuditEvent) -> Problem:
        if event.signature is None or event.key_id is None:
            if self.last_signed is not None:
                return (
                    event.seq,
                    f"row {event.seq} is not signed, although row {self.last_signed} before it "
                    "is: it was added or rewritten without the signing key",
                )
            return None
        if event.key_id not in self.keys:
            return (
                event.seq,
                f"row {event.seq} is signed with key {event.key_id}, which is not a trusted "
                "key (forged, or an older key not given: --public-key, "
                "TESSERA_AUDIT_PUBLIC_KEYS)",
            )
        if not self._valid(event.seq, event.hash, event.key_id, event.signature):
            return (
                event.seq,
                f"row {event.seq} does not match its signature: it was forged or rewritten "
                "without the signing key",
            )
        return None

    def _history(self, event: AuditEvent) -> Problem:
        """Unsigned rows before ``event``, the first signed row, must be exactly the ones its
        ``audit.signing_started`` event covers."""
        if not self.pending or event.signature is None or covers(event, self.pending):
            return None
        return (
            1,
            f"rows 1 to {self.pending} are not signed, and row {event.seq}, the first signed "
            f"row, is not the {SIGNING_STARTED} event that covers exactly them: they were "
            "written without the signing key (the log forged or replaced through the "
            "database) or stripped of their signatures",
        )

    def _valid(self, seq: int, hash: str, key_id: str, signature: str) -> bool:
        """Whether ``signature`` is the trusted key ``key_id``'s signature of (seq, hash)
        (remembered while a checkpoint of ``seq`` may still ask)."""
        signed = (seq, hash, key_id, signature)
        if signed in self.verified:
            return True
        if not self.keys[key_id].verify(seq, hash, signature):
            return False
        if seq in self.anchored:
            self.verified.add(signed)
        return True

    def _anchors(self, event: AuditEvent) -> Problem:
        for checkpoint in self.anchored.get(event.seq, []):
            problem = self._signature_of(checkpoint, event.seq)
            if problem:
                return problem
            if checkpoint.hash != event.hash:
                return (
                    event.seq,
                    f"row {event.seq} differs from {checkpoint.source}: it has hash "
                    f"{event.hash[:16]}…, the checkpoint {checkpoint.hash[:16]}…",
                )
            if event.signature is None:
                return (
                    event.seq,
                    f"row {event.seq} has lost its signature: {checkpoint.source} shows it was "
                    "signed",
                )
            self.anchors += 1
            self.newest_anchor = event.seq
        if self.anchored.pop(event.seq, None):
            self.verified.clear()  # only this row's were kept: its checkpoints are done
        return None

    def _signature_of(self, checkpoint: Checkpoint, bad: int) -> Problem:
        if checkpoint.key_id not in self.keys:
            return (
                bad,
                f"{checkpoint.source} (row {checkpoint.seq}) is signed with key "
                f"{checkpoint.key_id}, which is not a trusted key",
            )
        if not self._valid(
            checkpoint.seq, checkpoint.hash, checkpoint.key_id, checkpoint.signature
        ):
            return bad, f"{checkpoint.source} (row {checkpoint.seq}) has an invalid signature"
        return None

    def finish(self) -> Problem:
        """After the last row: checkpoints beyond it, and rows no signature covers."""
        last = self.expected_seq - 1
        beyond = [c for seq in sorted(self.anchored) for c in self.anchored[seq]]
        for checkpoint in beyond:
            problem = self._signature_of(checkpoint, last + 1)
            if problem:
                return problem
        if beyond:
            newest = beyond[-1]
            end = f"ends at row {last}" if last else "is empty"
            return (
                last + 1,
                f"rows {last + 1} to {newest.seq} are missing: {newest.source} anchors row "
                f"{newest.seq}, but the log {end} (the newest rows were removed)",
            )
        if self.pending:
            return (
                1,
                f"rows 1 to {last} are not signed and no {SIGNING_STARTED} event covers them: "
                "they were written without the signing key (the log forged or replaced "
                "through the database) or stripped of their signatures",
            )
        return None
