"""Time impact analysis after load: the consumers of one contract selected from a registry of
10,000 contracts and 50,000 consumer declarations (target: under 100 ms), and how that time
grows with the registry's size.

Only the matching is timed (``registry.impact.assess`` with the diff result and the versions
it loaded given, so following ``$ref``s from declared paths is included): the diff itself is
``tessera diff``'s business and measured by ``bench/run.py``. The registry is built
in memory by ``generate``: OpenAPI contracts share the declarations evenly, except the
contract under test (diffed as ``examples/orders``), which gets ``HOT_SHARE`` of them (a
popular API), with a mix of usage: no ``uses`` at all, operations, fields, and 5% of
dependencies that republish into another contract (so transitive impact is exercised). The
by-contract index ``Registry.consumers_of`` builds on first use is timed apart: it is built
once per loaded registry.

    .venv/bin/python bench/impact.py                 # the table, as Markdown
    .venv/bin/python bench/impact.py --json          # the measurements, as JSON
    .venv/bin/python bench/impact.py --files         # also on a registry read from files

``measure(sizes)`` and ``markdown(rows)`` are what a report (``bench/run.py``) would call.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tessera_engine.engine import DiffOptions, diff
from tessera_engine.model import DiffResult
from tessera_engine.registry.impact import assess
from tessera_engine.registry.model import (
    Consumer,
    Contract,
    ContractSource,
    Dependency,
    Registry,
    Settings,
    Team,
    Usage,
)

REPO = Path(__file__).resolve().parent.parent
PAIR = REPO / "examples" / "orders"
TARGET = "contract-00000"
HOT_SHARE = 0.01  # the contract under test gets 1% of all declarations
DEPENDENCIES_PER_CONSUMER = 5
SIZES = ((1_000, 5_000), (2_500, 12_500), (5_000, 25_000), (10_000, 50_000), (20_000, 100_000))
TARGET_MS = 100.0

OPERATIONS = ("GET /orders", "GET /orders/{id}", "POST /orders", "DELETE /orders/{orderId}")
FIELDS = (
    "Order.email",
    "Order.id",
    "NewOrder.note",
    "Order.status",
    "NewOrder.sku",
    "Order.items.quantity",  # through allOf and an array of $ref LineItem
    "Order.note",  # defined by NewOrder, reached through allOf
)


def generate(contracts: int, declarations: int, seed: int = 4) -> Registry:
    """A registry of ``contracts`` OpenAPI contracts and ``declarations`` dependencies."""
    rng = random.Random(seed)
    ids = [f"contract-{n:05d}" for n in range(contracts)]
    teams = {f"team-{n:04d}": Team(f"team-{n:04d}", f"acme/team-{n:04d}") for n in range(500)}
    team_ids = list(teams)
    source = ContractSource("acme/specs", ("openapi.yaml",))
    registry_contracts = {
        cid: Contract(cid, rng.choice(team_ids), "openapi", source) for cid in ids
    }
    hot = int(declarations * HOT_SHARE)
    targets = [TARGET] * hot + [rng.choice(ids[1:]) for _ in range(declarations - hot)]
    rng.shuffle(targets)
    consumers: dict[str, Consumer] = {}
    for start in range(0, len(targets), DEPENDENCIES_PER_CONSUMER):
        cid = f"consumer-{start // DEPENDENCIES_PER_CONSUMER:06d}"
        deps = tuple(
            _dependency(rng, target, ids)
            for target in dict.fromkeys(targets[start : start + DEPENDENCIES_PER_CONSUMER])
        )
        consumers[cid] = Consumer(cid, rng.choice(team_ids), f"{cid}-svc", dependencies=deps)
    return Registry("generated", Settings(), teams, registry_contracts, consumers)


def _dependency(rng: random.Random, target: str, ids: list[str]) -> Dependency:
    roll = rng.random()
    if roll < 0.3:
        usage = Usage()
    elif roll < 0.6:
        usage = Usage(operations=tuple(rng.sample(OPERATIONS, 2)))
    else:
        usage = Usage(fields=tuple(rng.sample(FIELDS, 3)))
    republishes = (rng.choice(ids),) if rng.random() < 0.05 else ()
    return Dependency(target, rng.choice(("^1", ">=1.0.0 <3.0.0", "*")), usage, republishes)


Loaded = tuple[Sequence[Any], Any]


def diffed_pair() -> tuple[DiffResult, Loaded]:
    """The diff of ``examples/orders`` and the versions it loaded (for ``$ref`` following)."""
    loaded: list[Loaded] = []
    result = diff(
        str(PAIR / "v1.yaml"),
        str(PAIR / "v2.yaml"),
        DiffOptions(format="openapi"),
        loaded=lambda olds, new: loaded.append((olds, new)),
    )
    return result, loaded[0]


def time_impact(
    registry: Registry, result: DiffResult, loaded: Loaded | None = None, runs: int = 7
) -> dict[str, Any]:
    contract = registry.contracts[TARGET]
    start = time.perf_counter()
    registry.consumers_of(TARGET)  # the by-contract index, built once per loaded registry
    index = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    first = assess(registry, contract, result, current_version="1.4.0", loaded=loaded)
    cold = (time.perf_counter() - start) * 1000
    warm: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        assess(registry, contract, result, current_version="1.4.0", loaded=loaded)
        warm.append((time.perf_counter() - start) * 1000)
    return {
        "contracts": len(registry.contracts),
        "declarations": sum(len(c.dependencies) for c in registry.consumers.values()),
        "consumers_of_target": len(registry.consumers_of(TARGET)),
        "affected": len(first.consumers),
        "transitive": len(first.transitive),
        "index_ms": round(index, 2),
        "first_ms": round(cold, 2),
        "median_ms": round(statistics.median(warm), 2),
    }


def measure(sizes: Sequence[tuple[int, int]] = SIZES) -> list[dict[str, Any]]:
    result, loaded = diffed_pair()
    return [
        time_impact(generate(contracts, declarations), result, loaded)
        for contracts, declarations in sizes
    ]


def measure_loaded(contracts: int = 10_000, declarations: int = 50_000) -> dict[str, Any]:
    """The same on a registry written by ``bench/registry.py``'s ``generate`` and read back
    with ``load_registry`` (its declarations are spread evenly: a few consumers per contract),
    impact timed for its first OpenAPI contract."""
    import tempfile

    from registry import generate as write_registry

    from tessera_engine.registry.loader import load_registry

    result, loaded = diffed_pair()
    with tempfile.TemporaryDirectory() as tmp:
        root = write_registry(Path(tmp), contracts, declarations)
        start = time.perf_counter()
        registry = load_registry(root)
        load = time.perf_counter() - start
    target = next(c for c in registry.contracts.values() if c.format == "openapi")
    start = time.perf_counter()
    registry.consumers_of(target.id)
    index = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    found = assess(registry, target, result, current_version="1.4.0", loaded=loaded)
    first = (time.perf_counter() - start) * 1000
    return {
        "contracts": len(registry.contracts),
        "load_s": round(load, 2),
        "consumers_of_target": len(registry.consumers_of(target.id)),
        "affected": len(found.consumers),
        "index_ms": round(index, 2),
        "first_ms": round(first, 2),
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| contracts | declarations | consumers of the contract | affected (transitive) "
        "| index (once per load) | first impact | median impact |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['contracts']:,} | {row['declarations']:,} | {row['consumers_of_target']:,} "
            f"| {row['affected']:,} ({row['transitive']:,}) | {row['index_ms']:.1f} ms "
            f"| {row['first_ms']:.1f} ms "
            f"| {row['median_ms']:.1f} ms |"
        )
    at_target = [r for r in rows if r["contracts"] == 10_000]
    if at_target:
        row = at_target[0]
        worst = max(row["first_ms"], row["median_ms"])
        verdict = "met" if worst < TARGET_MS else "missed"
        lines += [
            "",
            f"Target (10,000 contracts, 50,000 declarations, impact after load under "
            f"{TARGET_MS:.0f} ms): {verdict} ({worst:.1f} ms at worst). The index is part of "
            "loading (`load_registry` builds it); it is timed apart here because these registries "
            "are built in memory, and most of its time is Python's garbage collector walking the "
            "freshly built objects.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    parser.add_argument(
        "--files",
        action="store_true",
        help="also write a 10,000-contract registry with bench/registry.py, load it, and time "
        "impact on it",
    )
    args = parser.parse_args(argv)
    rows = measure()
    if args.files:
        loaded = measure_loaded()
        sys.stderr.write(f"loaded registry: {json.dumps(loaded)}\n")
    sys.stdout.write(json.dumps(rows, indent=2) + "\n" if args.json else markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
