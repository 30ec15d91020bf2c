"""Compiling a protobuf module with protoc (the one grpcio-tools ships) into descriptors.

``start`` lists the module's ``.proto`` files, materialises them into a temporary directory
and starts protoc as a subprocess; ``Compilation.result`` waits for it. Two versions
therefore compile at the same time: the engine loads both before it compares them, and
protoc runs outside the GIL. The include path is that temporary directory plus protoc's
bundled well-known types.

protoc never reads the module where it lives: every file it sees was read through the
version's ``Source``, which is confined to the spec's root (``documents.files``), so a
symbolic link out of the module is refused by the source, and protoc itself refuses imports
with ``..`` or an absolute path. A single ``.proto`` file brings the files it imports from its
folder, transitively (``imports``); a directory brings all of its ``.proto`` files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..documents import Source
from ..documents.loader import read_source
from ..errors import LoadError

if TYPE_CHECKING:
    from google.protobuf.descriptor_pb2 import FileDescriptorSet  # type: ignore[import-untyped]

SUFFIXES = (".proto",)
_RUN_PROTOC = (
    "import sys\n"
    "from grpc_tools import _protoc_compiler\n"
    "sys.exit(_protoc_compiler.run_main([a.encode() for a in sys.argv]))\n"
)
_ERROR = re.compile(r"^(?P<file>[^:\n]+?):(?P<line>\d+):(?P<column>\d+): (?P<message>.+)$")


@dataclass
class Compilation:
    """A protoc run under way for one version of a module."""

    root: str  # the module root as given (for display)
    files: list[str]  # the module's files, relative to the root, as protoc names them
    display_root: str
    source: Source
    _process: subprocess.Popen[bytes] | None = None
    _workdir: str = ""
    _result: FileDescriptorSet | None = field(default=None, repr=False)

    def display(self, relative: str) -> str:
        """How to show one of the module's files to the user."""
        return self.source.display(os.path.join(self.root, relative))

    def result(self) -> FileDescriptorSet:
        """The compiled descriptors (with source info); raises ``LoadError`` on a protoc error."""
        if self._result is None:
            self._result = self._wait()
        return self._result

    def _wait(self) -> FileDescriptorSet:
        from google.protobuf.descriptor_pb2 import FileDescriptorSet

        assert self._process is not None
        try:
            _, stderr = self._process.communicate()
            if self._process.returncode != 0:
                raise self._error(stderr.decode("utf-8", "replace"))
            out = Path(self._workdir) / "out.pb"
            return FileDescriptorSet.FromString(out.read_bytes())
        finally:
            shutil.rmtree(self._workdir, ignore_errors=True)

    def _error(self, stderr: str) -> LoadError:
        lines = [line for line in stderr.splitlines() if line.strip() and "warning:" not in line]
        for line in lines:
            found = _ERROR.match(line)
            if found:
                return LoadError(
                    found["message"],
                    file=self._shown(found["file"]),
                    line=int(found["line"]),
                    column=int(found["column"]),
                )
        if lines:
            name, _, message = lines[0].partition(": ")
            return LoadError(message or name, file=self._shown(name) if message else None)
        return LoadError("protoc failed without a message", file=self.display_root)

    def _shown(self, name: str) -> str:
        """protoc names a file by its path on disk (include directory joined): show it
        relative to the module root, as every other location is shown."""
        for include in (os.path.join(self._workdir, "src"), self.root):
            if os.path.abspath(name).startswith(os.path.abspath(include) + os.sep):
                name = os.path.relpath(os.path.abspath(name), os.path.abspath(include))
                break
        return self.display(name) if not os.path.isabs(name) else name


