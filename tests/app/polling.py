"""Waiting in tests: poll a condition until it holds or a deadline passes (never a fixed
sleep: the tests run on busy machines)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(what: str, condition: Callable[[], object], timeout: float = 60.0) -> None:
    """Return once ``condition()`` is true; ``AssertionError`` naming ``what`` after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
