"""Properties over generated JSON Schemas and OpenAPI documents: a document never differs from
itself, every finding is well formed, modes agree with each other, and malformed input is an
``InputError``, never a crash."""

from __future__ import annotations

import copy
import io
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tessera_engine import DiffOptions, DiffResult, InputError, Mode, Severity, diff, load_catalog
from tessera_engine.cli import main

from .helpers import HEX16

# The same examples on every run (derandomize): make test must not pass or fail by the draw;
# exploring new inputs at random is make fuzz's job.
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DEFS = ("A", "B", "C")
NAMES = st.sampled_from(["id", "name", "tags", "$ref", "default", "type", "properties", "a/b"])
JSON_VALUES = st.sampled_from(
    [
        None,
        True,
        0,
        2,
        "a",
        "",
        [],
        [1, "a"],
        {},
        {"id": None},
        {"$ref": "#/nowhere"},
        [{"a/b": [True]}],
    ]
)
TYPES = ["string", "integer", "number", "boolean", "null", "object", "array"]


class MemorySource:
    """Documents held in memory, named by their paths."""

    def __init__(self, files: dict[str, Any]) -> None:
        self.blobs = {
            path: (value if isinstance(value, bytes) else json.dumps(value, indent=1).encode())
            for path, value in files.items()
        }

    def read(self, path: str) -> bytes:
        if path not in self.blobs:
            raise FileNotFoundError(path)
        return self.blobs[path]

    def size(self, path: str) -> int | None:
        return len(self.blobs[path]) if path in self.blobs else None

    def display(self, path: str) -> str:
        return path

    def files(self, path: str, suffixes: tuple[str, ...]) -> list[str] | None:
        return None  # no directories

    def lines(self, path: str) -> int:
        return self.blobs[path].count(b"\n") + 1


# -- strategies -----------------------------------------------------------------------------


LEAF_KEYWORDS: dict[str, st.SearchStrategy[Any]] = {
    "type": st.sampled_from(TYPES)
    | st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True),
    "enum": st.lists(st.sampled_from([0, 1, "a", "b", None]), min_size=1, max_size=3, unique=True),
    "const": st.sampled_from([0, "a", None]),
    "minimum": st.integers(-3, 3),
    "maximum": st.integers(-3, 3),
    "minLength": st.integers(0, 3),
    "maxLength": st.integers(0, 3),
    "pattern": st.sampled_from(["^a", "b$", "^[a-z]+$", ".*"]),
    "format": st.sampled_from(["int32", "int64", "date-time", "uuid"]),
    "nullable": st.booleans(),
    "default": JSON_VALUES,
    "description": st.sampled_from(["x", "y"]),
}


def keyword_dicts(
    keywords: dict[str, st.SearchStrategy[Any]], most: int
) -> st.SearchStrategy[dict[str, Any]]:
    """Mappings of up to ``most`` of ``keywords``, each with a value of its own strategy (only
    the chosen keywords are drawn: fixed_dictionaries with optional keys is much slower)."""
    return st.lists(st.sampled_from(sorted(keywords)), max_size=most, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({key: keywords[key] for key in chosen})
    )


def schemas(ref_prefix: str) -> st.SearchStrategy[Any]:
    """Valid schemas over the keywords the engine compares, with ``$ref``s to ``DEFS``."""
    leaf = st.one_of(
        st.booleans(),
        keyword_dicts(LEAF_KEYWORDS, 3),
        st.sampled_from(DEFS).map(lambda name: {"$ref": f"{ref_prefix}{name}"}),
    )

    def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return keyword_dicts(
            {
                "type": st.sampled_from(["object", "array", "string"]),
                "properties": st.dictionaries(NAMES, children, max_size=3),
                "required": st.lists(NAMES, max_size=2, unique=True),
                "items": children,
                "additionalProperties": children,
                "oneOf": st.lists(children, min_size=1, max_size=3),
                "anyOf": st.lists(children, min_size=1, max_size=3),
                "allOf": st.lists(children, min_size=1, max_size=3),
                "not": children,
                "nullable": st.booleans(),
                "minItems": st.integers(0, 3),
            },
            3,
        )

    return st.recursive(leaf, extend, max_leaves=8)


def definitions(ref_prefix: str) -> st.SearchStrategy[dict[str, Any]]:
    """Named definitions; none is a bare ``$ref`` (a chain of those can be a cycle)."""
    named = schemas(ref_prefix).filter(lambda s: not (isinstance(s, dict) and "$ref" in s))
    return st.fixed_dictionaries(dict.fromkeys(DEFS, named))


