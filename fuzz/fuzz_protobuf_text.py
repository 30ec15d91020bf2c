"""Fuzz target: the full diff of two single-file protobuf modules given as ``.proto`` text,
through the engine's real path: the files are materialised into a temporary directory,
compiled by protoc (grpcio-tools) in a subprocess, and the descriptors compared. A protoc run
costs a process start per version, so this target runs tens of inputs a second, not
thousands: it checks what protoc's output and its error messages do to the engine
(``protobuf_descriptors`` fuzzes the comparators at speed). Input: a pair (see
``harness.PAIR_SEPARATOR``)."""

from __future__ import annotations

from pathlib import Path

from diffing import run_diff
from harness import fuzz
from mutate import pair, tokens

WORDS = (
    'syntax = "proto2";\n',
    'syntax = "proto3";\n',
    'edition = "2023";\n',
    "package ",
    "import ",
    "message ",
    "enum ",
    "service ",
    "rpc ",
    "returns ",
    "stream ",
    "oneof ",
    "map<string, int32> ",
    "optional ",
    "repeated ",
    "required ",
    "reserved ",
    "extensions ",
    "extend ",
    "option ",
    "to ",
    "max",
    "[default = 1]",
    "[deprecated = true]",
    '[json_name = "x"]',
    "[packed = false]",
    "option allow_alias = true;",
    "option idempotency_level = NO_SIDE_EFFECTS;",
    'option java_package = "x";',
    'option go_package = "x";',
    "int32",
    "int64",
    "uint32",
    "sint64",
    "fixed32",
    "sfixed64",
    "double",
    "float",
    "bool",
    "string",
    "bytes",
    "google.protobuf.Any",
    "=",
    ";",
    "{",
    "}",
    "(",
    ")",
    "<",
    ">",
    ",",
    "1",
    "2",
    "19000",
    "536870911",
    "\n",
)


def test(data: bytes) -> None:
    run_diff(data, "protobuf", ("old/module.proto", "new/module.proto"))


if __name__ == "__main__":
    fuzz(
        Path(__file__).stem.removeprefix("fuzz_"),
        test,
        mutator=pair(tokens(WORDS)),
        modules=("tessera_engine.formats.protobuf",),
    )
