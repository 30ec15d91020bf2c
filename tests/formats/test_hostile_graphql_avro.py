"""Hostile GraphQL and Avro input: every case is refused cleanly (an ``InputError`` naming the
file and, where there is one, the line) or handled with bounded work, never a crash, a hang or
memory growing with a number written in the file.

Work is asserted by counting (resolution decisions, parses, the text graphql-core is given),
memory with ``tracemalloc``; cases that used to take hours run in a subprocess with a generous
backstop timeout."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from tessera_engine import InputError, diff
from tessera_engine.cli import main
from tessera_engine.documents import parse_document
from tessera_engine.errors import FormatError, LimitError, LoadError
from tessera_engine.formats import avro_resolve, graphql_sdl
from tessera_engine.formats.avro import AvroFormat
from tessera_engine.formats.avro_parse import (
    MAX_FIXED_SIZE,
    SchemaParser,
    max_decimal_precision,
)
from tessera_engine.formats.graphql import read_sdl
from tessera_engine.limits import MAX_DEFAULT_NESTING, MAX_LIST_NESTING, MAX_NESTING

BACKSTOP = 60  # seconds: only a guard against a hang, never a measure


def _write(folder: Path, name: str, content: Any) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = content if isinstance(content, str) else json.dumps(content)
    path.write_text(text, encoding="utf-8")
    return str(path)


def _pair(tmp_path: Path, old: Any, new: Any, suffix: str) -> tuple[str, str]:
    return _write(tmp_path, f"old{suffix}", old), _write(tmp_path, f"new{suffix}", new)


def _refused(tmp_path: Path, old: Any, new: Any, suffix: str) -> InputError:
    a, b = _pair(tmp_path, old, new, suffix)
    with pytest.raises(InputError) as caught:
        diff(a, b)
    assert "\n" not in str(caught.value)
    return caught.value


# -- Avro: fixed sizes and decimals ------------------------------------------------------------


def _fixed(size: int, precision: int = 10) -> dict[str, Any]:
    return {
        "type": "fixed",
        "name": "Money",
        "size": size,
        "logicalType": "decimal",
        "precision": precision,
        "scale": 2,
    }


def test_a_huge_fixed_decimal_costs_no_memory(tmp_path: Path) -> None:
    # 2 ** (8 * size) would be a 2 GB integer (size 10**8 took 370 MB and 6.5 s)
    old, new = _pair(tmp_path, _fixed(16), _fixed(MAX_FIXED_SIZE), ".avsc")
    tracemalloc.start()
    try:
        result = diff(old, new)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [f.rule for f in result.findings] == ["schema.avro-fixed.size-changed"]
    assert peak < 50_000_000


def test_a_fixed_size_beyond_32_bits_is_refused_at_its_line(tmp_path: Path) -> None:
    text = '{"type": "fixed", "name": "F",\n "size": 2147483648}'
    error = _refused(tmp_path, _fixed(16), text, ".avsc")
    assert isinstance(error, FormatError)
    assert str(error).startswith(f"{tmp_path / 'new.avsc'}:2:")
    assert "2,147,483,647" in str(error)


@pytest.mark.parametrize("size", [*range(300), 1000, 4096, 65_536])
def test_max_decimal_precision_is_exact(size: int) -> None:
    largest = 2 ** (8 * size - 1) - 1 if size else 0
    precision = max_decimal_precision(size)
    if size:
        assert 10**precision <= largest < 10 ** (precision + 1)
    else:
        assert precision == 0


def test_the_largest_precision_a_fixed_holds_is_kept_and_one_more_dropped(tmp_path: Path) -> None:
    fits = max_decimal_precision(8)
    for precision, kept in ((fits, True), (fits + 1, False)):
        path = _write(tmp_path, f"p{precision}.avsc", _fixed(8, precision))
        version = AvroFormat().load(_source(), path, None)  # type: ignore[arg-type]
        logical = version.schemas[0].schema.logical
        assert (logical is not None) is kept


def _source() -> Any:
    from tessera_engine.documents import FileSource

    return FileSource()


# -- Avro: wrong types, lone surrogates ----------------------------------------------------------

WRONG_AVRO = [
    {"type": "fixed", "name": "F", "size": 2**70},
    {"type": "fixed", "name": "F", "size": "16"},
    {"type": "record", "name": ["R"], "fields": []},
    {"type": "record", "name": "R", "fields": {"a": "int"}},
    {"type": "record", "name": "R", "fields": [{"name": "a", "type": 5}]},
    {"type": "record", "name": "R", "fields": [{"name": "a", "type": [[]]}]},
    {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "order": []}]},
    {"type": "record", "name": "R", "namespace": 1, "fields": []},
    {"type": "record", "name": "R", "aliases": "A", "fields": []},
    {"type": "enum", "name": "E", "symbols": {"A": 1}},
    {"type": "enum", "name": "E", "symbols": ["A"], "default": ["A"]},
    {"type": "array", "items": None},
    {"type": {"type": {"type": 1}}},
    {"type": "map"},
    [["int"]],
    5,
    None,
]


@pytest.mark.parametrize("schema", WRONG_AVRO, ids=[json.dumps(s)[:40] for s in WRONG_AVRO])
def test_wrong_types_in_avro_json_are_input_errors(tmp_path: Path, schema: Any) -> None:
    error = _refused(tmp_path, {"type": "int"}, schema, ".avsc")
    assert str(error).startswith(str(tmp_path / "new.avsc"))


def test_a_lone_surrogate_in_avro_json_is_refused_at_its_line(tmp_path: Path) -> None:
    record = '{"type": "record", "name": "R", "fields": [\n {"name": "a", "type": "string",'
    old = record + ' "default": "x"}]}'
    new = record + '\n  "default": "\\ud800"}]}'
    error = _refused(tmp_path, old, new, ".avsc")
    assert isinstance(error, LoadError)
    assert str(error).startswith(f"{tmp_path / 'new.avsc'}:3:")
    # a surrogate pair is one character, and is fine
    a, b = _pair(tmp_path, old, record + ' "default": "\\ud83d\\ude00"}]}', ".avsc")
    assert diff(a, b).findings


def _nested_default(depth: int) -> dict[str, Any]:
    schema: Any = "int"
    value: Any = 1
    for _ in range(depth):
        schema, value = {"type": "array", "items": schema}, [value]
    return {
        "type": "record",
        "name": "R",
        "fields": [{"name": "a", "type": schema, "default": value}],
    }


def test_a_deeply_nested_default_is_refused_before_it_reaches_a_finding(tmp_path: Path) -> None:
    # findings carry the default and are printed at the interpreter's usual recursion limit
    empty = {"type": "record", "name": "R", "fields": []}
    error = _refused(tmp_path, empty, _nested_default(MAX_DEFAULT_NESTING + 1), ".avsc")
    assert isinstance(error, LimitError)
    assert f"nests more than {MAX_DEFAULT_NESTING} levels" in str(error)
    old, new = _pair(tmp_path, empty, _nested_default(MAX_DEFAULT_NESTING), ".avsc")
    for output in ("text", "json", "sarif", "markdown", "github"):
        shown, errors = io.StringIO(), io.StringIO()
        assert main(["diff", old, new, "--output", output], stdout=shown, stderr=errors) == 0
        assert "]" * MAX_DEFAULT_NESTING in shown.getvalue() or output == "sarif"


# -- Avro: how much work and how deep ------------------------------------------------------------


def _union_of_records(names: list[str]) -> dict[str, Any]:
    branches = [{"type": "record", "name": name, "fields": []} for name in names]
    return {"type": "record", "name": "R", "fields": [{"name": "u", "type": ["null", *branches]}]}


@pytest.mark.parametrize("count", [500, 1000])
def test_two_large_unions_are_resolved_in_linear_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    decisions = 0
    decide = avro_resolve.Resolver._decide

    def counted(self: avro_resolve.Resolver, reader: Any, writer: Any) -> bool:
        nonlocal decisions
        decisions += 1
        return decide(self, reader, writer)

    monkeypatch.setattr(avro_resolve.Resolver, "_decide", counted)
    old = _union_of_records([f"A{i}" for i in range(count)])
    new = _union_of_records([f"B{i}" for i in range(count)])  # nothing in common
    a, b = _pair(tmp_path, old, new, ".avsc")
    result = diff(a, b)
    assert len(result.findings) == 2 * count
    assert decisions <= 4 * count  # branch by branch it was count * count


def test_many_same_named_branches_hit_the_work_limit(tmp_path: Path) -> None:
    def union(prefix: str) -> dict[str, Any]:
        branches = [
            {
                "type": "record",
                "name": "X",
                "namespace": f"{prefix}{i}",
                "fields": [{"name": f"{prefix}{i}", "type": "int"}],
            }
            for i in range(2000)
        ]
        return {"type": "record", "name": "R", "fields": [{"name": "u", "type": branches}]}

    error = _refused(tmp_path, union("a"), union("b"), ".avsc")
    assert isinstance(error, LimitError)
    assert "steps" in str(error) and str(error).startswith(str(tmp_path / "new.avsc"))


def test_a_named_type_met_with_many_counterparts_hits_the_work_limit(tmp_path: Path) -> None:
    big = {
        "type": "record",
        "name": "N",
        "fields": [{"name": f"g{i}", "type": "int"} for i in range(400)],
    }
    new = {
        "type": "record",
        "name": "Root",
        "fields": [{"name": "f0", "type": big}]
        + [{"name": f"f{i}", "type": "N"} for i in range(1, 600)],
    }
    old = {
        "type": "record",
        "name": "Root",
        "fields": [
            {"name": f"f{i}", "type": {"type": "record", "name": f"O{i}", "fields": []}}
            for i in range(600)
        ],
    }
    error = _refused(tmp_path, old, new, ".avsc")
    assert isinstance(error, LimitError)
    assert "steps" in str(error)


def _reference_chain(length: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Records each referring to the one before; the old version lists them again, newest
    first, so comparing walks the whole chain at once."""
    defs: list[dict[str, Any]] = [
        {"type": "record", "name": "C0", "fields": [{"name": "v", "type": "int"}]}
    ]
    for i in range(1, length):
        defs.append(
            {"type": "record", "name": f"C{i}", "fields": [{"name": "next", "type": f"C{i - 1}"}]}
        )
    old = {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "a", "type": ["null", *defs]},
            {"name": "b", "type": ["null", *(f"C{i}" for i in reversed(range(length)))]},
        ],
    }
    changed = json.loads(json.dumps(defs))
    changed[0]["fields"][0]["type"] = "long"
    new = {"type": "record", "name": "R", "fields": [{"name": "b", "type": ["null", *changed]}]}
    return old, new


