"""Bad input, through the CLI: exit 2, one ``tessera: error:`` line on stderr naming the file
(and the line where it is known), no traceback, quickly and in bounded memory."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tessera_engine import InputError, diff

from .helpers import Process, Run, assert_one_line_error, cli, line_of, spawn, write

BASE = """\
openapi: 3.0.3
info:
  title: Pets
  version: 1.0.0
paths:
  /pets:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Pet'
components:
  schemas:
    Pet:
      type: object
      properties:
        name:
          type: string
"""
REF_LINE = 14  # the line of the $ref above
MAX_SECONDS = 5.0
MAX_RSS_MB = 500.0


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "good.yaml", BASE)
    return tmp_path


def error_line(message: str) -> int:
    """The line number in ``tessera: error: FILE:LINE[:COLUMN]: ...``."""
    match = re.match(r"tessera: error: [^:]+:(\d+)[: ]", message)
    assert match, message
    return int(match.group(1))


def refused(run: Run | Process, file: str, line: int | None = None) -> str:
    """The common contract of every bad-input case; returns the error line."""
    assert run.code == 2, (run.code, run.err[-500:])
    assert run.out == ""
    message = assert_one_line_error(run.err, file, line)
    if isinstance(run, Process):
        assert run.seconds < 20, run.seconds
        assert run.max_rss_mb < MAX_RSS_MB, run.max_rss_mb
    else:
        assert run.seconds < MAX_SECONDS, run.seconds
    return message


def bad_new(name: str, content: str | bytes) -> Run:
    write(Path(name), content)
    return cli("diff", "good.yaml", name)


# -- syntax ---------------------------------------------------------------------------------

BAD_JSON = {
    "missing comma": '{\n  "openapi": "3.0.3",\n  "info": {"title": "t" "version": "1"},\n'
    '  "paths": {}\n}\n',
    "trailing comma": '{\n  "openapi": "3.0.3",\n  "paths": {},\n}\n',
    "truncated": '{\n  "openapi": "3.0.3",\n  "paths": {\n    "/a": {\n',
    "single quotes": "{\n  'openapi': '3.0.3'\n}\n",
}


@pytest.mark.parametrize("case", sorted(BAD_JSON))
def test_invalid_json_names_line_and_column(work: Path, case: str) -> None:
    text = BAD_JSON[case]
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    line, column = expected.value.lineno, expected.value.colno
    message = refused(bad_new("bad.json", text), "bad.json", line)
    assert message.startswith(f"tessera: error: bad.json:{line}:{column}: ")
    assert "JSON" in message


def test_invalid_json_line_is_the_real_one(work: Path) -> None:
    refused(bad_new("bad.json", BAD_JSON["missing comma"]), "bad.json", 3)


def test_invalid_old_file_is_named(work: Path) -> None:
    write(work / "bad.json", BAD_JSON["missing comma"])
    refused(cli("diff", "bad.json", "good.yaml"), "bad.json", 3)


BAD_YAML = {
    # name: (text, line)
    "mapping value in a scalar": (
        "openapi: 3.0.3\ninfo:\n  title: x\n  version: 1.0.0: x\npaths: {}\n",
        4,
    ),
    "bad indentation": ("openapi: 3.0.3\ninfo:\n  title: x\n version: 1\npaths: {}\n", 4),
    "unclosed flow mapping": ("openapi: 3.0.3\ninfo: {title: x, version: 1\npaths: {}\n", 3),
    "unknown alias": ("openapi: 3.0.3\ninfo: *nope\npaths: {}\n", 2),
}


@pytest.mark.parametrize("case", sorted(BAD_YAML))
def test_invalid_yaml_names_the_line(work: Path, case: str) -> None:
    text, line = BAD_YAML[case]
    with pytest.raises(yaml.MarkedYAMLError) as oracle:
        yaml.safe_load(text)
    assert oracle.value.problem_mark is not None
    assert oracle.value.problem_mark.line + 1 == line  # PyYAML agrees on the line
    message = refused(bad_new("bad.yaml", text), "bad.yaml", line)
    assert "YAML" in message


def test_duplicate_key_in_yaml(work: Path) -> None:
    text = BASE + "info:\n  title: again\n"
    message = refused(bad_new("dup.yaml", text), "dup.yaml", text.count("\n") - 1)
    assert "duplicate" in message and "info" in message


def test_duplicate_key_line_is_the_duplicate_one(work: Path) -> None:
    """Two operations each have a ``description`` at the same indentation; only the second
    operation repeats it. The error must point at the repetition, not at an earlier
    ``description`` of another mapping that happens to sit at the same indentation."""
    text = """\
