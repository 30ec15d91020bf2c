"""Published versions: read, write, validate, "what is active", and a diff against one."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType

import pytest

from tessera_engine import diff
from tessera_engine.engine import DiffOptions
from tessera_engine.errors import InputError
from tessera_engine.registry.model import PrereleasePolicy, PublishedVersion
from tessera_engine.registry.validate import validate
from tessera_engine.registry.versions import (
    VersionSource,
    active,
    active_version,
    dumps,
    list_versions,
    read_version,
    version_path,
    write_version,
)

from .registry_helpers import TEMPLATE, registry

PUBLISHED = TEMPLATE / "contracts/orders-api/versions/2.1.0.json"


def _version(version: str, files: dict[str, str] | None = None) -> PublishedVersion:
    return PublishedVersion(
        contract="orders-api",
        version=version,
        format="openapi",
        repo="acme/orders-service",
        paths=("api/openapi.yaml",),
        commit="0123456789abcdef0123456789abcdef01234567",
        published_at="2025-06-01T00:00:00Z",
        files=MappingProxyType(files or {"api/openapi.yaml": "openapi: 3.0.3\n"}),
    )


def test_write_then_read_round_trips_deterministically(tmp_path: Path) -> None:
    published = _version("1.2.0")
    path = write_version(tmp_path, published)
    assert path == version_path(tmp_path, "orders-api", "1.2.0")
    assert read_version(path) == published
    assert path.read_text(encoding="utf-8") == dumps(published) == dumps(read_version(path))


def test_active_follows_precedence_and_the_prerelease_policy(tmp_path: Path) -> None:
    for version in ("1.0.0", "1.10.0", "1.9.0", "2.0.0-rc.1"):
        write_version(tmp_path, _version(version))
    listed = [p.version for p in list_versions(tmp_path, "orders-api")]
    assert listed == ["1.0.0", "1.9.0", "1.10.0", "2.0.0-rc.1"]
    allowed = PrereleasePolicy(allowed=True)
    refused = PrereleasePolicy(allowed=False)
    assert active_version(tmp_path, "orders-api", allowed).version == "2.0.0-rc.1"  # type: ignore[union-attr]
    assert active_version(tmp_path, "orders-api", refused).version == "1.10.0"  # type: ignore[union-attr]
    only_rc = [_version("1.0.0-beta.1"), _version("1.0.0-beta.2")]
    assert active(only_rc, refused).version == "1.0.0-beta.2"  # type: ignore[union-attr]
    assert active([], allowed) is None


def test_a_bad_version_file_is_reported_at_its_key(tmp_path: Path) -> None:
    text = PUBLISHED.read_text(encoding="utf-8").replace('"version": "2.1.0"', '"version": "2.2.0"')
    text = text.replace('"published_at": "2025-05-12T09:30:00Z"', '"published_at": "yesterday"')
    root = registry(tmp_path, {"contracts/orders-api/versions/2.1.0.json": text})
    assert [str(p).removeprefix(f"{root}/") for p in validate(root).problems] == [
        "contracts/orders-api/versions/2.1.0.json:12:3: published_at: 'yesterday' is not an "
        "ISO 8601 date and time with its offset, e.g. 2025-05-12T09:30:00Z",
    ]
    with pytest.raises(InputError, match="published_at"):
        read_version(root / "contracts/orders-api/versions/2.1.0.json")
    fixed = text.replace('"yesterday"', '"2025-05-12T09:30:00Z"')
    (root / "contracts/orders-api/versions/2.1.0.json").write_text(fixed, encoding="utf-8")
    assert [p.message for p in validate(root).problems] == [
        "version '2.2.0' in a file named 2.1.0.json"
    ]


def test_versions_of_an_unknown_contract_are_reported(tmp_path: Path) -> None:
    root = registry(tmp_path)
    write_version(root, dataclasses.replace(_version("1.0.0"), contract="ghost"))
    assert [p.message for p in validate(root).problems] == [
        "published versions of an unknown contract 'ghost': no contracts/ghost.yaml"
    ]


def test_a_new_source_diffs_against_the_active_version(tmp_path: Path) -> None:
    published = active_version(TEMPLATE, "orders-api", PrereleasePolicy())
    assert published is not None and published.version == "2.1.0"
    old = VersionSource(published)
    assert old.root == "api/openapi.yaml"
    new_text = (
        published.files["api/openapi.yaml"]
        .replace(
            "enum: [placed, paid, shipped, cancelled]",
            "enum: [placed, paid, shipped, cancelled, lost]",
        )
        .replace("      required: [id, status, total]\n", "      required: [id, status]\n")
    )
    new = tmp_path / "openapi.yaml"
    new.write_text(new_text, encoding="utf-8")
    result = diff(old.root, str(new), DiffOptions(format="openapi"), old_source=old)
    assert result.verdict == "breaking"
    rules = {finding.rule for finding in result.findings}
    assert any("required" in rule for rule in rules), rules
    assert any("enum" in rule for rule in rules), rules
    same = diff(old.root, old.root, DiffOptions(format="openapi"), source=old, old_source=old)
    assert not same.findings


def test_a_multi_file_version_is_a_directory_source() -> None:
    files = {"proto/a/v1/a.proto": "x", "proto/a/v1/b.proto": "y", "proto/a/README": "z"}
    source = VersionSource(_version("1.0.0", files))
    assert source.root == "proto/a"
    assert source.files("proto/a", (".proto",)) == ["proto/a/v1/a.proto", "proto/a/v1/b.proto"]
    assert source.files("proto/a/v1/a.proto", (".proto",)) is None
    assert source.read("proto/a/./v1/a.proto") == b"x"
    assert source.size("proto/a/v1/b.proto") == 1
    assert source.display("proto/a/v1/a.proto") == "orders-api@1.0.0:proto/a/v1/a.proto"
    with pytest.raises(FileNotFoundError):
        source.read("nope.proto")


@pytest.mark.parametrize(
    "name",
    ["../../outside.proto", "/etc/passwd", "x/--dependency_out=/tmp/evil.proto", "./a.proto"],
)
def test_a_version_file_name_that_leaves_its_place_is_refused(tmp_path: Path, name: str) -> None:
    """The names in a version file become files written for protoc and the engine: a path
    outside, or one protoc would take for an option, is a problem at the version file."""
    import json

    data = json.loads(PUBLISHED.read_text())
    data["files"] = {name: "x"}
    target = tmp_path / "contracts/orders-api/versions/2.1.0.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(data))
    with pytest.raises(InputError) as raised:
        read_version(target)
    assert "2.1.0.json" in str(raised.value) and "files" in str(raised.value)
