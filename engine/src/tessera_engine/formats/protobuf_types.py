"""What a protobuf field is: its kind, cardinality and presence, and which kinds and
cardinalities share an encoding on the wire (and in JSON), after buf's compatibility groups.
"""

from __future__ import annotations

from typing import Any

from .protobuf_model import Element, Module

_KINDS = {
    1: "double",
    2: "float",
    3: "int64",
    4: "uint64",
    5: "int32",
    6: "fixed64",
    7: "fixed32",
    8: "bool",
    9: "string",
    10: "group",
    11: "message",
    12: "bytes",
    13: "uint32",
    14: "enum",
    15: "sfixed32",
    16: "sfixed64",
    17: "sint32",
    18: "sint64",
}
_LABEL_REPEATED, _LABEL_REQUIRED = 3, 2

# https://protobuf.dev/programming-guides/proto3/#updating: kinds in one group read each
# other's bytes. string -> bytes is allowed separately (every string is valid bytes).
WIRE_GROUPS = {
    **dict.fromkeys(("int32", "int64", "uint32", "uint64", "bool"), 1),
    **dict.fromkeys(("sint32", "sint64"), 2),
    "string": 3,
    "bytes": 4,
    **dict.fromkeys(("fixed32", "sfixed32"), 5),
    **dict.fromkeys(("fixed64", "sfixed64"), 6),
    "double": 7,
    "float": 8,
    "group": 9,
    "message": 10,
    "enum": 11,
}
# Compatible on the wire *and* in JSON (64-bit integers are strings in JSON, bools are not
# numbers, bytes are base64).
WIRE_JSON_GROUPS = {
    **dict.fromkeys(("int32", "uint32"), 1),
    **dict.fromkeys(("int64", "uint64"), 2),
    **dict.fromkeys(("fixed32", "sfixed32"), 3),
    **dict.fromkeys(("fixed64", "sfixed64"), 4),
    "bool": 5,
    "sint32": 6,
    "sint64": 7,
    "string": 8,
    "bytes": 9,
    "double": 10,
    "float": 11,
    "group": 12,
    "message": 13,
    "enum": 14,
}
# Length-delimited kinds, whose singular and repeated encodings are the same records: a
# repeated reader reads one value as a list of one, a singular reader keeps the last value (a
# message merges them). https://protobuf.dev/programming-guides/proto3/#updating
LENGTH_DELIMITED = frozenset(("string", "bytes", "message"))
REPETITIONS = ({"explicit", "repeated"}, {"implicit", "repeated"})
# The integer kinds that share an enum's varint encoding (values are truncated to 32 bits).
ENUM_INTEGERS = frozenset(("int32", "uint32", "int64", "uint64"))
CARDINALITY_WIRE = {"explicit": 1, "implicit": 1, "required": 2, "repeated": 3, "map": 3}
CARDINALITY_WIRE_JSON = {"explicit": 1, "implicit": 1, "required": 2, "repeated": 3, "map": 4}
CARDINALITY_WORDS = {
    "explicit": "optional with explicit presence",
    "implicit": "optional with implicit presence",
    "required": "required",
    "repeated": "repeated",
    "map": "map",
}


def kind(field: Any, features: Any) -> str:
    """The field's kind; a message with delimited encoding (editions) is a group."""
    name = _KINDS.get(field.type, "message")
    if name == "message" and features.get("message_encoding") == "DELIMITED":
        return "group"
    return name


def is_map(field: Any, module: Module) -> bool:
    if field.label != _LABEL_REPEATED or field.type != 11:
        return False
    entry = module.imported_messages.get(field.type_name.lstrip("."))
    return bool(entry and entry.proto.options.map_entry)


def cardinality(field: Any, message: Element | None, features: Any, module: Module) -> str:
    """explicit | implicit | required | repeated | map (buf's cardinalities)."""
    if field.label == _LABEL_REPEATED:
        return "map" if is_map(field, module) else "repeated"
    if field.label == _LABEL_REQUIRED or features.get("field_presence") == "LEGACY_REQUIRED":
        return "required"
    return "explicit" if has_presence(field, message, features) else "implicit"


def has_presence(field: Any, message: Element | None, features: Any) -> bool:
    if field.type in (10, 11) or field.extendee:
        return True
    if field.HasField("oneof_index"):
        return True
    if message is not None and message.file.syntax == "proto3":
        return bool(field.proto3_optional)
    if message is not None and message.file.syntax == "proto2":
        return True
    return bool(features.get("field_presence") != "IMPLICIT")


def is_required(field: Any, features: Any) -> bool:
    return bool(
        field.label == _LABEL_REQUIRED or features.get("field_presence") == "LEGACY_REQUIRED"
    )


def type_label(field: Any, features: Any) -> str:
    """How to show a field's type: its kind, or the named message or enum."""
    name = kind(field, features)
    if name in ("message", "group", "enum"):
        return str(field.type_name).lstrip(".")
    return name


def real_oneof(field: Any, message: Element) -> str | None:
    """The name of the (non-synthetic) oneof holding ``field``."""
    if not field.HasField("oneof_index") or field.proto3_optional:
        return None
    return str(message.proto.oneof_decl[field.oneof_index].name)
