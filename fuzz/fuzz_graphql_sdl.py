"""Fuzz target: the full diff of two GraphQL SDL schemas (Tessera's own SDL reader, the
comparator, the element graph and every renderer). Input: a pair (see
``harness.PAIR_SEPARATOR``)."""

from __future__ import annotations

from pathlib import Path

from diffing import run_diff
from harness import fuzz
from mutate import pair, tokens

WORDS = (
    "type ",
    "input ",
    "interface ",
    "union ",
    "enum ",
    "scalar ",
    "extend ",
    "schema ",
    "directive ",
    "implements ",
    "repeatable ",
    " on ",
    "&",
    "|",
    "!",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ":",
    "=",
    "@deprecated",
    '@deprecated(reason: "x")',
    '@specifiedBy(url: "u")',
    "@oneOf",
    "FIELD_DEFINITION",
    "query",
    "mutation",
    "subscription",
    "String",
    "Int",
    "Float",
    "Boolean",
    "ID",
    "null",
    "true",
    '"""doc"""',
    '"x"',
    "$",
    "...",
    "0",
    "-1",
    "1.5e300",
    "99999999999999999999",
    "\n",
)


def test(data: bytes) -> None:
    run_diff(data, "graphql", ("old/schema.graphql", "new/schema.graphql"))


if __name__ == "__main__":
    fuzz(
        Path(__file__).stem.removeprefix("fuzz_"),
        test,
        mutator=pair(tokens(WORDS)),
        modules=("tessera_engine.formats.graphql",),
    )
