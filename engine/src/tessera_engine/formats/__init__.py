"""Format adapters: each maps one kind of spec onto the comparison framework.

An adapter knows how to recognise its documents, its default compatibility mode and policy,
and how to walk a pair of versions, creating root scopes (one per operation for APIs, one for
a whole JSON Schema) and comparing their parts.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..diff.core import Differ, Options
from ..documents.refs import Workspace
from ..errors import FormatError, UsageError
from ..model import Position
from ..modes import Mode


class Adapter(Protocol):
    name: str
    default_mode: Mode
    default_policy: str  # "strict" or "lenient"

    def accepts(self, data: Any) -> bool:
        """Whether a parsed document looks like this format."""

    def validate(self, ws: Workspace) -> None:
        """Raise ``FormatError`` when the document is not of this format."""

    def options(self, strict: bool) -> Options:
        """Comparison options for this format."""

    def compare(self, differ: Differ, old: Workspace, new: Workspace, position: Position) -> None:
        """Walk both versions, creating root scopes in ``differ``."""


def adapters() -> dict[str, Adapter]:
    from .jsonschema import JsonSchemaAdapter
    from .openapi import OpenApiAdapter
    from .swagger import SwaggerAdapter

    found: list[Adapter] = [OpenApiAdapter(), SwaggerAdapter(), JsonSchemaAdapter()]
    return {adapter.name: adapter for adapter in found}


FORMAT_NAMES = ("openapi", "swagger", "jsonschema")


def get_adapter(name: str) -> Adapter:
    table = adapters()
    key = {"json-schema": "jsonschema", "oas": "openapi", "swagger2": "swagger"}.get(name, name)
    if key not in table:
        raise UsageError(f"unknown format {name!r} (choose from {', '.join(FORMAT_NAMES)})")
    return table[key]


def detect(ws: Workspace) -> Adapter:
    data = ws.root.data
    for adapter in adapters().values():
        if adapter.accepts(data):
            return adapter
    raise FormatError(
        "cannot tell the format: expected an OpenAPI 3 document (an 'openapi' field), "
        'a Swagger 2.0 document (swagger: "2.0") or a JSON Schema; pass --format',
        file=ws.root.name,
        line=1,
    )
