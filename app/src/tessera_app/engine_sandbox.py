"""Running the engine on a stranger's spec in a process of its own, bounded in CPU time and memory.

The API compares what anyone sends (the pre-publish check, the impact of a proposed spec), so a
bug that makes one input cost unbounded work (an Avro ``fixed`` decimal of size 10**8 once
computed ``2**(8*size)`` while holding the GIL, freezing every request) must not reach the API
process. Each run happens in a child forked from multiprocessing's fork server, which has the
engine imported already (a child starts in about 25 ms; the server itself starts with the first
run and ends with the API process). The child is bounded by the kernel:

    RLIMIT_CPU   ``cpu_seconds`` of CPU (TESSERA_CHECK_CPU_SECONDS), then SIGXCPU ends it
    RLIMIT_AS    ``memory_mb`` of address space beyond what the child starts with
                 (TESSERA_CHECK_MEMORY_MB): an allocation past it fails (MemoryError)
    RLIMIT_CORE  0: a child that is stopped leaves no core file

and by the parent, which kills it once ``wall_seconds`` have passed (a child that waits
instead of computing uses no CPU). At most ``workers`` run at once (TESSERA_CHECK_WORKERS): one
more is refused with ``Busy`` (the API answers 503 with Retry-After) rather than queued.

The parent sends the task and its argument as plain data (pickled; the parent builds them from
the database, the child never opens it) and the child answers with the bytes its task made
(JSON): the parent never unpickles what a child sends.
"""

from __future__ import annotations

import contextlib
import copyreg
import functools
import io
import json
import logging
import multiprocessing
import os
import pickle
import resource
import signal
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from types import MappingProxyType
from typing import Any, TypeVar

from tessera_engine.errors import TesseraError

log = logging.getLogger(__name__)

T = TypeVar("T")

PRELOAD = ("tessera_app.engine_sandbox", "tessera_app.api.registry_runs")
"""Modules the fork server imports once, so a child starts with the engine and its tasks
loaded. A task must be a module-level function of one of them (or of a module they import)."""

HEADER_MAX = 64 * 1024  # bytes of a child's status message (its traceback is cut to fit)
TRACEBACK_MAX = 8_000
MESSAGE_MAX = 4_000  # characters of a refusal's message (a spec can make one long)
WALL_FACTOR = 10
WALL_MARGIN_SECONDS = 10.0
RETRY_AFTER_SECONDS = 5
EXIT_SECONDS = 10.0  # how long a child that answered (or closed its pipe) gets to exit


@dataclass(frozen=True)
class Bounds:
    """What one run may use (``Settings``: TESSERA_CHECK_CPU_SECONDS, TESSERA_CHECK_MEMORY_MB,
    TESSERA_CHECK_WORKERS)."""

    cpu_seconds: int
    memory_mb: int
    workers: int

    @property
    def wall_seconds(self) -> float:
        """How long a run may take in all: a backstop for a run that waits instead of
        computing (RLIMIT_CPU stops one that computes), generous enough for a machine whose
        cores are shared many times over."""
        return WALL_FACTOR * self.cpu_seconds + WALL_MARGIN_SECONDS


class SandboxError(Exception):
    """A run that gave no result; the message says why, in one sentence, for the caller."""


class Overrun(SandboxError):
    """The run used more CPU time, memory or time than allowed: the input is too costly."""


class Refused(SandboxError):
    """The engine refused the input (its ``TesseraError``: a spec that does not parse, a
    limit, a bad version)."""


class Crashed(SandboxError):
    """The engine failed on the input in a way it should not (a bug in Tessera)."""


