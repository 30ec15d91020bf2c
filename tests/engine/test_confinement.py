"""Every file the engine reads is under the spec's root (issue 12): ``$ref``s, directory
walks (protobuf, GraphQL, Avro, registries), ``--against`` git trees and published versions.

Each hostile case is run on real files in ``tmp_path`` with a secret outside the root: it is
refused (exit 2, one line naming the file and, for a ``$ref``, its line), the secret never
shows, and a tracer (strace, else Python's audit hooks) sees that nothing outside the root
was even opened.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType

import pygit2
import pytest

from tessera_engine import diff
from tessera_engine.action.declarations import overlay
from tessera_engine.documents import FileSource, OutsideRoot
from tessera_engine.errors import LoadError, RefError
from tessera_engine.registry.model import PublishedVersion
from tessera_engine.registry.versions import VersionSource
from tests.registry.registry_helpers import registry

from .helpers import assert_one_line_error, cli, spawn, write
from .test_against import commit

SECRET = "secret_outside_the_root"
BACKSTOP = 60.0  # seconds: only for a run that would hang; never what a test asserts

BASE = """\
openapi: 3.0.3
info: {title: Orders, version: 1.0.0}
paths: {}
"""


def _spec(ref: str) -> str:
    return f"""\
openapi: 3.0.3
info: {{title: Orders, version: 1.0.0}}
paths:
  /orders:
    get:
      responses:
        '200':
          description: an order
          content:
            application/json:
              schema:
                $ref: '{ref}'
"""


REF_LINE = 12
SCHEMA = f"""\
components:
  schemas:
    Order:
      type: object
      properties:
        {SECRET}: {{type: string}}
"""


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``spec/`` (the root: base.yaml, and new.yaml written by each test) beside
    ``outside/secret.yaml``; the working directory is ``tmp_path``."""
    write(tmp_path / "spec" / "base.yaml", BASE)
    write(tmp_path / "outside" / "secret.yaml", SCHEMA)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _refused(run_err: str, out: str, file: str, line: int | None = None) -> str:
    message = assert_one_line_error(run_err, file, line)
    assert SECRET not in message + out
    return message


# -- $ref ---------------------------------------------------------------------------------

OUTSIDE_REFS = {
    "absolute": "{tmp}/outside/secret.yaml#/components/schemas/Order",
    "etc-passwd": "/etc/passwd",
    "dot-dot": "../outside/secret.yaml#/components/schemas/Order",
    "deep-dot-dot": "../../../../../../../../etc/passwd",
    "percent-encoded": "%2e%2e/outside/secret.yaml#/components/schemas/Order",
    "encoded-slash": "%2Fetc%2Fpasswd",
    "network-path": "//etc/passwd",
    "proc-environ": "/proc/self/environ",
    "dev-zero": "/dev/zero",
    "dev-urandom": "/dev/urandom",
    "file-link": "link.yaml#/components/schemas/Order",
    "folder-link": "folder/secret.yaml#/components/schemas/Order",
    "link-chain": "chain.yaml#/components/schemas/Order",
}


@pytest.mark.parametrize("name", sorted(OUTSIDE_REFS))
def test_a_ref_outside_the_root_is_refused_at_the_ref(layout: Path, name: str) -> None:
    (layout / "spec" / "link.yaml").symlink_to("../outside/secret.yaml")
    (layout / "spec" / "folder").symlink_to("../outside", target_is_directory=True)
    (layout / "spec" / "chain.yaml").symlink_to("link.yaml")
    ref = OUTSIDE_REFS[name].format(tmp=layout)
    write(layout / "spec" / "new.yaml", _spec(ref))
    run = cli("diff", "spec/base.yaml", "spec/new.yaml")
    assert run.code == 2
    message = _refused(run.err, run.out, "spec/new.yaml", REF_LINE)
    assert f"$ref '{ref}' is outside the spec's root spec/" in message
    assert "--root DIR" in message


