"""Fingerprints identify the same change across formats, reformatting, key order and line
shifts, and tell different changes apart."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tessera_engine.fingerprint import fingerprint

from .helpers import HEX16, diff_json, openapi, operation, ref, write


def base() -> dict[str, Any]:
    parameters = [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}},
        {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
    ]
    pet = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "status": {"type": "string", "enum": ["available", "sold"]},
            "kind": {"type": "string", "enum": ["cat", "dog"]},
        },
    }
    return openapi(
        {"/pets/{id}": {"get": operation(parameters=parameters, response=ref("Pet"))}}, {"Pet": pet}
    )


def changed() -> dict[str, Any]:
    doc = base()
    get = doc["paths"]["/pets/{id}"]["get"]
    get["parameters"][1]["schema"]["maximum"] = 50
    doc["components"]["schemas"]["Pet"]["properties"]["status"]["enum"] = ["available"]
    return doc


def reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


def reformatted_yaml(doc: dict[str, Any]) -> str:
    """The same document in YAML: keys reversed, parameters reordered, another indentation
    and a comment header that shifts every line."""
    doc = reversed_keys(doc)
    parameters = doc["paths"]["/pets/{id}"]["get"]["parameters"]
    parameters.append(parameters.pop(1))  # limit moves to the end
    header = "# Pets API\n# (reformatted)\n\n"
    return header + yaml.safe_dump(doc, sort_keys=False, indent=4, width=200)


def by_rule(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {f["rule"]: f for f in data["findings"]}
    assert len(found) == len(data["findings"])
    return found


@pytest.fixture
def twins(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same change, once between JSON files and once between reformatted YAML files."""
    write(tmp_path / "old.json", base())
    write(tmp_path / "new.json", changed())
    write(tmp_path / "old.yaml", reformatted_yaml(base()))
    write(tmp_path / "new.yaml", reformatted_yaml(changed()))
    as_json = diff_json("old.json", "new.json", cwd=tmp_path)
    as_yaml = diff_json("old.yaml", "new.yaml", cwd=tmp_path)
    return as_json, as_yaml


def test_same_change_same_fingerprint_across_formats(
    twins: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    as_json, as_yaml = twins
    json_findings, yaml_findings = by_rule(as_json), by_rule(as_yaml)
    assert set(json_findings) == {"schema.constraint.tightened", "schema.enum.value-removed"}
    assert set(yaml_findings) == set(json_findings)
    for rule, finding in json_findings.items():
        twin = yaml_findings[rule]
        assert finding["fingerprint"] == twin["fingerprint"], rule
        assert finding["path"] == twin["path"]
        assert HEX16.match(finding["fingerprint"])


def test_same_change_different_locations(twins: tuple[dict[str, Any], dict[str, Any]]) -> None:
    as_json, as_yaml = twins
    json_findings, yaml_findings = by_rule(as_json), by_rule(as_yaml)
    for rule, finding in json_findings.items():
        twin = yaml_findings[rule]
        assert finding["location"]["file"] == "new.json"
        assert twin["location"]["file"] == "new.yaml"
        assert finding["location"]["line"] != twin["location"]["line"], rule
    # the YAML parameters were reordered: the pointer differs, the fingerprint does not
    assert (
        json_findings["schema.constraint.tightened"]["pointer"]
        != yaml_findings["schema.constraint.tightened"]["pointer"]
    )


def test_fingerprints_are_stable_across_runs(tmp_path: Path) -> None:
    write(tmp_path / "old.json", base())
    write(tmp_path / "new.json", changed())
    first = diff_json("old.json", "new.json", cwd=tmp_path)
    second = diff_json(tmp_path / "old.json", tmp_path / "new.json")  # other file names
    assert [f["fingerprint"] for f in first["findings"]] == [
        f["fingerprint"] for f in second["findings"]
    ]


def _enum_removed_from(prop: str, value: str) -> dict[str, Any]:
    doc = base()
    enum = doc["components"]["schemas"]["Pet"]["properties"][prop]["enum"]
    enum.remove(value)
    return doc


def test_different_element_different_fingerprint(tmp_path: Path) -> None:
    write(tmp_path / "old.json", base())
    prints = {}
    for prop, value in (("status", "sold"), ("kind", "dog"), ("kind", "cat")):
        write(tmp_path / "new.json", _enum_removed_from(prop, value))
        (finding,) = diff_json("old.json", "new.json", cwd=tmp_path)["findings"]
        assert finding["rule"] == "schema.enum.value-removed"
        prints[(prop, value)] = finding["fingerprint"]
    assert len(set(prints.values())) == 3, prints


def test_same_kind_of_change_in_another_operation(tmp_path: Path) -> None:
    def doc(maximum: int, operations: tuple[str, ...]) -> dict[str, Any]:
        parameter = {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "maximum": maximum},
        }
        return openapi({path: {"get": operation(parameters=[parameter])} for path in operations})

    write(tmp_path / "old.json", doc(100, ("/a", "/b")))
    write(tmp_path / "new.json", doc(50, ("/a", "/b")))
    data = diff_json("old.json", "new.json", cwd=tmp_path)
    assert [f["rule"] for f in data["findings"]] == ["schema.constraint.tightened"] * 2
    assert data["findings"][0]["fingerprint"] != data["findings"][1]["fingerprint"]


