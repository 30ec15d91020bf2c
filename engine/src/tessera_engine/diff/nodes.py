"""Located values: a piece of a document together with where it came from."""

from __future__ import annotations

from typing import Any

from ..documents import Document
from ..documents.pointer import escape


class Node:
    """A JSON value in a document, with its pointer.

    ``origins`` is set on values the engine synthesised (a flattened ``allOf``, a ``$ref`` with
    sibling keywords): it maps a key of ``value`` to the node that key's value really came
    from, so findings inside still point at the right line. ``ref`` is the pointer of the
    definition the value was reached through (``/components/schemas/Pet``), used as a stable
    logical key.
    """

    __slots__ = ("doc", "origins", "ptr", "ref", "value")

    def __init__(
        self,
        doc: Document,
        ptr: str,
        value: Any,
        origins: dict[str, Node] | None = None,
        ref: str | None = None,
    ) -> None:
        self.doc = doc
        self.ptr = ptr
        self.value = value
        self.origins = origins
        self.ref = ref

    def __repr__(self) -> str:
        return f"Node({self.doc.name}#{self.ptr})"

    def get(self, key: str, default: Any = None) -> Any:
        value = self.value
        return value.get(key, default) if isinstance(value, dict) else default

    def has(self, key: str) -> bool:
        return isinstance(self.value, dict) and key in self.value

    def kw(self, key: str) -> Node | None:
        """The value under ``key`` as a located node, or None when absent."""
        value = self.value
        if not isinstance(value, dict) or key not in value:
            return None
        return self.at(key)

    def at(self, key: str) -> Node:
        """The value under ``key``, which must be present, as a located node."""
        if self.origins is not None:
            origin = self.origins.get(key)
            if origin is not None:
                return origin
        return Node(self.doc, f"{self.ptr}/{escape(key)}", self.value[key])

    def item(self, index: int) -> Node:
        return Node(self.doc, f"{self.ptr}/{index}", self.value[index])

    def items(self) -> list[Node]:
        value = self.value
        if not isinstance(value, list):
            return []
        return [Node(self.doc, f"{self.ptr}/{i}", v) for i, v in enumerate(value)]

    def members(self) -> dict[str, Node]:
        """The entries of a mapping as located nodes (for ``properties``-like maps)."""
        value = self.value
        if not isinstance(value, dict):
            return {}
        return {key: self.at(key) for key in value}
