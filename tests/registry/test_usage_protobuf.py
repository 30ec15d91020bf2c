"""``ProtocBatch``: many protobuf versions compiled by one worker, each exactly as the engine
compiles it alone; what it cannot compile is left to the engine's own loading."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pytest

from tessera_engine.registry.model import PublishedVersion
from tessera_engine.registry.usage_elements import (
    KeyedElements,
    elements_of,
    protobuf_elements,
)
from tessera_engine.registry.usage_protobuf import ProtocBatch

from .usage_specs import EVENTS, MONEY


def version(number: int, files: dict[str, str]) -> PublishedVersion:
    return PublishedVersion(
        contract=f"events-{number}",
        version="1.0.0",
        format="protobuf",
        repo="acme/events",
        paths=tuple(files),
        commit="0" * 40,
        published_at="2025-06-01T12:00:00Z",
        files=MappingProxyType(files),
    )


MODULE = {"proto/v1/events.proto": EVENTS, "proto/v1/money.proto": MONEY}
SINGLE = {"money.proto": MONEY.replace("acme.checkout.v1", "acme.single")}


def test_each_module_compiles_as_the_engine_compiles_it_alone() -> None:
    versions = [version(0, MODULE), version(1, SINGLE), version(2, MODULE)]
    with ProtocBatch(versions) as batch:
        modules = [batch.module(number) for number in range(len(versions))]
    for published, module in zip(versions, modules, strict=True):
        assert module is not None
        alone = elements_of("protobuf", published)
        batched = protobuf_elements(module)
        assert isinstance(alone, KeyedElements) and isinstance(batched, KeyedElements)
        assert batched.names == alone.names
    events = protobuf_elements(modules[0])
    assert events.knows("operations", "acme.checkout.v1.Events/Replay")
    assert events.knows("messages", "acme.checkout.v1.Money")  # from the module's other file
    assert protobuf_elements(modules[1]).knows("messages", "acme.single.Money")


def test_what_protoc_refuses_is_left_to_the_engine_quietly(
    capfd: pytest.CaptureFixture[str],
) -> None:
    broken = {"proto/v1/events.proto": EVENTS, "proto/v1/money.proto": "message {"}
    not_a_module = {"schema.graphql": "type Query { a: Int }"}
    versions = [version(0, broken), version(1, not_a_module), version(2, SINGLE)]
    with ProtocBatch(versions) as batch:
        assert batch.module(0) is None
        assert batch.module(1) is None
        assert batch.module(2) is not None
    assert capfd.readouterr().err == ""  # protoc's own messages stay in the worker


def test_closing_stops_the_worker_and_removes_its_files() -> None:
    batch = ProtocBatch([version(number, MODULE) for number in range(20)])
    workdir = Path(batch._workdir)
    process = batch._process
    assert process is not None and workdir.is_dir()
    batch.close()  # before reading a single result
    assert process.returncode is not None
    assert not workdir.exists()


def test_nothing_to_compile_starts_nothing() -> None:
    with ProtocBatch([]) as batch:
        assert batch._process is None
    with ProtocBatch([version(0, {"a.graphql": "type Query { a: Int }"})]) as batch:
        assert batch._process is None
        assert batch.module(0) is None
        workdir = Path(batch._workdir)
    assert not workdir.exists()