openapi: 3.0.3
info:
  title: x
  version: '1'
paths:
  /a:
    get:
      description: first operation
  /b:
    get:
      description: second operation
      description: the duplicate
"""
    message = refused(bad_new("dup.yaml", text), "dup.yaml", line_of(text, "the duplicate"))
    assert "description" in message


def test_duplicate_key_in_a_sequence_item(work: Path) -> None:
    text = BASE.replace(
        "    get:\n",
        "    get:\n      parameters:\n        - name: a\n          in: query\n          name: b\n",
    )
    refused(bad_new("dup.yaml", text), "dup.yaml", line_of(text, "name: b"))


# -- references -----------------------------------------------------------------------------


def test_unresolvable_ref_names_the_ref(work: Path) -> None:
    text = BASE.replace("schemas/Pet'", "schemas/Nope'")
    assert line_of(text, "Nope") == REF_LINE
    message = refused(bad_new("new.yaml", text), "new.yaml", REF_LINE)
    assert message.startswith(f"tessera: error: new.yaml:{REF_LINE}:17: ")
    assert "Nope" in message


def test_dangling_ref_in_an_added_operation(work: Path) -> None:
    """No comparison looks inside an operation that is only added, but the version being
    published must not hold a dangling reference."""
    added = (
        "  /extra:\n    get:\n      responses:\n        '200':\n          description: ok\n"
        "          content:\n            application/json:\n"
        "              schema: {$ref: '#/components/schemas/Gone'}\n"
    )
    text = BASE.replace("paths:\n", "paths:\n" + added, 1)
    message = refused(bad_new("new.yaml", text), "new.yaml", line_of(text, "Gone"))
    assert "Gone" in message


def test_ref_to_a_missing_sibling_file(work: Path) -> None:
    text = BASE.replace("'#/components/schemas/Pet'", "'missing.yaml#/Pet'")
    message = refused(bad_new("new.yaml", text), "new.yaml", REF_LINE)
    assert "missing.yaml" in message


def test_ref_to_a_missing_pointer_in_a_sibling_file(work: Path) -> None:
    write(work / "common.yaml", "Pet:\n  type: object\n")
    text = BASE.replace("'#/components/schemas/Pet'", "'common.yaml#/Animal'")
    message = refused(bad_new("new.yaml", text), "new.yaml", REF_LINE)
    assert "Animal" in message


def test_ref_to_a_broken_sibling_file_names_both(work: Path) -> None:
    write(work / "common.yaml", "Pet:\n  type: object\n  properties: {name: [\n")
    text = BASE.replace("'#/components/schemas/Pet'", "'common.yaml#/Pet'")
    message = refused(bad_new("new.yaml", text), "new.yaml", REF_LINE)
    assert "common.yaml" in message


CYCLE = BASE.replace(
    "    Pet:\n      type: object\n      properties:\n        name:\n          type: string\n",
    "    Pet:\n      $ref: '#/components/schemas/Animal'\n"
    "    Animal:\n      $ref: '#/components/schemas/Pet'\n",
)


def test_circular_ref_chain(work: Path) -> None:
    message = refused(bad_new("new.yaml", CYCLE), "new.yaml")
    line = error_line(message)
    # the schema that starts the chain, or one of the $refs in it
    assert line in {
        REF_LINE - 1,
        REF_LINE,
        line_of(CYCLE, "schemas/Animal'"),
        line_of(CYCLE, "schemas/Pet'", after="Animal:"),
    }
    assert "circular" in message


def test_circular_ref_chain_across_files(work: Path) -> None:
    write(work / "other.yaml", "Animal:\n  $ref: 'new.yaml#/components/schemas/Pet'\n")
    text = CYCLE.replace("'#/components/schemas/Animal'", "'other.yaml#/Animal'")
    message = refused(bad_new("new.yaml", text), "new.yaml")
    assert "circular" in message


def test_ref_to_itself(work: Path) -> None:
    text = BASE.replace(
        "    Pet:\n      type: object\n",
        "    Pet:\n      $ref: '#/components/schemas/Pet'\n      type: object\n",
    )
    refused(bad_new("new.yaml", text), "new.yaml")


# -- not a contract -------------------------------------------------------------------------

GRAPHQL = "type Query {\n  pets: [Pet!]!\n}\n\ntype Pet {\n  name: String\n}\n"
WRONG_FORMAT = {
    "yaml list": ("list.yaml", "- openapi\n- 3.0.3\n"),
    "json array": ("list.json", '[{"openapi": "3.0.3"}]\n'),
    "yaml scalar": ("scalar.yaml", "just some text\n"),
    "empty file": ("empty.yaml", ""),
    "unrelated mapping": ("config.yaml", "name: my-service\nreplicas: 3\n"),
    "openapi 2.5": ("odd.yaml", "openapi: 2.5.0\ninfo: {title: t, version: '1'}\npaths: {}\n"),
    "paths is a list": (
        "paths.yaml",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  - /a\n",
    ),
}


@pytest.mark.parametrize("case", sorted(WRONG_FORMAT))
@pytest.mark.parametrize("forced", [False, True], ids=["detected", "format-openapi"])
def test_wrong_format(work: Path, case: str, forced: bool) -> None:
    name, text = WRONG_FORMAT[case]
    write(work / name, text)
    options = ["--format", "openapi"] if forced else []
    refused(cli("diff", "good.yaml", name, *options), name)


@pytest.mark.parametrize("text", [GRAPHQL, "type Query { pets: [Pet] }\n"], ids=["sdl", "one-line"])
def test_graphql_sdl_is_not_openapi(work: Path, text: str) -> None:
    write(work / "schema.graphql", text)
    refused(cli("diff", "good.yaml", "schema.graphql", "--format", "openapi"), "schema.graphql")


def test_mixed_formats_name_the_version_of_the_other_format(work: Path) -> None:
    """A .graphql new version makes the pair GraphQL: the OpenAPI old version is the bad one."""
    write(work / "schema.graphql", GRAPHQL)
    message = refused(cli("diff", "good.yaml", "schema.graphql"), "good.yaml", 1)
    assert message.endswith(
        "good.yaml:1:1: not GraphQL SDL (this diff reads both versions as GraphQL): "
        "Syntax Error: Unexpected Name 'openapi'."
    )
    write(work / "broken.graphql", GRAPHQL.replace("}", "", 1))
    message = refused(cli("diff", "broken.graphql", "schema.graphql"), "broken.graphql")
    assert "not GraphQL SDL" not in message
    assert "Syntax Error" in message


# -- encoding and files ---------------------------------------------------------------------


def test_non_utf8_file_names_the_line(work: Path) -> None:
    raw = BASE.replace("title: Pets", "title: Caf\u00e9").encode("latin-1")
    message = refused(bad_new("latin1.yaml", raw), "latin1.yaml", 3)
    assert "UTF-8" in message


def test_utf16_file(work: Path) -> None:
    refused(bad_new("utf16.yaml", BASE.encode("utf-16")), "utf16.yaml", 1)


def test_utf8_bom_is_accepted(work: Path) -> None:
    write(work / "bom.yaml", b"\xef\xbb\xbf" + BASE.encode())
    run = cli("diff", "good.yaml", "bom.yaml")
    assert run.code == 0, run.err


@pytest.mark.parametrize("position", ["old", "new"])
def test_missing_file(work: Path, position: str) -> None:
    args = ["missing.yaml", "good.yaml"] if position == "old" else ["good.yaml", "missing.yaml"]
    message = refused(cli("diff", *args), "missing.yaml")
    assert message.startswith("tessera: error: missing.yaml: ")
    assert "not found" in message


def test_directory(work: Path) -> None:
    (work / "specs").mkdir()
    refused(cli("diff", "good.yaml", "specs"), "specs")


# -- size -----------------------------------------------------------------------------------


def test_file_over_the_size_limit(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(work / "small.yaml", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n")
    monkeypatch.setenv("TESSERA_MAX_FILE_BYTES", "200")
    message = refused(cli("diff", "small.yaml", "good.yaml"), "good.yaml")
    assert "TESSERA_MAX_FILE_BYTES" in message or "limit" in message


def test_size_limit_boundary(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    size = len(BASE.encode())
    monkeypatch.setenv("TESSERA_MAX_FILE_BYTES", str(size))
    assert cli("diff", "good.yaml", "good.yaml").code == 0
    monkeypatch.setenv("TESSERA_MAX_FILE_BYTES", str(size - 1))
    refused(cli("diff", "good.yaml", "good.yaml"), "good.yaml")


def test_sibling_file_over_the_size_limit(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(work / "common.yaml", "Pet:\n  type: object\n  description: '" + "x" * 5000 + "'\n")
    write(work / "new.yaml", BASE.replace("'#/components/schemas/Pet'", "'common.yaml#/Pet'"))
    monkeypatch.setenv("TESSERA_MAX_FILE_BYTES", "2000")
    message = refused(cli("diff", "good.yaml", "new.yaml"), "new.yaml")
    assert "common.yaml" in message


def test_huge_sparse_file_is_refused_without_reading_it(work: Path) -> None:
    with (work / "huge.yaml").open("wb") as f:
        f.truncate(100 * 1024 * 1024)
    run = spawn("diff", "good.yaml", "huge.yaml", cwd=work)
    message = refused(run, "huge.yaml")
    assert "limit" in message
    assert run.seconds < MAX_SECONDS
    assert run.max_rss_mb < 100, "the 100 MB file was read"


# -- expansion and nesting ------------------------------------------------------------------

BOMB = """\
openapi: 3.0.3
info: {title: t, version: '1'}
x-a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
x-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
x-c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
x-d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
x-e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
x-f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
x-g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
x-h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
x-i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
paths: {}
"""

BLOCK_BOMB = (
    "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\nx-a: &a\n"
    + "".join(f"  - {i}\n" for i in range(10))
    + "".join(
        f"x-{level}: &{level}\n" + "".join(f"  - *{previous}\n" for _ in range(10))
        for previous, level in zip("abcdefgh", "bcdefghi", strict=True)
    )
)


@pytest.mark.parametrize("text", [BOMB, BLOCK_BOMB], ids=["flow", "block"])
def test_yaml_alias_bomb(work: Path, text: str) -> None:
    write(work / "bomb.yaml", text)
    refused(spawn("diff", "good.yaml", "bomb.yaml", cwd=work), "bomb.yaml")


DEPTH = 10_000  # JSON containers, one inside the other


def deep_schema(depth: int = DEPTH, leaf: str = "string") -> str:
    """A schema nested ``depth`` containers deep, as JSON text (built as text: the standard
    library's encoder would recurse once per level)."""
    levels = depth // 2  # {"properties": {"x": ...}} is two containers
    return '{"type":"object","properties":{"x":' * levels + f'{{"type":"{leaf}"}}' + "}}" * levels


def in_openapi(schema: str) -> str:
    head = (
        '{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a":{"get":'
        '{"responses":{"200":{"description":"ok","content":{"application/json":{"schema":'
    )
    return head + schema + "}" * (head.count("{") - head.count("}"))


def test_deep_helpers_build_valid_json() -> None:
    doc = json.loads(in_openapi(deep_schema(40)))
    schema = doc["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]
    assert schema["schema"]["properties"]["x"]["type"] == "object"


@pytest.mark.parametrize("wrap", ["openapi", "jsonschema"])
def test_json_nested_10000_levels_is_refused(work: Path, wrap: str) -> None:
    """The same document in YAML is refused (MAX_NESTING); JSON must be too, whatever part of
    it the comparison happens to reach."""
    build = in_openapi if wrap == "openapi" else (lambda s: s)
    write(work / "shallow.json", build(deep_schema(2)))
    write(work / "deep.json", build(deep_schema()))
    refused(spawn("diff", "shallow.json", "deep.json", cwd=work), "deep.json")


@pytest.mark.parametrize("wrap", ["openapi", "jsonschema"])
def test_json_nested_10000_levels_changed_at_the_bottom(work: Path, wrap: str) -> None:
    build = in_openapi if wrap == "openapi" else (lambda s: s)
    write(work / "old.json", build(deep_schema()))
    write(work / "new.json", build(deep_schema(leaf="integer")))
    refused(spawn("diff", "old.json", "new.json", cwd=work), "new.json")


def test_json_data_value_nested_10000_levels(work: Path) -> None:
    """A deep ``default`` value is data, not a schema, but must be refused just as cleanly
    (not reported as an internal error)."""
    write(work / "old.json", '{"type":"object"}')
    write(work / "new.json", '{"type":"object","default":' + "[" * DEPTH + "]" * DEPTH + "}")
    refused(spawn("diff", "old.json", "new.json", cwd=work), "new.json")


def test_deep_json_is_refused_by_a_long_running_process(work: Path) -> None:
    """The library (the GitHub App) diffs many documents in one process: after an ordinary
    diff, the same deep documents must still be refused with an InputError."""
    write(work / "a.json", {"type": "string"})
    write(work / "shallow.json", deep_schema(2))
    write(work / "deep.json", deep_schema())
    write(work / "data.json", '{"type":"object","default":' + "[" * DEPTH + "]" * DEPTH + "}")
    diff("a.json", "a.json")  # any diff first
    with pytest.raises(InputError) as deep:
        diff("shallow.json", "deep.json")
    assert "deep.json" in str(deep.value)
    with pytest.raises(InputError) as data:
        diff("a.json", "data.json")
    assert "data.json" in str(data.value)


def deep_block_yaml(levels: int, indent: int) -> list[str]:
    """A schema nested ``levels`` mappings deep in block YAML, one space per level."""
    lines = []
    for _ in range(levels // 2):
        lines += [
            " " * indent + "type: object",
            " " * indent + "properties:",
            " " * (indent + 1) + "x:",
        ]
        indent += 2
    return [*lines, " " * indent + "type: string"]


YAML_HEAD = [
    "openapi: 3.0.3",
    "info: {title: t, version: '1'}",
    "paths:",
    " /a:",
    "  get:",
    "   responses:",
    "    '200':",
    "     description: ok",
    "     content:",
    "      application/json:",
    "       schema:",
]


@pytest.mark.parametrize("wrap", ["openapi", "jsonschema"])
def test_block_yaml_nested_too_deep(work: Path, wrap: str) -> None:
    # 10,000 levels of block mappings would take ~75 MB of indentation (over the size limit
    # by itself); 2,500 levels is 4.7 MB and well over the nesting limit.
    body = deep_block_yaml(2_500, 8 if wrap == "openapi" else 0)
    lines = [*YAML_HEAD, *body] if wrap == "openapi" else body
    write(work / "deep.yaml", "\n".join(lines) + "\n")
    write(work / "shallow.yaml", BASE if wrap == "openapi" else "type: object\n")
    message = refused(spawn("diff", "shallow.yaml", "deep.yaml", cwd=work), "deep.yaml")
    line = error_line(message)
    indentation = len(lines[line - 1]) - len(lines[line - 1].lstrip(" "))
    assert 990 <= indentation <= 1010, (line, indentation)  # where it crosses 1,000 levels


def test_block_yaml_sequences_nested_10000_levels(work: Path) -> None:
    text = (
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\nx-deep: "
        + ("- " * DEPTH)
        + "1\n"
    )
    write(work / "deep.yaml", text)
    refused(spawn("diff", "good.yaml", "deep.yaml", cwd=work), "deep.yaml", 4)


def test_ref_chain_deeper_than_the_comparison_limit(work: Path) -> None:
    """2,000 components, each a property of the previous one: shallow text, deep schema."""
    count = 2_000

    def chain(leaf: str) -> dict[str, object]:
        schemas: dict[str, object] = {
            f"S{i}": {
                "type": "object",
                "properties": {"next": {"$ref": f"#/components/schemas/S{i + 1}"}},
            }
            for i in range(count)
        }
        schemas[f"S{count}"] = {"type": leaf}
        response = {
            "description": "ok",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/S0"}}},
        }
        return {
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": {"responses": {"200": response}}}},
            "components": {"schemas": schemas},
        }

    write(work / "old.json", chain("string"))
    write(work / "new.json", chain("integer"))
    refused(spawn("diff", "old.json", "new.json", cwd=work), "new.json")


def test_nesting_under_the_limits_is_compared_and_located(work: Path) -> None:
    levels = 600  # 300 schemas deep
    old = "\n".join([*YAML_HEAD, *deep_block_yaml(levels, 8)]) + "\n"
    new = old.replace("type: string", "type: integer")
    write(work / "old.yaml", old)
    write(work / "new.yaml", new)
    run = cli("diff", "old.yaml", "new.yaml", "--output", "json")
    assert run.code == 1, run.err
    (finding,) = run.data["findings"]
    assert finding["rule"] == "schema.type.changed"
    assert finding["path"] == "GET /a → 200 → body" + ".x" * (levels // 2)
    assert finding["location"]["line"] == line_of(new, "type: integer")
    assert run.seconds < MAX_SECONDS
