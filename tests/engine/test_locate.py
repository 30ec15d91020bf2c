"""Source positions: ``Document.locate(pointer)`` against an oracle built from PyYAML's composed
node marks, for every pointer of realistic and of generated documents.

What the YAML locator answers, precisely (everything else must match the oracle exactly):

- a mapping member: the start of its key (as PyYAML's key node);
- a block sequence item: the ``-`` indicator of the item, on the item's line (PyYAML's item
  node starts after ``- ``, two columns to the right);
- anything inside a flow collection (``{type: string}``, ``[a, b]``): the nearest element
  outside it (the key or ``-`` that holds the collection), as ``locate.py`` documents; where
  a multi-line flow collection happens to be laid out like a block, the member itself;
- a pointer through an alias (``*name``): the alias's own key.

Key spellings the locator once missed are pinned by tests below: plain keys containing ``:``
(``/v1/orders/{id}:cancel``) or ``#`` (``c#``), double-quoted keys written with YAML-only
escapes (``"caf\\xE9"``, as PyYAML writes non-ASCII by default), and explicit keys (``? key``).
Not generated: keys containing line breaks (PyYAML writes them as explicit keys spanning
several lines).
"""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tessera_engine.documents import parse_document
from tessera_engine.documents.pointer import escape

from .helpers import FIXTURES, column_of, line_of

LOCATE = FIXTURES / "locate"
Position = tuple[int, int]


# -- oracles --------------------------------------------------------------------------------


def _mark(node: yaml.Node) -> Position:
    return node.start_mark.line + 1, node.start_mark.column + 1


def json_oracle(text: str) -> dict[str, Position]:
    """Every pointer of a JSON text -> the position of its key (members) or value (items)."""
    root = yaml.compose(text)
    found = {"": _mark(root)}
    stack: list[tuple[str, yaml.Node]] = [("", root)]
    while stack:
        pointer, node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = f"{pointer}/{escape(key.value)}"
                found[child] = _mark(key)
                stack.append((child, value))
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                child = f"{pointer}/{index}"
                found[child] = _mark(value)
                stack.append((child, value))
    return found


def yaml_oracle(text: str) -> dict[str, set[Position]]:
    """Every pointer of a YAML text -> the positions the locator may answer (see the module
    docstring): exactly one for block style, the member or its flow collection's holder inside
    flow collections."""

    def dash(node: yaml.Node) -> Position:
        index = node.start_mark.index - 1
        while text[index] in " \t\r\n":
            index -= 1
        assert text[index] == "-", (text[index - 10 : index + 10], node)
        line = text.count("\n", 0, index) + 1
        return line, index - (text.rfind("\n", 0, index) + 1) + 1

    root = yaml.compose(text)
    collections = (yaml.MappingNode, yaml.SequenceNode)
    found: dict[str, set[Position]] = {"": {_mark(root)}}
    stack: list[tuple[str, yaml.Node, Position | None]] = [
        ("", root, _mark(root) if root.flow_style else None)
    ]
    while stack:
        pointer, node, holder = stack.pop()
        if isinstance(node, yaml.MappingNode):
            children = [(f"{pointer}/{escape(k.value)}", _mark(k), v) for k, v in node.value]
        elif isinstance(node, yaml.SequenceNode):
            children = [
                (f"{pointer}/{i}", _mark(v) if node.flow_style else dash(v), v)
                for i, v in enumerate(node.value)
            ]
        else:
            continue
        for child, position, value in children:
            found[child] = {position, holder} if holder else {position}
            inner = holder
            if inner is None and isinstance(value, collections) and value.flow_style:
                inner = position
            stack.append((child, value, inner))
    return found


def located(text: str, name: str, pointer: str) -> Position:
    doc = parse_document(name, name, text.encode())
    location = doc.locate(pointer)
    assert location.file == name
    return location.line, location.column


def same_data(text: str) -> bool:
    """Whether PyYAML (YAML 1.1, the oracle) and the engine (YAML 1.2) read the same data:
    PyYAML writes some strings plain that 1.2 reads as numbers (``0E0``)."""
    return parse_document("d.yaml", "d.yaml", text.encode()).data == yaml.safe_load(text)


def mismatches_yaml(text: str, name: str = "doc.yaml") -> list[Any]:
    doc = parse_document(name, name, text.encode())
    wrong = []
    for pointer, allowed in yaml_oracle(text).items():
        location = doc.locate(pointer)
        if (location.line, location.column) not in allowed:
            wrong.append((pointer, sorted(allowed), (location.line, location.column)))
    return wrong


