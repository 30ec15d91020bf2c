"""The command-line contract: JSON output, exit codes, options and their errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tessera_engine import __version__

from .helpers import (
    FINDING_KEYS,
    HEX16,
    assert_one_line_error,
    cli,
    diff_json,
    line_of,
    only,
    openapi,
    operation,
    spawn,
    summary,
    write,
)

OLD = """\
openapi: 3.0.3
info:
  title: Customers
  version: 1.2.0
paths:
  /customers/{id}:
    get:
      operationId: getCustomer
      description: Fetch one customer.
      parameters:
        - name: id
          in: path
          required: true
          schema:
            type: string
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Customer'
components:
  schemas:
    Customer:
      type: object
      required: [id]
      properties:
        id:
          type: string
        email:
          type: string
        tier:
          type: string
          enum: [free, pro]
"""

# email removed from a response (breaking), an optional query parameter added (safe), the
# description reworded (annotation)
BREAKING = (
    OLD.replace("        email:\n          type: string\n", "")
    .replace("Fetch one customer.", "Fetch a single customer.")
    .replace(
        "          schema:\n            type: string\n      responses:",
        "          schema:\n            type: string\n"
        "        - name: expand\n          in: query\n"
        "          schema:\n            type: boolean\n"
        "      responses:",
    )
)
DANGEROUS = OLD.replace("enum: [free, pro]", "enum: [free, pro, enterprise]")
SAFE = OLD.replace("Fetch one customer.", "Fetch a single customer.")


@pytest.fixture
def specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "old.yaml", OLD)
    write(tmp_path / "breaking.yaml", BREAKING)
    write(tmp_path / "dangerous.yaml", DANGEROUS)
    write(tmp_path / "safe.yaml", SAFE)
    return tmp_path


def catalog_ids() -> set[str]:
    run = cli("rules", "--output", "json")
    assert run.code == 0
    return {rule["id"] for rule in run.data["rules"]}


# -- the JSON output ------------------------------------------------------------------------


def test_breaking_diff_prints_one_json_object_and_exits_1(specs: Path) -> None:
    run = cli("diff", "old.yaml", "breaking.yaml", "--output", "json")
    assert run.code == 1
    assert run.err == ""
    data = run.data  # exactly one JSON object
    assert data["verdict"] == "breaking"
    assert data["bump"] == "major"
    assert data["format"] == "openapi"
    assert {f["rule"] for f in data["findings"]} == {
        "schema.property.removed",
        "api.parameter.added",
        "meta.description.changed",
    }
    known = catalog_ids()
    for finding in data["findings"]:
        assert set(finding) >= set(FINDING_KEYS)
        assert finding["rule"] in known
        assert HEX16.match(finding["fingerprint"])
        assert finding["location"]["file"] == "breaking.yaml"
    # most severe first
    ranks = ["annotation", "safe", "dangerous", "breaking"]
    severities = [ranks.index(f["severity"]) for f in data["findings"]]
    assert severities == sorted(severities, reverse=True)


def test_removed_property_is_located_at_its_surviving_parent(specs: Path) -> None:
    data = diff_json("old.yaml", "breaking.yaml")
    removed = only(data, "schema.property.removed")
    assert removed["severity"] == "breaking"
    assert removed["position"] == "output"
    assert removed["path"] == "GET /customers/{id} → 200 → body.email"
    assert removed["pointer"] == "/components/schemas/Customer/properties/email"
    assert removed["operations"] == ["GET /customers/{id}"]
    # the new file no longer has the property: the annotation goes on its schema ...
    assert removed["location"] == {
        "file": "breaking.yaml",
        "line": line_of(BREAKING, "    Customer:"),
        "column": 5,
    }
    # ... and the old one says where it was
    assert removed["old_location"] == {
        "file": "old.yaml",
        "line": line_of(OLD, "email:"),
        "column": 9,
    }


def test_added_element_is_located_in_the_new_file(specs: Path) -> None:
    data = diff_json("old.yaml", "breaking.yaml")
    added = only(data, "api.parameter.added")
    assert added["severity"] == "safe"
    assert added["path"] == "GET /customers/{id} → query.expand"
    assert added["pointer"] == "/paths/~1customers~1{id}/get/parameters/1"
    assert added["location"] == {
        "file": "breaking.yaml",
        "line": line_of(BREAKING, "- name: expand"),
        "column": 9,
    }
    described = only(data, "meta.description.changed")
    assert described["severity"] == "annotation"
    assert described["location"]["line"] == line_of(BREAKING, "description: Fetch a single")


def test_compatible_diff_exits_0(specs: Path) -> None:
    data = diff_json("old.yaml", "safe.yaml")
    assert data["verdict"] == "compatible"
    assert data["bump"] == "patch"
    assert summary(data) == [("meta.description.changed", "annotation", "none")]


def test_identical_documents_have_no_findings(specs: Path) -> None:
    data = diff_json("old.yaml", "old.yaml")
    assert data["findings"] == []
    assert data["verdict"] == "compatible"
    assert data["bump"] == "none"


def test_real_process_exit_codes(specs: Path) -> None:
    breaking = spawn("diff", "old.yaml", "breaking.yaml", "--output", "json", cwd=specs)
    assert breaking.code == 1, breaking.err
    assert json.loads(breaking.out)["verdict"] == "breaking"
    compatible = spawn("diff", "old.yaml", "safe.yaml", "--output", "json", cwd=specs)
    assert compatible.code == 0, compatible.err
    assert json.loads(compatible.out)["verdict"] == "compatible"
    error = spawn("diff", "old.yaml", "missing.yaml", "--output", "json", cwd=specs)
    assert error.code == 2
    assert error.out == ""
    assert_one_line_error(error.err, "missing.yaml")


@pytest.mark.parametrize("output", ["text", "markdown", "sarif", "github", "json"])
def test_every_output_format_keeps_the_exit_code(specs: Path, output: str) -> None:
    run = cli("diff", "old.yaml", "breaking.yaml", "--output", output, "--color", "never")
    assert run.code == 1
    assert run.err == ""
    assert "email" in run.out
    if output in ("json", "sarif"):
        json.loads(run.out)


# -- formats --------------------------------------------------------------------------------

SWAGGER = {
    "swagger": "2.0",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/a": {"get": {"responses": {"200": {"description": "ok", "schema": {"type": "string"}}}}}
    },
}
JSON_SCHEMA = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "string"}
OPENAPI = openapi({"/a": {"get": operation(response={"type": "string"})}})
DOCUMENTS = {"openapi": OPENAPI, "swagger": SWAGGER, "jsonschema": JSON_SCHEMA}


@pytest.mark.parametrize("kind", sorted(DOCUMENTS))
def test_format_is_detected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "a.json", DOCUMENTS[kind])
    write(tmp_path / "b.yaml", DOCUMENTS[kind])  # the same document in YAML
    data = diff_json("a.json", "b.yaml")
    assert data["format"] == kind
    assert data["findings"] == []
    assert diff_json("a.json", "b.yaml", "--format", kind)["format"] == kind


@pytest.mark.parametrize(
    ("kind", "asked"),
    [(k, f) for k in sorted(DOCUMENTS) for f in sorted(DOCUMENTS) if k != f],
)
def test_format_mismatch_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, asked: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "a.json", DOCUMENTS[kind])
    write(tmp_path / "b.json", DOCUMENTS[kind])
    run = cli("diff", "a.json", "b.json", "--format", asked)
    assert run.code == 2
    assert run.out == ""
    assert_one_line_error(run.err, "a.json")


def test_format_is_detected_from_the_new_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "old.json", SWAGGER)
    write(tmp_path / "new.json", OPENAPI)
    run = cli("diff", "old.json", "new.json")
    assert run.code == 2
    # the error points at the old version's "swagger" field (line 2 of the JSON)
    assert "Swagger" in assert_one_line_error(run.err, "old.json", line=2)


def test_unknown_format_value_is_a_usage_error(specs: Path) -> None:
    assert cli("diff", "old.yaml", "safe.yaml", "--format", "graphql").code == 2


# -- severity options -----------------------------------------------------------------------


def test_fail_on_dangerous_promotes_dangerous_findings(specs: Path) -> None:
    plain = diff_json("old.yaml", "dangerous.yaml")
    assert plain["verdict"] == "compatible"
    assert summary(plain) == [("schema.enum.value-added", "dangerous", "output")]
    assert "promoted_from" not in plain["findings"][0]

    run = cli("diff", "old.yaml", "dangerous.yaml", "--output", "json", "--fail-on", "dangerous")
    assert run.code == 1
    promoted = run.data
    assert promoted["verdict"] == "breaking"
    (finding,) = promoted["findings"]
    assert finding["severity"] == "breaking"
    assert finding["promoted_from"] == "dangerous"
    assert finding["fingerprint"] == plain["findings"][0]["fingerprint"]


def test_fail_on_dangerous_leaves_safe_findings_alone(specs: Path) -> None:
    data = diff_json("old.yaml", "safe.yaml", "--fail-on", "dangerous")
    assert data["verdict"] == "compatible"
    assert all("promoted_from" not in f for f in data["findings"])


def test_fail_on_rejects_other_values(specs: Path) -> None:
    assert cli("diff", "old.yaml", "safe.yaml", "--fail-on", "safe").code == 2


def test_min_severity_hides_findings_but_not_the_exit_code(specs: Path) -> None:
    everything = diff_json("old.yaml", "breaking.yaml")
    assert {f["severity"] for f in everything["findings"]} == {"breaking", "safe", "annotation"}
    for minimum, kept in [
        ("annotation", {"breaking", "safe", "annotation"}),
        ("safe", {"breaking", "safe"}),
        ("dangerous", {"breaking"}),
        ("breaking", {"breaking"}),
    ]:
        data = diff_json("old.yaml", "breaking.yaml", "--min-severity", minimum)
        assert {f["severity"] for f in data["findings"]} == kept, minimum
        assert data["verdict"] == "breaking"
    quiet = cli("diff", "old.yaml", "dangerous.yaml", "-o", "json", "--min-severity", "breaking")
    assert quiet.code == 0
    assert quiet.data["findings"] == []
    assert cli("diff", "old.yaml", "safe.yaml", "--min-severity", "loud").code == 2


# -- modes and policies ---------------------------------------------------------------------

MODES = [
    ("auto", "auto"),
    ("backward", "backward"),
    ("forward", "forward"),
    ("full", "full"),
    ("none", "none"),
    ("backward_transitive", "backward_transitive"),
    ("forward_transitive", "forward_transitive"),
    ("full_transitive", "full_transitive"),
    ("BACKWARD-TRANSITIVE", "backward_transitive"),
    ("Full", "full"),
]


@pytest.mark.parametrize(("given", "mode"), MODES)
def test_mode_values_are_accepted(specs: Path, given: str, mode: str) -> None:
    data = diff_json("old.yaml", "breaking.yaml", "--mode", given)
    assert data["mode"] == mode
    if mode == "none":
        assert data["verdict"] == "compatible"
        assert all(f["severity"] in ("annotation", "safe") for f in data["findings"])


def test_bad_mode_is_a_usage_error(specs: Path) -> None:
    run = cli("diff", "old.yaml", "breaking.yaml", "--mode", "sideways")
    assert run.code == 2
    assert run.out == ""


def test_bad_mode_exits_2_without_a_traceback(specs: Path) -> None:
    """A bad --mode must not look like a breaking change (exit 1) to CI."""
    run = spawn("diff", "old.yaml", "breaking.yaml", "--mode", "sideways", cwd=specs)
    assert run.code == 2, run.err[-300:]
    assert "Traceback" not in run.err
    assert "sideways" in run.err


@pytest.mark.parametrize("policy", ["strict", "lenient"])
def test_policy_values_are_accepted(specs: Path, policy: str) -> None:
    assert diff_json("old.yaml", "breaking.yaml", "--policy", policy)["policy"] == policy


def test_default_policy_and_mode_follow_the_format(specs: Path) -> None:
    data = diff_json("old.yaml", "safe.yaml")
    assert (data["mode"], data["policy"]) == ("auto", "lenient")
    write(specs / "a.json", JSON_SCHEMA)
    data = diff_json("a.json", "a.json")
    assert (data["mode"], data["policy"]) == ("backward", "strict")


def test_bad_policy_is_a_usage_error(specs: Path) -> None:
    run = cli("diff", "old.yaml", "breaking.yaml", "--policy", "relaxed")
    assert run.code == 2
    assert run.out == ""
    process = spawn("diff", "old.yaml", "breaking.yaml", "--policy", "relaxed", cwd=specs)
    assert process.code == 2
    assert "Traceback" not in process.err


# -- version checks -------------------------------------------------------------------------


def test_insufficient_version_bump_is_a_breaking_finding(specs: Path) -> None:
    data = diff_json(
        "old.yaml", "breaking.yaml", "--current-version", "1.2.0", "--proposed-version", "1.3.0"
    )
    finding = only(data, "lifecycle.version.bump-insufficient")
    assert finding["severity"] == "breaking"
    assert finding["pointer"] == "/info/version"
    assert finding["location"]["file"] == "breaking.yaml"
    assert finding["location"]["line"] == line_of(BREAKING, "version: 1.2.0")
    assert "2.0.0" in finding["message"]
    check = data["version_check"]
    assert check["ok"] is False
    assert (check["required"], check["actual"]) == ("major", "minor")


def test_sufficient_version_bump_adds_nothing(specs: Path) -> None:
    data = diff_json(
        "old.yaml", "breaking.yaml", "--current-version", "1.2.0", "--proposed-version", "2.0.0"
    )
    assert "lifecycle.version.bump-insufficient" not in [f["rule"] for f in data["findings"]]
    assert data["version_check"]["ok"] is True
    assert data["verdict"] == "breaking"  # the change itself is still breaking


def test_minor_bump_covers_a_compatible_change(specs: Path) -> None:
    data = diff_json(
        "old.yaml", "dangerous.yaml", "--current-version", "1.2.0", "--proposed-version", "1.3.0"
    )
    assert data["version_check"]["ok"] is True
    assert data["verdict"] == "compatible"
    patch = diff_json(
        "old.yaml", "dangerous.yaml", "--current-version", "1.2.0", "--proposed-version", "1.2.1"
    )
    assert patch["version_check"]["ok"] is False
    assert patch["verdict"] == "breaking"


@pytest.mark.parametrize(
    "versions",
    [
        ("--current-version", "1.2.0"),
        ("--proposed-version", "2.0.0"),
        ("--current-version", "one", "--proposed-version", "2.0.0"),
        ("--current-version", "1.2.0", "--proposed-version", "2.0"),
    ],
)
def test_version_options_errors(specs: Path, versions: tuple[str, ...]) -> None:
    run = cli("diff", "old.yaml", "breaking.yaml", *versions)
    assert run.code == 2
    assert run.out == ""
    line = run.err.rstrip("\n")
    assert "\n" not in line and line.startswith("tessera: error: ")


# -- other commands -------------------------------------------------------------------------


def test_rules_json(specs: Path) -> None:
    run = cli("rules", "--output", "json")
    assert run.code == 0
    data = run.data
    assert isinstance(data["version"], int)
    ids = [rule["id"] for rule in data["rules"]]
    assert len(ids) == len(set(ids)) > 40
    pattern = re.compile(r"^(api|schema|meta|lifecycle)\.[a-z-]+\.[a-z-]+$")
    for rule in data["rules"]:
        assert pattern.match(rule["id"]), rule["id"]
        assert rule["summary"] and rule["message"] and rule["why"]
        assert set(rule["severity"]) <= {"input", "output", "both", "none"}
    for used in (
        "schema.property.removed",
        "schema.enum.value-added",
        "api.parameter.added",
        "lifecycle.version.bump-insufficient",
        "meta.description.changed",
    ):
        assert used in ids


@pytest.mark.parametrize("output", ["text", "markdown"])
def test_rules_other_outputs(output: str) -> None:
    run = cli("rules", "--output", output)
    assert run.code == 0
    assert "schema.property.removed" in run.out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("--version").code == 0
    assert capsys.readouterr().out.strip() == f"tessera {__version__}"


def test_version_in_a_real_process(tmp_path: Path) -> None:
    run = spawn("--version", cwd=tmp_path)
    assert run.code == 0
    assert run.out.strip() == f"tessera {__version__}"


def test_diff_with_one_path_is_a_usage_error(specs: Path) -> None:
    run = cli("diff", "old.yaml")
    assert run.code == 2
    assert run.out == ""
    assert run.err.startswith("tessera: error: ")
    assert run.err.count("\n") == 1


def test_no_command_exits_2(specs: Path) -> None:
    run = cli()
    assert run.code == 2
    assert "diff" in run.out
