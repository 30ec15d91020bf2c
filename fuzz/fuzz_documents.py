"""Fuzz target: one JSON or YAML document through the engine's loader
(``documents.loader.parse_document``: size, nesting and alias limits, duplicate keys), the
locators that find a pointer's line (JSON and YAML, run on the pointers of the parsed value)
and ``$ref`` resolution within the document (``Workspace.check_refs``). The suffix (``.json``,
``.yaml`` or none, sniffed from the text) is picked from the input's checksum."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import MemorySource, choice, fuzz
from mutate import single, tree

POINTERS = 40


def test(data: bytes) -> None:
    from tessera_engine.documents.loader import parse_document
    from tessera_engine.documents.refs import Workspace

    path = choice(data, ("spec.json", "spec.yaml", "spec"))
    document = parse_document(path, path, data)
    pointers = _pointers(document.data)
    for pointer in pointers:
        document.locate(pointer)
    document.locate_many(pointers)
    Workspace.of(MemorySource({path: data}), document).check_refs()


def _pointers(value: Any) -> list[str]:
    """Pointers to the first nodes of ``value``, breadth first, and one that is missing."""
    found = [""]
    queue: list[tuple[str, Any]] = [("", value)]
    while queue and len(found) < POINTERS:
        pointer, node = queue.pop(0)
        children: list[tuple[Any, Any]] = []
        if isinstance(node, dict):
            children = list(node.items())
        elif isinstance(node, list):
            children = list(enumerate(node))
        for key, child in children[:10]:
            escaped = str(key).replace("~", "~0").replace("/", "~1")
            found.append(f"{pointer}/{escaped}")
            queue.append((f"{pointer}/{escaped}", child))
    return [*found[:POINTERS], "/no/such/node"]


if __name__ == "__main__":
    fuzz(Path(__file__).stem.removeprefix("fuzz_"), test, mutator=single(tree()))