def mismatches_json(text: str, name: str = "doc.json") -> list[Any]:
    doc = parse_document(name, name, text.encode())
    assert doc.data == json.loads(text)
    wrong = []
    for pointer, expected in json_oracle(text).items():
        location = doc.locate(pointer)
        if (location.line, location.column) != expected:
            wrong.append((pointer, expected, (location.line, location.column)))
    return wrong


# -- realistic documents --------------------------------------------------------------------


def test_every_pointer_of_a_realistic_yaml_document() -> None:
    text = (LOCATE / "orders.yaml").read_text(encoding="utf-8")
    assert same_data(text)
    assert len(yaml_oracle(text)) > 120
    assert mismatches_yaml(text) == []


def test_every_pointer_of_a_realistic_json_document() -> None:
    text = (LOCATE / "orders.json").read_text(encoding="utf-8")
    assert len(json_oracle(text)) > 80
    assert mismatches_json(text) == []


def test_the_same_document_reformatted_as_block_yaml_and_indented_json() -> None:
    data = yaml.safe_load((LOCATE / "orders.yaml").read_text(encoding="utf-8"))
    assert mismatches_json(json.dumps(data, indent=2)) == []
    assert mismatches_json(json.dumps(data, indent=4, ensure_ascii=False)) == []
    assert (
        mismatches_yaml(
            yaml.safe_dump(data, default_flow_style=False, allow_unicode=True, sort_keys=False)
        )
        == []
    )


YAML_SPOTS = [
    # (pointer, snippet on the expected line, text the column points at, after)
    ("/paths/~1orders~1{orderId}", "/orders/{orderId}:", "/orders", None),
    ("/paths/~1files~1~0user~1{path}/get", "get:", "get", "/files/~user"),
    ("/paths/~1orders~1{orderId}/get/parameters/1", "- name: X-Request-ID", "-", None),
    ("/paths/~1orders~1{orderId}/get/parameters/1/schema/format", "format: uuid", "format", None),
    ("/paths/~1orders~1{orderId}/get/responses/404", '"404":', '"404"', None),
    ("/paths/~1orders~1{orderId}/get/responses/default", "default:", "default", None),
    (
        "/paths/~1orders~1{orderId}/parameters/0/$ref",
        "$ref: '#/components/parameters",
        "$ref",
        None,
    ),
    ("/info/version", "version: 2.1.0", "version", None),
    ("/info/x-logo/url", "url: https://example.com/logo", "url", None),
    ("/servers/1/url", "url: https://staging", "url", None),  # the key of a `- url:` item
    ("/tags/0/description", "description: >-", "description", None),
    ("/tags/1", "- name: files", "-", None),
    ("/components/schemas/Order/properties/status/enum/2", '- "shipped"', "-", None),
    (
        "/components/schemas/Order/properties/x-rate~0limit~1v1",
        '"x-rate~limit/v1":',
        '"x-rate',
        None,
    ),
    ("/components/schemas/Order/properties/it's", "'it''s':", "'it", None),
    ("/components/schemas/Order/properties/naïve", "naïve:", "naïve", None),
    ("/components/schemas/Order/properties/empty", "empty:", "empty", None),
    ("/components/schemas/Order/properties/matrix/example/0/1", "- 2", "-", None),
    ("/components/schemas/Pet Food", "Pet Food:", "Pet Food", None),
    ("/security/1/oauth/1", "- write", "-", None),
]


@pytest.mark.parametrize(
    ("pointer", "snippet", "column", "after"), YAML_SPOTS, ids=[spot[0] for spot in YAML_SPOTS]
)
def test_yaml_spot_checks(pointer: str, snippet: str, column: str, after: str | None) -> None:
    text = (LOCATE / "orders.yaml").read_text(encoding="utf-8")
    line = line_of(text, snippet, after=after)
    assert located(text, "orders.yaml", pointer) == (line, column_of(text, line, column))


def test_compact_sequence_item_key_is_on_the_item_line() -> None:
    text = (LOCATE / "orders.yaml").read_text(encoding="utf-8")
    line = line_of(text, "- name: expand")
    assert located(text, "o.yaml", "/paths/~1orders~1{orderId}/get/parameters/0") == (line, 9)
    assert located(text, "o.yaml", "/paths/~1orders~1{orderId}/get/parameters/0/name") == (line, 11)
    assert located(text, "o.yaml", "/paths/~1orders~1{orderId}/get/parameters/0/in") == (
        line + 1,
        11,
    )