def test_the_ref_error_is_a_ref_error(layout: Path) -> None:
    write(layout / "spec" / "new.yaml", _spec("../outside/secret.yaml"))
    with pytest.raises(RefError) as caught:
        diff("spec/base.yaml", "spec/new.yaml")
    assert (caught.value.file, caught.value.line) == ("spec/new.yaml", REF_LINE)


def test_a_link_inside_the_root_to_a_file_inside_is_followed(layout: Path) -> None:
    write(layout / "spec" / "schemas" / "order.yaml", SCHEMA)
    (layout / "spec" / "order.yaml").symlink_to("schemas/order.yaml")
    (layout / "spec" / "alias").symlink_to("schemas", target_is_directory=True)
    for ref in ("order.yaml", "alias/order.yaml"):
        write(layout / "spec" / "new.yaml", _spec(f"{ref}#/components/schemas/Order"))
        run = cli("diff", "spec/base.yaml", "spec/new.yaml", "--output", "json")
        assert run.code == 0, run.err


def test_root_widens_what_a_ref_may_reach_and_only_the_caller_sets_it(layout: Path) -> None:
    write(layout / "spec" / "new.yaml", _spec("../outside/secret.yaml#/components/schemas/Order"))
    assert cli("diff", "spec/base.yaml", "spec/new.yaml").code == 2
    run = cli("diff", "spec/base.yaml", "spec/new.yaml", "--root", ".", "--output", "json")
    assert run.code == 0, run.err
    # still confined: the wider root holds ../outside, not the rest of the disk
    write(layout / "spec" / "new.yaml", _spec("/etc/passwd"))
    run = cli("diff", "spec/base.yaml", "spec/new.yaml", "--root", ".")
    assert run.code == 2 and "outside the spec's root ./" in run.err
    run = cli("diff", "spec/base.yaml", "spec/new.yaml", "--root", "nowhere")
    assert run.code == 2 and "--root nowhere: not a directory" in run.err


def test_the_spec_itself_through_a_link_out_of_its_folder_is_refused(layout: Path) -> None:
    (layout / "spec" / "new.yaml").symlink_to("../outside/secret.yaml")
    run = cli("diff", "spec/base.yaml", "spec/new.yaml")
    assert run.code == 2
    message = _refused(run.err, run.out, "spec/new.yaml")
    assert "leads outside the root spec/ through a symbolic link" in message


def test_dev_zero_is_refused_without_reading_it(layout: Path) -> None:
    write(layout / "spec" / "new.yaml", _spec("/dev/zero"))
    run = spawn("diff", "spec/base.yaml", "spec/new.yaml", cwd=layout, timeout=BACKSTOP)
    assert run.code == 2
    assert "is outside the spec's root" in run.err
    assert run.max_rss_mb < 200  # it was 4.7 GB: the device was read until memory ran out


def test_a_device_or_a_folder_is_never_read_even_inside_the_root() -> None:
    devices = FileSource("/dev")
    with pytest.raises(LoadError, match="is a character device, not a regular file"):
        devices.read("/dev/zero")
    assert devices.size("/dev/zero") is None
    with pytest.raises(IsADirectoryError):
        FileSource("/").read("/")


def test_a_fifo_is_refused_without_blocking(layout: Path) -> None:
    os.mkfifo(layout / "spec" / "pipe.yaml")  # no writer: a blocking open would never return
    write(layout / "spec" / "new.yaml", _spec("pipe.yaml"))
    run = spawn("diff", "spec/base.yaml", "spec/new.yaml", cwd=layout, timeout=BACKSTOP)
    assert run.code == 2
    assert_one_line_error(run.err, "spec/new.yaml", REF_LINE)
    assert "spec/pipe.yaml: is a FIFO (named pipe), not a regular file" in run.err
    run = spawn("diff", "spec/base.yaml", "spec/pipe.yaml", cwd=layout, timeout=BACKSTOP)
    assert run.code == 2
    assert "spec/pipe.yaml: is a FIFO (named pipe), not a regular file" in run.err


