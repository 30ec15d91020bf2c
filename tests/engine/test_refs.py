"""``$ref`` handling: sibling files, shared and recursive components, refactorings that change
nothing, ``$ref``-looking data, and JSON Schema ``$id``/``$anchor``/``$defs``."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from .helpers import FIXTURES, diff_json, line_of, only, openapi, operation, ref, summary, write

REFS = FIXTURES / "refs"


# -- sibling files --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def siblings() -> dict[str, Any]:
    return diff_json("old/openapi.yaml", "new/openapi.yaml", cwd=REFS)


def test_change_in_a_sibling_file_is_located_there(siblings: dict[str, Any]) -> None:
    changed = only(siblings, "schema.type.changed")
    details = (REFS / "new" / "details.yaml").read_text()
    assert changed["severity"] == "breaking"
    assert changed["position"] == "output"
    # openapi.yaml -> schemas/order.yaml -> common.yaml -> details.yaml
    assert changed["path"] == "GET /orders → 200 → body[].lastError.detail.reason"
    assert changed["pointer"] == "/Detail/properties/reason/type"
    assert changed["location"] == {
        "file": "new/details.yaml",
        "line": line_of(details, "type: integer"),
        "column": 7,
    }
    assert changed["operations"] == ["GET /orders"]


def test_removal_in_a_sibling_file_is_located_there(siblings: dict[str, Any]) -> None:
    removed = only(siblings, "schema.property.removed")
    old_common = (REFS / "old" / "common.yaml").read_text()
    new_common = (REFS / "new" / "common.yaml").read_text()
    assert removed["severity"] == "breaking"
    assert removed["path"].endswith("lastError.message")
    assert removed["location"]["file"] == "new/common.yaml"
    assert removed["location"]["line"] == line_of(new_common, "Error:")
    assert removed["old_location"] == {
        "file": "old/common.yaml",
        "line": line_of(old_common, "message:"),
        "column": 9,
    }


def test_a_component_reached_two_ways_is_reported_once(siblings: dict[str, Any]) -> None:
    # Error is used by the default response directly and by Order.lastError
    assert len(siblings["findings"]) == 2
    assert siblings["verdict"] == "breaking"


def test_siblings_compared_with_themselves_are_unchanged() -> None:
    assert diff_json("old/openapi.yaml", "old/openapi.yaml", cwd=REFS)["findings"] == []


def test_sibling_files_in_an_absolute_location(tmp_path: Path) -> None:
    data = diff_json(REFS / "old" / "openapi.yaml", REFS / "new" / "openapi.yaml", cwd=tmp_path)
    files = {Path(f["location"]["file"]) for f in data["findings"]}
    assert files == {REFS / "new" / "common.yaml", REFS / "new" / "details.yaml"}


# -- recursion and sharing ------------------------------------------------------------------


def tree(label: str, operations: tuple[str, ...] = ("/tree",)) -> dict[str, Any]:
    node = {
        "type": "object",
        "properties": {
            "label": {"type": label},
            "children": {"type": "array", "items": ref("Node")},
            "parent": ref("Node"),
        },
    }
    paths = {path: {"get": operation(response=ref("Node"))} for path in operations}
    return openapi(paths, {"Node": node})


def test_recursive_schema_change_is_reported_once(tmp_path: Path) -> None:
    write(tmp_path / "old.json", tree("string"))
    write(tmp_path / "new.json", tree("integer"))
    data = diff_json(tmp_path / "old.json", tmp_path / "new.json")
    assert summary(data) == [("schema.type.changed", "breaking", "output")]
    assert data["findings"][0]["path"] == "GET /tree → 200 → body.label"


def test_mutually_recursive_schemas(tmp_path: Path) -> None:
    def doc(kind: str) -> dict[str, Any]:
        person = {
            "type": "object",
            "properties": {"name": {"type": kind}, "employer": ref("Company")},
        }
        company = {
            "type": "object",
            "properties": {
                "staff": {"type": "array", "items": ref("Person")},
                "owner": ref("Person"),
            },
        }
        return openapi(
            {"/people": {"post": operation(request=ref("Person"))}},
            {"Person": person, "Company": company},
        )

    write(tmp_path / "old.json", doc("string"))
    write(tmp_path / "new.json", doc("integer"))
    data = diff_json(tmp_path / "old.json", tmp_path / "new.json")
    assert summary(data) == [("schema.type.changed", "breaking", "input")]


def test_shared_component_lists_every_operation(tmp_path: Path) -> None:
    paths = ("/a", "/b", "/c")
    write(tmp_path / "old.json", tree("string", paths))
    write(tmp_path / "new.json", tree("integer", paths))
    data = diff_json(tmp_path / "old.json", tmp_path / "new.json")
    (finding,) = data["findings"]
    assert finding["operations"] == ["GET /a", "GET /b", "GET /c"]


def shared(schema: dict[str, Any], *, split: bool) -> dict[str, Any]:
    """Component S read in a request and written in a response (of one operation, or of two)."""
    if split:
        paths = {
            "/write": {"post": operation(request=ref("S"), status="204")},
            "/read": {"get": operation(response=ref("S"))},
        }
    else:
        paths = {"/s": {"put": operation(request=ref("S"), response=ref("S"))}}
    return openapi(paths, {"S": schema})


BOTH_CASES = {
    # change: (old, new, severity) - the higher of the input and output severities
    "maxLength raised": (
        {"type": "string", "maxLength": 10},
        {"type": "string", "maxLength": 20},
        "breaking",
    ),  # output breaks
    "maxLength lowered": (
        {"type": "string", "maxLength": 10},
        {"type": "string", "maxLength": 5},
        "breaking",
    ),  # input breaks
    "enum value added": (
        {"type": "string", "enum": ["a"]},
        {"type": "string", "enum": ["a", "b"]},
        "dangerous",
    ),
    "description changed": (
        {"type": "string", "description": "x"},
        {"type": "string", "description": "y"},
        "annotation",
    ),
}


@pytest.mark.parametrize("split", [False, True], ids=["one operation", "two operations"])
@pytest.mark.parametrize("case", sorted(BOTH_CASES))
def test_component_in_request_and_response_is_both(tmp_path: Path, case: str, split: bool) -> None:
    old, new, severity = BOTH_CASES[case]
    write(tmp_path / "old.json", shared(old, split=split))
    write(tmp_path / "new.json", shared(new, split=split))
    data = diff_json(tmp_path / "old.json", tmp_path / "new.json")
    (finding,) = data["findings"]
    assert (finding["position"], finding["severity"]) == ("both", severity)
    if split:
        assert finding["operations"] == ["GET /read", "POST /write"]


# -- refactorings that change nothing -------------------------------------------------------

PET = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "maxLength": 50},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


def pets(schema: Any, schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    return openapi(
        {
            "/pets": {"post": operation(request=schema, response=schema)},
            "/pets/{id}": {"get": operation(response=schema)},
        },
        schemas,
    )


REFACTORINGS = {
    "inline to $ref": (pets(PET), pets(ref("Pet"), {"Pet": PET})),
    "$ref to inline": (pets(ref("Pet"), {"Pet": PET}), pets(PET)),
    "component renamed": (pets(ref("Pet"), {"Pet": PET}), pets(ref("Animal"), {"Animal": PET})),
    "nested component renamed": (
        pets(
            ref("Pet"),
            {"Pet": {"type": "object", "properties": {"owner": ref("Person")}}, "Person": PET},
        ),
        pets(
            ref("Pet"),
            {"Pet": {"type": "object", "properties": {"owner": ref("Human")}}, "Human": PET},
        ),
    ),
    "property extracted": (
        pets(PET),
        pets(
            {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": ref("Name"),
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            },
            {"Name": {"type": "string", "maxLength": 50}},
        ),
    ),
    "$ref through an alias component": (
        pets(ref("Pet"), {"Pet": PET}),
        pets(ref("Pet"), {"Pet": ref("PetV2"), "PetV2": PET}),
    ),
}


@pytest.mark.parametrize("case", sorted(REFACTORINGS))
def test_refactoring_reports_nothing(tmp_path: Path, case: str) -> None:
    old, new = REFACTORINGS[case]
    write(tmp_path / "old.json", old)
    write(tmp_path / "new.json", new)
    assert diff_json(tmp_path / "old.json", tmp_path / "new.json")["findings"] == []


def test_refactoring_does_not_hide_a_real_change(tmp_path: Path) -> None:
    changed = copy.deepcopy(PET)
    changed["properties"]["name"]["maxLength"] = 20
    write(tmp_path / "old.json", pets(PET))
    write(tmp_path / "new.json", pets(ref("Animal"), {"Animal": changed}))
    data = diff_json(tmp_path / "old.json", tmp_path / "new.json")
    finding = only(data, "schema.constraint.tightened")
    assert finding["position"] == "both"
    assert finding["operations"] == ["GET /pets/{id}", "POST /pets"]


# -- $ref-looking data ----------------------------------------------------------------------

ODD = {
    "type": "object",
    "properties": {
        "$ref": {"type": "string"},
        "link": {
            "type": "string",
            "format": "uri",
            "example": {"$ref": "https://example.com/schemas/thing.json"},
        },
        "default": {"type": "object", "properties": {"$ref": {"type": "integer"}}},
    },
    "example": {"$ref": "https://example.com/unreachable.json#/nowhere"},
    "default": {"$ref": "#/does/not/exist"},
    "enum": [{"$ref": "#/nope"}, {"link": "x"}],
}


def test_ref_named_property_and_ref_like_examples(tmp_path: Path) -> None:
    write(tmp_path / "old.json", pets(ref("Odd"), {"Odd": ODD}))
    write(tmp_path / "new.json", pets(ref("Odd"), {"Odd": ODD}))
    assert diff_json(tmp_path / "old.json", tmp_path / "new.json")["findings"] == []


def test_change_to_a_property_named_ref(tmp_path: Path) -> None:
    changed = copy.deepcopy(ODD)
    changed["properties"]["$ref"]["maxLength"] = 3
    write(tmp_path / "old.json", pets(ref("Odd"), {"Odd": ODD}))
    write(tmp_path / "new.json", pets(ref("Odd"), {"Odd": changed}))
    data = diff_json(tmp_path / "old.json", tmp_path / "new.json")
    finding = only(data, "schema.constraint.added")
    assert finding["path"].endswith("body.$ref")
    assert finding["pointer"] == "/components/schemas/Odd/properties/$ref/maxLength"


def test_change_to_a_ref_like_example_is_an_annotation(tmp_path: Path) -> None:
    changed = copy.deepcopy(ODD)
    changed["properties"]["link"]["example"] = {"$ref": "https://example.com/other.json"}
    write(tmp_path / "old.json", pets(ref("Odd"), {"Odd": ODD}))
    write(tmp_path / "new.json", pets(ref("Odd"), {"Odd": changed}))
    data = diff_json(tmp_path / "old.json", tmp_path / "new.json")
    assert {f["rule"] for f in data["findings"]} == {"meta.example.changed"}
    assert data["verdict"] == "compatible"


def test_escaped_names_in_refs(tmp_path: Path) -> None:
    def doc(kind: str) -> dict[str, Any]:
        schema = {
            "type": "object",
            "properties": {
                "food": {"$ref": "#/components/schemas/Pet%20Food"},
                "path": {"$ref": "#/components/schemas/a~1b~0c"},
            },
        }
        return openapi(
            {"/a": {"get": operation(response=schema)}},
            {"Pet Food": {"type": kind}, "a/b~c": {"type": kind}},
        )

    write(tmp_path / "old.json", doc("string"))
    write(tmp_path / "new.json", doc("integer"))
    data = diff_json(tmp_path / "old.json", tmp_path / "new.json")
    assert sorted(f["path"] for f in data["findings"]) == [
        "GET /a → 200 → body.food",
        "GET /a → 200 → body.path",
    ]


# -- JSON Schema identifiers ----------------------------------------------------------------

D2020 = "https://json-schema.org/draft/2020-12/schema"
D7 = "http://json-schema.org/draft-07/schema#"
D4 = "http://json-schema.org/draft-04/schema#"


def subject(style: str, kind: str) -> dict[str, Any]:
    """A JSON Schema whose property ``a`` is defined elsewhere, referenced in ``style``."""
    target = {"type": kind, "maxLength": 5}
    if style == "$defs":
        return {
            "$schema": D2020,
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/A"}},
            "$defs": {"A": target},
        }
    if style == "definitions":
        return {
            "$schema": D7,
            "type": "object",
            "properties": {"a": {"$ref": "#/definitions/A"}},
            "definitions": {"A": target},
        }
    if style == "$anchor":
        return {
            "$schema": D2020,
            "type": "object",
            "properties": {"a": {"$ref": "#thing"}},
            "$defs": {"A": {"$anchor": "thing", **target}},
        }
    if style == "draft-7 $id anchor":
        return {
            "$schema": D7,
            "type": "object",
            "properties": {"a": {"$ref": "#thing"}},
            "definitions": {"A": {"$id": "#thing", **target}},
        }
    if style == "absolute $id":
        return {
            "$schema": D2020,
            "$id": "https://example.com/root.json",
            "type": "object",
            "properties": {"a": {"$ref": "https://example.com/a.json"}},
            "$defs": {"A": {"$id": "https://example.com/a.json", **target}},
        }
    if style == "$id with a pointer":
        return {
            "$schema": D2020,
            "$id": "https://example.com/root.json",
            "type": "object",
            "properties": {"a": {"$ref": "https://example.com/root.json#/$defs/A"}},
            "$defs": {"A": target},
        }
    if style == "$anchor in an embedded resource":
        return {
            "$schema": D2020,
            "$id": "https://example.com/schemas/root",
            "type": "object",
            "properties": {"a": {"$ref": "https://example.com/schemas/item#thing"}},
            "$defs": {
                "Item": {
                    "$id": "https://example.com/schemas/item",
                    "$defs": {"A": {"$anchor": "thing", **target}},
                }
            },
        }
    if style == "relative $id":
        # resolved against the base URI, as JSON Schema says: a.json is example.com/a.json,
        # declared by $defs/A; there is no file a.json to read
        return {
            "$schema": D2020,
            "$id": "https://example.com/root.json",
            "type": "object",
            "properties": {"a": {"$ref": "a.json"}},
            "$defs": {"A": {"$id": "a.json", **target}},
        }
    if style == "draft-4 id anchor":
        return {
            "$schema": D4,
            "type": "object",
            "properties": {"a": {"$ref": "#thing"}},
            "definitions": {"A": {"id": "#thing", **target}},
        }
    raise AssertionError(style)


STYLES = [
    "$defs",
    "definitions",
    "$anchor",
    "draft-7 $id anchor",
    "absolute $id",
    "$id with a pointer",
    "$anchor in an embedded resource",
    "relative $id",
    "draft-4 id anchor",
]


@pytest.mark.parametrize("style", STYLES)
def test_json_schema_references(tmp_path: Path, style: str) -> None:
    write(tmp_path / "old.json", subject(style, "string"))
    write(tmp_path / "new.json", subject(style, "integer"))
    assert diff_json(tmp_path / "old.json", tmp_path / "old.json")["findings"] == []
    data = diff_json(tmp_path / "old.json", tmp_path / "new.json")
    finding = only(data, "schema.type.changed")
    assert finding["path"] == "$.a"
    text = (tmp_path / "new.json").read_text()
    assert finding["location"]["line"] == line_of(text, '"type": "integer"')


@pytest.mark.parametrize("style", ["definitions", "$anchor", "$id with a pointer"])
def test_switching_reference_style_reports_nothing(tmp_path: Path, style: str) -> None:
    write(tmp_path / "old.json", subject("$defs", "string"))
    write(tmp_path / "new.json", subject(style, "string"))
    data = diff_json(tmp_path / "old.json", tmp_path / "new.json")
    assert [f for f in data["findings"] if f["severity"] != "annotation"] == []