@st.composite
def json_schema_documents(draw: st.DrawFn) -> Any:
    root = draw(schemas("#/$defs/"))
    if isinstance(root, bool):
        return root
    return {**root, "$defs": draw(definitions("#/$defs/"))}


REF = "#/components/schemas/"
PATHS = ("/items", "/items/{id}", "/users/{userId}/items")
METHODS = ("get", "post", "put")


@st.composite
def openapi_documents(draw: st.DrawFn) -> dict[str, Any]:
    schema = schemas(REF)
    paths: dict[str, Any] = {}
    for path, method in draw(
        st.lists(
            st.tuples(st.sampled_from(PATHS), st.sampled_from(METHODS)), max_size=4, unique=True
        )
    ):
        op: dict[str, Any] = {}
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": draw(schema)}
            for name in re.findall(r"{(\w+)}", path)
        ]
        if draw(st.booleans()):
            parameters.append(
                {
                    "name": "limit",
                    "in": "query",
                    "required": draw(st.booleans()),
                    "schema": draw(schema),
                }
            )
        if parameters:
            op["parameters"] = parameters
        if method != "get" and draw(st.booleans()):
            op["requestBody"] = {
                "required": draw(st.booleans()),
                "content": {"application/json": {"schema": draw(schema)}},
            }
        op["responses"] = {
            status: {
                "description": status,
                "content": {"application/json": {"schema": draw(schema)}},
            }
            for status in draw(
                st.lists(
                    st.sampled_from(["200", "201", "404"]), min_size=1, max_size=2, unique=True
                )
            )
        }
        paths.setdefault(path, {})[method] = op
    doc: dict[str, Any] = {
        "openapi": draw(st.sampled_from(["3.0.3", "3.1.0"])),
        "info": {"title": "generated", "version": "1.0.0"},
        "paths": paths,
        "components": {"schemas": draw(definitions(REF))},
    }
    if doc["openapi"] == "3.1.0" and draw(st.booleans()):
        doc["webhooks"] = {
            "event": {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": draw(schema)}}},
                    "responses": {"200": {"description": "ok"}},
                }
            }
        }
    return doc


SUBSCHEMA_LISTS = ("oneOf", "anyOf", "allOf")
SUBSCHEMA_VALUES = ("items", "additionalProperties", "not")


