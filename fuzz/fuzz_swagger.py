"""Fuzz target: the full diff of two Swagger 2.0 documents (YAML or JSON) and every renderer.
Input: a pair (see ``harness.PAIR_SEPARATOR``)."""

from __future__ import annotations

from pathlib import Path

from diffing import run_diff
from harness import fuzz
from mutate import pair, tree

KEYS = (
    "swagger",
    "info",
    "version",
    "host",
    "basePath",
    "schemes",
    "consumes",
    "produces",
    "paths",
    "definitions",
    "parameters",
    "responses",
    "securityDefinitions",
    "security",
    "schema",
    "in",
    "collectionFormat",
    "allowEmptyValue",
    "headers",
    "operationId",
    "discriminator",
    "readOnly",
    "get",
    "post",
    "put",
    "delete",
    "200",
    "default",
    "/{id}",
)
VALUES = (
    "2.0",
    "query",
    "path",
    "header",
    "body",
    "formData",
    "csv",
    "multi",
    "file",
    "#/definitions/Order",
    "#/parameters/Id",
    "#/responses/NotFound",
    "application/json",
    "application/xml",
)


def test(data: bytes) -> None:
    run_diff(data, "swagger", ("old/swagger", "new/swagger"))


if __name__ == "__main__":
    fuzz(
        Path(__file__).stem.removeprefix("fuzz_"),
        test,
        mutator=pair(tree(KEYS, VALUES)),
        modules=("tessera_engine.formats.swagger", "tessera_engine.formats.api"),
    )
