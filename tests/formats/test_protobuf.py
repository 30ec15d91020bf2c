"""The protobuf format: compiling modules, locations, levels and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera_engine import DiffOptions, InputError, diff
from tessera_engine.cli import main

HEADER = 'syntax = "proto3";\npackage shop.v1;\n'
SERVICE = (
    "message Req {\n  string id = 1;\n  string name = 2;\n}\n"
    "message Resp {\n  string id = 1;\n}\n"
    "service Shop {\n  rpc Get(Req) returns (Resp);\n}\n"
)


def _module(root: Path, files: dict[str, str]) -> str:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return str(root)


def test_module_with_imports_and_well_known_types(tmp_path: Path) -> None:
    common = HEADER + 'import "google/protobuf/timestamp.proto";\n'
    common += "message When {\n  google.protobuf.Timestamp at = 1;\n}\n"
    shop = HEADER + 'import "shop/v1/common.proto";\n' + SERVICE
    old = _module(tmp_path / "old", {"shop/v1/common.proto": common, "shop/v1/shop.proto": shop})
    new_shop = shop.replace("  string name = 2;\n", "")
    new = _module(
        tmp_path / "new", {"shop/v1/common.proto": common, "shop/v1/shop.proto": new_shop}
    )
    result = diff(old, new, DiffOptions(format="protobuf"))
    [deleted] = [f for f in result.findings if f.rule == "schema.proto-field.deleted"]
    assert deleted.position.value == "input"
    assert deleted.location is not None and deleted.location.line == 4  # message Req, new file
    assert deleted.location.file.endswith("shop/v1/shop.proto")
    assert deleted.old_location is not None and deleted.old_location.line == 6
    assert result.breaking


def test_level_caps_rules_outside_it(tmp_path: Path) -> None:
    old = _module(tmp_path / "old", {"a.proto": HEADER + SERVICE})
    new = _module(tmp_path / "new", {"a.proto": HEADER + SERVICE.replace("name = 2", "title = 2")})
    assert diff(old, new, DiffOptions(format="protobuf")).breaking
    wire = diff(old, new, DiffOptions(format="protobuf", proto_level="wire"))
    [renamed] = [f for f in wire.findings if f.rule == "schema.proto-field.renamed"]
    assert renamed.severity.value == "safe" and not wire.breaking


def test_detected_without_format_and_single_file(tmp_path: Path) -> None:
    old = _module(tmp_path / "old", {"a.proto": HEADER + SERVICE})
    new = _module(
        tmp_path / "new", {"a.proto": HEADER + SERVICE.replace("Resp);", "stream Resp);")}
    )
    result = diff(f"{old}/a.proto", f"{new}/a.proto")
    assert result.format == "protobuf"
    assert [f.rule for f in result.findings if f.severity.value == "breaking"] == [
        "api.rpc.streaming-changed"
    ]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a.proto": HEADER + "message A {\n  Missing m = 1;\n}\n"}, 'a.proto:4:3: "Missing"'),
        ({"a.proto": HEADER + 'import "nope.proto";\n'}, 'a.proto:3:1: Import "nope.proto"'),
        ({"readme.txt": "no protos"}, "no .proto files in this directory"),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, files: dict[str, str], message: str) -> None:
    good = _module(tmp_path / "good", {"a.proto": HEADER + SERVICE})
    bad = _module(tmp_path / "bad", files)
    with pytest.raises(InputError) as raised:
        diff(good, bad, DiffOptions(format="protobuf"))
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_cli_exit_code_2_for_a_missing_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _module(tmp_path / "good", {"a.proto": HEADER + SERVICE})
    code = main(["diff", good, str(tmp_path / "nothere"), "--format", "protobuf"])
    assert code == 2
    err = capsys.readouterr().err
    assert "file not found" in err and "Traceback" not in err


def test_against_a_git_ref_compiles_the_committed_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--against HEAD``: the old module is read from git (written out for protoc), imports
    between its files included; locations point at the working tree and at the ref."""
    import io
    import json

    import pygit2

    root = tmp_path / "repo"
    common = HEADER + "message Item {\n  string id = 1;\n  repeated string tags = 2;\n}\n"
    shop = HEADER + 'import "shop/v1/common.proto";\n' + SERVICE
    shop = shop.replace("  string name = 2;\n", "  string name = 2;\n  Item item = 3;\n")
    _module(root / "proto", {"shop/v1/common.proto": common, "shop/v1/shop.proto": shop})
    git = pygit2.init_repository(str(root), bare=False)
    git.index.add_all()
    git.index.write()
    signature = pygit2.Signature("Tessera Tests", "tests@example.com", 1_700_000_000, 0)
    git.create_commit("HEAD", signature, signature, "v1", git.index.write_tree(), [])
    # the working tree: Item.tags becomes a single string (a request input, narrowed)
    changed = common.replace("repeated string tags = 2;", "string tags = 2;")
    (root / "proto/shop/v1/common.proto").write_text(changed, encoding="utf-8")
    monkeypatch.chdir(root)
    out = io.StringIO()
    code = main(
        ["diff", "--against", "HEAD", "proto", "--format", "protobuf", "--output", "json"],
        stdout=out,
    )
    assert code == 1
    data = json.loads(out.getvalue())
    [finding] = [f for f in data["findings"] if f["severity"] == "breaking"]
    assert finding["rule"] == "schema.proto-field.repetition-changed"
    assert finding["position"] == "input"
    assert finding["location"]["file"].endswith("proto/shop/v1/common.proto")
    assert finding["location"]["line"] == 5


@pytest.mark.parametrize(
    "name", ["--dependency_out=evil.proto", "sub/--descriptor_set_out=x.proto", "@args.proto"]
)
def test_a_file_name_protoc_would_read_as_an_option_is_refused(tmp_path: Path, name: str) -> None:
    """A stranger's pull request may name a file ``--dependency_out=...``: protoc must never
    see it as an option (it would write files where the name says)."""
    good = _module(tmp_path / "good", {"a.proto": HEADER + SERVICE})
    bad = _module(tmp_path / "bad", {"a.proto": HEADER + SERVICE, name: HEADER})
    with pytest.raises(InputError) as raised:
        diff(good, bad, DiffOptions(format="protobuf"))
    assert "protoc could take for an option" in str(raised.value)
    assert name.rsplit("/", 1)[-1] in str(raised.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad", "good"]  # nothing written
