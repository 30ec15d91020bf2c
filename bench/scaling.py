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

    @property
    def size(self) -> int:
        """Bytes of both files together."""
        return self.old.stat().st_size + self.new.stat().st_size


@dataclass(frozen=True)
class Fit:
    """Least-squares line ``seconds = intercept + slope * x`` and its R²."""

    slope: float
    intercept: float
    r_squared: float


def count_operations(spec: dict[str, Any]) -> int:
    paths = spec.get("paths") or {}
    return sum(
        1 for item in paths.values() if isinstance(item, dict) for key in item if key in HTTP_METHODS
    )


def prefix_pairs(
    label: str, old_path: Path, new_path: Path, fractions: Sequence[float], outdir: Path
) -> list[SpecPair]:
    """For each fraction, the pair cut down to the first ``fraction`` of the new spec's paths."""
    old = json.loads(old_path.read_bytes())
    new = json.loads(new_path.read_bytes())
    keys = list(new.get("paths", {}))
    pairs = []
    for fraction in fractions:
        chosen = keys[: math.ceil(len(keys) * fraction)]
        name = f"{label}-{fraction * 100:g}%"
        old_cut = _with_paths(old, chosen)
        new_cut = _with_paths(new, chosen)
        pairs.append(SpecPair(
            name=name,
            old=_write(outdir / name / "old.json", old_cut),
            new=_write(outdir / name / "new.json", new_cut),
            old_operations=count_operations(old_cut),
            new_operations=count_operations(new_cut),
        ))
    return pairs


def synthetic_pair(operations: int, outdir: Path) -> SpecPair:
    old = synthetic_spec(operations)
    new = synthetic_spec(operations, changed=CHANGED_SHARE)
    name = f"synthetic-{operations}"
    return SpecPair(
        name=name,
        old=_write(outdir / name / "old.json", old),
        new=_write(outdir / name / "new.json", new),
        old_operations=operations,
        new_operations=operations,
    )


def synthetic_spec(operations: int, changed: float = 0.0) -> dict[str, Any]:
    """An OpenAPI 3.0 spec: operation i is ``POST /things{i}/{id}`` with its own request,
    response and detail schemas. ``changed`` of the schemas get one change each, chosen the
    same way for every call with the same ``operations``."""
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for i in range(operations):
        paths[f"/things{i}/{{id}}"] = {"post": _operation(i)}
        schemas[f"Thing{i}"] = _object({"detail": {"$ref": f"#/components/schemas/Thing{i}Detail"},
                                        "tags": {"type": "array", "items": {"type": "string"}}})
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
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/Thing{i}Input"}}}},
        "responses": {
            "200": {"description": "the updated thing", "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/Thing{i}"}}}},
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


MUTATIONS = (_remove_property, _retype_property, _require_new_property, _narrow_string,
             _add_enum_value, _add_optional_property)


def fit(xs: Sequence[float], ys: Sequence[float]) -> Fit:
    slope, intercept = statistics.linear_regression(xs, ys)
    r = statistics.correlation(xs, ys)
    return Fit(slope=slope, intercept=intercept, r_squared=r * r)


def _with_paths(spec: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    paths = spec.get("paths", {})
    return {**spec, "paths": {key: paths[key] for key in keys if key in paths}}


def _write(path: Path, spec: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec, indent=2, ensure_ascii=False), encoding="utf-8")
    return path
