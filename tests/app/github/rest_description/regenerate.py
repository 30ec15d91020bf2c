"""Regenerate ``github-rest-2022-11-28.json``: the part of GitHub's REST description the App uses.

    .venv/bin/python tests/app/github/rest_description/regenerate.py            # npm pack
    .venv/bin/python tests/app/github/rest_description/regenerate.py --package /tmp/octo/package

GitHub publishes its REST API description in the npm package ``@octokit/openapi``;
``generated/api.github.com.json`` there is the description of REST API version 2022-11-28
(OpenAPI 3.0.3), carrying ``x-github-breaking-changes`` patches that turn it into later versions
(2026-03-10). Those patches are NOT applied: the App speaks 2022-11-28 (``API_VERSION`` in
``tessera_app.github.gateway``), and the script refuses a description whose patches are not all
for later versions than that.

Without ``--package`` the script runs ``npm pack @octokit/openapi@<VERSION>`` in a temporary
folder and reads the tarball; ``--package`` takes an unpacked package folder or a ``.tgz``.

What it writes, next to itself: an OpenAPI 3.1 document holding only the operations in
``OPERATIONS`` (the ones the gateway calls and the fake GitHub serves), with

- every ``$ref`` replaced by what it points to (parameters, request bodies, responses, schemas:
  the description has no recursive schema among these operations, and the script fails if
  one appears);
- OpenAPI 3.0's ``nullable: true`` turned into a type that allows ``null`` (``["string",
  "null"]``, or ``anyOf [..., {"type": "null"}]`` where there is no ``type``; ``null`` added
  to an ``enum``), which is exactly the 3.0 -> 3.1 change, so every schema is a plain JSON
  Schema (2020-12) that the ``jsonschema`` package checks;
- prose and examples left out (``description``, ``example(s)``, ``externalDocs``, ``x-*``
  extensions, ``discriminator``, ``readOnly``/``writeOnly``), the summary and documentation URL
  of each operation kept;
- ``info["x-github-api-version"]`` (the API version described) and ``info["x-source"]`` (the
  package, its version and file).

The description is MIT-licensed (``LICENSE.octokit-openapi.txt``, copied from the package).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@octokit/openapi"
VERSION = "23.0.2"
SOURCE_FILE = "generated/api.github.com.json"
API_VERSION = "2022-11-28"
HERE = Path(__file__).resolve().parent
OUTPUT = HERE / f"github-rest-{API_VERSION}.json"
LICENSE = HERE / "LICENSE.octokit-openapi.txt"

OPERATIONS = (
    "apps/get-authenticated",
    "apps/create-installation-access-token",
    "apps/list-webhook-deliveries",
    "apps/redeliver-webhook-delivery",
    "repos/get-content",
    "repos/list-pull-requests-associated-with-commit",
    "git/get-blob",
    "git/get-tree",
    "git/create-blob",
    "git/create-tree",
    "git/create-commit",
    "git/get-commit",
    "git/get-ref",
    "git/update-ref",
    "pulls/get",
    "pulls/list",
    "pulls/list-files",
    "pulls/list-reviews",
    "checks/create",
    "checks/update",
    "checks/list-for-ref",
    "checks/list-annotations",
    "issues/create",
    "issues/get",
    "issues/update",
    "issues/list-comments",
    "issues/create-comment",
    "issues/update-comment",
    "reactions/create-for-issue-comment",
    "teams/get-membership-for-user-in-org",
)
"""The operations kept: every call of ``tessera_app.github.gateway`` and every route of the fake."""

DROPPED = frozenset(
    {
        "description",
        "example",
        "examples",
        "externalDocs",
        "discriminator",
        "readOnly",
        "writeOnly",
        "xml",
        "deprecated",
        "title",
    }
)
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")


class DescriptionError(Exception):
    """The package's description is not what this script can convert."""


def load_package(package: Path | None) -> tuple[dict[str, Any], str, str]:
    """The description, the package's version and its licence text."""
    if package is None:
        return _from_npm()
    if package.is_dir():
        return _read_folder(package)
    return _read_tarball(package)


def _from_npm() -> tuple[dict[str, Any], str, str]:
    npm = shutil.which("npm")
    if npm is None:
        raise DescriptionError("npm is not installed: pass --package with an unpacked package")
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [npm, "pack", f"{PACKAGE}@{VERSION}", "--silent"],
            cwd=folder,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (tarball,) = Path(folder).glob("*.tgz")
        return _read_tarball(tarball)


def _read_tarball(path: Path) -> tuple[dict[str, Any], str, str]:
    with tarfile.open(path) as archive:

        def member(name: str) -> bytes:
            handle = archive.extractfile(f"package/{name}")
            if handle is None:
                raise DescriptionError(f"{path}: no package/{name}")
            return handle.read()

        meta = json.loads(member("package.json"))
        return json.loads(member(SOURCE_FILE)), meta["version"], member("LICENSE").decode()


def _read_folder(folder: Path) -> tuple[dict[str, Any], str, str]:
    meta = json.loads((folder / "package.json").read_text())
    description = json.loads((folder / SOURCE_FILE).read_text())
    return description, meta["version"], (folder / "LICENSE").read_text()


