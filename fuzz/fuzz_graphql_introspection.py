"""Fuzz target: the full diff of two GraphQL introspection results (JSON, read and validated
through graphql-core), with the element graph and every renderer. Input: a pair (see
``harness.PAIR_SEPARATOR``)."""

from __future__ import annotations

from pathlib import Path

from diffing import run_diff
from harness import fuzz
from mutate import pair, tree

KEYS = (
    "__schema",
    "data",
    "types",
    "kind",
    "ofType",
    "fields",
    "args",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
    "queryType",
    "mutationType",
    "subscriptionType",
    "directives",
    "locations",
    "defaultValue",
    "isDeprecated",
    "deprecationReason",
    "isRepeatable",
    "isOneOf",
    "specifiedByURL",
)
VALUES = (
    "OBJECT",
    "SCALAR",
    "INTERFACE",
    "UNION",
    "ENUM",
    "INPUT_OBJECT",
    "LIST",
    "NON_NULL",
    "Query",
    "String",
    "Int",
    "FIELD_DEFINITION",
    '"a"',
    "[1, 2]",
    "{a: 1}",
    "{",
)


def test(data: bytes) -> None:
    run_diff(data, "graphql", ("old/schema.json", "new/schema.json"))


if __name__ == "__main__":
    fuzz(
        Path(__file__).stem.removeprefix("fuzz_"),
        test,
        mutator=pair(tree(KEYS, VALUES, yaml_keys=False)),
        modules=("tessera_engine.formats.graphql",),
    )