def test_a_reference_chain_deeper_than_the_limit_is_refused(tmp_path: Path) -> None:
    old, new = _reference_chain(MAX_NESTING + 200)
    error = _refused(tmp_path, old, new, ".avsc")
    assert isinstance(error, LimitError)
    assert f"more than {MAX_NESTING:,} levels" in str(error)
    assert str(error).startswith(f"{tmp_path / 'new.avsc'}:1:")


def test_a_reference_chain_within_the_limit_is_compared(tmp_path: Path) -> None:
    old, new = _reference_chain(MAX_NESTING - 200)
    a, b = _pair(tmp_path, old, new, ".avsc")
    assert {f.rule for f in diff(a, b).findings} >= {"schema.avro-type.promoted"}


def test_a_directory_in_reverse_dependency_order_parses_each_file_about_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 300
    for version in ("old", "new"):
        for i in range(count):  # file i refers to the type of file i + 1, defined later
            ref = f"T{i + 1}" if i + 1 < count else "int"
            record = {"type": "record", "name": f"T{i}", "fields": [{"name": "x", "type": ref}]}
            _write(tmp_path / version, f"a{i:04d}.avsc", record)
    parses = 0
    parse_root = SchemaParser.parse_root

    def counted(self: SchemaParser) -> Any:
        nonlocal parses
        parses += 1
        return parse_root(self)

    monkeypatch.setattr(SchemaParser, "parse_root", counted)
    result = diff(str(tmp_path / "old"), str(tmp_path / "new"))
    assert result.findings == ()
    assert parses <= 2 * 2 * count  # round by round it was count * count / 2 per version