def test_reads_stop_at_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = write(tmp_path / "big.yaml", "x" * 10_000)
    monkeypatch.setenv("TESSERA_MAX_FILE_BYTES", "100")
    assert len(FileSource(tmp_path).read(str(big))) == 101  # the limit and one byte, no more
    run = cli("diff", big, big)
    assert run.code == 2 and "over the 100 bytes limit" in run.err


# -- directory inputs ---------------------------------------------------------------------

PROTO = 'syntax = "proto3";\npackage shop;\nmessage Order {{ string id = 1; {extra}}}\n'
LEAK = f'syntax = "proto3";\npackage leak;\nmessage Leak {{ string {SECRET} = 1; }}\n'


def _importing(name: str, fields: str) -> str:
    return f'syntax = "proto3";\npackage shop;\nimport "{name}";\nmessage Order {{ {fields} }}\n'


def _module(tmp_path: Path) -> tuple[Path, Path]:
    for version in ("old", "new"):
        write(tmp_path / version / "order.proto", PROTO.format(extra=""))
    write(tmp_path / "outside" / "leak.proto", LEAK)
    return tmp_path / "old", tmp_path / "new"


def test_protobuf_directory_with_a_link_out_is_refused(tmp_path: Path) -> None:
    old, new = _module(tmp_path)
    (new / "leak.proto").symlink_to(tmp_path / "outside" / "leak.proto")
    run = cli("diff", old, new)
    assert run.code == 2  # protoc compiled the outside file, and the diff exited 0
    message = _refused(run.err, run.out, str(new / "leak.proto"))
    assert "through a symbolic link" in message


def test_protobuf_directory_with_a_folder_link_out_is_refused(tmp_path: Path) -> None:
    old, new = _module(tmp_path)
    (new / "vendor").symlink_to(tmp_path / "outside", target_is_directory=True)
    run = cli("diff", old, new)
    assert run.code == 2
    _refused(run.err, run.out, str(new / "vendor"))


def test_protobuf_import_through_a_link_out_is_refused(tmp_path: Path) -> None:
    old, new = _module(tmp_path)
    (new / "dep.proto").symlink_to(tmp_path / "outside" / "leak.proto")
    write(new / "order.proto", _importing("dep.proto", "leak.Leak x = 1;"))
    run = cli("diff", old / "order.proto", new / "order.proto")
    assert run.code == 2
    _refused(run.err, run.out, str(new / "dep.proto"))


def test_protobuf_imports_up_or_absolute_reach_nothing(tmp_path: Path) -> None:
    old, new = _module(tmp_path)
    for target in ("../outside/leak.proto", str(tmp_path / "outside" / "leak.proto")):
        write(new / "order.proto", _importing(target, "leak.Leak x = 1;"))
        for given in (new, new / "order.proto"):
            run = cli("diff", old if given == new else old / "order.proto", given)
            assert run.code == 2
            assert SECRET not in run.err + run.out


def test_protobuf_links_inside_the_module_are_followed(tmp_path: Path) -> None:
    old, new = _module(tmp_path)
    write(new / "real" / "common.proto", 'syntax = "proto3";\npackage common;\nmessage C {}\n')
    (new / "common.proto").symlink_to("real/common.proto")
    write(new / "order.proto", _importing("common.proto", "string id = 1; common.C c = 2;"))
    run = cli("diff", old / "order.proto", new / "order.proto", "--output", "json")
    assert run.code in (0, 1), run.err
    assert any(f["path"].endswith(".c") for f in run.data["findings"])


AVRO_LEAK = {"type": "record", "name": "Leak", "fields": [{"name": SECRET, "type": "string"}]}
DIRECTORY_FORMATS = {
    "graphql": ("type Query { a: String }\n", f"type Leak {{ {SECRET}: String }}\n"),
    "avsc": ('{"type": "record", "name": "R", "fields": []}', json.dumps(AVRO_LEAK)),
}