def subschema_paths(schema: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Where a schema holds schemas (itself included)."""
    yield path
    if not isinstance(schema, dict):
        return
    for name, value in (schema.get("properties") or {}).items():
        yield from subschema_paths(value, (*path, "properties", name))
    for keyword in SUBSCHEMA_VALUES:
        if keyword in schema:
            yield from subschema_paths(schema[keyword], (*path, keyword))
    for keyword in SUBSCHEMA_LISTS:
        for index, value in enumerate(schema.get(keyword) or []):
            yield from subschema_paths(value, (*path, keyword, index))
    for name, value in (schema.get("$defs") or {}).items():
        yield from subschema_paths(value, (*path, "$defs", name))


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copied = copy.deepcopy(value)
    holder = copied
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = new
    return copied


@st.composite
def edited_json_schemas(draw: st.DrawFn) -> tuple[Any, Any]:
    """A schema and a copy with one subschema (anywhere, $defs included) replaced."""
    old = draw(json_schema_documents())
    where = draw(st.sampled_from(list(subschema_paths(old))))
    if not where:  # a whole new document, with the definitions its refs need
        return old, draw(json_schema_documents())
    if where[-2:-1] == ("$defs",):  # a definition must not become a bare $ref (a cycle)
        return old, replaced(old, where, draw(definitions("#/$defs/"))["A"])
    return old, replaced(old, where, draw(schemas("#/$defs/")))


@st.composite
def edited_openapi_documents(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A document and a copy with one schema somewhere inside one schema replaced."""
    old = draw(openapi_documents())
    roots: list[tuple[Any, ...]] = [("components", "schemas", name) for name in DEFS]
    for path, item in old["paths"].items():
        for method, op in item.items():
            base = ("paths", path, method)
            for status in op["responses"]:
                roots.append((*base, "responses", status, "content", "application/json", "schema"))
            if "requestBody" in op:
                roots.append((*base, "requestBody", "content", "application/json", "schema"))
            for index, _ in enumerate(op.get("parameters", [])):
                roots.append((*base, "parameters", index, "schema"))
    root = draw(st.sampled_from(roots))
    schema = old
    for step in root:
        schema = schema[step]
    inner = draw(st.sampled_from(list(subschema_paths(schema))))
    if root[0] == "components" and not inner:  # no bare $ref for a component (a cycle)
        return old, replaced(old, root, draw(definitions(REF))["A"])
    return old, replaced(old, (*root, *inner), draw(schemas(REF)))


# -- checks ---------------------------------------------------------------------------------


def run_diff(old: Any, new: Any, fmt: str, mode: str | None = None) -> DiffResult:
    source = MemorySource({"old.json": old, "new.json": new})
    options = DiffOptions(format=fmt, mode=Mode(mode) if mode else None)
    result = diff("old.json", "new.json", options, source=source)
    check_findings(result, source)
    return result


def check_findings(result: DiffResult, source: MemorySource) -> None:
    catalog = load_catalog()
    for finding in result.findings:
        assert finding.rule in catalog, finding.rule
        assert HEX16.match(finding.fingerprint), finding.fingerprint
        assert isinstance(finding.severity, Severity)
        assert finding.message
        location = finding.location
        assert location is not None, finding
        assert location.file in ("old.json", "new.json"), location
        assert 1 <= location.line <= source.lines(location.file), location
        assert location.column >= 1
        if finding.old_location is not None:
            assert finding.old_location.file == "old.json"
    fingerprints = [f.fingerprint for f in result.findings]
    assert len(fingerprints) == len(set(fingerprints))
    assert result.verdict == (
        "breaking"
        if any(f.severity is Severity.BREAKING for f in result.findings)
        else "compatible"
    )


# -- a document never differs from itself ---------------------------------------------------


@SETTINGS
@given(json_schema_documents(), st.sampled_from(["backward", "forward", "full", "none"]))
def test_json_schema_has_no_findings_against_itself(schema: Any, mode: str) -> None:
    assert run_diff(schema, schema, "jsonschema", mode).findings == ()


@SETTINGS
@given(openapi_documents())
def test_openapi_document_has_no_findings_against_itself(doc: dict[str, Any]) -> None:
    assert run_diff(doc, doc, "openapi").findings == ()


@SETTINGS
@given(openapi_documents())
def test_reformatted_copy_has_no_findings(doc: dict[str, Any]) -> None:
    source = MemorySource(
        {"old.json": doc, "new.json": json.dumps(doc, indent=None, sort_keys=True).encode()}
    )
    assert diff("old.json", "new.json", source=source).findings == ()


# -- any two valid documents ----------------------------------------------------------------


@SETTINGS
@given(edited_json_schemas(), st.sampled_from(["backward", "forward", "full", "none"]))
def test_json_schema_edits_give_well_formed_findings(pair: tuple[Any, Any], mode: str) -> None:
    old, new = pair
    run_diff(old, new, "jsonschema", mode)


@SETTINGS
@given(json_schema_documents(), json_schema_documents())
def test_unrelated_json_schemas_give_well_formed_findings(old: Any, new: Any) -> None:
    run_diff(old, new, "jsonschema")


@SETTINGS
@given(edited_openapi_documents())
def test_openapi_edits_give_well_formed_findings(pair: tuple[Any, Any]) -> None:
    old, new = pair
    run_diff(old, new, "openapi")


@SETTINGS
@given(openapi_documents(), openapi_documents())
def test_unrelated_openapi_documents_give_well_formed_findings(old: Any, new: Any) -> None:
    first = run_diff(old, new, "openapi")
    again = run_diff(old, new, "openapi")
    assert [f.to_dict() for f in first.findings] == [f.to_dict() for f in again.findings]


@SETTINGS
@given(edited_json_schemas())
def test_full_is_backward_and_forward(pair: tuple[Any, Any]) -> None:
    """FULL compatibility is BACKWARD and FORWARD compatibility; NONE never breaks."""
    old, new = pair
    breaking = {
        mode: run_diff(old, new, "jsonschema", mode).breaking
        for mode in ("backward", "forward", "full", "none")
    }
    assert breaking["full"] == (breaking["backward"] or breaking["forward"]), breaking
    assert not breaking["none"]


@SETTINGS
@given(edited_openapi_documents())
def test_fail_on_dangerous_only_promotes(pair: tuple[Any, Any]) -> None:
    old, new = pair
    source = MemorySource({"old.json": old, "new.json": new})
    plain = diff("old.json", "new.json", source=source)
    strict = diff("old.json", "new.json", DiffOptions(fail_on=Severity.DANGEROUS), source=source)
    promoted = {f.fingerprint: f for f in strict.findings}  # promotion may reorder them
    assert len(promoted) == len(plain.findings)
    assert strict.breaking == any(f.severity >= Severity.DANGEROUS for f in plain.findings)
    for before in plain.findings:
        after = promoted[before.fingerprint]
        if before.severity is Severity.DANGEROUS:
            assert (after.severity, after.promoted_from) == (Severity.BREAKING, Severity.DANGEROUS)
        else:
            assert after.severity is before.severity


# -- malformed input ------------------------------------------------------------------------

JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-2, 2)
    | st.floats(-2, 2, width=16)
    | st.sampled_from(["", "x", "#", "#/$defs/A", "#/nowhere", "string", "^(", "A"]),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(NAMES, inner, max_size=2),
    max_leaves=4,
)
# fmt: off
KEYWORDS = [
    "type", "properties", "required", "items", "enum", "const", "minimum", "maximum",
    "exclusiveMinimum", "minLength", "maxLength", "pattern", "format", "oneOf", "anyOf",
    "allOf", "not", "additionalProperties", "patternProperties", "nullable", "default", "$ref",
    "readOnly", "writeOnly", "dependentRequired", "dependencies", "prefixItems", "contains",
    "minContains", "multipleOf", "uniqueItems", "propertyNames", "if", "then", "discriminator",
    "x-extensible-enum", "$defs", "$id", "$anchor", "minItems",
]
# fmt: on