def test_the_avro_reader_counts_its_elements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields = [{"name": f"f{i}", "type": "int"} for i in range(30)]
    path = _write(tmp_path, "big.avsc", {"type": "record", "name": "R", "fields": fields})
    document = parse_document(path + ".json", path, Path(path).read_bytes())
    monkeypatch.setenv("TESSERA_MAX_ELEMENTS", "61")  # the record, 30 fields, 30 types
    assert SchemaParser(document, {}).parse_root()
    monkeypatch.setenv("TESSERA_MAX_ELEMENTS", "60")
    with pytest.raises(LimitError) as caught:
        SchemaParser(document, {}).parse_root()
    assert "TESSERA_MAX_ELEMENTS" in str(caught.value)
    assert str(caught.value).startswith(f"{path}:1:")


# -- GraphQL SDL: nesting ------------------------------------------------------------------------

QUERY = "type Query { a: String }\n"


def _list_type(depth: int) -> str:
    return "[" * depth + "String" + "]" * depth


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        (f"type Query {{ a: {_list_type(3000)} }}\n", "list types nested more than 32"),
        (
            "type Query { a(x: [Int] = " + "[" * 3000 + "1" + "]" * 3000 + "): String }\n",
            f"values nested more than {MAX_NESTING:,}",
        ),
        (
            "directive @d(x: [Int]) on FIELD_DEFINITION\n"
            "type Query { a: String @d(x: " + "[" * 3000 + "1" + "]" * 3000 + ") }\n",
            f"values nested more than {MAX_NESTING:,}",
        ),
        (
            "type Query { a(x: Int = " + "{a: " * 3000 + "1" + "}" * 3000 + "): String }\n",
            f"values nested more than {MAX_NESTING:,}",
        ),
    ],
    ids=["list-type", "default-value", "directive-argument", "object-value"],
)
def test_deep_nesting_in_sdl_is_a_limit_error_with_its_position(
    tmp_path: Path, text: str, limit: str
) -> None:
    error = _refused(tmp_path, QUERY, text, ".graphql")
    assert isinstance(error, LimitError)
    assert limit in str(error)
    assert str(error).startswith(f"{tmp_path / 'new.graphql'}:")


