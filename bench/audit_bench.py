"""What signing costs the audit log: per appended event, and per event verified.

    sign                 ``AuditKey.sign`` alone (Ed25519 over seq, hash, key id; base64)
    process key          ``audit_keys.process_key()``: the environment lookup and cache hit
    append, signed       ``audit.record`` + commit, one event per transaction (the path of
                         every decision), with the process key
    append, unsigned     the same with the signature replaced by a constant (what the row
                         cost before signing), interleaved with the signed appends; the
                         difference is the price of signing
    verify               ``audit.verify`` over N events (chain + every signature), per event
    verify, chain only   the same walk with the signature check switched off, per event

Run: ``.venv/bin/python bench/audit_bench.py [--database URL] [--events N] [--verify N]``
(default: a fresh SQLite file; PostgreSQL: a URL to an empty database, which it fills).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import delete

from tessera_app import audit, audit_keys, audit_verify
from tessera_app.db.audit_models import AuditEvent
from tessera_app.db.base import make_engine, session_factory, transaction
from tessera_app.db.models import load_all


def _per_call(function: Callable[[], Any], n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def _line(name: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p50 = statistics.median(ordered) * 1e6
    p95 = ordered[int(len(ordered) * 0.95) - 1] * 1e6
    return f"{name:<22} p50 {p50:9.1f} µs   p95 {p95:9.1f} µs   (n={len(ordered)})"


class _Unsigned:
    key_id = "0" * 16

    def sign(self, seq: int, hash: str) -> str:
        return "A" * 86 + "=="


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="default: a fresh SQLite file")
    parser.add_argument("--events", type=int, default=500, help="appends timed per variant")
    parser.add_argument("--verify", type=int, default=5000, help="events in the verified log")
    args = parser.parse_args(argv)
    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'audit-bench.db'}"
    engine = make_engine(url)
    load_all().metadata.create_all(engine)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        session.execute(delete(AuditEvent))

    key = audit_keys.process_key()
    print(f"database: {engine.dialect.name}")
    print(_line("sign", _per_call(lambda: key.sign(123456, "ab" * 32), 5000)))
    print(_line("process key", _per_call(audit_keys.process_key, 5000)))

    def append() -> None:
        with transaction(sessions) as session:
            audit.record(session, action="bench", actor="a", subject="s", details={"n": 1})

    for _ in range(20):
        append()
    signed, unsigned = [], []
    unsigning = mock.patch.object(audit, "process_key", _Unsigned)
    for _ in range(args.events):  # interleaved, so that a busy machine slows both alike
        signed += _per_call(append, 1)
        with unsigning:
            unsigned += _per_call(append, 1)
    print(_line("append, signed", signed))
    print(_line("append, unsigned", unsigned))
    delta = (statistics.median(signed) - statistics.median(unsigned)) * 1e6
    print(f"{'signing adds':<22} {delta:9.1f} µs per event (p50 difference)")

    with transaction(sessions) as session:
        session.execute(delete(AuditEvent))
    with transaction(sessions) as session:
        for i in range(args.verify):
            audit.record(session, action="bench", actor="a", subject=f"s{i}", details={"i": i})
    keys = audit_keys.process_trusted_keys()
    with sessions() as session:
        start = time.perf_counter()
        report = audit.verify(session, keys)
        full = time.perf_counter() - start
    assert report.ok and report.signed == args.verify, report
    with (
        sessions() as session,
        mock.patch.object(audit_verify._Walk, "_signature", lambda *_: None),
    ):
        start = time.perf_counter()
        audit.verify(session, keys)
        chain = time.perf_counter() - start
    print(f"{'verify':<22} {full / args.verify * 1e6:9.1f} µs per event ({args.verify} events)")
    print(f"{'verify, chain only':<22} {chain / args.verify * 1e6:9.1f} µs per event")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