def start(source: Source, path: str) -> Compilation:
    """List, materialise and start compiling the module at ``path`` (a directory or a file)."""
    display_root = source.display(path)
    listed = source.files(path, SUFFIXES)
    if listed is None:
        read_source(source, path)  # a missing path: "file not found", in one line
        if not path.endswith(SUFFIXES):
            raise LoadError("not a .proto file or a directory of them", file=display_root)
        root = os.path.dirname(path) or "."
        relative = [os.path.basename(path)]
    else:
        if not listed:
            raise LoadError("no .proto files in this directory", file=display_root)
        root = path
        relative = [os.path.relpath(p, path).replace(os.sep, "/") for p in listed]
    for name in relative:
        if not plain_name(name):
            raise LoadError(
                "a .proto file name protoc could take for an option or a path outside the "
                "module (a part that is empty, '.', '..' or starts with '-' or '@'): refused",
                file=source.display(os.path.join(root, name)),
            )
    compilation = Compilation(root, relative, display_root, source)
    workdir = tempfile.mkdtemp(prefix="tessera-proto-")
    compilation._workdir = workdir
    try:
        include = os.path.join(workdir, "src")
        _materialise(source, root, relative, include, follow_imports=listed is None)
        process = _protoc(include, relative, os.path.join(workdir, "out.pb"))
        compilation._process = process
        # when the other version fails to load, this one is never waited for: stop it then
        weakref.finalize(compilation, _abandon, process, workdir)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return compilation


def plain_name(name: str) -> bool:
    """Whether a module file name (relative, '/' between parts) can be handed to protoc as it
    is: protoc reads an argument that starts with '-' or '@' as an option or an argument file,
    and a '.'/'..' part would reach outside the module."""
    return all(part not in ("", ".", "..") and part[0] not in "-@" for part in name.split("/"))


def _abandon(process: subprocess.Popen[bytes], workdir: str) -> None:
    if process.returncode is None:  # never waited for
        process.kill()
        process.wait()
        if process.stderr is not None:
            process.stderr.close()
    shutil.rmtree(workdir, ignore_errors=True)


def _materialise(
    source: Source, root: str, relative: list[str], into: str, *, follow_imports: bool
) -> None:
    """Write the module's files into ``into``, the only folder of the module protoc reads;
    with ``follow_imports``, also the files they import from ``root`` (transitively) that
    exist there. An import that does not is left to protoc to report (or to find among the
    well-known types)."""
    pending = list(relative)
    written: set[str] = set()
    while pending:
        name = pending.pop()
        if name in written:
            continue
        path = os.path.join(root, name)
        if name not in relative and source.size(path) is None:
            continue  # a well-known type, or missing: protoc says which
        _, raw = read_source(source, path)
        written.add(name)
        target = Path(into) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(raw)
        if follow_imports:
            pending.extend(i for i in imports(raw) if plain_name(i) and i not in written)


_COMMENT = re.compile(rb"//[^\n]*|/\*.*?\*/", re.DOTALL)
_IMPORT = re.compile(
    rb'(?:^|(?<=;))\s*import\s+(?:public\s+|weak\s+)?"([^"\\\n]+)"\s*;', re.MULTILINE
)


def imports(raw: bytes) -> list[str]:
    """The files a ``.proto`` file imports (``import "a/b.proto";``, ``public`` and ``weak``
    included), comments left out. A form this misses is one protoc reports as not found."""
    text = _COMMENT.sub(b" ", raw)
    return [found.decode("utf-8", "replace") for found in _IMPORT.findall(text)]


def _protoc(include: str, files: list[str], out: str) -> subprocess.Popen[bytes]:
    args = [
        f"-I{include}",
        f"-I{well_known_types()}",
        "--include_imports",
        "--include_source_info",
        f"--descriptor_set_out={out}",
        *files,
    ]
    return subprocess.Popen(
        [sys.executable, "-c", _RUN_PROTOC, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def well_known_types() -> str:
    """The include directory with google/protobuf/*.proto that grpcio-tools ships."""
    import importlib.util

    spec = importlib.util.find_spec("grpc_tools")
    if spec is None or not spec.submodule_search_locations:
        raise LoadError("the protobuf format needs grpcio-tools (pip install grpcio-tools)")
    return os.path.join(next(iter(spec.submodule_search_locations)), "_proto")