def test_nesting_up_to_the_limits_is_compared(tmp_path: Path) -> None:
    deep_value = "[" * (MAX_NESTING - 1) + "1" + "]" * (MAX_NESTING - 1)
    old = f"type Query {{ a(x: {_list_type(MAX_LIST_NESTING)}): String }}\n"
    new = f"type Query {{ a(x: {_list_type(MAX_LIST_NESTING)} = {deep_value}): String }}\n"
    a, b = _pair(tmp_path, old, new, ".graphql")
    rules = {f.rule for f in diff(a, b).findings}
    assert rules == {"schema.graphql-default.changed"}


def test_deep_list_types_are_compared_without_recursion(tmp_path: Path) -> None:
    interface = f"interface I {{ a: {_list_type(MAX_LIST_NESTING)} }}\n"
    implementation = f"type Query implements I {{ a: {_list_type(MAX_LIST_NESTING)} }}\n"
    new = interface + implementation.replace("String" + "]", "String!]")
    a, b = _pair(tmp_path, interface + implementation, new, ".graphql")
    assert {f.rule for f in diff(a, b).findings} == {"schema.nullable.removed"}


# -- GraphQL SDL: the element limit --------------------------------------------------------------


def test_sdl_over_the_element_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields = "".join(f"  f{i}: String\n" for i in range(50))
    text = f"type Query {{\n{fields}}}\n"
    monkeypatch.setenv("TESSERA_MAX_ELEMENTS", "101")  # the type, 50 fields, 50 types
    assert read_sdl("s.graphql", [("s.graphql", text)]).types["Query"].fields
    monkeypatch.setenv("TESSERA_MAX_ELEMENTS", "100")
    with pytest.raises(LimitError) as caught:
        read_sdl("s.graphql", [("s.graphql", text)])
    message = str(caught.value)
    assert message.startswith("s.graphql:51:")
    assert "over the limit of 100" in message and "TESSERA_MAX_ELEMENTS" in message


# -- GraphQL SDL: tokens and strings --------------------------------------------------------------

_TOKENIZE = """
import sys
from tessera_engine.formats.graphql_sdl import read, SdlSyntaxError
text = "type Query { a: Int }\\n" + sys.argv[1] * 500_000
try:
    read(text, 0)
except SdlSyntaxError:
    pass
print("done")
"""


@pytest.mark.parametrize(
    "tail", [" ", "#", '"\\', '"""\\"""'], ids=["spaces", "comment", "string", "block"]
)
def test_tokenizing_never_rescans_the_rest_of_the_file(tail: str) -> None:
    # a trailing run of whitespace or comments, or an unterminated string repeated, made the
    # token expression scan to the end of the file from every position (hours for 1 MB)
    done = subprocess.run(
        [sys.executable, "-c", _TOKENIZE, tail],
        capture_output=True,
        text=True,
        timeout=BACKSTOP,
        check=True,
    )
    assert done.stdout.strip() == "done"


@pytest.mark.parametrize(
    "escape", ["\\uD800", "\\uDE00", "\\u{D800}", "\\u{110000}", "\\u{FFFFFFFFFFFFFFFFFFFF}"]
)
def test_invalid_unicode_escapes_are_syntax_errors(tmp_path: Path, escape: str) -> None:
    text = f'type Query {{ a(x: String = "{escape}"): Int }}\n'
    error = _refused(tmp_path, QUERY, text, ".graphql")
    assert isinstance(error, FormatError)
    assert "Invalid Unicode escape sequence" in str(error)


