"""Nothing waits on another service inside a database transaction.

A job that calls GitHub may wait seconds for an answer. Holding a transaction open meanwhile
would hold SQLite's only write lock (every webhook and API write would queue behind it, then
fail) and, on PostgreSQL, the row locks and the audit chain's advisory lock. So the code that
runs a unit of work registers how to end its transaction (``releasing(commit)``), and every
client of another service calls ``before_io()`` before each request: the work done so far is
committed, and the next database access starts a fresh, short transaction.

    with releasing(lambda: session.commit()):
        handler(session, payload)          # each gateway request commits what came before

Outside ``releasing`` (the API, tests calling the gateway directly) ``before_io`` does nothing.
The state is a context variable: each thread (each worker) has its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_release: ContextVar[Callable[[], None] | None] = ContextVar("tessera_release", default=None)


@contextmanager
def releasing(release: Callable[[], None]) -> Iterator[None]:
    """Within the block, ``before_io()`` calls ``release`` (usually: commit the session)."""
    token = _release.set(release)
    try:
        yield
    finally:
        _release.reset(token)


def record_now() -> None:
    """What another service just made (an issue GitHub created) is committed at once, so a
    job cut short after the call still finds it when it runs again (the same as ``before_io``:
    the transaction ends here)."""
    before_io()


def before_io() -> None:
    """About to wait on another service: end the current transaction, if a unit of work has
    one open."""
    release = _release.get()
    if release is not None:
        release()
