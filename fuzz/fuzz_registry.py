"""Fuzz target: validating a registry (``registry.validate``: every YAML file read through
``registry/yaml_files.py``, checked against its JSON Schema, cross-checked, published versions
and declared ``uses`` checked) and loading it (``load_registry``).

The registry is a copy of ``registry-template`` in a temporary directory; each input replaces
one of its files. Input: the file's path within the registry on the first line, then its
content (``contracts/orders-api.yaml\\nid: orders-api\\n...``); an input without a known path
on its first line replaces a file picked from its checksum."""

from __future__ import annotations

import atexit
import random
import shutil
import tempfile
from pathlib import Path

from harness import REPO, byte_mutate, choice, fuzz
from mutate import tree

TEMPLATE = REPO / "registry-template"
KEYS = (
    "id",
    "owner",
    "team",
    "format",
    "source",
    "repo",
    "path",
    "branch",
    "compatibility",
    "mode",
    "policy",
    "versioning",
    "tags",
    "annotations",
    "consumes",
    "contract",
    "versions",
    "uses",
    "operations",
    "fields",
    "republishes",
    "members",
    "service",
    "rules_version",
    "defaults",
    "impact",
    "transitive_depth",
    "prerelease",
    "guarantees",
    "version",
    "spec",
    "published_at",
)
VALUES = (
    "orders-api",
    "orders",
    "checkout",
    "openapi",
    "graphql",
    "protobuf",
    "avro",
    "dbt",
    "^2.0",
    ">=1.0, <3",
    "*",
    "2.1.0",
    "1.0.0-rc.1",
    "auto",
    "backward",
    "enforce",
    "suggest",
    "POST /orders",
    "Order.id",
    "acme/orders-service",
    "../outside.yaml",
)
WORK = Path(tempfile.mkdtemp(prefix="tessera-fuzz-registry-"))
atexit.register(shutil.rmtree, WORK, ignore_errors=True)
ROOT = WORK / "registry"
shutil.copytree(TEMPLATE, ROOT, ignore=shutil.ignore_patterns(".github", "README.md"))
FILES = tuple(
    sorted(
        p.relative_to(ROOT).as_posix()
        for p in ROOT.rglob("*")
        if p.is_file() and p.suffix in (".yaml", ".yml", ".json") and "schemas" not in p.parts
    )
)
ORIGINALS = {name: (ROOT / name).read_bytes() for name in FILES}
_changed: list[str] = []


def split(data: bytes) -> tuple[str, bytes]:
    """The registry file an input replaces, and its new content."""
    first, _, rest = data.partition(b"\n")
    name = first.decode("utf-8", "replace").strip()
    if name in ORIGINALS:
        return name, rest
    return choice(data, FILES), data


def test(data: bytes) -> None:
    from tessera_engine.registry.validate import load_registry, validate

    for name in _changed:
        (ROOT / name).write_bytes(ORIGINALS[name])
    name, content = split(data)
    (ROOT / name).write_bytes(content)
    _changed[:] = [name]
    result = validate(ROOT)
    if result.valid:
        load_registry(ROOT)


def mutator(data: bytes, max_size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    name, content = split(data)
    header = name.encode() + b"\n"
    changed = None
    if rng.random() < 0.5:
        changed = tree(KEYS, VALUES)(content, ORIGINALS[name], max_size - len(header), rng)
    if changed is None:
        changed = byte_mutate(content, max(max_size - len(header), 1))
    return (header + changed)[:max_size]


if __name__ == "__main__":
    fuzz(
        Path(__file__).stem.removeprefix("fuzz_"),
        test,
        mutator=mutator,
        modules=("tessera_engine.registry",),
    )
