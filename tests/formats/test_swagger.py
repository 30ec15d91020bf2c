"""Swagger 2.0: detection, validation and the mapping onto the API model, end to end."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tessera_engine import DiffResult, Finding, diff
from tessera_engine.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "swagger"


def _diff(name: str) -> DiffResult:
    return diff(str(FIXTURES / f"{name}-old.yaml"), str(FIXTURES / f"{name}-new.yaml"))


def _only(result: DiffResult, rule: str) -> Finding:
    found = [f for f in result.findings if f.rule == rule]
    assert len(found) == 1, [(f.rule, f.path) for f in result.findings]
    return found[0]


def _line(name: str, snippet: str, *, after: str = "") -> int:
    """The number of the first line of a fixture that contains ``snippet``, below the first
    line that contains ``after``."""
    lines = (FIXTURES / name).read_text().splitlines()
    start = next(i for i, text in enumerate(lines) if after in text)
    return next(i for i, text in enumerate(lines[start:], start + 1) if snippet in text)


def _check(
    finding: Finding, severity: str, path: str, file: str, snippet: str, *, after: str = ""
) -> None:
    assert finding.severity.value == severity
    assert finding.path == path
    assert finding.location is not None
    assert finding.location.file.endswith(file)
    assert finding.location.line == _line(file, snippet, after=after)


# -- parameters -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def params() -> DiffResult:
    return _diff("params")


def test_new_required_query_parameter_is_breaking(params: DiffResult) -> None:
    finding = _only(params, "api.parameter.added")
    _check(finding, "breaking", "GET /pets → query.owner", "params-new.yaml", "name: owner")


def test_collection_format_change_is_a_serialization_change(params: DiffResult) -> None:
    finding = _only(params, "api.parameter.serialization-changed")
    _check(finding, "breaking", "GET /pets → query.status", "params-new.yaml", "name: status")
    assert "collectionFormat csv -> multi" in finding.message


def test_removed_enum_value_of_query_parameter_items(params: DiffResult) -> None:
    finding = _only(params, "schema.enum.value-removed")
    _check(finding, "breaking", "GET /pets → query.status[]", "params-new.yaml", "enum:")


def test_renamed_path_parameter_is_not_a_removal(params: DiffResult) -> None:
    finding = _only(params, "api.parameter.renamed")
    _check(finding, "annotation", "GET /pets/{id} → path.id", "params-new.yaml", "name: id")
    rules = {f.rule for f in params.findings}
    assert not rules & {"api.parameter.removed", "api.operation.removed", "api.operation.added"}


def test_required_form_field_added_is_breaking(params: DiffResult) -> None:
    finding = _only(params, "schema.property.added")
    _check(
        finding,
        "breaking",
        "POST /pets/{petId}/photo → body.caption",
        "params-new.yaml",
        "name: caption",
    )


def test_parameter_referenced_from_definitions_is_unchanged(params: DiffResult) -> None:
    assert not [f for f in params.findings if "limit" in f.path]


# -- bodies and responses ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def bodies() -> DiffResult:
    return _diff("bodies")


def test_body_property_became_required(bodies: DiffResult) -> None:
    finding = _only(bodies, "schema.property.required-added")
    _check(
        finding,
        "breaking",
        "POST /pets → body.tag",
        "bodies-new.yaml",
        "required:",
        after="NewPet:",
    )


def test_response_property_removed(bodies: DiffResult) -> None:
    finding = _only(bodies, "schema.property.removed")
    assert finding.severity.value == "breaking"
    assert finding.path == "GET /pets → 200 → body[].tag"


def test_removed_produces_entry_removes_the_media_type(bodies: DiffResult) -> None:
    finding = _only(bodies, "api.media-type.removed")
    assert finding.severity.value == "breaking"
    assert finding.path == "GET /pets → 200 → body"
    assert "application/xml" in finding.message


def test_x_nullable_added_on_response_property(bodies: DiffResult) -> None:
    finding = _only(bodies, "schema.nullable.added")
    _check(
        finding,
        "breaking",
        "GET /pets → 200 → body[].name",
        "bodies-new.yaml",
        "name:",
        after="Pet:",
    )


def test_unchanged_response_header_is_not_reported(bodies: DiffResult) -> None:
    assert not [f for f in bodies.findings if "header" in f.path]


# -- operations, security, servers ------------------------------------------------------------


@pytest.fixture(scope="module")
def api() -> DiffResult:
    return _diff("api")


def test_removed_operation_is_breaking(api: DiffResult) -> None:
    finding = _only(api, "api.operation.removed")
    _check(finding, "breaking", "DELETE /pets", "api-new.yaml", "/pets:")


def test_security_requirement_added_to_operation(api: DiffResult) -> None:
    finding = _only(api, "api.security.tightened")
    _check(finding, "breaking", "GET /pets", "api-new.yaml", "security:")


def test_host_and_base_path_change_replaces_the_server(api: DiffResult) -> None:
    removed = _only(api, "api.server.removed")
    added = _only(api, "api.server.added")
    assert removed.args["url"] == "https://api.example.com/v1"
    assert added.args["url"] == "https://pets.example.com/v2"
    assert added.location is not None
    assert added.location.line == _line("api-new.yaml", "host:")


def test_oauth2_token_url_change(api: DiffResult) -> None:
    finding = _only(api, "api.security-scheme.changed")
    assert "accessCode tokenUrl changed" in finding.message


@pytest.mark.parametrize("name", ["params", "bodies", "api"])
def test_identical_documents_have_no_findings(name: str) -> None:
    path = str(FIXTURES / f"{name}-old.yaml")
    assert diff(path, path).findings == ()


# -- detection and validation -----------------------------------------------------------------


def test_unlabelled_swagger_file_is_detected() -> None:
    assert _diff("api").format == "swagger"


def _cli(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["diff", *args], stdout=out, stderr=err)
    return code, err.getvalue()


def test_swagger_file_given_as_openapi_is_an_error() -> None:
    path = str(FIXTURES / "api-old.yaml")
    code, err = _cli("--format", "openapi", path, path)
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "api-old.yaml:1" in err and "--format swagger" in err


def test_openapi_file_given_as_swagger_is_an_error() -> None:
    path = str(FIXTURES / "openapi3.yaml")
    code, err = _cli("--format", "swagger", path, path)
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "openapi3.yaml:1" in err and "--format openapi" in err
