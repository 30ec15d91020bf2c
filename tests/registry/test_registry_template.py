"""The registry template: its schemas are the engine's, and every file names its schema."""

from __future__ import annotations

import json

import pytest

from tessera_engine.formats import FORMAT_NAMES
from tessera_engine.formats.native import NATIVE_NAMES, PROTO_LEVELS
from tessera_engine.modes import Mode
from tessera_engine.registry import schema
from tessera_engine.registry.model import GUARANTEE_POLICIES, VERSIONING

from .registry_helpers import REPO, TEMPLATE


@pytest.mark.parametrize("kind", schema.KINDS)
def test_template_schemas_are_copies_of_the_engines(kind: str) -> None:
    copy = TEMPLATE / "schemas" / f"{kind}.schema.json"
    assert copy.read_text(encoding="utf-8") == schema.schema_text(kind), (
        f"{copy.relative_to(REPO)} is stale: copy it from engine/src/tessera_engine/registry/"
        "schemas/ (make docs does)"
    )


def test_every_yaml_file_starts_with_its_schema_modeline() -> None:
    expected = {"teams": "team", "contracts": "contract", "consumers": "consumer"}
    for folder, kind in expected.items():
        for path in sorted((TEMPLATE / folder).glob("*.yaml")):
            first = path.read_text(encoding="utf-8").splitlines()[0]
            assert first == f"# yaml-language-server: $schema=../schemas/{kind}.schema.json"
    first = (TEMPLATE / "tessera.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=schemas/settings.schema.json"


def test_schema_value_lists_follow_the_engine() -> None:
    contract = schema.schema("contract")
    props = contract["properties"]
    assert set(props["format"]["enum"]) == {*FORMAT_NAMES, *NATIVE_NAMES}
    assert props["compatibility"]["properties"]["proto_level"]["enum"] == list(PROTO_LEVELS)
    assert contract["$defs"]["mode"]["enum"] == [m.value for m in Mode]
    assert contract["$defs"]["versioning"]["properties"]["policy"]["enum"] == list(VERSIONING)
    assert props["guarantees"]["properties"]["policy"]["enum"] == list(GUARANTEE_POLICIES)
    settings = schema.schema("settings")
    assert settings["$defs"]["mode"]["enum"] == [m.value for m in Mode]
    assert settings["$defs"]["guarantee_policy"]["enum"] == list(GUARANTEE_POLICIES)


def test_the_workflow_validates_pull_requests() -> None:
    workflow = (TEMPLATE / ".github/workflows/validate.yml").read_text(encoding="utf-8")
    assert "pull_request" in workflow
    assert "tessera registry validate . --output github" in workflow
    for kind in schema.KINDS:  # and every schema is a JSON Schema 2020-12 document
        assert json.loads(schema.schema_text(kind))["$schema"].endswith("2020-12/schema")