def test_block_scalar_lines_are_not_members() -> None:
    text = (LOCATE / "orders.yaml").read_text(encoding="utf-8")
    # "note: ..." inside the `description: |` block is text, not a key of info
    assert located(text, "o.yaml", "/info/note") == located(text, "o.yaml", "/info")
    assert located(text, "o.yaml", "/info/x-logo")[0] == line_of(text, "x-logo:")


def test_inside_a_flow_collection_answers_its_holder() -> None:
    text = (LOCATE / "orders.yaml").read_text(encoding="utf-8")
    line = line_of(text, "schema: {type: string, enum: [lines, customer]}")
    holder = (line, column_of(text, line, "schema"))
    base = "/paths/~1orders~1{orderId}/get/parameters/0/schema"
    assert located(text, "o.yaml", base) == holder
    assert located(text, "o.yaml", base + "/type") == holder
    assert located(text, "o.yaml", base + "/enum/1") == holder


def test_missing_pointer_answers_the_nearest_ancestor() -> None:
    text = (LOCATE / "orders.yaml").read_text(encoding="utf-8")
    responses = line_of(text, "responses:")
    assert located(text, "o.yaml", "/paths/~1orders~1{orderId}/get/responses/500")[0] == (responses)
    assert located(text, "o.yaml", "/servers/7") == located(text, "o.yaml", "/servers")
    assert located(text, "o.yaml", "not a pointer") == located(text, "o.yaml", "")
    json_text = (LOCATE / "orders.json").read_text(encoding="utf-8")
    assert located(json_text, "o.json", "/components/schemas/Order/properties/nope")[0] == (
        line_of(json_text, '"properties": {')
    )
    assert located(json_text, "o.json", "/servers/1/url/extra")[0] == line_of(
        json_text, '"url": "https://staging'
    )


JSON_SPOTS = [
    (
        "/paths/~1orders~1{orderId}/get/parameters/1/schema/type",
        '{"name": "X-Request-ID"',
        '"type"',
    ),
    ("/components/schemas/Order/properties/status/enum/2", '"sh\\"ipped"', '"sh'),
    ("/components/schemas/Order/properties/escaped~1key", '"escaped\\u002fkey"', '"escaped'),
    ("/components/schemas/Order/properties/naïve", '"na\\u00efve"', '"na'),
    ("/components/schemas/Order/properties/nested/1/1/1/deep", '"deep"', '"deep"'),
    ("/components/schemas/Order/properties/nothing", '"nothing"', '"nothing"'),
    ("/info/description", '"description": "Orders', '"description"'),
]


@pytest.mark.parametrize(
    ("pointer", "snippet", "column"), JSON_SPOTS, ids=[spot[0] for spot in JSON_SPOTS]
)
def test_json_spot_checks(pointer: str, snippet: str, column: str) -> None:
    text = (LOCATE / "orders.json").read_text(encoding="utf-8")
    line = line_of(text, snippet)
    assert located(text, "orders.json", pointer) == (line, column_of(text, line, column))


def test_duplicate_json_keys_locate_the_one_that_counts() -> None:
    text = '{\n  "a": 1,\n  "b": {"c": 2},\n  "a": {"d": 3}\n}\n'
    assert located(text, "d.json", "/a") == (4, 3)
    assert located(text, "d.json", "/a/d") == (4, 9)


def test_alias_answers_the_alias_key() -> None:
    text = "base: &base\n  type: string\n  maxLength: 3\nother: *base\n"
    assert located(text, "a.yaml", "/other") == (4, 1)
    assert located(text, "a.yaml", "/other/maxLength") == (4, 1)


def test_crlf_and_bom_documents() -> None:
    text = "\ufeffopenapi: 3.0.3\r\ninfo:\r\n  title: t\r\n  version: '1'\r\n"
    assert located(text, "c.yaml", "/info/version") == (4, 3)
    json_text = '\ufeff{\r\n  "a": {\r\n    "b": 1\r\n  }\r\n}\r\n'
    assert located(json_text, "c.json", "/a/b") == (3, 5)


# -- known gaps (each fails until the locator handles it) -----------------------------------


def test_plain_key_with_a_colon() -> None:
    """Custom-method paths (Google AIP-136) are plain YAML keys containing ':'."""
    text = "openapi: 3.0.3\npaths:\n  /v1/orders/{id}:cancel:\n    post:\n      summary: cancel\n"
    assert located(text, "c.yaml", "/paths/~1v1~1orders~1{id}:cancel") == (3, 3)
    assert located(text, "c.yaml", "/paths/~1v1~1orders~1{id}:cancel/post/summary") == (5, 7)