class Converter:
    """Dereferences and converts the parts of one OpenAPI 3.0 description."""

    def __init__(self, description: dict[str, Any]) -> None:
        self.description = description

    def resolve(self, node: Any, trail: tuple[str, ...] = ()) -> Any:
        """``node`` with every ``$ref`` replaced by its target (recursively)."""
        if isinstance(node, list):
            return [self.resolve(item, trail) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if ref in trail:
                raise DescriptionError(f"recursive reference {ref} (via {' -> '.join(trail)})")
            return self.resolve(self._target(ref), (*trail, ref))
        return {key: self.resolve(value, trail) for key, value in node.items()}

    def _target(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise DescriptionError(f"external reference {ref}")
        node: Any = self.description
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def schema(self, node: Any) -> Any:
        """An OpenAPI 3.0 schema (already dereferenced) as a JSON Schema 2020-12 schema."""
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in DROPPED or key.startswith("x-") or key == "nullable":
                continue
            if key == "properties":
                out[key] = {name: self.schema(sub) for name, sub in value.items()}
            elif key in ("items", "not") or (key == "additionalProperties" and value is not True):
                out[key] = self.schema(value)
            elif key in SCHEMA_LISTS:
                out[key] = [self.schema(sub) for sub in value]
            else:
                out[key] = value
        if node.get("nullable") is True:
            out = _nullable(out)
        return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "enum" in schema and None not in schema["enum"]:
        schema = {**schema, "enum": [*schema["enum"], None]}
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    if isinstance(kind, list):
        return {**schema, "type": kind if "null" in kind else [*kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def convert(description: dict[str, Any], package_version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 subset of ``description`` holding ``OPERATIONS``."""
    _check_version(description)
    converter = Converter(description)
    paths: dict[str, dict[str, Any]] = {}
    found: set[str] = set()
    for path, item in description["paths"].items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if not isinstance(operation, dict) or operation.get("operationId") not in OPERATIONS:
                continue
            found.add(operation["operationId"])
            paths.setdefault(path, {})[method] = _operation(converter, operation, shared)
    missing = sorted(set(OPERATIONS) - found)
    if missing:
        raise DescriptionError(f"operations not in the description: {', '.join(missing)}")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "GitHub REST API (the operations Tessera uses)",
            "version": API_VERSION,
            "license": {"name": "MIT", "identifier": "MIT"},
            "x-github-api-version": API_VERSION,
            "x-source": {
                "package": PACKAGE,
                "version": package_version,
                "file": SOURCE_FILE,
                "openapi": description["openapi"],
                "generated_by": "tests/app/github/rest_description/regenerate.py",
            },
        },
        "servers": description.get("servers", []),
        "paths": {path: paths[path] for path in sorted(paths)},
    }


def _check_version(description: dict[str, Any]) -> None:
    """Every breaking-change patch must be for a later version than ``API_VERSION``: then the
    unpatched description is the one of ``API_VERSION``."""
    for item in description["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for change in operation.get("x-github-breaking-changes", []):
                if str(change.get("version", "")) <= API_VERSION:
                    raise DescriptionError(
                        f"{operation.get('operationId')}: a breaking change for "
                        f"{change.get('version')}, not later than {API_VERSION}"
                    )


def _operation(
    converter: Converter, operation: dict[str, Any], shared: list[Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": operation["operationId"],
        "summary": operation.get("summary", ""),
    }
    docs = operation.get("externalDocs", {}).get("url")
    if docs:
        out["externalDocs"] = {"url": docs}
    parameters = [converter.resolve(p) for p in (*shared, *operation.get("parameters", []))]
    out["parameters"] = [
        {
            key: converter.schema(value) if key == "schema" else value
            for key, value in parameter.items()
            if key in ("name", "in", "required", "schema", "x-multi-segment")
        }
        for parameter in parameters
    ]
    if "requestBody" in operation:
        body = converter.resolve(operation["requestBody"])
        out["requestBody"] = {
            "required": bool(body.get("required", False)),
            "content": _content(converter, body.get("content", {})),
        }
    out["responses"] = {}
    for status, response in operation["responses"].items():
        resolved = converter.resolve(response)
        kept: dict[str, Any] = {"description": resolved.get("description", "")}
        content = _content(converter, resolved.get("content", {}))
        if content:
            kept["content"] = content
        out["responses"][status] = kept
    return out


def _content(converter: Converter, content: dict[str, Any]) -> dict[str, Any]:
    return {
        media: {"schema": converter.schema(converter.resolve(entry.get("schema", {})))}
        for media, entry in content.items()
        if media == "application/json"
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", type=Path, help="an unpacked package folder or a .tgz")
    args = parser.parse_args(argv)
    try:
        description, version, licence = load_package(args.package)
        if version != VERSION:
            raise DescriptionError(f"{PACKAGE} {version} given, {VERSION} expected")
        subset = convert(description, version)
    except (DescriptionError, OSError, subprocess.CalledProcessError, KeyError) as exc:
        print(f"regenerate: {exc}", file=sys.stderr)
        return 1
    OUTPUT.write_text(json.dumps(subset, indent=1, sort_keys=False) + "\n")
    LICENSE.write_text(licence if licence.endswith("\n") else licence + "\n")
    print(f"{OUTPUT.name}: {len(OPERATIONS)} operations, {OUTPUT.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
