"""Seed corpora for the fuzz targets: small, valid inputs libFuzzer starts mutating from.

In the repository: every case of the rule catalog (``tests/rules/cases``: a pair of small
documents per case, in every format), ``examples/``, the engine's fixtures and
``registry-template/``. From ``../shared`` when present: the peer conformance corpora (oasdiff,
Confluent, GraphQL Inspector, buf) and small slices of the big real specs in
``shared/corpus`` (libFuzzer works best on small inputs: a slice keeps a few operations,
types, nodes or messages that exist in both versions, with everything they refer to). Inputs
over ``MAX_SEED`` bytes are left out.

    .venv/bin/python fuzz/seeds.py [--out .fuzz/seeds] [--shared ../shared] [--quick N]
                                   [--targets openapi,avro]

writes ``<out>/<target>/<sha1>`` for every target. ``--quick N`` keeps N seeds per target
from the repository alone (the CI pass).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml_rs
from harness import REPO, join_pair

TARGETS = (
    "documents",
    "openapi",
    "swagger",
    "jsonschema",
    "graphql_sdl",
    "graphql_introspection",
    "avro",
    "dbt",
    "protobuf_text",
    "protobuf_descriptors",
    "registry",
)
MAX_SEED = 64 * 1024
CASE_TARGETS = {
    "openapi": "openapi",
    "swagger": "swagger",
    "jsonschema": "jsonschema",
    "graphql": "graphql_sdl",
    "protobuf": "protobuf_text",
    "avro": "avro",
    "dbt": "dbt",
}
"""A rule case's format -> the target its pair seeds."""

Seeds = dict[str, list[bytes]]


def in_repo() -> Seeds:
    seeds: Seeds = {target: [] for target in TARGETS}
    for path in sorted((REPO / "tests/rules/cases").rglob("*.yaml")):
        data = yaml_rs.loads(path.read_text(encoding="utf-8"), parse_datetime=False)
        for case in data.get("cases", []):
            old, new = case.get("old"), case.get("new")
            target = CASE_TARGETS.get(case.get("format", "openapi"))
            if target and isinstance(old, str) and isinstance(new, str):
                seeds[target].append(join_pair(old.encode(), new.encode()))
    examples = REPO / "examples"
    pairs = {
        "openapi": ("orders/v1.yaml", "orders/v2.yaml"),
        "jsonschema": ("events/order-placed-v1.json", "events/order-placed-v2.json"),
        "graphql_sdl": ("catalog-graphql/v1.graphql", "catalog-graphql/v2.graphql"),
        "avro": ("payments-avro/v1.avsc", "payments-avro/v2.avsc"),
        "dbt": ("dbt-shop/v1/manifest.json", "dbt-shop/v2/manifest.json"),
        "protobuf_text": (
            "inventory-proto/v1/shop/inventory/v1/inventory.proto",
            "inventory-proto/v2/shop/inventory/v1/inventory.proto",
        ),
    }
    for target, (old, new) in pairs.items():
        seeds[target].insert(0, _pair_of(examples / old, examples / new))
    fixtures = REPO / "tests/engine/fixtures"
    seeds["openapi"].insert(
        0, _pair_of(fixtures / "refs/old/openapi.yaml", fixtures / "refs/new/openapi.yaml")
    )
    for path in sorted(fixtures.rglob("*.*")):
        seeds["documents"].append(path.read_bytes())
    for path in sorted((REPO / "tests/formats/fixtures/swagger").rglob("*.*")):
        seeds["swagger"].append(path.read_bytes())
    for path in sorted((REPO / "tests/registry/impact").rglob("*.avsc")):
        seeds["avro"].append(path.read_bytes())
    for path in sorted((REPO / "tests").rglob("manifest.json")):
        if path.stat().st_size <= MAX_SEED:
            seeds["dbt"].append(path.read_bytes())
    for target in ("openapi", "swagger", "jsonschema"):
        for pair in seeds[target][:40]:
            seeds["documents"].append(pair.split(b"\n\x00", 1)[0])
    seeds["registry"] = _registry_seeds()
    return seeds


def _pair_of(old: Path, new: Path) -> bytes:
    return join_pair(old.read_bytes(), new.read_bytes())