def test_plain_key_with_a_hash() -> None:
    text = "info:\n  title: t\nx-tags:\n  c#: language\n  f#:\n    kind: language\n"
    assert located(text, "h.yaml", "/x-tags/c#") == (4, 3)
    assert located(text, "h.yaml", "/x-tags/f#/kind") == (6, 5)


def test_double_quoted_key_with_a_yaml_escape() -> None:
    data = {"info": {"title": "t"}, "properties": {"café": {"type": "string"}}}
    text = yaml.safe_dump(data, default_flow_style=False)  # writes "caf\xE9"
    assert '"caf\\xE9"' in text
    assert located(text, "e.yaml", "/properties/café") == (4, 3)
    assert located(text, "e.yaml", "/properties/café/type") == (5, 5)


def test_explicit_key() -> None:
    text = "a: 1\n? b\n: c: 2\n"
    assert located(text, "k.yaml", "/b") == (2, 3)


# -- generated documents --------------------------------------------------------------------

PROPERTY = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
BMP = st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",))
# values: anything PyYAML and yaml_rs read alike (PyYAML also breaks lines at NEL/LS/PS)
TEXT = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x85\u2028\u2029"), max_size=20
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**9), 10**9)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)


def documents(keys: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    values = st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=30,
    )
    return st.dictionaries(keys, values, min_size=1, max_size=5)


JSON_KEYS = st.text(BMP, max_size=10)
ASCII_KEYS = st.text(
    st.sampled_from([c for c in string.printable if c not in "\t\n\r\x0b\x0c"]),
    min_size=1,
    max_size=10,
)
NO_LINE_BREAKS = "\n\r\x85\u2028\u2029"
UNICODE_KEYS = st.text(
    st.characters(
        max_codepoint=0xFFFF, exclude_categories=("Cs",), exclude_characters=NO_LINE_BREAKS
    ),
    min_size=1,
    max_size=10,
)
# written raw (allow_unicode): no control or space characters PyYAML would read differently
RAW_UNICODE_KEYS = st.text(
    st.characters(
        max_codepoint=0xFFFF,
        exclude_categories=("Cs", "Cc", "Zl", "Zp", "Zs"),
        exclude_characters="\ufeff",
    )
    | st.just(" "),
    min_size=1,
    max_size=10,
)


@PROPERTY
@given(documents(JSON_KEYS), st.sampled_from(["indent", "one line", "compact"]))
def test_json_locator_matches_the_oracle(data: dict[str, Any], layout: str) -> None:
    if layout == "indent":
        text = json.dumps(data, indent=2)
    elif layout == "one line":
        text = json.dumps(data)
    else:
        text = json.dumps(data, separators=(",", ":"))
    assert mismatches_json(text) == [], text


@PROPERTY
@given(documents(ASCII_KEYS))
def test_block_yaml_locator_matches_the_oracle(data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, default_flow_style=False)
    assume(same_data(text))
    assert mismatches_yaml(text) == [], text


@PROPERTY
@given(documents(UNICODE_KEYS))
def test_block_yaml_with_escaped_keys_matches_the_oracle(data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, default_flow_style=False)  # non-ASCII keys as "\xE9" escapes
    assume(same_data(text))
    assert mismatches_yaml(text) == [], text


@PROPERTY
@given(documents(RAW_UNICODE_KEYS), st.sampled_from([2, 4]))
def test_block_yaml_with_unicode_keys_matches_the_oracle(data: dict[str, Any], indent: int) -> None:
    text = yaml.safe_dump(data, default_flow_style=False, allow_unicode=True, indent=indent)
    assume(same_data(text))
    assert mismatches_yaml(text) == [], text


@PROPERTY
@given(documents(ASCII_KEYS))
def test_flow_leaves_answer_their_holder(data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, default_flow_style=None, width=60)
    assume(same_data(text))
    assert mismatches_yaml(text) == [], text


def test_lines_are_right_in_a_large_document() -> None:
    paths = {
        f"/items{i}/{{id}}": {
            "get": {
                "parameters": [{"name": "id", "in": "path"}],
                "responses": {"200": {"description": f"item {i}"}},
            }
        }
        for i in range(2_000)
    }
    data = {"openapi": "3.0.3", "paths": paths}
    for text, name in (
        (json.dumps(data, indent=2), "big.json"),
        (yaml.safe_dump(data, sort_keys=False), "big.yaml"),
    ):
        doc = parse_document(name, name, text.encode())
        lines = text.splitlines()
        for i in range(0, 2_000, 97):
            location = doc.locate(f"/paths/~1items{i}~1{{id}}/get/responses/200/description")
            assert f"item {i}" in lines[location.line - 1]
