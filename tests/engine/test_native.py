"""The native-format plumbing (``formats/native.py``): changes become findings the way the JSON
framework makes them (severity by rule, effect, position and mode; caps; merged positions;
stable fingerprints), and the engine's protobuf-level and format checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tessera_engine import DiffOptions, Effect, Location, Mode, Position, Severity, UsageError
from tessera_engine import diff as run_diff
from tessera_engine.catalog import load_catalog
from tessera_engine.documents import FileSource
from tessera_engine.formats.native import (
    NATIVE_FORMATS,
    NATIVE_NAMES,
    Change,
    classify,
    detect_native,
    native_format,
)

CATALOG = load_catalog()
HERE = Location("new.txt", 3, 5)


def change(**overrides: object) -> Change:
    values: dict[str, object] = {
        "rule": "schema.enum.value-removed",
        "position": Position.INPUT,
        "path": "E.B",
        "key": "E",
        "location": HERE,
        "args": {"value": "B"},
    }
    values.update(overrides)
    return Change(**values)  # type: ignore[arg-type]


def test_severity_follows_rule_effect_position_and_mode() -> None:
    (on_input,) = classify([change()], CATALOG, Mode.AUTO)
    (on_output,) = classify([change(position=Position.OUTPUT)], CATALOG, Mode.AUTO)
    (forward,) = classify([change()], CATALOG, Mode.FORWARD)
    assert on_input.severity is Severity.BREAKING
    assert on_output.severity < Severity.BREAKING
    assert forward.severity == on_output.severity  # forward judges everything as an output
    assert on_input.message and "B" in on_input.message
    assert on_input.location == HERE


def test_cap_limits_the_severity() -> None:
    (capped,) = classify([change(cap=Severity.SAFE)], CATALOG, Mode.AUTO)
    assert capped.severity is Severity.SAFE


def test_dangerous_caps_breaking_at_dangerous() -> None:
    (undecided,) = classify([change(dangerous=True)], CATALOG, Mode.AUTO)
    assert undecided.severity is Severity.DANGEROUS


def test_the_same_change_twice_merges_into_both_positions() -> None:
    findings = classify(
        [change(), change(position=Position.OUTPUT, operations=("Query.x",))], CATALOG, Mode.AUTO
    )
    assert len(findings) == 1
    assert findings[0].position is Position.BOTH
    assert findings[0].severity is Severity.BREAKING
    assert findings[0].operations == ("Query.x",)


def test_fingerprint_ignores_locations_but_not_keys() -> None:
    (a,) = classify([change()], CATALOG, Mode.AUTO)
    (moved,) = classify([change(location=Location("new.txt", 90, 1))], CATALOG, Mode.AUTO)
    (other,) = classify([change(key="F")], CATALOG, Mode.AUTO)
    assert a.fingerprint == moved.fingerprint
    assert a.fingerprint != other.fingerprint


def test_a_conditional_rule_needs_an_effect() -> None:
    conditional = next(rule for rule in CATALOG if rule.effect is None)
    with pytest.raises(ValueError, match="conditional"):
        classify([change(rule=conditional.id)], CATALOG, Mode.AUTO)
    (chosen,) = classify(
        [change(rule=conditional.id, effect=conditional.effects[0])], CATALOG, Mode.AUTO
    )
    assert chosen.effect is conditional.effects[0]
    assert isinstance(chosen.effect, Effect)


def test_unknown_protobuf_level_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="protobuf level"):
        run_diff("old.proto", "new.proto", DiffOptions(format="protobuf", proto_level="bytes"))


@pytest.mark.parametrize("name", NATIVE_NAMES)
def test_format_table_matches_the_classes(name: str) -> None:
    fmt = native_format(name)
    assert fmt.name == name
    assert fmt.suffixes == NATIVE_FORMATS[name][2]


@pytest.mark.parametrize(
    ("files", "path", "expected"),
    [
        ({"s.graphql": "type Query { a: Int }"}, "s.graphql", "graphql"),
        ({"s.GQL": "type Query { a: Int }"}, "s.GQL", "graphql"),
        ({"i.json": '{"data": {"__schema": {}}}'}, "i.json", "graphql"),
        ({"o.json": '{"openapi": "3.0.3"}'}, "o.json", None),
        ({"a.avsc": '"int"'}, "a.avsc", "avro"),
        ({"m/x.proto": 'syntax = "proto3";'}, "m", "protobuf"),
        ({"m/a/b.avsc": '"int"'}, "m", "avro"),
        ({"o.yaml": "openapi: 3.0.3"}, "o.yaml", None),
        ({"empty/readme.txt": ""}, "empty", None),
    ],
)
def test_detection_by_path(
    tmp_path: Path, files: dict[str, str], path: str, expected: str | None
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert detect_native(FileSource(), str(tmp_path / path)) == expected


def test_recognising_a_path_imports_no_format() -> None:
    code = (
        "import sys; from tessera_engine.formats.native import detect_native; "
        "from tessera_engine.documents import FileSource; detect_native(FileSource(), 'x.yaml'); "
        "print(sorted(m for m in sys.modules if m.startswith('tessera_engine.formats.') "
        "and m.split('.')[-1].split('_')[0] in ('graphql', 'protobuf', 'avro')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_catalog_is_refused_for_other_formats(tmp_path: Path) -> None:
    for name in ("a.graphql", "b.graphql"):
        (tmp_path / name).write_text("type Query { a: Int }\n", encoding="utf-8")
    with pytest.raises(UsageError, match="dbt"):
        run_diff(
            str(tmp_path / "a.graphql"),
            str(tmp_path / "b.graphql"),
            DiffOptions(catalogs=("c1.json", "c2.json")),
        )