def _registry_seeds() -> list[bytes]:
    root = REPO / "registry-template"
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if (
            path.is_file()
            and path.suffix in (".yaml", ".json")
            and relative.parts[0]
            not in (
                ".github",
                "schemas",
            )
        ):
            found.append(relative.as_posix().encode() + b"\n" + path.read_bytes())
    return found


# -- ../shared ---------------------------------------------------------------------------------


def from_shared(shared: Path) -> Seeds:
    seeds: Seeds = {target: [] for target in TARGETS}
    conformance = shared / "conformance"
    corpus = shared / "corpus"
    if (conformance / "oasdiff/manifest.json").is_file():
        manifest = json.loads((conformance / "oasdiff/manifest.json").read_text())
        for case in manifest.get("cases", []):
            base, revision = (
                conformance / "oasdiff" / case["base"],
                conformance / "oasdiff" / (case["revision"]),
            )
            if base.is_file() and revision.is_file():
                seeds["openapi"].append(_pair_of(base, revision))
    for name in sorted((conformance / "confluent-schema-registry/json-schema").glob("diff-*.json")):
        for case in _lenient_json(name):
            old, new = case.get("original_schema"), case.get("update_schema")
            if old is not None and new is not None:
                seeds["jsonschema"].append(join_pair(_json(old), _json(new)))
    protobuf = conformance / "confluent-schema-registry/protobuf/diff-schema-examples.json"
    if protobuf.is_file():
        for case in json.loads(protobuf.read_text()):
            old, new = case.get("original_schema"), case.get("update_schema")
            if isinstance(old, str) and isinstance(new, str):
                seeds["protobuf_text"].append(join_pair(old.encode(), new.encode()))
    for folder in sorted((conformance / "graphql-inspector").glob("*/*")):
        if (folder / "old.graphql").is_file() and (folder / "new.graphql").is_file():
            seeds["graphql_sdl"].append(_pair_of(folder / "old.graphql", folder / "new.graphql"))
    for folder in sorted((conformance / "buf/cases").glob("*")):
        old_files = sorted((folder / "previous").rglob("*.proto"))
        new_files = sorted((folder / "current").rglob("*.proto"))
        if len(old_files) == 1 and len(new_files) == 1:
            seeds["protobuf_text"].append(_pair_of(old_files[0], new_files[0]))
    slicers: list[tuple[str, str, Callable[[Path, Path, random.Random], Iterator[bytes]]]] = [
        ("openapi", "openapi/github-rest", _openapi_slices),
        ("openapi", "openapi/stripe", _openapi_slices),
        ("openapi", "openapi/stripe-yaml", _openapi_slices),
        ("swagger", "openapi/kubernetes-swagger", _openapi_slices),
        ("graphql_sdl", "graphql/github", _graphql_slices),
        ("graphql_sdl", "graphql/saleor", _graphql_slices),
        ("dbt", "dbt/fivetran-hubspot", _dbt_slices),
        ("dbt", "dbt/fivetran-ad-reporting", _dbt_slices),
    ]
    for target, name, slicer in slicers:
        versions = (
            sorted(
                (p for p in (corpus / name).iterdir() if p.is_dir() and "invalid" not in p.name),
                key=lambda p: p.name,
            )
            if (corpus / name).is_dir()
            else []
        )
        if len(versions) >= 2:
            old_file, new_file = (_only_file(v) for v in versions[:2])
            seeds[target].extend(slicer(old_file, new_file, random.Random(name)))
    return seeds


def _lenient_json(path: Path) -> list[Any]:
    """A JSON list, read as YAML when strict JSON refuses it (a trailing comma)."""
    text = path.read_text(encoding="utf-8")
    try:
        found = json.loads(text)
    except json.JSONDecodeError:
        try:
            found = yaml_rs.loads(text, parse_datetime=False)
        except yaml_rs.YAMLDecodeError:
            return []
    return found if isinstance(found, list) else []


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=1).encode()


def _only_file(folder: Path) -> Path:
    return next(p for p in sorted(folder.iterdir()) if p.is_file())


def _load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml_rs.loads(text)


def _dump_like(path: Path, value: Any) -> bytes:
    if path.suffix == ".json":
        return _json(value)
    import yaml

    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True).encode()


SLICES = 8
TRIES = 200


