"""Scale of the registry: ``tessera registry validate`` on generated registries.

``generate(root, contracts, declarations)`` writes a deterministic registry (one team per 20
contracts, formats in rotation, five declarations per consumer file, a third of them with
``uses``; with ``published``, a published version of every contract whose spec holds what
those ``uses`` name, so that validation loads the spec of every contract with declared
``uses`` and checks each entry against it); ``measure_series`` times whole-process
validation of published registries (median wall time and peak RSS, ``timing.measure``) at
several sizes, up to 10,000 contracts and 50,000 declarations.

Run alone: ``.venv/bin/python bench/registry.py [--runs N]`` prints a Markdown section.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from timing import Timing, measure

SIZES = ((1_000, 5_000), (2_500, 12_500), (5_000, 25_000), (10_000, 50_000))
"""(contracts, declarations) of each measured registry."""
TARGET_SECONDS = 10.0
PER_CONSUMER = 5
FORMATS = ("openapi", "graphql", "protobuf", "avro", "dbt", "jsonschema")
USES = {
    "openapi": "operations: ['GET /items/{{id}}', POST /items]\n"
    "        fields: [Item.id, Item.n{n}]",
    "graphql": "operations: [Query.item]\n        fields: [Item.n{n}]",
    "protobuf": "messages: [acme.v1.Item]\n        fields: [acme.v1.Item.n{n}]",
    "avro": "messages: [acme.Item]",
    "dbt": "columns: [fct_items.id, fct_items.n{n}]",
    "jsonschema": "fields: [Item.n{n}]",
}
RANGES = ("^1.2", "1.x", ">=1.0.0 <3.0.0", "~2.1.0", "*", "^2.0 || ^3.0")
FIELDS = 50  # Item.n0 .. Item.n49 in every spec: what the uses above name


def generate(
    root: Path, contracts: int, declarations: int, seed: int = 4, *, published: bool = False
) -> Path:
    """Write a valid registry of ``contracts`` contracts and ``declarations`` consumer
    declarations under ``root`` (created), with a published version of each contract when
    ``published``; the same arguments always give the same files."""
    rng = random.Random(seed)
    teams = max(2, contracts // 20)
    for folder in ("teams", "contracts", "consumers"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "tessera.yaml").write_text(
        "rules_version: 1\ndefaults:\n  versioning:\n    policy: suggest\n", encoding="utf-8"
    )
    for t in range(teams):
        (root / "teams" / f"team-{t}.yaml").write_text(
            f"id: team-{t}\nname: Team {t}\ngithub_team: acme/team-{t}\n"
            f"maintainers: [dev-{t}]\nchannels:\n  - slack: '#team-{t}'\n",
            encoding="utf-8",
        )
    owner = [c % teams for c in range(contracts)]
    for c in range(contracts):
        fmt = FORMATS[c % len(FORMATS)]
        extra = "compatibility:\n  proto_level: wire\n" if fmt == "protobuf" else ""
        (root / "contracts" / f"contract-{c}.yaml").write_text(
            f"id: contract-{c}\nowner: team-{owner[c]}\nformat: {fmt}\n"
            f"description: Contract number {c}.\nsource:\n  repo: acme/service-{c}\n"
            f"  path: spec/contract-{c}\n{extra}tags: [tier-{c % 3}]\n",
            encoding="utf-8",
        )
        if published:
            write_published(root, c, fmt)
    consumers = (declarations + PER_CONSUMER - 1) // PER_CONSUMER
    left = declarations
    for k in range(consumers):
        team = k % teams
        lines = [
            f"team: team-{team}",
            f"service: service-{k}",
            f"repo: acme/consumer-{k}",
            "consumes:",
        ]
        chosen: set[int] = set()
        while len(chosen) < min(PER_CONSUMER, left):
            c = rng.randrange(contracts)
            if owner[c] != team:
                chosen.add(c)
        left -= len(chosen)
        for c in sorted(chosen):
            lines += [f"  - contract: contract-{c}", f"    versions: '{rng.choice(RANGES)}'"]
            if rng.random() < 1 / 3:
                uses = USES[FORMATS[c % len(FORMATS)]].format(n=rng.randrange(50))
                lines += ["    uses:", f"      {uses}".replace("\n        ", "\n      ")]
        (root / "consumers" / f"service-{k}.yaml").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )
    return root


def write_published(root: Path, c: int, fmt: str) -> None:
    """``contracts/contract-<c>/versions/1.0.0.json``: a small spec of ``fmt`` (an ``Item``
    with ``FIELDS`` fields, and the contract's number in it, so no two specs are the same)."""
    name, text = SPECS[fmt](c)
    folder = root / "contracts" / f"contract-{c}" / "versions"
    folder.mkdir(parents=True, exist_ok=True)
    published = {
        "contract": f"contract-{c}",
        "version": "1.0.0",
        "format": fmt,
        "source": {"repo": f"acme/service-{c}", "paths": [name], "commit": f"{c:040x}"},
        "published_at": "2025-01-01T00:00:00Z",
        "pull_request": None,
        "findings": [],
        "files": {name: text},
    }
    (folder / "1.0.0.json").write_text(json.dumps(published, indent=2) + "\n", encoding="utf-8")


def _numbered(c: int) -> list[str]:
    return [f"n{i}" for i in range(FIELDS)] + [f"c{c}"]


def _openapi(c: int) -> tuple[str, str]:
    properties = "\n".join(f"        {n}: {{type: string}}" for n in ["id", *_numbered(c)])
    schema = "{$ref: '#/components/schemas/Item'}"
    ok = f"{{'200': {{description: ok, content: {{application/json: {{schema: {schema}}}}}}}}}"
    text = (
        f"openapi: 3.0.3\ninfo: {{title: contract {c}, version: 1.0.0}}\npaths:\n"
        f"  /items:\n    post:\n      responses: {ok}\n"
        f"  /items/{{id}}:\n    get:\n"
        "      parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n"
        f"      responses: {ok}\n"
        f"components:\n  schemas:\n    Item:\n      type: object\n      properties:\n"
        f"{properties}\n"
    )
    return "spec/openapi.yaml", text


def _graphql(c: int) -> tuple[str, str]:
    fields = "\n".join(f"  {n}: String" for n in _numbered(c))
    return "spec/schema.graphql", (
        f"type Query {{\n  item(id: ID!): Item\n}}\n\ntype Item {{\n  id: ID!\n{fields}\n}}\n"
    )


def _protobuf(c: int) -> tuple[str, str]:
    fields = "\n".join(f"  string {n} = {i + 2};" for i, n in enumerate(_numbered(c)))
    return "spec/acme/v1/items.proto", (
        f'syntax = "proto3";\npackage acme.v1;\n\nmessage Item {{\n  string id = 1;\n{fields}\n}}\n'
        "service Items {\n  rpc Get(Item) returns (Item);\n}\n"
    )


def _avro(c: int) -> tuple[str, str]:
    fields = [{"name": n, "type": "string"} for n in ["id", *_numbered(c)]]
    schema = {"type": "record", "name": "Item", "namespace": "acme", "fields": fields}
    return "spec/item.avsc", json.dumps(schema, indent=1) + "\n"


def _dbt(c: int) -> tuple[str, str]:
    columns = {n: {"name": n, "data_type": "text"} for n in ["id", *_numbered(c)]}
    node = {
        "resource_type": "model",
        "package_name": "acme",
        "name": "fct_items",
        "unique_id": "model.acme.fct_items",
        "config": {"materialized": "table"},
        "columns": columns,
    }
    manifest = {
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
            "project_name": f"contract_{c}",
        },
        "nodes": {"model.acme.fct_items": node},
        "sources": {},
    }
    return "target/manifest.json", json.dumps(manifest, indent=1) + "\n"


