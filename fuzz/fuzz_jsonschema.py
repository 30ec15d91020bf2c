"""Fuzz target: the full diff of two JSON Schemas (draft 4 to 2020-12, YAML or JSON) and
every renderer. Input: a pair (see ``harness.PAIR_SEPARATOR``)."""

from __future__ import annotations

from pathlib import Path

from diffing import run_diff
from harness import fuzz
from mutate import pair, tree

KEYS = (
    "$schema",
    "title",
    "patternProperties",
    "dependentSchemas",
    "dependentRequired",
    "dependencies",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "prefixItems",
    "additionalItems",
    "contains",
    "minContains",
    "maxContains",
    "if",
    "then",
    "else",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "multipleOf",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "pattern",
    "$dynamicRef",
    "$dynamicAnchor",
    "$recursiveRef",
    "readOnly",
    "writeOnly",
    "examples",
    "contentEncoding",
)
VALUES = (
    "http://json-schema.org/draft-04/schema#",
    "http://json-schema.org/draft-07/schema#",
    "https://json-schema.org/draft/2020-12/schema",
    "#/definitions/a",
    "#/$defs/a",
    "#a",
    "https://example.com/s.json",
    "https://example.com/s.json#/$defs/a",
    "^[a-z]+$",
    "(a+)+$",
    "[",
    "number",
    "boolean",
    "null",
)


def test(data: bytes) -> None:
    run_diff(data, "jsonschema", ("old/schema", "new/schema"))


if __name__ == "__main__":
    fuzz(
        Path(__file__).stem.removeprefix("fuzz_"),
        test,
        mutator=pair(tree(KEYS, VALUES)),
        modules=("tessera_engine.formats.jsonschema",),
    )
