"""Avro: loading and validating ``.avsc`` files (one-line errors with file:line), detection,
directories, and the modes end to end. The rules themselves are covered by the rule cases
(``tests/rules/cases/avro``)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tessera_engine import DiffOptions, FormatError, InputError, Mode, diff
from tessera_engine.cli import main

USER = {"type": "record", "name": "User", "fields": [{"name": "id", "type": "long"}]}


def _write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def _error(tmp_path: Path, text: str) -> InputError:
    old = _write(tmp_path, "old.avsc", json.dumps(USER))
    new = _write(tmp_path, "new.avsc", text)
    with pytest.raises(InputError) as caught:
        diff(old, new)
    return caught.value


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            '{"type": "record", "name": "U",\n "fields": [\n  {"name": "a", "type": "strin"}]}',
            3,
            "unknown type 'strin'",
        ),
        ('{"type": "record", "name": "U"}', 1, 'needs "fields"'),
        (
            '{"type": "record", "name": "U", "fields": [\n {"name": "a", "type": "int"},\n'
            ' {"name": "a", "type": "int"}]}',
            3,
            "duplicate field name 'a'",
        ),
        ('{"type": "enum", "name": "E",\n "symbols": ["A", "A"]}', 2, "duplicate enum symbol"),
        ('{"type": "record", "name": "9lives", "fields": []}', 1, "invalid name '9lives'"),
        (
            '{"type": "record", "name": "U", "fields": [\n {"name": "a", "type": "int",\n'
            '  "default": "x"}]}',
            3,
            "invalid default of field 'a'",
        ),
        (
            '{"type": "record", "name": "U", "fields": [\n {"name": "a",\n'
            ' "type": ["string", "null"], "default": null}]}',
            3,
            "first branch, string",
        ),
        (
            '[{"type": "array", "items": "int"},\n {"type": "array", "items": "long"}]',
            2,
            "the union holds the type 'array' twice",
        ),
        ('["null",\n ["int"]]', 2, "cannot directly contain another union"),
        (
            '{"type": "enum", "name": "E", "symbols": ["A"],\n "default": "B"}',
            2,
            "not one of its symbols",
        ),
        ('{"type": "fixed", "name": "F",\n "size": -1}', 2, "non-negative integer"),
        (
            '{"type": "record", "name": "U", "fields": [\n  {"name": "a", "type": "int"},\n]}',
            3,
            "invalid JSON",
        ),
    ],
)
def test_bad_input_is_one_line_with_its_position(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    err = _error(tmp_path, text)
    assert err.line == line, str(err)
    assert message in str(err)
    assert str(err).startswith(str(tmp_path / "new.avsc")) or "new.avsc" in str(err)
    assert "\n" not in str(err)


def test_cli_exits_2_on_bad_schema(tmp_path: Path) -> None:
    old = _write(tmp_path, "old.avsc", json.dumps(USER))
    new = _write(tmp_path, "new.avsc", '{"type": "record", "name": "U", "fields": [{"name": 1}]}')
    err = io.StringIO()
    assert main(["diff", old, new], stdout=io.StringIO(), stderr=err) == 2
    assert "new.avsc:1:" in err.getvalue()
    assert "Traceback" not in err.getvalue()


def test_avsc_files_are_recognised_and_default_to_backward(tmp_path: Path) -> None:
    old = _write(tmp_path, "old.avsc", json.dumps(USER))
    grown = {**USER, "fields": [*USER["fields"], {"name": "email", "type": "string"}]}
    new = _write(tmp_path, "new.avsc", json.dumps(grown, indent=1))
    result = diff(old, new)
    assert (result.format, result.mode, result.policy) == ("avro", "backward", "strict")
    assert result.breaking
    forward = diff(old, new, DiffOptions(mode=Mode.FORWARD))
    assert not forward.breaking


def test_a_named_type_referenced_twice_is_reported_once(tmp_path: Path) -> None:
    def schema(symbols: list[str]) -> str:
        enum = {"type": "enum", "name": "Kind", "symbols": symbols}
        fields = [{"name": "a", "type": enum}, {"name": "b", "type": "Kind"}]
        return json.dumps({"type": "record", "name": "R", "fields": fields})

    old = _write(tmp_path, "old.avsc", schema(["A", "B"]))
    new = _write(tmp_path, "new.avsc", schema(["A"]))
    found = [f for f in diff(old, new).findings if f.rule == "schema.avro-enum.symbol-removed"]
    assert [(f.path, f.args["symbol"]) for f in found] == [("Kind", "B")]


def test_recursive_records_terminate(tmp_path: Path) -> None:
    def node(value: str) -> str:
        fields = [
            {"name": "value", "type": value},
            {"name": "next", "type": ["null", "Node"], "default": None},
        ]
        return json.dumps({"type": "record", "name": "Node", "fields": fields})

    result = diff(_write(tmp_path, "a.avsc", node("int")), _write(tmp_path, "b.avsc", node("long")))
    assert [f.rule for f in result.findings] == ["schema.avro-type.promoted"]


def test_transitive_modes_check_every_older_version(tmp_path: Path) -> None:
    v1 = _write(tmp_path, "v1.avsc", json.dumps(USER))
    with_nick = [*USER["fields"], {"name": "nick", "type": "string", "default": ""}]
    v2 = _write(tmp_path, "v2.avsc", json.dumps({**USER, "fields": with_nick}))
    no_default = [*USER["fields"], {"name": "nick", "type": "string"}]
    v3 = _write(tmp_path, "v3.avsc", json.dumps({**USER, "fields": no_default}))
    assert not diff([v1, v2], v3, DiffOptions(mode=Mode.BACKWARD)).breaking
    transitive = diff([v1, v2], v3, DiffOptions(mode=Mode.BACKWARD_TRANSITIVE))
    assert transitive.breaking
    assert {f.against for f in transitive.findings if f.severity.value == "breaking"} == {v1}


def test_directory_files_refer_to_each_other_in_any_order(tmp_path: Path) -> None:
    order = {"type": "record", "name": "Order", "fields": [{"name": "by", "type": "com.x.User"}]}
    user = {**USER, "namespace": "com.x"}
    for side in ("old", "new"):
        _write(tmp_path, f"{side}/a_order.avsc", json.dumps(order))
    _write(tmp_path, "old/b_user.avsc", json.dumps(user))
    changed = {**user, "fields": [{"name": "id", "type": "int"}]}
    _write(tmp_path, "new/b_user.avsc", json.dumps(changed))
    result = diff(str(tmp_path / "old"), str(tmp_path / "new"), DiffOptions(format="avro"))
    assert [(f.rule, f.path) for f in result.findings] == [
        ("schema.avro-type.promoted", "com.x.User.id")
    ]


def test_directory_with_a_cycle_of_missing_types_is_bad_input(tmp_path: Path) -> None:
    broken = {"type": "record", "name": "A", "fields": [{"name": "b", "type": "Missing"}]}
    for side in ("old", "new"):
        _write(tmp_path, f"{side}/a.avsc", json.dumps(broken))
    with pytest.raises(FormatError, match="unknown type 'Missing'"):
        diff(str(tmp_path / "old"), str(tmp_path / "new"), DiffOptions(format="avro"))


def _nested(levels: int, leaf: str) -> str:
    return '{"type": "array", "items": ' * levels + f'"{leaf}"' + "}" * levels


def test_deeply_nested_schemas_are_compared(tmp_path: Path) -> None:
    old = _write(tmp_path, "old.avsc", _nested(990, "int"))
    new = _write(tmp_path, "new.avsc", _nested(990, "long"))
    assert [f.rule for f in diff(old, new).findings] == ["schema.avro-type.promoted"]


def test_too_deeply_nested_schema_is_refused_in_one_line(tmp_path: Path) -> None:
    err = _error(tmp_path, _nested(1200, "int"))
    assert "nested more than" in str(err)
    assert "\n" not in str(err)
