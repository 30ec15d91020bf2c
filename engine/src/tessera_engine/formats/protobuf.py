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
from .native import Change, ElementGraph, Settings
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

    def references(self, loaded: Any) -> ElementGraph:
        assert isinstance(loaded, ProtoVersion)
        return element_graph(loaded.module)


def element_graph(module: Module) -> ElementGraph:
    """For impact analysis: a service refers to its RPCs (``shop.v1.Orders/Get``), an RPC to
    its request and response messages, a message to its fields of message or enum type
    (``shop.v1.Order.line``, map entries included), and such a field to its type. Nested
    messages need no edge: their names are inside their parent's."""
    edges: dict[str, tuple[str, ...]] = {}
    for name, service in module.services.items():
        rpcs: list[str] = []
        for method in service.proto.method:
            rpc = f"{name}/{method.name}"
            edges[rpc] = (method.input_type.lstrip("."), method.output_type.lstrip("."))
            rpcs.append(rpc)
        edges[name] = tuple(rpcs)
    for name, message in module.messages.items():
        fields: list[str] = []
        for f in message.proto.field:
            if f.type_name:
                path = f"{name}.{f.name}"
                edges[path] = (f.type_name.lstrip("."),)
                fields.append(path)
        if fields:
            edges[name] = tuple(fields)
    return ElementGraph(edges)