def _refs(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                yield ref
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _closure(document: dict[str, Any], roots: list[Any], limit: int) -> dict[str, Any] | None:
    """The components (``#/components/<kind>/<name>``, ``#/definitions/<name>``, ...) that
    ``roots`` refer to, transitively; None past ``limit`` of them."""
    found: dict[str, Any] = {}
    pending = [ref for root in roots for ref in _refs(root)]
    while pending:
        ref = pending.pop()
        if ref in found:
            continue
        node: Any = document
        for raw in ref[2:].split("/"):
            part = raw.replace("~1", "/").replace("~0", "~")
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return None
        found[ref] = node
        if len(found) > limit:
            return None
        pending.extend(_refs(node))
    return found


def _with_components(document: dict[str, Any], paths: dict[str, Any], refs: dict[str, Any]) -> Any:
    keep = {k: v for k, v in document.items() if k not in ("paths", "components", "definitions")}
    keep.update({k: v for k, v in document.items() if k in ("openapi", "swagger", "info")})
    keep["paths"] = paths
    for ref, node in refs.items():
        parts = [p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/")]
        target = keep
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = node
    return keep


def _openapi_slices(old_file: Path, new_file: Path, rng: random.Random) -> Iterator[bytes]:
    """Pairs of slices: a few operations present in both versions, each with the components
    they refer to."""
    old, new = _load(old_file), _load(new_file)
    common = sorted(set(old.get("paths", {})) & set(new.get("paths", {})))
    made = 0
    for _ in range(TRIES):
        if made >= SLICES or not common:
            return
        chosen = rng.sample(common, min(len(common), rng.choice((1, 2, 3))))
        sides = []
        for document in (old, new):
            paths = {p: document["paths"][p] for p in chosen}
            refs = _closure(document, list(paths.values()), 25)
            if refs is None:
                break
            sides.append(_dump_like(old_file, _with_components(document, paths, refs)))
        if len(sides) == 2 and sum(map(len, sides)) <= MAX_SEED:
            made += 1
            yield join_pair(*sides)


def _graphql_slices(old_file: Path, new_file: Path, rng: random.Random) -> Iterator[bytes]:
    """Pairs of slices: a few types present in both versions; a reference to a type outside
    the slice becomes ``String``, and the interfaces, union members and directives outside it
    are dropped (so each slice is a valid schema)."""
    from graphql import parse, print_ast
    from graphql.language import ast

    documents = [
        parse(f.read_text(encoding="utf-8"), no_location=True) for f in (old_file, new_file)
    ]
    kinds = (
        ast.ObjectTypeDefinitionNode,
        ast.InputObjectTypeDefinitionNode,
        ast.InterfaceTypeDefinitionNode,
        ast.EnumTypeDefinitionNode,
        ast.UnionTypeDefinitionNode,
        ast.ScalarTypeDefinitionNode,
    )

    def named(document: Any) -> dict[str, Any]:
        return {d.name.value: d for d in document.definitions if isinstance(d, kinds)}

    old_types, new_types = named(documents[0]), named(documents[1])
    common = sorted(set(old_types) & set(new_types))
    builtin = {"String", "Int", "Float", "Boolean", "ID"}
    for _ in range(SLICES):
        chosen = set(rng.sample(common, min(len(common), rng.choice((2, 4, 6)))))
        sides = []
        for types in (old_types, new_types):
            kept = [_graphql_slice(types[n], chosen | builtin) for n in sorted(chosen)]
            sliced = ast.DocumentNode(definitions=tuple(d for d in kept if d is not None))
            sides.append(print_ast(sliced).encode())
        if sum(map(len, sides)) <= MAX_SEED:
            yield join_pair(*sides)


def _graphql_slice(definition: Any, keep: set[str]) -> Any:
    from dataclasses import replace

    from graphql.language import ast

    def fix(type_node: Any) -> Any:
        if isinstance(type_node, (ast.ListTypeNode, ast.NonNullTypeNode)):
            return replace(type_node, type=fix(type_node.type))
        if type_node.name.value not in keep:
            return ast.NamedTypeNode(name=ast.NameNode(value="String"))
        return type_node

    def plain(directives: Any) -> tuple[Any, ...]:
        return tuple(d for d in directives or () if d.name.value == "deprecated")

    def argument(node: Any) -> Any:
        return replace(
            node, type=fix(node.type), directives=plain(node.directives), default_value=None
        )

    def field(node: Any) -> Any:
        if isinstance(node, ast.InputValueDefinitionNode):
            return argument(node)
        arguments = tuple(argument(a) for a in node.arguments or ())
        return replace(
            node, type=fix(node.type), directives=plain(node.directives), arguments=arguments
        )

    changes: dict[str, Any] = {"directives": plain(definition.directives)}
    if isinstance(definition, ast.UnionTypeDefinitionNode):
        members = tuple(t for t in definition.types or () if t.name.value in keep)
        return replace(definition, types=members, **changes) if members else None
    if hasattr(definition, "interfaces"):
        changes["interfaces"] = tuple(
            t for t in definition.interfaces or () if t.name.value in keep
        )
    if getattr(definition, "fields", None):
        changes["fields"] = tuple(field(f) for f in definition.fields)
    if getattr(definition, "values", None):
        changes["values"] = tuple(
            replace(v, directives=plain(v.directives)) for v in definition.values
        )
    return replace(definition, **changes)


def _dbt_slices(old_file: Path, new_file: Path, rng: random.Random) -> Iterator[bytes]:
    """Pairs of slices: a few models present in both manifests, with their sources and the
    tests attached to them; SQL text is dropped."""
    old, new = _load(old_file), _load(new_file)

    def models(manifest: dict[str, Any]) -> set[str]:
        return {
            k for k, v in manifest.get("nodes", {}).items() if v.get("resource_type") == "model"
        }

    common = sorted(models(old) & models(new))
    for _ in range(SLICES):
        chosen = set(rng.sample(common, min(len(common), rng.choice((1, 2, 3)))))
        sides = [_json(_dbt_slice(manifest, chosen)) for manifest in (old, new)]
        if sum(map(len, sides)) <= MAX_SEED:
            yield join_pair(*sides)


def _dbt_slice(manifest: dict[str, Any], chosen: set[str]) -> dict[str, Any]:
    nodes: dict[str, Any] = {}
    sources: dict[str, Any] = {}
    for key, node in manifest.get("nodes", {}).items():
        parents = set((node.get("depends_on") or {}).get("nodes") or ())
        if key in chosen or (node.get("resource_type") == "test" and parents & chosen):
            nodes[key] = _without_sql(node)
            for parent in parents:
                if parent in manifest.get("sources", {}):
                    sources[parent] = _without_sql(manifest["sources"][parent])
    return {"metadata": manifest.get("metadata", {}), "nodes": nodes, "sources": sources}


def _without_sql(node: dict[str, Any]) -> dict[str, Any]:
    drop = ("raw_code", "compiled_code", "raw_sql", "compiled_sql", "description")
    return {k: ("" if k in drop else v) for k, v in node.items()}


# -- derived seeds -------------------------------------------------------------------------------


def introspection_pairs(sdl_pairs: list[bytes], limit: int | None) -> list[bytes]:
    """Introspection results of the SDL pairs that graphql-core builds."""
    from graphql import build_schema, introspection_from_schema
    from harness import split_pair

    found: list[bytes] = []
    for pair in sdl_pairs:
        try:
            sides = [
                _json(
                    {"__schema": introspection_from_schema(build_schema(side.decode()))["__schema"]}
                )
                for side in split_pair(pair)
            ]
        except Exception:
            continue
        found.append(join_pair(*sides))
        if limit is not None and len(found) >= limit:
            break
    return found


def descriptor_pairs(
    proto_pairs: list[bytes], modules: list[tuple[Path, Path]], limit: int | None
) -> list[bytes]:
    """Descriptor sets protoc writes for the .proto pairs (one file each) and the module
    directory pairs, as the engine asks for them (imports and source info included)."""
    from harness import split_pair

    found: list[bytes] = []
    with tempfile.TemporaryDirectory(prefix="tessera-fuzz-seeds-") as work:
        for index, pair in enumerate(proto_pairs):
            sides = []
            for side, text in zip(("old", "new"), split_pair(pair), strict=True):
                folder = Path(work) / f"{index}-{side}"
                folder.mkdir()
                (folder / "module.proto").write_bytes(text)
                sides.append(_compile(folder))
            if None not in sides:
                found.append(join_pair(*sides))  # type: ignore[arg-type]
            if limit is not None and len(found) >= limit:
                return found
        for old, new in modules:
            sides = [_compile(old), _compile(new)]
            if None not in sides:
                found.append(join_pair(*sides))  # type: ignore[arg-type]
    return found


def _compile(folder: Path) -> bytes | None:
    """The descriptor set of every .proto under ``folder`` (protoc in this process), with the
    source info of the well-known types dropped (they are large and never compared)."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.proto"))
    with tempfile.TemporaryDirectory(prefix="tessera-fuzz-") as scratch:
        return _compiled(folder, files, Path(scratch) / "out.pb")


def _compiled(folder: Path, files: list[str], out: Path) -> bytes | None:
    """Run protoc on ``files`` of ``folder``, writing the set to ``out`` (a scratch file: the
    seed folders are the repository's examples and ../shared, never written to)."""
    from google.protobuf.descriptor_pb2 import FileDescriptorSet
    from grpc_tools import _protoc_compiler

    from tessera_engine.formats.protobuf_compile import well_known_types

    args = [
        "protoc",
        f"-I{folder}",
        f"-I{well_known_types()}",
        "--include_imports",
        "--include_source_info",
        f"--descriptor_set_out={out}",
        *files,
    ]
    if not files or _quietly(lambda: _protoc_compiler.run_main([a.encode() for a in args])):
        return None
    descriptors = FileDescriptorSet.FromString(out.read_bytes())
    for proto in descriptors.file:
        if proto.name.startswith("google/protobuf/"):
            proto.ClearField("source_code_info")
    return bytes(descriptors.SerializeToString())


def _quietly(run: Callable[[], int]) -> int:
    """``run()`` with this process's stderr (protoc's messages about the seeds it refuses)
    sent to /dev/null."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            return run()
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# -- writing -------------------------------------------------------------------------------------


def build(
    out: Path, shared: Path | None, quick: int | None = None, targets: tuple[str, ...] = TARGETS
) -> dict[str, int]:
    """Write the seeds of ``targets`` under ``out``; the number written per target."""
    seeds = in_repo()
    modules: list[tuple[Path, Path]] = []
    examples = REPO / "examples/inventory-proto"
    modules.append((examples / "v1", examples / "v2"))
    if shared is not None and quick is None:
        for target, found in from_shared(shared).items():
            seeds[target].extend(found)
        pubsub = shared / "corpus/proto/googleapis-pubsub-v1"
        if pubsub.is_dir():
            old, new = sorted(p for p in pubsub.iterdir() if p.is_dir())[:2]
            modules.append((old, new))
        for folder in sorted((shared / "conformance/buf/cases").glob("*")):
            if (folder / "previous").is_dir() and (folder / "current").is_dir():
                modules.append((folder / "previous", folder / "current"))
    if quick is not None:
        seeds = {target: _spread(found, quick) for target, found in seeds.items()}
        modules = modules[:1]
    if "graphql_introspection" in targets:
        seeds["graphql_introspection"] = introspection_pairs(seeds["graphql_sdl"], quick)
    if "protobuf_descriptors" in targets:
        seeds["protobuf_descriptors"] = descriptor_pairs(seeds["protobuf_text"], modules, quick)
    counts = {}
    for target in targets:
        folder = out / target
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        kept = {hashlib.sha1(s).hexdigest(): s for s in seeds[target] if len(s) <= MAX_SEED}
        for name, seed in kept.items():
            (folder / name).write_bytes(seed)
        counts[target] = len(kept)
    return counts


def _spread(found: list[bytes], count: int) -> list[bytes]:
    """``count`` of ``found``, evenly spread (the first included)."""
    if len(found) <= count:
        return found
    step = len(found) / count
    return [found[int(i * step)] for i in range(count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / ".fuzz/seeds")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--quick", type=int, default=None, metavar="N")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated")
    args = parser.parse_args(argv)
    shared = args.shared if args.shared.is_dir() else None
    targets = tuple(t for t in args.targets.split(",") if t)
    unknown = sorted(set(targets) - set(TARGETS))
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)} (choose from {', '.join(TARGETS)})")
    counts = build(args.out, shared, args.quick, targets)
    origin = f"the repository and {shared}" if shared and args.quick is None else "the repository"
    print(f"seeds from {origin} in {args.out}:")
    for target, count in counts.items():
        print(f"  {target:<22} {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
