"""JSON pointers (RFC 6901): building, splitting and following them."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote


def escape(segment: str | int) -> str:
    """One reference token: ``~`` becomes ``~0`` and ``/`` becomes ``~1``."""
    return str(segment).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join(pointer: str, *segments: str | int) -> str:
    """``join("/paths", "/pets")`` is ``/paths/~1pets``."""
    for segment in segments:
        pointer = f"{pointer}/{escape(segment)}"
    return pointer


def split(pointer: str) -> list[str]:
    """The unescaped tokens of a pointer; the root pointer ``""`` has none."""
    if not pointer:
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"not a JSON pointer: {pointer!r}")
    return [unescape(token) for token in pointer[1:].split("/")]


def from_fragment(fragment: str) -> str:
    """A URI fragment such as ``/components/schemas/Pet%20Food`` as a plain JSON pointer."""
    return unquote(fragment)


def resolve(document: Any, pointer: str) -> Any:
    """The value at ``pointer``. Raises ``KeyError`` (with the failing token) when absent."""
    value = document
    for token in split(pointer):
        if isinstance(value, dict):
            if token not in value:
                raise KeyError(token)
            value = value[token]
        elif isinstance(value, list):
            if not token.isdigit() or int(token) >= len(value):
                raise KeyError(token)
            value = value[int(token)]
        else:
            raise KeyError(token)
    return value


def parent(pointer: str) -> str:
    return pointer.rsplit("/", 1)[0] if pointer else ""
