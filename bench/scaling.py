"""Spec pairs of growing size, to see how Tessera's time grows with the size of a spec.

Two series:

- prefixes of a real pair: the first k% of ``paths`` (the same path keys in old and new, in the
  new spec's order), with all of ``components`` kept;
- synthetic OpenAPI 3.0 pairs with N operations, each with its own three component schemas;
  the new version changes about 5% of the schemas (a removed, retyped or newly required
  property, a narrowed string, a new enum value or a new optional property).
"""

from __future__ import annotations

import json
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
CHANGED_SHARE = 0.05
SEED = 20261122


@dataclass(frozen=True)
class SpecPair:
    name: str
    old: Path
    new: Path
    old_operations: int
    new_operations: int
    size: int
    """Bytes of both files together."""


@dataclass(frozen=True)
class Fit:
    """Least-squares line ``seconds = intercept + slope * x`` and its R²."""

    slope: float
    intercept: float
    r_squared: float


def count_operations(spec: dict[str, Any]) -> int:
    paths = spec.get("paths") or {}
    return sum(
        1
        for item in paths.values()
        if isinstance(item, dict)
        for key in item
        if key in HTTP_METHODS
    )


def prefix_pairs(
    label: str, old_path: Path, new_path: Path, fractions: Sequence[float], outdir: Path
) -> list[SpecPair]:
    """For each fraction, the pair cut down to the first ``fraction`` of the new spec's paths."""
    old = json.loads(old_path.read_bytes())
    new = json.loads(new_path.read_bytes())
    keys = list(new.get("paths", {}))
    return [
        _pair(prefix_name(label, f), _with_paths(old, keys, f), _with_paths(new, keys, f), outdir)
        for f in fractions
    ]


def prefix_name(label: str, fraction: float) -> str:
    return f"{label}-{fraction * 100:g}%"


def synthetic_pair(operations: int, outdir: Path) -> SpecPair:
    old = synthetic_spec(operations)
    new = synthetic_spec(operations, changed=CHANGED_SHARE)
    return _pair(f"synthetic-{operations}", old, new, outdir)


def synthetic_spec(operations: int, changed: float = 0.0) -> dict[str, Any]:
    """An OpenAPI 3.0 spec: operation i is ``POST /things{i}/{id}`` with its own request,
    response and detail schemas. ``changed`` of the schemas get one change each, chosen the
    same way for every call with the same ``operations``."""
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for i in range(operations):
        paths[f"/things{i}/{{id}}"] = {"post": _operation(i)}
        schemas[f"Thing{i}"] = _object(
            {
                "detail": {"$ref": f"#/components/schemas/Thing{i}Detail"},
                "tags": {"type": "array", "items": {"type": "string"}},
            }
        )
        schemas[f"Thing{i}Input"] = _object({})
        schemas[f"Thing{i}Detail"] = _object({"note": {"type": "string"}})
    names = sorted(schemas)
    picked = random.Random(SEED).sample(names, round(len(names) * changed))
    for index, name in enumerate(sorted(picked)):
        MUTATIONS[index % len(MUTATIONS)](schemas[name])
    return {
        "openapi": "3.0.3",
        "info": {"title": f"Synthetic API with {operations} operations", "version": "1.0.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _operation(i: int) -> dict[str, Any]:
    return {
        "operationId": f"updateThing{i}",
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "dryRun", "in": "query", "schema": {"type": "boolean"}},
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/Thing{i}Input"}}
            },
        },
        "responses": {
            "200": {
                "description": "the updated thing",
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/Thing{i}"}}
                },
            },
            "404": {"description": "no such thing"},
        },
    }


def _object(extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "maxLength": 64},
            "count": {"type": "integer", "minimum": 0},
            "status": {"type": "string", "enum": ["active", "paused", "closed"]},
            **extra,
        },
    }


def _remove_property(schema: dict[str, Any]) -> None:
    del schema["properties"]["count"]


def _retype_property(schema: dict[str, Any]) -> None:
    schema["properties"]["count"] = {"type": "string"}


def _require_new_property(schema: dict[str, Any]) -> None:
    schema["properties"]["region"] = {"type": "string"}
    schema["required"].append("region")


def _narrow_string(schema: dict[str, Any]) -> None:
    schema["properties"]["name"]["maxLength"] = 32


def _add_enum_value(schema: dict[str, Any]) -> None:
    schema["properties"]["status"]["enum"].append("archived")


def _add_optional_property(schema: dict[str, Any]) -> None:
    schema["properties"]["label"] = {"type": "string"}


MUTATIONS = (
    _remove_property,
    _retype_property,
    _require_new_property,
    _narrow_string,
    _add_enum_value,
    _add_optional_property,
)


def fit(xs: Sequence[float], ys: Sequence[float]) -> Fit:
    slope, intercept = statistics.linear_regression(xs, ys)
    r = statistics.correlation(xs, ys)
    return Fit(slope=slope, intercept=intercept, r_squared=r * r)


def exponent(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """k in ``y = a + c * x**k`` estimated from the last three points of a geometric series of
    ``xs`` (250, 500, 1000, 2000): the slope between the last two points over the slope between
    the two before is ``ratio**(k - 1)``. No separately measured fixed cost ``a`` is needed.
    None when the slopes are not both positive."""
    (x1, x2, x3), (y1, y2, y3) = xs[-3:], ys[-3:]
    low, high = (y2 - y1) / (x2 - x1), (y3 - y2) / (x3 - x2)
    if low <= 0 or high <= 0:
        return None
    return 1 + math.log(high / low) / math.log(x3 / x2)


def _with_paths(spec: dict[str, Any], keys: Sequence[str], fraction: float) -> dict[str, Any]:
    """``spec`` with only the first ``fraction`` of ``keys`` in its paths."""
    paths = spec.get("paths", {})
    chosen = keys[: math.ceil(len(keys) * fraction)]
    return {**spec, "paths": {key: paths[key] for key in chosen if key in paths}}


def _pair(name: str, old: dict[str, Any], new: dict[str, Any], outdir: Path) -> SpecPair:
    """Write ``old`` and ``new`` under ``outdir/name``."""
    old_path, new_path = outdir / name / "old.json", outdir / name / "new.json"
    for path, spec in ((old_path, old), (new_path, new)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(spec, indent=2, ensure_ascii=False), encoding="utf-8")
    return SpecPair(
        name=name,
        old=old_path,
        new=new_path,
        old_operations=count_operations(old),
        new_operations=count_operations(new),
        size=old_path.stat().st_size + new_path.stat().st_size,
    )
