"""dbt: loading manifests (one-line errors), detection, identity across build targets, the
catalog, the guarantee policy and the CLI end to end. The rules themselves are covered by the
rule cases (``tests/rules/cases/dbt``)."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tessera_engine import DiffOptions, FormatError, InputError, UsageError, diff
from tessera_engine.cli import main
from tessera_engine.documents import FileSource
from tessera_engine.formats.native import detect_native

FIXTURES = Path(__file__).parent / "dbt"
CATALOG_V1 = "https://schemas.getdbt.com/dbt/catalog/v1.json"


def _manifest(schema: str = "analytics", version: int = 12) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "shop" / "manifest.json").read_text())
    data["metadata"]["dbt_schema_version"] = (
        f"https://schemas.getdbt.com/dbt/manifest/v{version}.json"
    )
    for node in (*data["nodes"].values(), *data["sources"].values()):
        if node["resource_type"] == "test":
            continue
        node["schema"] = schema
        node["database"] = f"db_{schema}"
        node["relation_name"] = f'"db_{schema}"."{schema}"."{node["name"]}"'
    return data


def _write(folder: Path, data: Any, name: str = "manifest.json") -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=1))
    return str(path)


def _pair(tmp_path: Path, old: Any, new: Any) -> tuple[str, str]:
    return _write(tmp_path / "old", old), _write(tmp_path / "new", new)


def test_ci_and_production_builds_line_up(tmp_path: Path) -> None:
    """The same project compiled into two schemas and databases gives no findings."""
    old, new = _pair(tmp_path, _manifest("prod"), _manifest("ci_pr_42"))
    result = diff(old, new)
    assert result.format == "dbt"
    assert result.findings == ()


def test_fingerprints_hold_no_target(tmp_path: Path) -> None:
    changed = _manifest("prod")
    del changed["nodes"]["model.shop.orders"]["columns"]["status"]
    ci = copy.deepcopy(changed)
    for node in ci["nodes"].values():
        node["schema"] = "ci"
    a = diff(*_pair(tmp_path / "a", _manifest("prod"), changed))
    b = diff(*_pair(tmp_path / "b", _manifest("ci"), ci))
    assert [f.fingerprint for f in a.findings] == [f.fingerprint for f in b.findings]
    removed = [f for f in a.findings if f.rule == "schema.dbt-column.removed"]
    assert [f.path for f in removed] == ["model.shop.orders → status"]
    assert removed[0].args["model"] == "orders" and removed[0].args["column"] == "status"


def test_findings_are_located_in_the_new_manifest(tmp_path: Path) -> None:
    new_data = _manifest()
    new_data["nodes"]["model.shop.orders"]["columns"]["note"] = {
        "name": "note",
        "data_type": "numeric",
    }
    old, new = _pair(tmp_path, _manifest(), new_data)
    (finding,) = [f for f in diff(old, new).findings if f.rule == "schema.dbt-column.added"]
    assert finding.location is not None
    line = Path(new).read_text().splitlines()[finding.location.line - 1]
    assert '"note"' in line
    assert finding.pointer == "/nodes/model.shop.orders/columns/note"


def test_detection_needs_a_dbt_manifest(tmp_path: Path) -> None:
    source = FileSource()
    manifest = _write(tmp_path / "target", _manifest())
    assert detect_native(source, manifest) == "dbt"
    assert detect_native(source, str(tmp_path / "target")) == "dbt"
    other = _write(tmp_path / "web", {"name": "app", "icons": []})
    assert detect_native(source, other) is None
    renamed = _write(tmp_path / "x", _manifest(), "other.json")
    assert detect_native(source, renamed) is None


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('{"metadata": {},\n "nodes": {}}', "not a dbt manifest", None),
        ('{"metadata": {"dbt_schema_version": 3}}', "not a dbt manifest", None),
        (
            '{"metadata": {\n "dbt_schema_version": '
            '"https://schemas.getdbt.com/dbt/manifest/v13.json"}, "nodes": {}, "sources": {}}',
            "unsupported dbt manifest schema v13",
            2,
        ),
        ('{"metadata": {\n "dbt_schema_version": [}', "invalid JSON", 2),
        ("[1, 2]", "expected a JSON object", 1),
    ],
)
def test_bad_manifests_are_one_line_errors(
    tmp_path: Path, text: str, message: str, line: int | None
) -> None:
    old, new = _pair(tmp_path, _manifest(), text)
    with pytest.raises(InputError) as caught:
        diff(old, new, DiffOptions(format="dbt"))
    assert message in str(caught.value)
    assert caught.value.file is not None and caught.value.file.endswith("manifest.json")
    assert caught.value.line == line
    assert "\n" not in str(caught.value)


def test_bad_meta_tessera_names_its_line(tmp_path: Path) -> None:
    data = _manifest()
    data["nodes"]["model.shop.orders"]["config"]["meta"] = {
        "tessera": {"freshness": {"within": "soon"}}
    }
    old, new = _pair(tmp_path, _manifest(), data)
    with pytest.raises(FormatError) as caught:
        diff(old, new)
    assert "duration like 24h" in str(caught.value)
    assert caught.value.line is not None and caught.value.line > 1


def test_older_schema_versions_are_read_best_effort(tmp_path: Path) -> None:
    old, new = _pair(tmp_path, _manifest(version=7), _manifest(version=12))
    assert diff(old, new).findings == ()


def _catalog(types: dict[str, str], uid: str = "model.shop.orders") -> dict[str, Any]:
    columns = {name.upper(): {"name": name.upper(), "type": t} for name, t in types.items()}
    return {
        "metadata": {"dbt_schema_version": CATALOG_V1},
        "nodes": {uid: {"columns": columns}},
        "sources": {},
    }


def test_catalog_types_fill_undeclared_types(tmp_path: Path) -> None:
    data = _manifest()
    for column in data["nodes"]["model.shop.orders"]["columns"].values():
        column["data_type"] = None
    old, new = _pair(tmp_path, data, data)
    cat_old = _write(tmp_path / "cat", _catalog({"id": "INTEGER", "status": "TEXT"}), "old.json")
    cat_new = _write(tmp_path / "cat", _catalog({"id": "BIGINT", "status": "TEXT"}), "new.json")
    result = diff(old, new, DiffOptions(catalogs=(cat_old, cat_new)))
    (finding,) = [f for f in result.findings if f.rule == "schema.dbt-column.type-changed"]
    assert (finding.args["old"], finding.args["new"]) == ("integer", "bigint")
    assert diff(old, new).findings == ()  # no catalog: types unknown, nothing to compare


def test_catalog_beside_a_manifest_directory_is_read(tmp_path: Path) -> None:
    data = _manifest()
    for column in data["nodes"]["model.shop.orders"]["columns"].values():
        column["data_type"] = None
    _write(tmp_path / "old", data)
    _write(tmp_path / "new", data)
    _write(tmp_path / "old", _catalog({"id": "INTEGER"}), "catalog.json")
    _write(tmp_path / "new", _catalog({"id": "TEXT"}), "catalog.json")
    result = diff(str(tmp_path / "old"), str(tmp_path / "new"))
    assert [f.rule for f in result.findings] == ["schema.dbt-column.type-changed"]


def test_a_catalog_of_another_project_is_refused(tmp_path: Path) -> None:
    old, new = _pair(tmp_path, _manifest(), _manifest())
    other = _write(tmp_path / "cat", _catalog({"id": "INTEGER"}, "model.other.x"), "c.json")
    with pytest.raises(FormatError, match="does not match"):
        diff(old, new, DiffOptions(catalogs=(other, other)))
    not_catalog = _write(tmp_path / "cat", {"metadata": {}}, "d.json")
    with pytest.raises(FormatError, match="not a dbt catalog"):
        diff(old, new, DiffOptions(catalogs=(not_catalog, not_catalog)))
    with pytest.raises(UsageError, match="one --catalog per version"):
        diff(old, new, DiffOptions(catalogs=(other,)))


def _dropped_not_null(tmp_path: Path) -> tuple[str, str]:
    data = _manifest()
    del data["nodes"]["test.shop.not_null_orders_id"]
    return _pair(tmp_path, _manifest(), data)


@pytest.mark.parametrize(
    ("policy", "severities", "exit_code"),
    [("strict", ["breaking"], 1), ("notify", ["dangerous"], 0), ("ignore", [], 0)],
)
def test_guarantee_policy_on_the_command_line(
    tmp_path: Path, policy: str, severities: list[str], exit_code: int
) -> None:
    old, new = _dropped_not_null(tmp_path)
    out = io.StringIO()
    code = main(["diff", old, new, "--guarantees", policy, "-o", "json"], stdout=out)
    assert code == exit_code
    findings = json.loads(out.getvalue())["findings"]
    assert [f["severity"] for f in findings] == severities


def test_cli_bad_input_exits_2_with_one_line(tmp_path: Path) -> None:
    old, new = _pair(tmp_path, _manifest(), '{"metadata": {"dbt_schema_version": "x"}}')
    err = io.StringIO()
    assert main(["diff", old, new, "--format", "dbt"], stdout=io.StringIO(), stderr=err) == 2
    assert err.getvalue().count("\n") == 1 and "manifest.json" in err.getvalue()


def test_cli_catalog_option(tmp_path: Path) -> None:
    old, new = _pair(tmp_path, _manifest(), _manifest())
    cat = _write(tmp_path / "cat", _catalog({"id": "INTEGER", "note": "TEXT"}), "c.json")
    out = io.StringIO()
    code = main(["diff", old, new, "--catalog", cat, "--catalog", cat], stdout=out)
    assert code == 0, out.getvalue()
