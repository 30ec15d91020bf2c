"""Fuzz target: the full diff of two protobuf modules given as compiled descriptor sets
(``FileDescriptorSet``, as protoc writes them with ``--include_imports
--include_source_info``): the model built from them, every comparator, the element graph and
every renderer. Compiling ``.proto`` text takes protoc a process per version, far too slow to
fuzz, so this target stands in for protoc: the engine's ``start`` (protobuf_compile) is
replaced by one that reads the descriptor set from the input. A set that protobuf's own
descriptor pool refuses (a dangling type name, a duplicate field number) is one protoc would
never write: it is rejected, not a finding (the pool runs in a forked child: it segfaults on
some malformed sets). ``protobuf_text`` runs real ``.proto`` text.

Input: a pair of serialised descriptor sets (see ``harness.PAIR_SEPARATOR``)."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diffing import run_diff
from harness import Rejected, byte_mutate, fuzz, join_pair, split_pair

WELL_KNOWN = "google/protobuf/"
INTS = (0, 1, -1, 2, 3, 15, 16, 100, 19000, 19999, 536870911, 2**31 - 1, -(2**31))
STRINGS = ("", "x", "X", "a.b", ".t.M", ".t.E", "t", "Req", "Resp", "M", "E", "1", "x_y", "é")


@dataclass
class Compiled:
    """What the engine reads of a protoc run (``protobuf_compile.Compilation``)."""

    files: list[str]
    display_root: str
    descriptors: Any

    def display(self, relative: str) -> str:
        return f"{self.display_root}/{relative}"

    def result(self) -> Any:
        return self.descriptors


def descriptor_start(source: Any, path: str) -> Compiled:
    """``protobuf_compile.start`` for a descriptor set stored at ``path``."""
    from google.protobuf.descriptor_pb2 import FileDescriptorSet
    from google.protobuf.message import DecodeError

    try:
        descriptors = FileDescriptorSet.FromString(source.read(path))
    except DecodeError as error:
        raise Rejected(str(error)) from None
    if not all(_as_protoc_writes(proto) for proto in descriptors.file):
        raise Rejected("not as protoc writes it")
    if not _pool_accepts(descriptors):
        raise Rejected("the descriptor pool refuses it")
    own = [f.name for f in descriptors.file if not f.name.startswith(WELL_KNOWN)]
    if not own:
        raise Rejected("no module files")
    return Compiled(own, path, descriptors)


def _pool_accepts(descriptors: Any) -> bool:
    """Whether protobuf's descriptor pool builds every file of ``descriptors``. Checked in a
    forked child: upb's pool (protobuf 7.36) segfaults on some malformed sets, which the
    engine never builds (it reads what protoc wrote), so that is a refusal too."""
    from google.protobuf import descriptor_pool

    child = os.fork()
    if child == 0:
        status = 0
        try:
            pool = descriptor_pool.DescriptorPool()
            for proto in descriptors.file:
                pool.Add(proto)
        except Exception:
            status = 1
        os._exit(status)
    _, status = os.waitpid(child, 0)
    return status == 0


def _as_protoc_writes(proto: Any) -> bool:
    """What the pool does not check but protoc guarantees: UTF-8 names (a proto2 string
    field that is not UTF-8 reads as bytes) and source spans of three or four numbers."""
    spans = (len(loc.span) in (3, 4) for loc in proto.source_code_info.location)
    return isinstance(proto.name, str) and isinstance(proto.package, str) and all(spans)


def test(data: bytes) -> None:
    run_diff(data, "protobuf", ("old/module.pb", "new/module.pb"))


# -- mutation ----------------------------------------------------------------------------------


def _messages(message: Any, found: list[Any]) -> list[Any]:
    """``message`` and every message inside it (source info aside: protoc writes it)."""
    found.append(message)
    for field, value in message.ListFields():
        if field.message_type is None or field.name == "source_code_info":
            continue
        if field.is_repeated:
            if field.message_type.GetOptions().map_entry:
                continue
            for item in value:
                _messages(item, found)
        else:
            _messages(value, found)
    return found


def _mutate_descriptors(side: Any, other: Any, rng: random.Random) -> None:
    nodes = _messages(side, [])
    donors = _messages(other, [])
    strings = [
        value
        for node in donors
        for field, value in node.ListFields()
        if field.type == field.TYPE_STRING and not field.is_repeated
    ]
    node = rng.choice(nodes)
    fields = list(node.DESCRIPTOR.fields)
    field = rng.choice(fields)
    name = field.name
    if field.is_repeated:
        items = getattr(node, name)
        same = [d for d in donors if d.DESCRIPTOR is field.message_type]
        if field.message_type is None:
            if len(items) and rng.random() < 0.5:
                del items[rng.randrange(len(items))]
            elif field.type == field.TYPE_STRING:
                items.append(rng.choice((*STRINGS, *strings[:50])))
            elif field.cpp_type == field.CPPTYPE_INT32:
                items.append(rng.choice(INTS))
        elif len(items) and rng.random() < 0.4:
            del items[rng.randrange(len(items))]
        elif len(items) and rng.random() < 0.5:
            items.add().CopyFrom(items[rng.randrange(len(items))])
        elif same:
            items.add().CopyFrom(rng.choice(same))
        return
    if field.message_type is not None:
        same = [d for d in donors if d.DESCRIPTOR is field.message_type]
        if node.HasField(name) and rng.random() < 0.5:
            node.ClearField(name)
        elif same:
            getattr(node, name).CopyFrom(rng.choice(same))
        return
    if field.enum_type is not None:
        setattr(node, name, rng.choice(field.enum_type.values).number)
    elif field.type == field.TYPE_STRING:
        setattr(node, name, rng.choice((*STRINGS, *strings[:200])))
    elif field.type == field.TYPE_BOOL:
        setattr(node, name, not getattr(node, name))
    elif field.cpp_type in (field.CPPTYPE_INT32, field.CPPTYPE_INT64):
        setattr(node, name, rng.choice(INTS))
    elif field.cpp_type in (field.CPPTYPE_UINT32, field.CPPTYPE_UINT64):
        setattr(node, name, abs(rng.choice(INTS)))
    elif field.cpp_type in (field.CPPTYPE_DOUBLE, field.CPPTYPE_FLOAT):
        setattr(node, name, rng.choice((0.0, -0.0, 1e308, float("nan"), float("inf"))))


def mutator(data: bytes, max_size: int, seed: int) -> bytes:
    from google.protobuf.descriptor_pb2 import FileDescriptorSet

    rng = random.Random(seed)
    if rng.random() < 0.05:  # a flipped byte mostly breaks the wire format: rarely
        return byte_mutate(data, max_size)
    old_bytes, new_bytes = split_pair(data)
    try:
        old = FileDescriptorSet.FromString(old_bytes)
        new = FileDescriptorSet.FromString(new_bytes)
        if rng.random() < 0.05:
            new.CopyFrom(old)
        side, other = (old, new) if rng.random() < 0.25 else (new, old)
        for _ in range(rng.choice((1, 1, 2, 3))):
            _mutate_descriptors(side, other, rng)
        result = join_pair(old.SerializeToString(), new.SerializeToString())
    except Exception:
        return byte_mutate(data, max_size)
    return result if len(result) <= max_size else byte_mutate(data, max_size)


def ready() -> None:
    """Stand in for protoc (see the module docstring)."""
    from tessera_engine.formats import protobuf

    protobuf.start = descriptor_start  # type: ignore[assignment]


if __name__ == "__main__":
    fuzz(
        Path(__file__).stem.removeprefix("fuzz_"),
        test,
        mutator=mutator,
        modules=("tessera_engine.formats.protobuf",),
        ready=ready,
    )