@pytest.mark.parametrize("suffix", sorted(DIRECTORY_FORMATS))
@pytest.mark.parametrize("link", ["file", "folder"])
def test_graphql_and_avro_directories_refuse_links_out(
    tmp_path: Path, suffix: str, link: str
) -> None:
    own, leak = DIRECTORY_FORMATS[suffix]
    for version in ("old", "new"):
        write(tmp_path / version / f"schema.{suffix}", own)
    write(tmp_path / "outside" / f"leak.{suffix}", leak)
    new = tmp_path / "new"
    if link == "file":
        linked = new / f"leak.{suffix}"
        linked.symlink_to(tmp_path / "outside" / f"leak.{suffix}")
    else:
        linked = new / "more"
        linked.symlink_to(tmp_path / "outside", target_is_directory=True)
    run = cli("diff", tmp_path / "old", new)
    assert run.code == 2
    message = _refused(run.err, run.out, str(linked))
    assert "through a symbolic link" in message


def test_a_registry_refuses_links_out_and_names_them(tmp_path: Path) -> None:
    root = registry(tmp_path)
    write(tmp_path / "outside" / "leak.yaml", f"id: leak\nname: {SECRET}\n")
    write(tmp_path / "outside" / "consumers" / "x.yaml", f"id: x\nteam: {SECRET}\n")
    (root / "teams" / "leak.yaml").symlink_to(tmp_path / "outside" / "leak.yaml")
    shutil.rmtree(root / "consumers")
    (root / "consumers").symlink_to(tmp_path / "outside" / "consumers", target_is_directory=True)
    run = cli("registry", "validate", root)
    assert run.code == 2
    assert SECRET not in run.out + run.err
    assert re.search(r"teams/leak\.yaml:1:1: leads outside the root .* symbolic link", run.out)
    assert re.search(r"consumers:1:1: leads outside the root .* symbolic link", run.out)


