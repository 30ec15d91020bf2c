"""Protobuf modules (proto2, proto3, editions) and their gRPC services.

A version is a module directory (every ``.proto`` under it, imports resolved from it and
from the well-known types) or a single ``.proto`` file (its directory is the include path).
protoc compiles it into descriptors with source info (``protobuf_compile``), which become
Tessera's model (``protobuf_model``); ``protobuf_compare`` runs the checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..documents import Source
from ..modes import Mode
from .native import Change, Settings
from .protobuf_compile import SUFFIXES, Compilation, start
from .protobuf_model import Module, build


@dataclass(eq=False)
class ProtoVersion:
    """One version: compiling in the background until its model is first needed."""

    compilation: Compilation
    _module: Module | None = field(default=None, repr=False)

    @property
    def module(self) -> Module:
        if self._module is None:
            result = self.compilation.result()
            shown = {name: self.compilation.display(name) for name in self.compilation.files}
            self._module = build(result, self.compilation.files, shown)
        return self._module


class ProtobufFormat:
    name = "protobuf"
    default_mode = Mode.AUTO
    default_policy = "strict"
    suffixes = SUFFIXES

    def load(self, source: Source, path: str, settings: Settings) -> ProtoVersion:
        return ProtoVersion(start(source, path))

    def display(self, loaded: Any) -> str:
        assert isinstance(loaded, ProtoVersion)
        return loaded.compilation.display_root

    def compare(self, old: Any, new: Any, settings: Settings) -> list[Change]:
        from .protobuf_compare import compare

        assert isinstance(old, ProtoVersion) and isinstance(new, ProtoVersion)
        new_module = new.module  # the new version's errors first
        return compare(old.module, new_module, settings)
