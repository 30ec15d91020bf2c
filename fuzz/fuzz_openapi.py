"""Fuzz target: the full diff of two OpenAPI 3 documents (YAML or JSON), with ``$ref``s to
files beside them (the shared ``refs`` fixture: ``common.yaml``, ``details.yaml``,
``schemas/order.yaml``) and every renderer. Input: a pair (see ``harness.PAIR_SEPARATOR``)."""

from __future__ import annotations

from pathlib import Path

from diffing import run_diff
from harness import REPO, fuzz
from mutate import pair, tree

KEYS = (
    "openapi",
    "info",
    "version",
    "paths",
    "components",
    "schemas",
    "parameters",
    "requestBody",
    "responses",
    "content",
    "schema",
    "in",
    "required",
    "style",
    "explode",
    "headers",
    "security",
    "securitySchemes",
    "servers",
    "callbacks",
    "links",
    "webhooks",
    "operationId",
    "x-sunset",
    "readOnly",
    "writeOnly",
    "discriminator",
    "mapping",
    "propertyName",
    "get",
    "post",
    "put",
    "delete",
    "patch",
    "application/json",
    "200",
    "default",
    "4XX",
    "/{id}",
)
VALUES = (
    "3.0.3",
    "3.1.0",
    "query",
    "path",
    "header",
    "cookie",
    "#/components/schemas/Order",
    "#/components/parameters/Id",
    "common.yaml#/components/schemas/Error",
    "details.yaml#/Detail",
    "schemas/order.yaml",
    "schemas/order.yaml#/Order",
    "application/json",
    "text/plain",
    "date-time",
)


def extra_files() -> dict[str, bytes]:
    """The refs fixture's sibling files, beside both versions."""
    found: dict[str, bytes] = {}
    for side in ("old", "new"):
        root = REPO / "tests/engine/fixtures/refs" / side
        for path in sorted(root.rglob("*.yaml")):
            relative = path.relative_to(root).as_posix()
            if relative != "openapi.yaml":
                found[f"{side}/{relative}"] = path.read_bytes()
    return found


EXTRA = extra_files()


def test(data: bytes) -> None:
    run_diff(data, "openapi", ("old/openapi", "new/openapi"), extra=EXTRA)


if __name__ == "__main__":
    fuzz(
        Path(__file__).stem.removeprefix("fuzz_"),
        test,
        mutator=pair(tree(KEYS, VALUES)),
        modules=("tessera_engine.formats.openapi", "tessera_engine.formats.api"),
    )