# -- --against: symbolic links stored in a git tree ---------------------------------------


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository holding ``spec/openapi.yaml`` (the root is ``spec``) and
    ``outside.yaml`` beside it; the working directory is its top."""
    top = tmp_path / "repo"
    pygit2.init_repository(str(top), bare=False)
    write(top / "outside.yaml", SCHEMA)
    write(top / "spec" / "real" / "order.yaml", SCHEMA.replace(SECRET, "total"))
    monkeypatch.chdir(top)
    return top


@pytest.mark.parametrize(
    "target", ["../outside.yaml", "/etc/passwd", "../../../../etc/passwd", "up/../../outside.yaml"]
)
def test_against_a_symlink_blob_out_of_the_root_is_refused(repo: Path, target: str) -> None:
    write(repo / "spec" / "openapi.yaml", _spec("order.yaml#/components/schemas/Order"))
    (repo / "spec" / "order.yaml").symlink_to(target)
    (repo / "spec" / "up").mkdir()
    write(repo / "spec" / "up" / "keep.yaml", "x: 1\n")
    commit(pygit2.Repository(str(repo)), "a link out of the spec's folder")
    (repo / "spec" / "order.yaml").unlink()
    write(repo / "spec" / "order.yaml", SCHEMA.replace(SECRET, "total"))
    run = cli("diff", "--against", "HEAD", "spec/openapi.yaml")
    assert run.code == 2
    message = _refused(run.err, run.out, "HEAD:spec/openapi.yaml", REF_LINE)
    assert "is outside the spec's root HEAD:spec/" in message


def test_against_a_symlink_blob_inside_the_root_is_read_in_the_tree(repo: Path) -> None:
    write(repo / "spec" / "openapi.yaml", _spec("order.yaml#/components/schemas/Order"))
    (repo / "spec" / "order.yaml").symlink_to("real/order.yaml")
    commit(pygit2.Repository(str(repo)), "a link inside the spec's folder")
    (repo / "spec" / "order.yaml").unlink()
    write(repo / "spec" / "order.yaml", SCHEMA.replace(SECRET, "total").replace("total", "id"))
    run = cli("diff", "--against", "HEAD", "spec/openapi.yaml", "--output", "json")
    assert run.code == 1, run.err  # the old side read real/order.yaml through the link
    removed = [f for f in run.data["findings"] if f["rule"] == "schema.property.removed"]
    assert removed and "total" in removed[0]["path"]


def test_against_a_directory_with_a_link_blob_out_is_refused(repo: Path) -> None:
    write(repo / "spec" / "order.graphql", "type Query { a: String }\n")
    write(repo / "leak.graphql", f"type Leak {{ {SECRET}: String }}\n")
    (repo / "spec" / "leak.graphql").symlink_to("../leak.graphql")
    commit(pygit2.Repository(str(repo)), "a link out of the module")
    (repo / "spec" / "leak.graphql").unlink()
    run = cli("diff", "--against", "HEAD", "spec")
    assert run.code == 2
    message = _refused(run.err, run.out, "HEAD:spec/leak.graphql")
    assert "leads outside the root HEAD:spec/ through a symbolic link" in message


# -- published versions (the service and the GitHub App read specs from memory) -------------


def _published(files: dict[str, str]) -> VersionSource:
    return VersionSource(
        PublishedVersion(
            contract="orders-api",
            version="proposed",
            format="openapi",
            repo="acme/orders",
            paths=tuple(sorted(files)),
            commit="",
            published_at="",
            files=MappingProxyType(files),
        )
    )


@pytest.mark.parametrize("ref", ["/etc/passwd", "../../x.yaml", "%2e%2e/%2e%2e/etc/passwd"])
def test_a_published_spec_never_reaches_the_disk(ref: str) -> None:
    old = _published({"specs/a.yaml": BASE})
    new = _published({"specs/a.yaml": _spec(ref)})
    with pytest.raises(RefError) as caught:
        diff(old.root, new.root, source=new, old_source=old)
    assert caught.value.line == REF_LINE
    assert "outside the spec's root orders-api@proposed" in str(caught.value)
    with pytest.raises(OutsideRoot):
        new.read("/etc/passwd")


def test_a_published_spec_reads_only_its_own_files() -> None:
    new = _published({"specs/a.yaml": _spec("../x.yaml#/components/schemas/Order")})
    with pytest.raises(RefError, match="file not found"):
        diff(new.root, new.root, source=new, old_source=new)
    shared = {"specs/a.yaml": _spec("../common/x.yaml#/components/schemas/Order")}
    shared["common/x.yaml"] = SCHEMA
    both = _published(shared)
    assert diff("specs/a.yaml", "specs/a.yaml", source=both, old_source=both).findings == ()


# -- nothing outside the root is opened ---------------------------------------------------

_STRACE_LINE = re.compile(r'open(?:at)?\((?:AT_FDCWD|\d+), "((?:[^"\\]|\\.)*)"')
_AUDIT = """
import json, os, sys
opened = []
def hook(event, args):
    if event in ("open", "os.scandir", "os.listdir") and args and isinstance(args[0], (str, bytes)):
        opened.append(os.path.abspath(os.fsdecode(args[0])))
