"""Where the time goes inside one ``tessera diff``, measured in-process.

``tessera_engine.engine.diff`` runs as the CLI runs it, with a few of the names it calls
wrapped in ``time.perf_counter`` timers (``unittest.mock.patch.object``), then the result is
rendered as JSON. Interpreter start-up, imports and writing the output are not included: they
are the difference between the whole-process time and this total.

Stages (seconds, median over the runs after one warm-up run):

- load + parse: ``engine.Workspace(...)`` for both files (read, decode, ``json.loads`` or
  ``yaml_rs.loads``);
- detect + validate: ``engine._adapter`` (format detection, structural checks);
- compare: ``engine._compare`` minus ``engine.collect`` (walk both specs, run the checks);
- collect: ``engine.collect`` (changes into findings, severities, source positions);
- finish: the rest of ``engine.diff`` (de-duplication, severity promotion, bump, sorting);
- render JSON: ``render(result, "json")``.

``Document.locate`` and its siblings (``locate_many``: JSON pointer to line and column) are
timed as well, wherever they are called; that time is part of the stages above.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from functools import wraps
from pathlib import Path
from typing import Any
from unittest import mock

STAGES = ("load + parse", "detect + validate", "compare", "collect", "finish", "render JSON")
LOCATE = "source positions: Document.locate* (part of the above)"
TOTAL = "total in-process"


def measure(old: Path, new: Path, runs: int) -> dict[str, float]:
    """Median seconds per stage (``STAGES``, then ``LOCATE`` and ``TOTAL``)."""
    samples: dict[str, list[float]] = defaultdict(list)
    for index in range(runs + 1):
        gc.collect()
        stages = _run_once(str(old), str(new))
        if index:
            for stage, seconds in stages.items():
                samples[stage].append(seconds)
    return {stage: statistics.median(values) for stage, values in samples.items()}


def _run_once(old: str, new: str) -> dict[str, float]:
    from tessera_engine import engine
    from tessera_engine.documents.loader import Document
    from tessera_engine.render import render

    spent: dict[str, float] = defaultdict(float)
    active: dict[str, int] = defaultdict(int)
    locators = [name for name in vars(Document) if name.startswith("locate")]
    wrapped = [
        (engine, "Workspace", "load"),
        (engine, "_adapter", "detect"),
        (engine, "_compare", "compare"),
        (engine, "collect", "collect"),
        *((Document, name, "locate") for name in locators),
    ]
    with ExitStack() as stack:
        for owner, name, key in wrapped:
            timed = _timed(getattr(owner, name), key, spent, active)
            stack.enter_context(mock.patch.object(owner, name, timed))
        start = time.perf_counter()
        result = engine.diff(old, new)
        diffed = time.perf_counter()
        render(result, "json")
        rendered = time.perf_counter()
    inner = spent["load"] + spent["detect"] + spent["compare"]
    return {
        "load + parse": spent["load"],
        "detect + validate": spent["detect"],
        "compare": spent["compare"] - spent["collect"],
        "collect": spent["collect"],
        "finish": (diffed - start) - inner,
        "render JSON": rendered - diffed,
        LOCATE: spent["locate"],
        TOTAL: rendered - start,
    }


def _timed(
    func: Callable[..., Any], key: str, spent: dict[str, float], active: dict[str, int]
) -> Callable[..., Any]:
    """``func``, adding its wall time to ``spent[key]``. Calls made while another call timed
    under the same key is running (recursion, ``locate_many`` calling ``locate``) are not
    added again."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        active[key] += 1
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            active[key] -= 1
            if not active[key]:
                spent[key] += time.perf_counter() - start

    return wrapper