class Busy(SandboxError):
    """Every worker is running already (or the run was stopped by ``close``, as the server
    shuts down): not the input's fault; ``retry_after`` seconds is a fair wait."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class EngineSandbox:
    """Runs tasks in bounded child processes, at most ``bounds.workers`` at once. Holds no
    process while idle; ``close`` ends the runs in progress (at the app's shutdown)."""

    def __init__(self, bounds: Bounds) -> None:
        self.bounds = bounds
        self._slots = threading.BoundedSemaphore(bounds.workers)
        self._lock = threading.Lock()
        self._running: set[BaseProcess] = set()
        self._closed: set[BaseProcess] = set()  # killed by ``close``

    def run(self, task: Callable[[T], bytes], argument: T, *, what: str = "the check") -> bytes:
        """``task(argument)`` in a child process: the bytes it returned, or a ``SandboxError``
        naming ``what`` ran and why it stopped. Blocks the calling thread (never the event
        loop: call it from a worker thread) until the child answers or is stopped."""
        if not self._slots.acquire(blocking=False):
            raise Busy(
                f"the server is running {self.bounds.workers} engine runs already: try again "
                f"in {RETRY_AFTER_SECONDS} s (TESSERA_CHECK_WORKERS sets how many run at once)",
                RETRY_AFTER_SECONDS,
            )
        try:
            return self._run(_dumps((_engine_environment(), task, argument)), what)
        finally:
            self._slots.release()

    @property
    def running(self) -> list[int]:
        """The process ids of the runs in progress."""
        with self._lock:
            return [process.pid for process in self._running if process.pid is not None]

    def close(self) -> None:
        """Kill the runs in progress (their callers, which reap them, get ``Busy``)."""
        with self._lock:
            running = [process for process in self._running if process.pid is not None]
            self._closed.update(running)
        for process in running:
            with contextlib.suppress(OSError):
                process.kill()

    def _run(self, request: bytes, what: str) -> bytes:
        bounds = self.bounds
        ours, theirs = _context().Pipe(duplex=True)
        process = _context().Process(
            target=_child,
            args=(theirs, bounds.cpu_seconds, bounds.memory_mb),
            name="tessera-engine-run",
            daemon=True,
        )
        with self._lock:
            self._running.add(process)
        try:
            process.start()
            theirs.close()
            header, body = _exchange(ours, request, bounds)
            if header is None or header.get("outcome") != "wall":
                process.join(EXIT_SECONDS)  # it has answered, or ended: let it finish
        finally:
            ours.close()
            _kill(process)
            with self._lock:
                self._running.discard(process)
                closed = process in self._closed
                self._closed.discard(process)
        if closed:
            raise Busy(
                f"{what} was stopped: the server is shutting down; try again in "
                f"{RETRY_AFTER_SECONDS} s",
                RETRY_AFTER_SECONDS,
            )
        if header is None:
            raise _stopped(what, process.exitcode, bounds)
        return _result(what, header, body, bounds)


def _exchange(
    connection: Connection, request: bytes, bounds: Bounds
) -> tuple[dict[str, Any] | None, bytes]:
    """Send the request; the child's status message (None when it ended without one: it was
    stopped) and, after a successful run, its result. Waits ``bounds.wall_seconds`` at most."""
    try:
        connection.send_bytes(request)
        if not connection.poll(bounds.wall_seconds):
            return {"outcome": "wall"}, b""
        header = json.loads(connection.recv_bytes(HEADER_MAX))
        if not isinstance(header, dict):
            return None, b""
        body = b""
        if header.get("outcome") == "done":
            body = connection.recv_bytes(bounds.memory_mb * 1024 * 1024)
    except (EOFError, OSError, ValueError):  # the child was stopped (or its result was over
        return None, b""  # its memory, or its status message was not one: never a 500)
    return header, body


def _result(what: str, header: dict[str, Any], body: bytes, bounds: Bounds) -> bytes:
    outcome = header.get("outcome")
    if outcome == "done":
        return body
    if outcome == "refused":
        raise Refused(str(header.get("message", "")))
    if outcome == "memory":
        raise _over_memory(what, bounds)
    if outcome == "wall":
        raise Overrun(
            f"{what} took more than {bounds.wall_seconds:g} s and was stopped (it may use "
            f"{bounds.cpu_seconds} s of CPU, TESSERA_CHECK_CPU_SECONDS, and {WALL_FACTOR} "
            f"times that, plus {WALL_MARGIN_SECONDS:g} s, in all)"
        )
    log.error("%s failed in the engine:\n%s", what, header.get("traceback", ""))
    raise Crashed(
        f"{what} failed: {header.get('error', 'an error')} in the engine, a bug in Tessera "
        f"(the server's log has the details)"
    )


def _stopped(what: str, exitcode: int | None, bounds: Bounds) -> SandboxError:
    """Why a child that sent no status ended, from its exit code."""
    if exitcode == -signal.SIGXCPU:
        return Overrun(
            f"{what} used more than {bounds.cpu_seconds} s of CPU and was stopped: the spec "
            f"is too costly to compare (TESSERA_CHECK_CPU_SECONDS raises the limit)"
        )
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        log.error("%s: the engine's process was stopped by %s", what, name)
        return Overrun(
            f"{what} was stopped by {name}, which usually means it ran out of memory "
            f"(TESSERA_CHECK_MEMORY_MB={bounds.memory_mb} bounds it)"
        )
    log.error("%s: the engine's process ended with %s and no result", what, exitcode)
    return Crashed(f"{what} failed: the engine's process ended with {exitcode}, a bug in Tessera")


def _over_memory(what: str, bounds: Bounds) -> Overrun:
    return Overrun(
        f"{what} needed more than {bounds.memory_mb} MB of memory and was stopped: the spec "
        f"is too large to compare (TESSERA_CHECK_MEMORY_MB raises the limit)"
    )


def _kill(process: BaseProcess) -> None:
    """Stop ``process`` if it still runs, and reap it."""
    if process.pid is None:
        return
    if process.exitcode is None:
        process.kill()
    process.join()


@functools.cache
def _context() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return context


def _engine_environment() -> dict[str, str]:
    """The ``TESSERA_*`` variables as they are now: the engine reads its limits from them
    (``tessera_engine.limits``), and the fork server has those of the moment it started."""
    return {name: value for name, value in os.environ.items() if name.startswith("TESSERA_")}


def _dumps(value: object) -> bytes:
    """``value`` pickled, with read-only mappings (the engine's ``MappingProxyType``) as
    dicts wrapped again on loading."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = copyreg.dispatch_table.copy()
    pickler.dispatch_table[MappingProxyType] = _reduce_mapping_proxy
    pickler.dump(value)
    return buffer.getvalue()


def _reduce_mapping_proxy(proxy: MappingProxyType[Any, Any]) -> tuple[Any, ...]:
    return _mapping_proxy, (dict(proxy),)


def _mapping_proxy(mapping: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(mapping)


def _child(connection: Connection, cpu_seconds: int, memory_mb: int) -> None:
    """The child: bound itself, run the task it is sent, answer with a status message and
    (on success) the task's bytes."""
    _bound(cpu_seconds, memory_mb)
    body = b""
    header: dict[str, Any] = _DONE
    try:
        environment, task, argument = pickle.loads(connection.recv_bytes())
        _adopt(environment)
        body = task(argument)
    except MemoryError:
        # Nothing may be allocated here: what filled the memory is held by the traceback
        # until this block ends.
        header = _OUT_OF_MEMORY
    except TesseraError as err:  # one line, cut to fit the status message
        header = {"outcome": "refused", "message": _cut(str(err), MESSAGE_MAX)}
    except Exception as err:  # a bug in the engine: said in one line, detailed in the log
        header = {
            "outcome": "failed",
            "error": type(err).__name__,
            "traceback": traceback.format_exc()[-TRACEBACK_MAX:],
        }
    connection.send_bytes(json.dumps(header).encode()[:HEADER_MAX])
    if header is _DONE:
        connection.send_bytes(body)
    connection.close()


def _cut(text: str, most: int) -> str:
    """``text`` shortened to ``most`` characters, with ``…`` where it was cut."""
    return text if len(text) <= most else text[: most - 1] + "…"


_DONE: dict[str, Any] = {"outcome": "done"}
_OUT_OF_MEMORY: dict[str, Any] = {"outcome": "memory"}


def _bound(cpu_seconds: int, memory_mb: int) -> None:
    """Set this process's limits: CPU time, address space beyond the current one, no core."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _lower(resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1)
    size = _address_space()
    if size is not None:
        allowed = size + memory_mb * 1024 * 1024
        _lower(resource.RLIMIT_AS, allowed, allowed)


def _lower(which: int, soft: int, hard: int) -> None:
    """Set a limit no higher than the one in force (an operator's ``ulimit`` still holds)."""
    current_soft, current_hard = resource.getrlimit(which)
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard)
    if current_soft != resource.RLIM_INFINITY:
        soft = min(soft, current_soft)
    resource.setrlimit(which, (min(soft, hard), hard))


def _address_space() -> int | None:
    """This process's address space in bytes (Linux; None elsewhere, where the memory bound
    is not set)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def _adopt(environment: dict[str, str]) -> None:
    """Take the parent's ``TESSERA_*`` variables as this process's own."""
    for name in [name for name in os.environ if name.startswith("TESSERA_")]:
        if name not in environment:
            del os.environ[name]
    os.environ.update(environment)
