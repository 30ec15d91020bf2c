"""Protobuf versions compiled together, for checking declared usage against many contracts.

``tessera diff`` starts one protoc process per version (``formats.protobuf_compile``): about
30 ms each, nearly all of it a Python interpreter starting. Checking the ``uses`` of a large
registry compiles hundreds of modules, so ``ProtocBatch`` hands all of them to one worker
process that runs protoc in a loop (a fraction of a millisecond per small module) while the
caller reads the other formats. Each module is laid out and compiled exactly as
``protobuf_compile.start`` does it (the same files, include path and protoc options); a
module protoc refuses is reported by the caller through the engine's own loading, which
words the error with file, line and column.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..documents.loader import read_text
from ..formats.protobuf_compile import SUFFIXES, plain_name, well_known_types
from .model import PublishedVersion
from .versions import VersionSource

_WORKER = """\
import json, os, shutil, sys, tempfile
from grpc_tools import _protoc_compiler
jobs = json.load(open(sys.argv[1], encoding="utf-8"))
for number, job in enumerate(jobs):
    if job is None:  # not a module: the caller loads that version the usual way
        sys.stdout.write(f"{number} -1\\n")
        continue
    include = job["include"]
    for name, text in job["files"].items():
        os.makedirs(os.path.dirname(os.path.join(include, name)), exist_ok=True)
        with open(os.path.join(include, name), "w", encoding="utf-8") as file:
            file.write(text)
    with tempfile.TemporaryFile() as err:  # protoc writes its errors to fd 2: keep them apart
        saved = os.dup(2)
        os.dup2(err.fileno(), 2)
        try:
            code = _protoc_compiler.run_main([a.encode() for a in job["args"]])
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    shutil.rmtree(include, ignore_errors=True)
    sys.stdout.write(f"{number} {code}\\n")
    sys.stdout.flush()
"""
"""Compiles the modules of a job file (each: its files, where to write them, protoc's
arguments), printing "number exit-code" as each one finishes. Writing and removing the
files is the worker's part too, so the caller does not wait for the file system."""


@dataclass(frozen=True)
class _Job:
    files: list[str]  # the module's files, relative to its root, as protoc names them
    shown: dict[str, str]  # protoc's name -> the name shown to people
    out: str  # where protoc writes the descriptor set


class ProtocBatch:
    """Compiles ``versions`` in one worker process, in the background, from the start."""

    def __init__(self, versions: Sequence[PublishedVersion]) -> None:
        self._workdir = tempfile.mkdtemp(prefix="tessera-proto-batch-")
        self._jobs: list[_Job | None] = []
        self._codes: dict[int, int] = {}
        self._process: subprocess.Popen[str] | None = None
        try:
            jobs = [self._prepare(number, v) for number, v in enumerate(versions)]
            if any(job is not None for job in jobs):
                self._start(jobs)
        except BaseException:
            self.close()
            raise

    def module(self, number: int) -> Any | None:
        """The compiled module (``protobuf_model.Module``) of the ``number``th version, or
        None when it could not be compiled here (the caller loads it the usual way)."""
        job = self._jobs[number]
        if job is None or self._code(number) != 0:
            return None
        from google.protobuf.descriptor_pb2 import (  # type: ignore[import-untyped]
            FileDescriptorSet,
        )
        from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

        from ..formats.protobuf_model import build

        try:
            descriptors = FileDescriptorSet.FromString(Path(job.out).read_bytes())
        except (OSError, DecodeError):
            return None
        return build(descriptors, job.files, job.shown)

    def close(self) -> None:
        """Stop the worker (when still running) and remove the files."""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> ProtocBatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _prepare(self, number: int, published: PublishedVersion) -> dict[str, Any] | None:
        """The job that compiles the module as ``protobuf_compile.start`` lays it out (its
        files, where to write them, protoc's arguments), or None when the version is not a
        module protoc could compile."""
        source = VersionSource(published)
        path = source.root
        listed = source.files(path, SUFFIXES)
        if listed is None:
            if not path.endswith(SUFFIXES) or source.size(path) is None:
                self._jobs.append(None)
                return None
            root, relative = os.path.dirname(path) or ".", [os.path.basename(path)]
        elif not listed:
            self._jobs.append(None)
            return None
        else:
            root = path
            relative = [os.path.relpath(p, path).replace(os.sep, "/") for p in listed]
        if not all(plain_name(name) for name in relative):  # the usual path says why
            self._jobs.append(None)
            return None
        include = os.path.join(self._workdir, str(number))
        files = {name: read_text(source, os.path.join(root, name))[1] for name in relative}
        out = os.path.join(self._workdir, f"{number}.pb")
        shown = {name: source.display(os.path.join(root, name)) for name in relative}
        self._jobs.append(_Job(relative, shown, out))
        arguments = [
            "protoc",
            f"-I{include}",
            f"-I{well_known_types()}",
            "--include_imports",
            "--include_source_info",
            f"--descriptor_set_out={out}",
            *relative,
        ]
        return {"include": include, "files": files, "args": arguments}

    def _start(self, jobs: list[dict[str, Any] | None]) -> None:
        path = os.path.join(self._workdir, "jobs.json")
        Path(path).write_text(json.dumps(jobs), encoding="utf-8")
        self._process = subprocess.Popen(
            [sys.executable, "-c", _WORKER, path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def _code(self, number: int) -> int | None:
        """protoc's exit code for the ``number``th job (waiting for it), None when the worker
        stopped before it."""
        stdout: IO[str] | None = self._process.stdout if self._process else None
        while number not in self._codes and stdout is not None:
            line = stdout.readline()
            if not line:
                break
            parts = line.split()
            if len(parts) == 2 and all(p.lstrip("-").isdigit() for p in parts):
                self._codes[int(parts[0])] = int(parts[1])  # anything else is not ours
        return self._codes.get(number)