def loose_schemas() -> st.SearchStrategy[Any]:
    """Schema-shaped values whose keywords may hold values of the wrong type."""
    return st.recursive(
        JUNK,
        lambda inner: (
            st.dictionaries(st.sampled_from(KEYWORDS), inner | JUNK, max_size=4)
            | st.lists(inner, max_size=2)
        ),
        max_leaves=8,
    )


# The smallest crashes found so far, kept so that every run tries them.
CRASHES = [
    ({}, {"type": {}}),
    ({"pattern": []}, {}),
    ({"format": "x"}, {"format": []}),
    ({"dependentRequired": {"a": True}}, {"dependentRequired": {"a": ["b"]}}),
]


@settings(SETTINGS, max_examples=150)
@given(loose_schemas(), loose_schemas(), st.sampled_from(["jsonschema", "openapi"]))
@example(*CRASHES[0], "jsonschema")
@example(*CRASHES[1], "jsonschema")
@example(*CRASHES[2], "openapi")
@example(*CRASHES[3], "jsonschema")
def test_malformed_schemas_are_input_errors(old: Any, new: Any, fmt: str) -> None:
    if fmt == "openapi":

        def wrap(schema: Any) -> dict[str, Any]:
            content = {"application/json": {"schema": schema}}
            op = {
                "requestBody": {"content": content},
                "responses": {"200": {"description": "ok", "content": content}},
            }
            return {
                "openapi": "3.1.0",
                "info": {"title": "t", "version": "1"},
                "paths": {"/a": {"post": op}},
                "components": {"schemas": {"A": schema}},
            }

        old, new = wrap(old), wrap(new)
    source = MemorySource({"old.json": old, "new.json": new})
    try:
        result = diff("old.json", "new.json", DiffOptions(format=fmt), source=source)
    except InputError as err:
        assert str(err) and "\n" not in str(err)
        return
    check_findings(result, source)


@SETTINGS
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_arbitrary_bytes_are_input_errors(raw: bytes) -> None:
    source = MemorySource({"old.json": {"type": "object"}, "new.yaml": raw})
    try:
        diff("old.json", "new.yaml", source=source)
    except InputError as err:
        assert "\n" not in str(err)


@settings(SETTINGS, max_examples=25)
@given(loose_schemas())
@example({"type": {}})
def test_cli_never_reports_an_internal_error(schema: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        old, new = Path(folder) / "old.json", Path(folder) / "new.json"
        old.write_text(json.dumps({"type": "object"}))
        new.write_text(json.dumps(schema))
        out, err = io.StringIO(), io.StringIO()
        code = main(
            ["diff", str(old), str(new), "--format", "jsonschema", "-o", "json"],
            stdout=out,
            stderr=err,
        )
    assert code in (0, 1, 2)
    if code == 2:
        assert err.getvalue().startswith("tessera: error: "), err.getvalue()
    else:
        json.loads(out.getvalue())
