"""A protobuf field's default value, and when two defaults are the same (buf's
``FIELD_SAME_DEFAULT``).

A default is compared with its type in mind: strings and bytes by their bytes (a string may
become bytes with the same default), numbers, bools and enums (by number) by exact value
across types (``int64`` 9007199254740993 is not the double 9007199254740992; ``true`` is 1).
A ``float`` compared with a ``double`` is compared at float precision, since the double's
extra digits are not a change. Changing between a string and a number always differs.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from typing import Any

from .protobuf_model import Module

_DOUBLE, _FLOAT, _BOOL, _STRING, _GROUP, _MESSAGE, _BYTES, _ENUM = 1, 2, 8, 9, 10, 11, 12, 14
_LABEL_REPEATED = 3
_SIMPLE_ESCAPES = {"n": 10, "r": 13, "t": 9, "a": 7, "b": 8, "f": 12, "v": 11, "?": 63}
_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|[xX]([0-9a-fA-F]{1,2})|(.))", re.DOTALL)


@dataclass(frozen=True)
class Default:
    """A default value: ``value`` compares (bytes, int, float or bool); ``shown`` prints."""

    value: bytes | int | float | bool
    kind: str  # "text" (string, bytes) | "number" (bool, enum, integers) | "float" | "double"
    shown: str

    @property
    def is_zero(self) -> bool:
        if isinstance(self.value, float):
            return self.value == 0 and math.copysign(1.0, self.value) > 0
        return not self.value


def field_default(field: Any, module: Module) -> Default | None:
    """The default a reader assumes, for fields that can declare one (None otherwise)."""
    if field.label == _LABEL_REPEATED or field.type in (_GROUP, _MESSAGE):
        return None
    given = field.default_value if field.HasField("default_value") else None
    if field.type == _STRING:
        text = given or ""
        return Default(text.encode("utf-8"), "text", _quoted(text))
    if field.type == _BYTES:
        raw = _unescape(given or "")
        return Default(raw, "text", "[" + ",".join(f"0x{b:X}" for b in raw) + "]")
    if field.type == _ENUM:
        return _enum_default(field, given, module)
    if field.type == _BOOL:
        value = given == "true"
        return Default(value, "number", "true" if value else "false")
    if field.type in (_DOUBLE, _FLOAT):
        number = float(given) if given else 0.0
        if field.type == _FLOAT:
            number = _to_float32(number)
        return Default(number, "float" if field.type == _FLOAT else "double", _number(number))
    value = int(given) if given else 0
    return Default(value, "number", str(value))


def same_default(old: Default, new: Default) -> bool:
    if "text" in (old.kind, new.kind):
        return old.kind == new.kind and old.value == new.value
    a, b = old.value, new.value
    if {old.kind, new.kind} == {"float", "double"}:
        assert isinstance(a, float) and isinstance(b, float)
        a, b = _to_float32(a), _to_float32(b)
    if _is_nan(a) or _is_nan(b):
        return _is_nan(a) and _is_nan(b)
    return a == b  # Python compares ints and floats exactly


def _enum_default(field: Any, given: str | None, module: Module) -> Default:
    """An enum's default is its named value, else the enum's first value (by number)."""
    enum = module.imported_enums.get(field.type_name.lstrip("."))
    values = list(enum.proto.value) if enum is not None else []
    chosen = next((v for v in values if v.name == given), values[0] if values else None)
    if chosen is None:
        return Default(0, "number", "0")
    owner = enum.proto.name if enum is not None else ""
    return Default(int(chosen.number), "number", f"{owner}.{chosen.name}")


def _to_float32(value: float) -> float:
    if math.isnan(value) or math.isinf(value):
        return value
    try:
        result: float = struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)
    return result


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _number(value: float) -> str:
    if math.isfinite(value) and value == int(value):
        return str(int(value))
    return repr(value)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unescape(text: str) -> bytes:
    """The bytes of a ``bytes`` default, which descriptors store C-escaped."""
    out = bytearray()
    position = 0
    for found in _ESCAPE.finditer(text):
        out += text[position : found.start()].encode("utf-8")
        octal, hexa, char = found.groups()
        if octal is not None:
            out.append(int(octal, 8) & 0xFF)
        elif hexa is not None:
            out.append(int(hexa, 16))
        else:
            out += bytes([_SIMPLE_ESCAPES[char]]) if char in _SIMPLE_ESCAPES else char.encode()
        position = found.end()
    out += text[position:].encode("utf-8")
    return bytes(out)