sys.addaudithook(hook)
from tessera_engine.cli import main
code = main(sys.argv[1:])
sys.stdout.flush()
os.write(1, ("\\n@@OPENED@@" + json.dumps(opened)).encode())
"""


def _traced_strace(args: list[str], cwd: Path) -> set[str]:
    log = cwd / "strace.log"
    command = ["strace", "-f", "-e", "trace=open,openat", "-o", str(log)]
    command += [sys.executable, "-P", "-m", "tessera_engine", *args]
    subprocess.run(command, cwd=cwd, capture_output=True, timeout=BACKSTOP, check=False)
    text = log.read_text(encoding="utf-8", errors="replace")
    log.unlink()
    return {os.path.normpath(os.path.join(cwd, m)) for m in _STRACE_LINE.findall(text)}


def _traced_audit(args: list[str], cwd: Path) -> set[str]:
    run = subprocess.run(
        [sys.executable, "-P", "-c", _AUDIT, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=BACKSTOP,
        check=False,
    )
    found = json.loads(run.stdout.rsplit("@@OPENED@@", 1)[1])
    return {os.path.normpath(path) for path in found}


def _strace_works() -> bool:
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(["strace", "-o", os.devnull, "true"], capture_output=True, check=False)
    return probe.returncode == 0


TRACERS: dict[str, Callable[[list[str], Path], set[str]]] = {
    "strace": _traced_strace,
    "audit-hook": _traced_audit,
}


def _allowed(path: str, roots: list[Path]) -> bool:
    """Python's own files, the shared libraries, the engine's packages, protoc's temporary
    folder, and the spec's root: nothing else may be opened."""
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    prefixes |= {p for p in sys.path if p and os.path.isdir(p)}
    prefixes |= {"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib", "/usr/share/locale"}
    prefixes |= {str(root) for root in roots}
    exact = {"/etc/ld.so.cache", "/etc/localtime", "/dev/null", "/usr/lib/locale/locale-archive"}
    real = os.path.realpath(path)
    if path in exact or "tessera-proto-" in path:
        return True
    return any(
        candidate == prefix or candidate.startswith(prefix.rstrip("/") + "/")
        for candidate in (path, real)
        for prefix in prefixes
    )


@pytest.mark.parametrize("tracer", sorted(TRACERS))
def test_nothing_outside_the_root_is_opened(tmp_path: Path, tracer: str) -> None:
    if tracer == "strace" and not _strace_works():
        pytest.skip("strace is not installed or may not trace here")
    root = tmp_path / "spec"
    write(root / "base.yaml", BASE)
    write(tmp_path / "outside" / "secret.yaml", SCHEMA)
    write(tmp_path / "outside" / "leak.proto", LEAK)
    write(root / "proto" / "order.proto", PROTO.format(extra=""))
    (root / "link.yaml").symlink_to("../outside/secret.yaml")
    (root / "folder").symlink_to("../outside", target_is_directory=True)
    (root / "proto" / "leak.proto").symlink_to("../../outside/leak.proto")
    os.mkfifo(root / "pipe.yaml")
    hostile = [
        "../outside/secret.yaml",
        "%2e%2e/outside/secret.yaml",
        str(tmp_path / "outside" / "secret.yaml"),
        "/etc/passwd",
        "/proc/self/environ",
        "/dev/zero",
        "link.yaml",
        "folder/secret.yaml",
        "pipe.yaml",
    ]
    runs = []
    for index, ref in enumerate(hostile):
        write(root / f"new{index}.yaml", _spec(ref))
        runs.append(["diff", "spec/base.yaml", f"spec/new{index}.yaml"])
    runs.append(["diff", "spec/proto", "spec/proto"])
    opened: set[str] = set()
    for args in runs:
        opened |= TRACERS[tracer](args, tmp_path)
    assert any(path.startswith(str(root)) for path in opened)  # the tracer sees our reads
    outside = sorted(p for p in opened if not _allowed(p, [root]))
    assert outside == []
    secrets = (str(tmp_path / "outside"), "/etc/passwd", "/dev/zero", "/proc/self/environ")
    assert not any(p.startswith(secrets) for p in opened)


def test_consumer_declarations_linked_out_of_their_folder_are_not_read(tmp_path: Path) -> None:
    root = registry(tmp_path)
    write(tmp_path / "outside" / "x.yaml", f"id: x\nteam: {SECRET}\n")
    folder = tmp_path / "checkout" / "tessera"
    folder.mkdir(parents=True)
    (folder / "consumer.yaml").symlink_to(tmp_path / "outside" / "x.yaml")
    made = overlay(root, folder / "consumer.yaml")
    try:
        assert made.registry is None
        (problem,) = made.problems
        assert problem.file == str(folder / "consumer.yaml")
        assert "leads outside the root" in problem.message and SECRET not in problem.message
    finally:
        made.close()
