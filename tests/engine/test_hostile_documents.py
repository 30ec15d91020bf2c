"""Hostile OpenAPI, JSON Schema and dbt documents: no crash, a bounded document, work that
grows with the document.

- YAML keys that are not strings (``null:``, ``1:``, ``true:``) take their JSON spelling;
  keys JSON cannot hold, and two keys that become one, are refused with their line.
- Values of the wrong type (a dbt freshness period given as a list, an ``allOf`` part whose
  ``type`` is a mapping) are refused with file and line, or compared as written.
- A document holds at most ``TESSERA_MAX_ELEMENTS`` values.
- References, ``allOf`` and callbacks that lead back to themselves or nest very deep end in a
  ``LimitError`` or in a result, never in a ``RecursionError`` or unbounded memory.
- Where a check could compare every element with every other one, the work is counted
  (comparisons made, locator steps taken), never timed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tessera_engine import FormatError, LimitError, diff
from tessera_engine.checks import api_security, schema_composition
from tessera_engine.diff import effects as effects_module
from tessera_engine.diff.core import Differ
from tessera_engine.documents import locate
from tessera_engine.documents.loader import parse_document

from .helpers import assert_one_line_error, cli, diff_json, openapi, operation, ref, spawn, write

# -- YAML keys that are not strings ------------------------------------------------------------

OLD_API = """\
openapi: 3.0.3
info: {title: t, version: 1.0.0}
paths:
  /a:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  a: {type: string}