def _jsonschema(c: int) -> tuple[str, str]:
    item = {"type": "object", "properties": {n: {"type": "string"} for n in _numbered(c)}}
    schema = {"type": "object", "title": f"contract {c}", "properties": {"Item": item}}
    return "spec/item.schema.json", json.dumps(schema, indent=1) + "\n"


SPECS = {
    "openapi": _openapi,
    "graphql": _graphql,
    "protobuf": _protobuf,
    "avro": _avro,
    "dbt": _dbt,
    "jsonschema": _jsonschema,
}


@dataclass(frozen=True)
class RegistryPoint:
    contracts: int
    declarations: int
    files: int
    timing: Timing


def measure_series(
    tessera: Path, runs: int, sizes: Sequence[tuple[int, int]] = SIZES
) -> list[RegistryPoint]:
    points = []
    for contracts, declarations in sizes:
        with tempfile.TemporaryDirectory(prefix="tessera-bench-registry-") as tmp:
            root = generate(Path(tmp) / "registry", contracts, declarations, published=True)
            files = sum(1 for _ in root.rglob("*.yaml"))
            timing = measure([str(tessera), "registry", "validate", str(root)], runs)
            points.append(RegistryPoint(contracts, declarations, files, timing))
    return points


def render(points: Sequence[RegistryPoint]) -> str:
    lines = [
        "## Registry validation at scale",
        "",
        "`tessera registry validate DIR` on generated registries (`bench/registry.py`: one team "
        "per 20 contracts, five declarations per consumer file, a third with `uses`, a published "
        "version of every contract, in the six formats in turn, against which each `uses` entry "
        "is checked): whole-process wall time (median) and peak RSS. Target: under "
        f"{TARGET_SECONDS:.0f} s for 10,000 contracts and 50,000 declarations.",
        "",
        "| contracts | declarations | files | wall (s) | range (s) | peak RSS (MiB) | target |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for p in points:
        t = p.timing
        if not t.succeeded:
            lines.append(
                f"| {p.contracts:,} | {p.declarations:,} | {p.files:,} | failed: "
                f"{t.error()} | | | |"
            )
            continue
        met = "met" if t.median < TARGET_SECONDS else "missed"
        lines.append(
            f"| {p.contracts:,} | {p.declarations:,} | {p.files:,} | {t.median:.2f} | "
            f"{t.low:.2f}–{t.high:.2f} | {t.peak_kib / 1024:.0f} | {met} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/registry.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per size (default 3)")
    args = parser.parse_args(argv)
    tessera = Path(sys.executable).parent / "tessera"
    sys.stdout.write(render(measure_series(tessera, args.runs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