def test_escapes_decode_as_graphql_core_decodes_them() -> None:
    assert graphql_sdl.literal('"\\\\u{41}"') == '"\\\\u{41}"'  # an escaped backslash, then text
    assert graphql_sdl.literal('"\\u{1F600}\\uD83D\\uDE00"') == '"\U0001f600\U0001f600"'


def test_graphql_core_words_a_syntax_error_from_the_failing_definition_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import graphql

    given: list[int] = []
    parse = graphql.parse

    def recorded(source: Any, **options: Any) -> Any:
        given.append(len(source))
        return parse(source, **options)

    monkeypatch.setattr(graphql, "parse", recorded)
    valid = "".join(f"type T{i} {{ a: Int }}\n" for i in range(20_000))
    text = f"{QUERY}{valid}type Broken {{\n  a: Int\n  b(: Int\n}}\n"
    with pytest.raises(FormatError) as caught:
        read_sdl("s.graphql", [("s.graphql", text)])
    line = text.count("\n") - 1
    assert str(caught.value) == f"s.graphql:{line}:5: Syntax Error: Expected Name, found ':'."
    assert given and max(given) < 100


# -- GraphQL introspection -----------------------------------------------------------------------


def _introspection(sdl: str) -> dict[str, Any]:
    from graphql import build_schema, introspection_from_schema

    return {"data": introspection_from_schema(build_schema(sdl))}


def _query_type(result: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in result["data"]["__schema"]["types"] if t["name"] == "Query")


def test_deep_default_values_in_introspection_are_refused(tmp_path: Path) -> None:
    old = _introspection("type Query { a(x: [Int]): Int }")
    new = json.loads(json.dumps(old))
    _query_type(new)["fields"][0]["args"][0]["defaultValue"] = "[" * 3000 + "1" + "]" * 3000
    error = _refused(tmp_path, old, new, ".json")
    assert "nested too deeply" in str(error)


def test_deep_list_types_in_introspection_are_limit_errors(tmp_path: Path) -> None:
    old = _introspection("type Query { a: Int }")
    new = json.loads(json.dumps(old))
    ref: dict[str, Any] = {"kind": "SCALAR", "name": "Int", "ofType": None}
    for _ in range(MAX_LIST_NESTING + 5):
        ref = {"kind": "LIST", "name": None, "ofType": ref}
    _query_type(new)["fields"][0]["type"] = ref
    error = _refused(tmp_path, old, new, ".json")
    assert isinstance(error, LimitError)
    assert "list types nested more than 32" in str(error)


WRONG_INTROSPECTION = [
    ("types", 5),
    ("types", [[]]),
    ("types", [{"kind": "OBJECT", "name": ["Query"]}]),
    ("directives", [{"name": "d", "locations": [1], "args": []}]),
    ("queryType", {"name": 5}),
]


@pytest.mark.parametrize(("key", "value"), WRONG_INTROSPECTION)
def test_wrong_types_in_introspection_are_input_errors(
    tmp_path: Path, key: str, value: Any
) -> None:
    old = _introspection("type Query { a: Int }")
    new = json.loads(json.dumps(old))
    new["data"]["__schema"][key] = value
    error = _refused(tmp_path, old, new, ".json")
    assert isinstance(error, FormatError)


def test_a_lone_surrogate_in_introspection_is_refused(tmp_path: Path) -> None:
    old = _introspection('type Query { a: Int @deprecated(reason: "x") }')
    text = json.dumps(old).replace('"deprecationReason": "x"', '"deprecationReason": "\\ud800"')
    error = _refused(tmp_path, old, text, ".json")
    assert isinstance(error, LoadError)  # refused by the JSON reader, for every format
    assert "surrogate" in str(error) and error.line == 1


def test_unterminated_strings_are_told_from_their_end() -> None:
    import random

    rng = random.Random(7)
    pieces = ['"', '"""', "\\", '\\"', '\\"""', "a", "\n", "\\u", "0041", "{", "}", "D800", " "]
    seen = 0
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        for token in graphql_sdl.TOKENS.findall(text):
            if token.startswith('"'):
                seen += 1
                complete = graphql_sdl.STRING.fullmatch(token) is not None
                assert graphql_sdl._complete(token) == complete, repr(token)
    assert seen > 10_000