def test_path_parameter_rename_keeps_fingerprints(tmp_path: Path) -> None:
    """Operations are keyed by their path template, not by the parameter names."""
    renamed = changed()
    item = renamed["paths"].pop("/pets/{id}")
    item["get"]["parameters"][0]["name"] = "petId"
    renamed["paths"]["/pets/{petId}"] = item
    write(tmp_path / "old.json", base())
    write(tmp_path / "new.json", changed())
    write(tmp_path / "renamed.json", renamed)
    plain = by_rule(diff_json("old.json", "new.json", cwd=tmp_path))
    moved = by_rule(diff_json("old.json", "renamed.json", cwd=tmp_path))
    assert "api.parameter.renamed" in moved
    for rule, finding in plain.items():
        assert moved[rule]["fingerprint"] == finding["fingerprint"], rule


def test_header_names_are_case_insensitive(tmp_path: Path) -> None:
    doc = base()
    doc["paths"]["/pets/{id}"]["get"]["parameters"][2]["name"] = "x-trace"
    write(tmp_path / "old.json", base())
    write(tmp_path / "new.json", doc)
    data = diff_json("old.json", "new.json", cwd=tmp_path)
    assert "api.parameter.removed" not in [f["rule"] for f in data["findings"]]
    assert "api.parameter.added" not in [f["rule"] for f in data["findings"]]


def test_component_rename_with_a_change_reports_only_the_change(tmp_path: Path) -> None:
    renamed = json.loads(json.dumps(changed()).replace('/Pet"', '/Animal"'))
    renamed["components"]["schemas"]["Animal"] = renamed["components"]["schemas"].pop("Pet")
    write(tmp_path / "old.json", base())
    write(tmp_path / "new.json", renamed)
    data = diff_json("old.json", "new.json", cwd=tmp_path)
    assert {f["rule"] for f in data["findings"]} == {
        "schema.constraint.tightened",
        "schema.enum.value-removed",
    }


# -- the function itself --------------------------------------------------------------------


def test_fingerprint_function() -> None:
    one = fingerprint("schema.enum.value-removed", "GET /pets|200", {"value": "a", "n": 1})
    assert HEX16.match(one)
    assert one == fingerprint("schema.enum.value-removed", "GET /pets|200", {"n": 1, "value": "a"})
    assert one != fingerprint("schema.enum.value-added", "GET /pets|200", {"value": "a", "n": 1})
    assert one != fingerprint("schema.enum.value-removed", "GET /pets|201", {"value": "a", "n": 1})
    assert one != fingerprint("schema.enum.value-removed", "GET /pets|200", {"value": "b", "n": 1})
    assert fingerprint("r.r.r", "k", {"s": {"b", "a", "c"}}) == fingerprint(
        "r.r.r", "k", {"s": {"c", "a", "b"}}
    )
    assert fingerprint("r.r.r", "k", {"v": [1, 2]}) != fingerprint("r.r.r", "k", {"v": [2, 1]})


def test_fingerprint_of_unusual_arguments() -> None:
    args = {"value": {"nested": [None, True, 1.5, "é"]}, "when": copy.copy(Path("x"))}
    assert HEX16.match(fingerprint("r.r.r", "k", args))