"""


def _new_api(media_key: str, property_key: str) -> str:
    return OLD_API.replace("application/json:", f"{media_key}:").replace(
        "a: {type: string}", f"{property_key}: {{type: string}}"
    )


@pytest.mark.parametrize(
    ("key", "spelled"),
    [("null", "null"), ("~", "null"), ("1", "1"), ("true", "true"), ("1.5", "1.5")],
)
def test_scalar_keys_take_their_json_spelling(tmp_path: Path, key: str, spelled: str) -> None:
    """A media-type key and a property key that YAML reads as null, a number or a boolean
    are compared as the strings JSON would have: no internal error."""
    old = write(tmp_path / "old.yaml", OLD_API)
    new = write(tmp_path / "new.yaml", _new_api(key, key))
    data = diff_json(old, new)
    added = {(f["rule"], json.dumps(f["args"])) for f in data["findings"]}
    assert ("api.media-type.added", json.dumps({"media_type": spelled})) in added


def test_unquoted_response_codes_equal_quoted_ones(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yaml", OLD_API)
    new = write(tmp_path / "new.yaml", OLD_API.replace("'200':", "200:"))
    assert diff_json(old, new)["findings"] == []


def test_keys_that_become_one_are_a_duplicate(tmp_path: Path) -> None:
    text = OLD_API.replace("'200':", "200:\n          description: a\n        '200':")
    old = write(tmp_path / "old.yaml", OLD_API)
    write(tmp_path / "new.yaml", text)
    run = cli("diff", old, "new.yaml", cwd=tmp_path)
    assert run.code == 2
    message = assert_one_line_error(run.err, "new.yaml", 9)
    assert "duplicate key '200'" in message


def test_a_sequence_as_a_key_is_refused_with_its_line(tmp_path: Path) -> None:
    text = OLD_API.replace("'200':", "? [a, b]\n        : {description: x}\n        '200':")
    old = write(tmp_path / "old.yaml", OLD_API)
    write(tmp_path / "new.yaml", text)
    run = cli("diff", old, "new.yaml", cwd=tmp_path)
    assert run.code == 2
    assert "used as a mapping key" in assert_one_line_error(run.err, "new.yaml", 6)


def test_a_yaml_set_is_the_mapping_it_stands_for() -> None:
    text = "type: object\nrequired: !!set {b, 1, null}\n"
    document = parse_document("s.yaml", "s.yaml", text.encode())
    assert document.data["required"] == {"1": None, "b": None, "null": None}


def test_an_integer_too_long_to_convert_is_a_load_error(tmp_path: Path) -> None:
    write(tmp_path / "old.json", '{"type": "object"}')
    write(tmp_path / "new.json", '{\n"type": "object",\n"maximum": ' + "9" * 5000 + "}\n")
    run = cli("diff", "old.json", "new.json", cwd=tmp_path)
    assert run.code == 2
    assert "number longer than" in assert_one_line_error(run.err, "new.json", 3)


@pytest.mark.parametrize("escape", ["\\ud800", "\\uDC00", "\\ud83d\\u0041"])
def test_half_a_surrogate_pair_is_a_load_error_at_its_line(tmp_path: Path, escape: str) -> None:
    """A JSON escape of half a UTF-16 pair decodes to a string nothing can print or store:
    refused where it is written, not an internal error when the finding is rendered."""
    write(tmp_path / "old.json", '{"type": "object", "properties": {}}')
    write(tmp_path / "new.json", '{"type": "object",\n"properties": {"a' + escape + '": {}}}')
    for output in ("text", "json"):
        run = cli("diff", "old.json", "new.json", "--output", output, cwd=tmp_path)
        assert run.code == 2
        assert "surrogate" in assert_one_line_error(run.err, "new.json", 2)


def test_whole_surrogate_pairs_are_text(tmp_path: Path) -> None:
    write(tmp_path / "old.json", '{"type": "object", "properties": {}}')
    write(tmp_path / "new.json", '{"type": "object", "properties": {"\\ud83d\\ude00": {}}}')
    assert cli("diff", "old.json", "new.json", cwd=tmp_path).code == 0


# -- values of the wrong type --------------------------------------------------------------------

DBT = Path(__file__).parents[1] / "formats" / "dbt" / "shop" / "manifest.json"
SOURCE = "source.shop.raw.orders"
ORDERS = "model.shop.orders"


def _manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DBT.read_text())
    return data


def _dbt_refused(tmp_path: Path, changed: dict[str, Any], wanted: str) -> str:
    old = write(tmp_path / "old" / "manifest.json", _manifest())
    new = write(tmp_path / "new" / "manifest.json", changed)
    with pytest.raises(FormatError) as refused:
        diff(str(old), str(new))
    message = str(refused.value)
    assert message.startswith(f"{new}:"), message
    assert refused.value.line is not None and refused.value.line > 1
    assert wanted in message
    return message


@pytest.mark.parametrize(
    ("field", "value", "wanted"),
    [
        ("period", ["hour"], "freshness.error_after.period must be minute, hour or day"),
        ("period", {"unit": "hour"}, "not a mapping"),
        ("count", "12", "freshness.error_after.count must be a whole number"),
        ("count", [12], "not a list"),
    ],
)
def test_dbt_freshness_of_the_wrong_type_is_refused(
    tmp_path: Path, field: str, value: Any, wanted: str
) -> None:
    changed = _manifest()
    changed["sources"][SOURCE]["freshness"]["error_after"][field] = value
    message = _dbt_refused(tmp_path, changed, wanted)
    assert "not a" in message


def test_dbt_freshness_threshold_not_a_mapping_is_refused(tmp_path: Path) -> None:
    changed = _manifest()
    changed["sources"][SOURCE]["freshness"]["warn_after"] = ["6 hours"]
    _dbt_refused(tmp_path, changed, "freshness.warn_after must be a mapping, not a list")


@pytest.mark.parametrize("field", ["columns", "to_columns"])
def test_dbt_constraint_columns_not_a_list_are_refused(tmp_path: Path, field: str) -> None:
    changed = _manifest()
    constraint = {"type": "foreign_key", "columns": ["id"], "to": "ref('customers')"}
    constraint[field] = 7
    changed["nodes"][ORDERS]["constraints"] = [constraint]
    _dbt_refused(tmp_path, changed, f"{field} must be a list of names, not a number")


def test_dbt_test_dependencies_not_a_list_are_refused(tmp_path: Path) -> None:
    """Tests without ``attached_node`` (dbt before 1.5) are attached by their dependencies."""
    changed = _manifest()
    test = changed["nodes"]["test.shop.not_null_orders_id"]
    del test["attached_node"]
    test["depends_on"] = {"nodes": {"model.shop.orders": True}}
    _dbt_refused(tmp_path, changed, "nodes must be a list of names, not a mapping")


def test_dbt_test_arguments_nested_near_the_file_limit_are_judged(tmp_path: Path) -> None:
    """A test's arguments nested 950 levels deep (under the 1,000-level file limit) are
    fingerprinted and rendered, not a RecursionError; the finding carries them cut."""
    changed = _manifest()
    test = changed["nodes"]["test.shop.accepted_values_orders_status"]
    deep: Any = "x"
    for _ in range(950):
        deep = [deep]
    test["test_metadata"]["kwargs"]["values"] = deep
    old = write(tmp_path / "old" / "manifest.json", _manifest())
    new = write(tmp_path / "new" / "manifest.json", changed)
    result = diff(str(old), str(new))
    assert result.findings
    for output in ("text", "json", "sarif", "markdown"):
        run = cli("diff", str(old), str(new), "--output", output, cwd=tmp_path)
        assert run.code in (0, 1), run.err


def test_dbt_null_freshness_settings_are_unset(tmp_path: Path) -> None:
    """dbt writes nulls for thresholds nobody set: they are no guarantee, not an error."""
    old = write(tmp_path / "old" / "manifest.json", _manifest())
    changed = _manifest()
    changed["sources"][SOURCE]["freshness"] = {
        "warn_after": {"count": None, "period": None},
        "error_after": {"count": None, "period": None},
        "filter": None,
    }
    new = write(tmp_path / "new" / "manifest.json", changed)
    rules = [f.rule for f in diff(str(old), str(new)).findings]
    assert rules == ["schema.dbt-guarantee.removed"]


def test_allof_part_whose_type_is_a_mapping_is_compared_as_written(tmp_path: Path) -> None:
    def schema(kind: Any) -> dict[str, Any]:
        return {"allOf": [{"type": "object"}, {"type": kind, "properties": {"a": {}}}]}

    old = write(tmp_path / "old.json", schema("object"))
    new = write(tmp_path / "new.json", schema({"a": None}))
    assert diff(str(old), str(new)).findings


# -- the element limit ---------------------------------------------------------------------------


def _schema_with(properties: int) -> dict[str, Any]:
    """A JSON Schema of 3 + 2 × ``properties`` values (the root, its two members, and
    each property's mapping and type)."""
    return {
        "type": "object",
        "properties": {f"p{i}": {"type": "string"} for i in range(properties)},
    }


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_document_over_the_element_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    monkeypatch.setenv("TESSERA_MAX_ELEMENTS", "1003")
    write(tmp_path / f"old{suffix}", _schema_with(500))  # 1,003 values: at the limit
    write(tmp_path / f"new{suffix}", _schema_with(501))  # 1,005 values: over it
    run = cli("diff", f"old{suffix}", f"new{suffix}", cwd=tmp_path)
    assert run.code == 2
    message = assert_one_line_error(run.err, f"new{suffix}")
    assert "1,005 values, over the limit of 1,003 per document" in message
    assert "TESSERA_MAX_ELEMENTS" in message
    at_limit = cli("diff", f"old{suffix}", f"old{suffix}", cwd=tmp_path)
    assert at_limit.code == 0, at_limit.err


def test_yaml_aliases_count_as_often_as_they_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSERA_MAX_ELEMENTS", "1000")
    base = "type: object\nproperties:\n  a: &big [" + ", ".join(["1"] * 300) + "]\n"
    uses = "".join(f"  u{i}: *big\n" for i in range(4))
    write(tmp_path / "old.yaml", base)
    write(tmp_path / "new.yaml", base + uses)
    run = cli("diff", "old.yaml", "new.yaml", cwd=tmp_path)
    assert run.code == 2
    assert "over the limit of 1,000" in assert_one_line_error(run.err, "new.yaml")


# -- references, allOf and callbacks that lead far or back ---------------------------------------


def _chain(length: int, last: str, link: str = "properties") -> dict[str, Any]:
    """Definitions S0 -> S1 -> ... -> S<length>, each holding a reference to the next."""
    schemas: dict[str, Any] = {}
    for i in range(length):
        target = ref(f"S{i + 1}")
        if link == "properties":
            schemas[f"S{i}"] = {"type": "object", "properties": {"next": target}}
        else:
            schemas[f"S{i}"] = {"allOf": [target], "properties": {f"p{i}": {"type": "string"}}}
    schemas[f"S{length}"] = {"type": last}
    return openapi({"/a": {"get": operation(response=ref("S0"))}}, schemas)


@pytest.mark.parametrize(("link", "wanted"), [("properties", "schemas"), ("allOf", "allOf")])
def test_a_long_chain_of_references_is_a_limit_not_a_recursion_error(
    tmp_path: Path, link: str, wanted: str
) -> None:
    old = write(tmp_path / "old.json", _chain(30_000, "string", link))
    new = write(tmp_path / "new.json", _chain(30_000, "integer", link))
    with pytest.raises(LimitError) as refused:
        diff(str(old), str(new))
    assert f"{wanted} nested more than 400 levels deep" in str(refused.value)
    assert refused.value.line is not None


CALLBACK_LOOP = """\
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    post:
      responses: {'200': {description: ok}}
      callbacks:
        ev: {$ref: '#/components/callbacks/X'}
components:
  callbacks:
    X:
      '{$request.body#/url}':
        post:
          responses: {'200': {description: ok}}
          callbacks:
            again: {$ref: '#/components/callbacks/X'}
"""


def test_a_callback_that_names_itself_is_expanded_once(tmp_path: Path) -> None:
    """Before, each level of the loop lengthened every operation key until memory ran out
    (23 GB). The callback's operation is listed once, under the operation that names it."""
    old = write(tmp_path / "old.yaml", CALLBACK_LOOP)
    new = write(tmp_path / "new.yaml", CALLBACK_LOOP.replace("ok}}\n", "okay}}\n"))
    run = spawn("diff", old, new, "--output", "json", cwd=tmp_path, timeout=60)
    assert run.code == 0, run.err
    paths = sorted(f["path"] for f in json.loads(run.out)["findings"])
    assert paths == ["POST /a → 200", "POST /a → callback ev POST → 200"]


def test_callbacks_that_multiply_are_bounded_by_the_element_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each callback names the next one twice: 2**30 operations, refused at the limit."""
    monkeypatch.setenv("TESSERA_MAX_ELEMENTS", "5000")
    callbacks: dict[str, Any] = {}
    for i in range(30):
        nested = {"callbacks": {"c": {"$ref": f"#/components/callbacks/C{i + 1}"}}}
        callbacks[f"C{i}"] = {
            f"{{$request.body#/u{j}}}": {"post": {**operation(), **(nested if i < 29 else {})}}
            for j in range(2)
        }
    root = {"post": {**operation(), "callbacks": {"c": {"$ref": "#/components/callbacks/C0"}}}}
    doc = openapi({"/a": root})
    doc["components"] = {"callbacks": callbacks}
    old = write(tmp_path / "old.json", doc)
    with pytest.raises(LimitError) as refused:
        diff(str(old), str(old))
    assert "operations, parameters, responses, headers and media types" in str(refused.value)
    assert "TESSERA_MAX_ELEMENTS" in str(refused.value)


def test_values_nested_deeper_than_json_encoders_go_are_rendered(tmp_path: Path) -> None:
    """A const nested 990 levels deep (block YAML has no flow-nesting limit): the JSON
    output renders, and the finding's args keep 64 levels of it."""

    def const(leaf: int) -> str:
        lines = ["type: object", "properties:", "  a:", "    const:"]
        lines += [" " * (6 + depth) + "k:" for depth in range(990)]
        return "\n".join([*lines, " " * 996 + str(leaf)]) + "\n"

    write(tmp_path / "old.yaml", const(1))
    write(tmp_path / "new.yaml", const(2))
    run = cli("diff", "old.yaml", "new.yaml", "--output", "json", cwd=tmp_path)
    assert run.code == 1, run.err
    (finding,) = run.data["findings"]
    value, depth = finding["args"]["old"], 0
    while isinstance(value, dict):
        value, depth = value["k"], depth + 1
    assert (depth, value) == (64, "…")


# -- work that grows with the document -----------------------------------------------------------


def _counted(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, run: Any, sizes: tuple[int, int]
) -> tuple[int, int]:
    """How many times ``owner.name`` (a function or a method) is called by ``run(size)``,
    for each of two sizes."""
    original = getattr(owner, name)
    counts = []
    for size in sizes:
        calls = [0]

        def counting(*args: Any, **kwargs: Any) -> Any:
            calls[0] += 1  # noqa: B023 (each size gets its own counter)
            return original(*args, **kwargs)

        with monkeypatch.context() as patch:
            patch.setattr(owner, name, counting)
            run(size)
        counts.append(calls[0])
    return counts[0], counts[1]


def _diff_pair(tmp_path: Path, old: Any, new: Any) -> Any:
    return diff(str(write(tmp_path / "old.json", old)), str(write(tmp_path / "new.json", new)))


def test_alternatives_are_paired_without_comparing_all_with_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """oneOf branches that all changed: resemblance is scored at most a fixed number of
    times per branch (it was every old branch against every new one)."""

    def branch(i: int, bound: int) -> dict[str, Any]:
        return {"type": "object", "title": f"T{i}", "properties": {"n": {"maximum": bound}}}

    def run(n: int) -> None:
        old = openapi(
            {"/a": {"get": operation(response={"oneOf": [branch(i, 0) for i in range(n)]})}}
        )
        new = openapi(
            {"/a": {"get": operation(response={"oneOf": [branch(i, 1) for i in range(n)]})}}
        )
        assert len(_diff_pair(tmp_path, old, new).findings) == n

    small, large = _counted(monkeypatch, schema_composition, "_resemblance", run, (400, 800))
    assert large <= 2 * small + 10, (small, large)
    assert large <= schema_composition.RESEMBLANCE_PER_BRANCH * 2 * 800


def test_anyof_coverage_tries_grow_with_the_branches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def branch(name: str) -> dict[str, Any]:
        return {"type": "object", "properties": {name: {"type": "string"}}}

    def run(n: int) -> None:
        kept = [branch(f"k{i}") for i in range(n)]
        added = [branch(f"z{i}") for i in range(n)]
        old = openapi({"/a": {"get": operation(response={"anyOf": kept})}})
        new = openapi({"/a": {"get": operation(response={"anyOf": kept + added})}})
        _diff_pair(tmp_path, old, new)

    small, large = _counted(monkeypatch, Differ, "probe", run, (150, 300))
    assert large <= 2 * small + 70, (small, large)
    assert large < 300 * 300 / 4


def test_security_alternatives_are_not_compared_all_with_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(n: int) -> None:
        old = openapi(
            {"/a": {"get": {**operation(), "security": [{f"s{i}": []} for i in range(n)]}}}
        )
        new = openapi(
            {"/a": {"get": {**operation(), "security": [{f"t{i}": []} for i in range(n)]}}}
        )
        rules = [f.rule for f in _diff_pair(tmp_path, old, new).findings]
        assert rules == ["api.security.tightened"]

    small, large = _counted(monkeypatch, api_security, "_implies", run, (1000, 2000))
    assert large <= 2 * small + 10, (small, large)


def test_a_shared_definition_is_walked_once_for_its_effects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each added property is checked against the old schema for extra members, a shared
    definition that changed: its comparison is walked once, not once per property."""

    def run(n: int) -> None:
        def doc(bound: int, added: int) -> dict[str, Any]:
            big = {"type": "object", "properties": {f"q{i}": {"maximum": bound} for i in range(n)}}
            schema = {"type": "object", "additionalProperties": ref("Big")}
            schema["properties"] = {f"p{i}": ref("Big") for i in range(added)}
            return openapi({"/a": {"post": operation(request=schema)}}, {"Big": big})

        _diff_pair(tmp_path, doc(0, 0), doc(1, n))

    small, large = _counted(monkeypatch, effects_module._Walk, "_enter", run, (300, 600))
    assert large <= 2 * small + 10, (small, large)


def test_findings_below_a_deep_yaml_path_locate_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many findings below one deep schema: the locator walks the shared path once (it
    walked it once per finding)."""

    def yaml_doc(depth: int, properties: int) -> str:
        lines = ["type: object", "properties:"]
        indent = 2
        for level in range(depth):
            lines += [" " * indent + f"n{level}:", " " * (indent + 2) + "type: object"]
            lines += [" " * (indent + 2) + "properties:"]
            indent += 4
        lines += [" " * indent + f"p{i}: {{type: string}}" for i in range(properties)]
        return "\n".join(lines) + "\n"

    def run(n: int) -> None:
        old = write(tmp_path / "old.yaml", yaml_doc(150, 0))
        new = write(tmp_path / "new.yaml", yaml_doc(150, n))
        assert len(diff(str(old), str(new)).findings) == n

    small, large = _counted(monkeypatch, locate.YamlLocator, "_step", run, (500, 1000))
    assert large <= small + 510, (small, large)


def test_findings_of_a_shared_definition_share_their_operations(tmp_path: Path) -> None:
    """A definition used by every operation: its findings list all of them, one tuple for
    all (each finding held and sorted its own before)."""
    paths = {f"/p{i}": {"get": operation(response=ref("C"))} for i in range(300)}

    def doc(kind: str) -> dict[str, Any]:
        return openapi(
            copy.deepcopy(paths),
            {"C": {"type": "object", "properties": {f"f{i}": {"type": kind} for i in range(50)}}},
        )

    findings = _diff_pair(tmp_path, doc("string"), doc("integer")).findings
    assert len(findings) == 50
    assert {len(f.operations) for f in findings} == {300}
    assert len({id(f.operations) for f in findings}) == 1


def test_a_backtracking_pattern_does_not_hang(tmp_path: Path) -> None:
    """``(a+)+$`` against a long name takes Python's ``re`` hours; RE2 does not backtrack."""
    name = "a" * 40 + "!"
    old = {"type": "object", "patternProperties": {"(a+)+$": {"type": "string"}}}
    new = {**old, "properties": {name: {"type": "integer"}}}
    write(tmp_path / "old.json", old)
    write(tmp_path / "new.json", new)
    run = spawn("diff", "old.json", "new.json", "--output", "json", cwd=tmp_path, timeout=60)
    assert run.code in (0, 1), run.err
    assert [f["rule"] for f in json.loads(run.out)["findings"]] == ["schema.property.added"]


def test_the_first_matching_pattern_governs_a_new_property(tmp_path: Path) -> None:
    """With RE2 in place of ``re``: the first pattern (in document order) that matches the
    name governs it; look-arounds RE2 lacks match nothing."""
    patterns = {
        "(?=x)": {"type": "boolean"},
        "^id_": {"type": "integer"},
        "_id$": {"type": "string"},
    }
    old = {"type": "object", "patternProperties": patterns}
    new = {**old, "properties": {"id_x": {"type": "integer"}, "a_id": {"type": "integer"}}}
    findings = _diff_pair(tmp_path, old, new).findings
    notes = {f.args["name"]: f.args["note"] for f in findings if f.rule == "schema.property.added"}
    assert notes["id_x"] == " (covered by the old schema for such names)"
    assert notes["a_id"] == ""
    changed = {f.path for f in findings if f.rule.startswith("schema.type")}
    assert changed == {"$.a_id"}
