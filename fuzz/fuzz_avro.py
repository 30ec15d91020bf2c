"""Fuzz target: the full diff of two Avro schemas (``.avsc``: parsing, name resolution,
defaults, schema resolution), with the element graph and every renderer. Input: a pair (see
``harness.PAIR_SEPARATOR``)."""

from __future__ import annotations

from pathlib import Path

from diffing import run_diff
from harness import fuzz
from mutate import pair, tree

KEYS = (
    "type",
    "name",
    "namespace",
    "fields",
    "symbols",
    "items",
    "values",
    "size",
    "logicalType",
    "precision",
    "scale",
    "default",
    "aliases",
    "order",
    "doc",
)
VALUES = (
    "record",
    "error",
    "enum",
    "array",
    "map",
    "fixed",
    "string",
    "int",
    "long",
    "float",
    "double",
    "bytes",
    "boolean",
    "null",
    "decimal",
    "uuid",
    "date",
    "time-millis",
    "timestamp-millis",
    "timestamp-micros",
    "local-timestamp-millis",
    "duration",
    "ascending",
    "descending",
    "ignore",
    "com.example.Order",
    ".Order",
    "\u00ff",
    16,
    12,
)


def test(data: bytes) -> None:
    run_diff(data, "avro", ("old/schema.avsc", "new/schema.avsc"))


if __name__ == "__main__":
    fuzz(
        Path(__file__).stem.removeprefix("fuzz_"),
        test,
        mutator=pair(tree(KEYS, VALUES, yaml_keys=False)),
        modules=("tessera_engine.formats.avro",),
    )
