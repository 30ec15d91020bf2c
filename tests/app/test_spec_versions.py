"""The version a spec declares about itself (``spec_versions``), and the version a merge
publishes (``workflow_versions.version_to_publish``): pure functions, no database."""

from __future__ import annotations

import json

import pytest

from tessera_app.spec_versions import declared_version, declares_versions
from tessera_app.workflow_versions import version_to_publish
from tessera_engine.model import Bump

OPENAPI = "openapi: 3.0.3\ninfo:\n  title: Orders\n  version: 2.2.0\npaths: {}\n"


def test_openapi_declares_info_version_with_its_line() -> None:
    found = declared_version("openapi", {"api/openapi.yaml": OPENAPI})
    assert found is not None
    assert (found.version, found.problem) == ("2.2.0", None)
    assert found.where == "info.version in api/openapi.yaml:4"


def test_swagger_and_a_v_prefix() -> None:
    spec = json.dumps({"swagger": "2.0", "info": {"title": "x", "version": "v3.0.0-rc.1"}})
    found = declared_version("swagger", {"swagger.json": spec})
    assert found is not None and found.version == "3.0.0-rc.1"


def test_a_value_that_is_not_a_semantic_version_is_reported_never_guessed() -> None:
    for written, text in (
        ("1.0", OPENAPI.replace("version: 2.2.0", "version: 1.0")),  # YAML reads a number
        ("2024-01-01", OPENAPI.replace("version: 2.2.0", "version: '2024-01-01'")),
    ):
        found = declared_version("openapi", {"api/openapi.yaml": text})
        assert found is not None and found.version is None, written
        assert found.problem is not None
        assert f"'{written}'" in found.problem and "not a semantic version" in found.problem
        assert "api/openapi.yaml:4" in found.problem


def test_json_schema_declares_x_version_only() -> None:
    schema = {"type": "object", "x-version": "1.2.0", "properties": {"a": {"type": "string"}}}
    found = declared_version("jsonschema", {"order.schema.json": json.dumps(schema, indent=2)})
    assert found is not None and found.version == "1.2.0"
    assert found.where == "x-version in order.schema.json:3"
    del schema["x-version"]
    schema["version"] = "1.2.0"  # not the convention: nothing declared
    assert declared_version("jsonschema", {"order.schema.json": json.dumps(schema)}) is None


def test_avro_declares_the_top_level_records_version_across_files() -> None:
    order = {"type": "record", "name": "Order", "version": "4.1.0", "fields": []}
    line = {"type": "record", "name": "Line", "version": "4.1.0", "fields": []}
    files = {
        "avro/order.avsc": json.dumps(order),
        "avro/line.avsc": json.dumps(line),
        "avro/README.md": "version: 9.9.9\n",  # not a schema file: not read
    }
    found = declared_version("avro", files)
    assert found is not None and found.version == "4.1.0"
    line["version"] = "4.2.0"
    files["avro/line.avsc"] = json.dumps(line)
    found = declared_version("avro", files)
    assert found is not None and found.version is None
    assert found.problem is not None and "declare different versions" in found.problem
    assert "4.1.0" in found.problem and "4.2.0" in found.problem
    enum = {"type": "enum", "name": "Status", "symbols": ["A"], "version": "1.0.0"}
    assert declared_version("avro", {"status.avsc": json.dumps(enum)}) is None  # not a record


def test_formats_without_a_place_and_files_that_do_not_parse_declare_nothing() -> None:
    for name in ("graphql", "protobuf", "dbt"):
        assert not declares_versions(name)
        assert declared_version(name, {"x": "version: 1.0.0"}) is None
    broken = OPENAPI.replace("paths: {}", "paths: [")
    assert declared_version("openapi", {"api/openapi.yaml": broken}) is None


@pytest.mark.parametrize(
    ("bump", "current", "judged", "latest", "version", "why"),
    [
        # the judged version is published as it is when it is after the base and big enough
        (Bump.MAJOR, "2.1.0", "3.0.0", "2.1.0", "3.0.0", None),
        (Bump.MINOR, "2.1.0", "2.5.0", None, "2.5.0", None),
        (Bump.MAJOR, "2.1.0", "3.0.0-rc.1", "2.1.0", "3.0.0-rc.1", None),
        # another change was published since: the next one after it
        (Bump.MINOR, "2.1.0", "2.2.0", "2.2.0", "2.3.0", "2.2.0 is not after 2.2.0"),
        # too small (a merge while an enforce check failed): the smallest that carries the bump
        (Bump.MAJOR, "2.1.0", "2.2.0", "2.1.0", "3.0.0", "2.2.0 is too small"),
        # none given: the smallest that carries the bump
        (Bump.MAJOR, "2.1.0", None, "2.1.0", "3.0.0", "no version was given"),
        # nothing needs a new version, and the version did not move: a patch release
        (Bump.NONE, "2.1.0", "2.1.0", "2.1.0", "2.1.1", "no change needs a new version"),
        # nothing published yet: the judged version, or 1.0.0
        (Bump.NONE, None, "0.3.0", None, "0.3.0", None),
        (Bump.NONE, None, None, None, "1.0.0", "the first version"),
    ],
)
def test_the_version_a_merge_publishes(
    bump: Bump,
    current: str | None,
    judged: str | None,
    latest: str | None,
    version: str,
    why: str | None,
) -> None:
    got, reason = version_to_publish("orders-api", bump, current, judged, latest)
    assert got == version
    if why is None:
        assert reason is None
    else:
        assert reason is not None and why in reason
