"""What changes mean: compatibility modes, policies, per-position severities in APIs, and the
many ways to write the same schema."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .helpers import cli, diff_json, only, openapi, operation, ref, rules, summary, write


@pytest.fixture
def pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict[str, Any]]:
    """Write OLD and NEW into tmp_path and diff them: ``pair(old, new, *options)``."""
    monkeypatch.chdir(tmp_path)

    def run(old: Any, new: Any, *options: str, suffix: str = ".json") -> dict[str, Any]:
        write(tmp_path / f"old{suffix}", old)
        write(tmp_path / f"new{suffix}", new)
        return diff_json(f"old{suffix}", f"new{suffix}", *options)

    return run


Pair = Callable[..., dict[str, Any]]


# -- modes (JSON Schema) --------------------------------------------------------------------

OBJECT = {"type": "object", "properties": {"id": {"type": "string"}}}
MODE_CASES = {
    "required property added": (
        OBJECT,
        {
            "type": "object",
            "properties": {"id": {"type": "string"}, "n": {"type": "string"}},
            "required": ["n"],
        },
        "schema.property.added",
    ),
    "enum value removed": (
        {"type": "string", "enum": ["a", "b"]},
        {"type": "string", "enum": ["a"]},
        "schema.enum.value-removed",
    ),
    "integer widened to number": ({"type": "integer"}, {"type": "number"}, "schema.type.widened"),
}
# mode -> verdict for each case above, in order
MODE_VERDICTS = {
    "backward": ("breaking", "breaking", "compatible"),  # new readers, old data
    "forward": ("compatible", "compatible", "breaking"),  # old readers, new data
    "full": ("breaking", "breaking", "breaking"),
    "none": ("compatible", "compatible", "compatible"),
}


@pytest.mark.parametrize("mode", sorted(MODE_VERDICTS))
@pytest.mark.parametrize("case", list(MODE_CASES))
def test_modes(pair: Pair, case: str, mode: str) -> None:
    old, new, rule = MODE_CASES[case]
    verdict = MODE_VERDICTS[mode][list(MODE_CASES).index(case)]
    data = pair(old, new, "--mode", mode)
    assert data["verdict"] == verdict
    assert data["mode"] == mode
    assert rules(data) == [rule]
    expected_position = {"backward": "input", "forward": "output", "full": "both"}.get(mode)
    if expected_position:
        assert data["findings"][0]["position"] == expected_position


def test_json_schema_defaults_to_backward(pair: Pair) -> None:
    old, new, _ = MODE_CASES["enum value removed"]
    assert pair(old, new)["mode"] == "backward"
    assert pair(old, new)["verdict"] == "breaking"


def test_transitive_mode_checks_every_older_version(pair: Pair, tmp_path: Path) -> None:
    write(tmp_path / "v1.json", {"type": "string", "enum": ["a", "b"]})
    write(tmp_path / "v2.json", {"type": "string", "enum": ["a"]})
    write(tmp_path / "v3.json", {"type": "string", "enum": ["a"], "description": "letters"})

    latest = cli("diff", "v1.json", "v2.json", "v3.json", "--output", "json", "--mode", "backward")
    assert latest.code == 0
    assert rules(latest.data) == ["meta.description.changed"]  # v2 -> v3 only

    run = cli(
        "diff", "v1.json", "v2.json", "v3.json", "--output", "json", "--mode", "backward_transitive"
    )
    assert run.code == 1
    data = run.data
    assert data["old"] == ["v1.json", "v2.json"]
    removed = only(data, "schema.enum.value-removed")
    assert removed["severity"] == "breaking"
    assert removed["against"] == "v1.json"
    assert only(data, "meta.description.changed")["against"] == "v2.json"


def test_transitive_mode_reports_a_break_once(pair: Pair, tmp_path: Path) -> None:
    write(tmp_path / "v1.json", {"type": "string", "enum": ["a", "b"]})
    write(tmp_path / "v2.json", {"type": "string", "enum": ["a", "b"]})
    write(tmp_path / "v3.json", {"type": "string", "enum": ["a"]})
    run = cli(
        "diff", "v1.json", "v2.json", "v3.json", "--output", "json", "--mode", "full_transitive"
    )
    assert run.code == 1
    assert rules(run.data) == ["schema.enum.value-removed"]


def test_transitive_forward(pair: Pair, tmp_path: Path) -> None:
    write(tmp_path / "v1.json", {"type": "integer"})
    write(tmp_path / "v2.json", {"type": "number"})
    write(tmp_path / "v3.json", {"type": "number", "title": "n"})
    assert cli("diff", "v1.json", "v2.json", "v3.json", "--mode", "forward").code == 0
    run = cli("diff", "v1.json", "v2.json", "v3.json", "-o", "json", "--mode", "forward_transitive")
    assert run.code == 1
    assert only(run.data, "schema.type.widened")["against"] == "v1.json"


# -- policies -------------------------------------------------------------------------------

OPTIONAL_ADDED = (
    OBJECT,
    {"type": "object", "properties": {"id": {"type": "string"}, "note": {"type": "string"}}},
)


def test_strict_policy_breaks_on_an_optional_property_added_to_an_open_object(
    pair: Pair,
) -> None:
    # old data may already carry "note" with any type
    data = pair(*OPTIONAL_ADDED, "--policy", "strict")
    assert summary(data) == [("schema.property.added", "breaking", "input")]
    assert pair(*OPTIONAL_ADDED)["policy"] == "strict"  # the JSON Schema default
    assert pair(*OPTIONAL_ADDED)["verdict"] == "breaking"


def test_lenient_policy_accepts_it(pair: Pair) -> None:
    data = pair(*OPTIONAL_ADDED, "--policy", "lenient")
    assert summary(data) == [("schema.property.added", "safe", "input")]


def test_optional_property_added_to_a_closed_object(pair: Pair) -> None:
    closed = dict(OBJECT, additionalProperties=False)
    new = copy.deepcopy(OPTIONAL_ADDED[1])
    new["additionalProperties"] = False
    for policy in ("strict", "lenient"):
        assert pair(closed, new, "--policy", policy)["verdict"] == "compatible", policy


# -- OpenAPI: per-position defaults ---------------------------------------------------------

BODY = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "string"},
        "kind": {"type": "string", "enum": ["a", "b"], "maxLength": 10},
        "note": {"type": "string"},
    },
}


def _required_added(s: dict[str, Any]) -> None:
    s["properties"]["extra"] = {"type": "string"}
    s["required"].append("extra")


CHANGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "required property added": _required_added,
    "optional property added": lambda s: s["properties"].update(extra={"type": "string"}),
    "property removed": lambda s: s["properties"].pop("note"),
    "enum value added": lambda s: s["properties"]["kind"]["enum"].append("c"),
    "enum value removed": lambda s: s["properties"]["kind"]["enum"].remove("b"),
    "maxLength raised": lambda s: s["properties"]["kind"].update(maxLength=20),
    "maxLength lowered": lambda s: s["properties"]["kind"].update(maxLength=5),
    "nullable added": lambda s: s["properties"]["note"].update(nullable=True),
    "property became required": lambda s: s["required"].append("note"),
    "property became optional": lambda s: s["required"].remove("id"),
}
# change -> (rule, severity in a request body, severity in a response body)
EXPECTED = {
    "required property added": ("schema.property.added", "breaking", "safe"),
    "optional property added": ("schema.property.added", "safe", "safe"),
    "property removed": ("schema.property.removed", "safe", "breaking"),
    "enum value added": ("schema.enum.value-added", "safe", "dangerous"),
    "enum value removed": ("schema.enum.value-removed", "breaking", "safe"),
    "maxLength raised": ("schema.constraint.relaxed", "safe", "breaking"),
    "maxLength lowered": ("schema.constraint.tightened", "breaking", "safe"),
    "nullable added": ("schema.nullable.added", "safe", "breaking"),
    "property became required": ("schema.property.required-added", "breaking", "safe"),
    "property became optional": ("schema.property.required-removed", "safe", "breaking"),
}


def body_api(schema: dict[str, Any], where: str) -> dict[str, Any]:
    op = operation(request=schema) if where == "request" else operation(response=schema)
    return openapi({"/things": {"post": op}})


@pytest.mark.parametrize("where", ["request", "response"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_openapi_severity_by_position(pair: Pair, change: str, where: str) -> None:
    new = copy.deepcopy(BODY)
    CHANGES[change](new)
    data = pair(body_api(BODY, where), body_api(new, where))
    rule, in_request, in_response = EXPECTED[change]
    severity = in_request if where == "request" else in_response
    position = "input" if where == "request" else "output"
    assert summary(data) == [(rule, severity, position)]


def test_parameter_schema_is_an_input(pair: Pair) -> None:
    def doc(maximum: int) -> dict[str, Any]:
        parameter = {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "maximum": maximum},
        }
        return openapi({"/things": {"get": operation(parameters=[parameter])}})

    assert summary(pair(doc(100), doc(50))) == [
        ("schema.constraint.tightened", "breaking", "input")
    ]
    assert summary(pair(doc(50), doc(100))) == [("schema.constraint.relaxed", "safe", "input")]


@pytest.mark.parametrize(
    ("mode", "severity"),
    [
        ("auto", "breaking"),
        ("backward", "breaking"),
        ("forward", "safe"),
        ("full", "breaking"),
        ("none", "safe"),
    ],
)
def test_modes_override_api_positions(pair: Pair, mode: str, severity: str) -> None:
    """The finding keeps its real position (a request body is an input); the mode decides
    how it is judged (forward: as if it were read by old consumers)."""
    new = copy.deepcopy(BODY)
    CHANGES["maxLength lowered"](new)
    data = pair(body_api(BODY, "request"), body_api(new, "request"), "--mode", mode)
    assert summary(data) == [("schema.constraint.tightened", severity, "input")]


# -- nullability written four ways ----------------------------------------------------------

NULLABLE_FORMS = {
    "3.0 nullable": ("3.0.3", {"type": "string", "nullable": True, "maxLength": 5}),
    "3.1 type array": ("3.1.0", {"type": ["string", "null"], "maxLength": 5}),
    "3.1 oneOf null first": (
        "3.1.0",
        {"oneOf": [{"type": "null"}, {"type": "string", "maxLength": 5}]},
    ),
    "3.1 anyOf null last": (
        "3.1.0",
        {"anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}]},
    ),
}


def nullable_doc(form: str, where: str) -> dict[str, Any]:
    version, schema = NULLABLE_FORMS[form]
    body = {"type": "object", "properties": {"nickname": schema}}
    op = operation(request=body) if where == "request" else operation(response=body)
    return openapi({"/people": {"post": op}}, version=version)


@pytest.mark.parametrize("where", ["request", "response"])
@pytest.mark.parametrize(
    ("old", "new"),
    [(a, b) for a in NULLABLE_FORMS for b in NULLABLE_FORMS if a != b],
)
def test_nullable_forms_are_equivalent(pair: Pair, old: str, new: str, where: str) -> None:
    assert pair(nullable_doc(old, where), nullable_doc(new, where))["findings"] == []


@pytest.mark.parametrize("form", sorted(NULLABLE_FORMS))
def test_dropping_null_from_any_form_is_reported(pair: Pair, form: str) -> None:
    version, _ = NULLABLE_FORMS[form]
    plain = {"type": "object", "properties": {"nickname": {"type": "string", "maxLength": 5}}}
    data = pair(
        nullable_doc(form, "request"),
        openapi({"/people": {"post": operation(request=plain)}}, version=version),
    )
    assert summary(data) == [("schema.nullable.removed", "breaking", "input")]


# -- readOnly / writeOnly -------------------------------------------------------------------

ACCOUNT = {
    "type": "object",
    "required": ["id", "password", "name"],
    "properties": {
        "id": {"type": "string", "readOnly": True},
        "password": {"type": "string", "writeOnly": True},
        "name": {"type": "string"},
    },
}


def accounts(schema: dict[str, Any]) -> dict[str, Any]:
    return openapi(
        {"/accounts": {"post": operation(request=ref("Account"), response=ref("Account"))}},
        {"Account": schema},
    )


def _without(name: str) -> dict[str, Any]:
    schema = copy.deepcopy(ACCOUNT)
    del schema["properties"][name]
    schema["required"].remove(name)
    return schema


def test_removing_a_read_only_property_only_concerns_responses(pair: Pair) -> None:
    data = pair(accounts(ACCOUNT), accounts(_without("id")))
    assert summary(data) == [("schema.property.removed", "breaking", "output")]


def test_removing_a_write_only_property_only_concerns_requests(pair: Pair) -> None:
    data = pair(accounts(ACCOUNT), accounts(_without("password")))
    assert summary(data) == [("schema.property.removed", "safe", "input")]


def test_adding_a_required_read_only_property_does_not_burden_clients(pair: Pair) -> None:
    new = copy.deepcopy(ACCOUNT)
    new["properties"]["created"] = {"type": "string", "readOnly": True}
    new["required"].append("created")
    data = pair(accounts(ACCOUNT), accounts(new))
    assert summary(data) == [("schema.property.added", "safe", "output")]


def test_adding_a_required_write_only_property_breaks_requests(pair: Pair) -> None:
    new = copy.deepcopy(ACCOUNT)
    new["properties"]["pin"] = {"type": "string", "writeOnly": True}
    new["required"].append("pin")
    data = pair(accounts(ACCOUNT), accounts(new))
    assert summary(data) == [("schema.property.added", "breaking", "input")]


# -- allOf ----------------------------------------------------------------------------------

FLAT = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}
BASE = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
COMPOSED = {
    "allOf": [
        ref("Base"),
        {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
    ]
}


def composed(schema: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    return openapi(
        {"/items": {"put": operation(request=schema, response=schema)}}, {"Base": base or BASE}
    )


def test_moving_properties_into_an_allof_base_reports_nothing(pair: Pair) -> None:
    assert pair(composed(FLAT), composed(COMPOSED))["findings"] == []
    assert pair(composed(COMPOSED), composed(FLAT))["findings"] == []


def test_change_inside_an_allof_base_is_reported(pair: Pair) -> None:
    changed = copy.deepcopy(BASE)
    changed["properties"]["id"]["type"] = "string"
    data = pair(composed(FLAT), composed(COMPOSED, changed))
    assert data["verdict"] == "breaking"
    assert {f["rule"] for f in data["findings"]} == {"schema.type.changed"}
    for finding in data["findings"]:  # the old request and response had their own copies
        assert finding["path"].endswith(".id")
        assert finding["pointer"] == "/components/schemas/Base/properties/id/type"
    shared = pair(composed(COMPOSED), composed(COMPOSED, changed))
    finding = only(shared, "schema.type.changed")
    assert (finding["position"], finding["severity"]) == ("both", "breaking")


# -- path parameters ------------------------------------------------------------------------


def test_path_parameter_rename_is_not_a_removal(pair: Pair) -> None:
    def doc(template: str, name: str) -> dict[str, Any]:
        parameter = {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        return openapi(
            {template: {"get": operation(parameters=[parameter], response={"type": "string"})}}
        )

    data = pair(doc("/pets/{id}", "id"), doc("/pets/{petId}", "petId"))
    assert summary(data) == [("api.parameter.renamed", "annotation", "input")]
    assert data["verdict"] == "compatible"
    assert data["findings"][0]["path"] == "GET /pets/{petId} → path.petId"


def test_path_change_is_a_removal(pair: Pair) -> None:
    def doc(template: str) -> dict[str, Any]:
        parameter = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
        return openapi({template: {"get": operation(parameters=[parameter])}})

    data = pair(doc("/pets/{id}"), doc("/animals/{id}"))
    assert sorted(rules(data)) == ["api.operation.added", "api.operation.removed"]
    assert data["verdict"] == "breaking"


# -- draft-4 and draft-6 exclusive bounds ---------------------------------------------------

DRAFT4_EXCLUSIVE = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "number",
    "minimum": 5,
    "exclusiveMinimum": True,
}
DRAFT6_EXCLUSIVE = {
    "$schema": "http://json-schema.org/draft-06/schema#",
    "type": "number",
    "exclusiveMinimum": 5,
}
INCLUSIVE = {"$schema": "http://json-schema.org/draft-06/schema#", "type": "number", "minimum": 5}


def test_draft4_and_draft6_exclusive_minimum_are_the_same(pair: Pair) -> None:
    assert pair(DRAFT4_EXCLUSIVE, DRAFT6_EXCLUSIVE)["findings"] == []
    assert pair(DRAFT6_EXCLUSIVE, DRAFT4_EXCLUSIVE)["findings"] == []


@pytest.mark.parametrize(
    "exclusive", [DRAFT4_EXCLUSIVE, DRAFT6_EXCLUSIVE], ids=["draft-4", "draft-6"]
)
def test_making_a_bound_exclusive_tightens_it(pair: Pair, exclusive: dict[str, Any]) -> None:
    assert summary(pair(INCLUSIVE, exclusive)) == [
        ("schema.constraint.tightened", "breaking", "input")
    ]
    assert summary(pair(exclusive, INCLUSIVE)) == [("schema.constraint.relaxed", "safe", "input")]


def test_draft4_exclusive_flag_turned_off(pair: Pair) -> None:
    relaxed = dict(DRAFT4_EXCLUSIVE, exclusiveMinimum=False)
    assert summary(pair(DRAFT4_EXCLUSIVE, relaxed)) == [
        ("schema.constraint.relaxed", "safe", "input")
    ]


def test_exclusive_maximum_lowered(pair: Pair) -> None:
    old = {"type": "number", "exclusiveMaximum": 10}
    new = {"type": "number", "exclusiveMaximum": 9}
    assert summary(pair(old, new)) == [("schema.constraint.tightened", "breaking", "input")]


# -- webhooks and callbacks -----------------------------------------------------------------

PAYLOAD = {
    "type": "object",
    "required": ["id"],
    "properties": {"id": {"type": "string"}, "status": {"type": "string", "enum": ["new", "paid"]}},
}


def webhook(payload: dict[str, Any]) -> dict[str, Any]:
    hook = {
        "post": {
            "requestBody": {"content": {"application/json": {"schema": payload}}},
            "responses": {"200": {"description": "received"}},
        }
    }
    return openapi(None, version="3.1.0", webhooks={"orderPaid": hook})


def callback(payload: dict[str, Any], reply: dict[str, Any] | None = None) -> dict[str, Any]:
    reply = reply or {"type": "object"}
    event = {
        "post": {
            "requestBody": {"content": {"application/json": {"schema": payload}}},
            "responses": {
                "200": {"description": "ack", "content": {"application/json": {"schema": reply}}}
            },
        }
    }
    subscribe = operation(request={"type": "object"}, status="201")
    subscribe["callbacks"] = {"onPaid": {"{$request.body#/url}": event}}
    return openapi({"/subscriptions": {"post": subscribe}})


def _status_removed(s: dict[str, Any]) -> None:
    del s["properties"]["status"]


def _enum_value_added(s: dict[str, Any]) -> None:
    s["properties"]["status"]["enum"].append("refunded")


def _required_added_to(s: dict[str, Any]) -> None:
    s["properties"]["total"] = {"type": "number"}
    s["required"].append("total")


SENT_TO_CONSUMERS = {
    # change: (rule, severity): the API sends these, consumers read them
    "property removed": (_status_removed, "schema.property.removed", "breaking"),
    "enum value added": (_enum_value_added, "schema.enum.value-added", "dangerous"),
    "required property added": (_required_added_to, "schema.property.added", "safe"),
}


@pytest.mark.parametrize("change", sorted(SENT_TO_CONSUMERS))
def test_webhook_payload_is_read_by_consumers(pair: Pair, change: str) -> None:
    edit, rule, severity = SENT_TO_CONSUMERS[change]
    new = copy.deepcopy(PAYLOAD)
    edit(new)
    data = pair(webhook(PAYLOAD), webhook(new))
    assert summary(data) == [(rule, severity, "output")]
    assert data["findings"][0]["path"].startswith("WEBHOOK orderPaid POST → body")


@pytest.mark.parametrize("change", sorted(SENT_TO_CONSUMERS))
def test_callback_request_is_read_by_consumers(pair: Pair, change: str) -> None:
    edit, rule, severity = SENT_TO_CONSUMERS[change]
    new = copy.deepcopy(PAYLOAD)
    edit(new)
    data = pair(callback(PAYLOAD), callback(new))
    assert summary(data) == [(rule, severity, "output")]
    assert data["findings"][0]["path"].startswith("POST /subscriptions → callback onPaid POST")


def test_callback_response_is_read_by_the_provider(pair: Pair) -> None:
    reply = {"type": "object", "properties": {"ok": {"type": "boolean"}}}
    stricter = copy.deepcopy(reply)
    stricter["properties"]["receipt"] = {"type": "string"}
    stricter["required"] = ["receipt"]
    data = pair(callback(PAYLOAD, reply), callback(PAYLOAD, stricter))
    assert summary(data) == [("schema.property.added", "breaking", "input")]


def test_webhook_removed(pair: Pair) -> None:
    data = pair(webhook(PAYLOAD), openapi(None, version="3.1.0", webhooks={}))
    assert summary(data) == [("api.operation.removed", "breaking", "none")]
