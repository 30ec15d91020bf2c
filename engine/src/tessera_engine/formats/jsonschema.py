"""JSON Schema subjects (drafts 4, 6, 7, 2019-09, 2020-12): one schema, compared as a whole
under the subject's compatibility mode (Confluent's semantics, STRICT by default)."""

from __future__ import annotations

from typing import Any

from ..diff.core import Differ, Options
from ..diff.nodes import Node
from ..documents.refs import Workspace
from ..errors import FormatError
from ..model import Position
from ..modes import Mode

_SCHEMA_KEYWORDS = frozenset(
    {
        "$schema",
        "$id",
        "$ref",
        "$defs",
        "definitions",
        "type",
        "properties",
        "items",
        "enum",
        "const",
        "oneOf",
        "anyOf",
        "allOf",
        "not",
        "additionalProperties",
        "required",
        "prefixItems",
        "patternProperties",
        "if",
        "format",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "pattern",
        "title",
        "description",
    }
)


class JsonSchemaAdapter:
    name = "jsonschema"
    default_mode = Mode.BACKWARD
    default_policy = "strict"

    def accepts(self, data: Any) -> bool:
        if isinstance(data, bool):
            return True
        if not isinstance(data, dict) or "openapi" in data or "swagger" in data:
            return False
        return not data or bool(_SCHEMA_KEYWORDS & data.keys())

    def validate(self, ws: Workspace) -> None:
        data = ws.root.data
        if isinstance(data, bool):
            return
        if not isinstance(data, dict):
            raise FormatError(
                "not a JSON Schema: expected an object or a boolean", file=ws.root.name, line=1
            )
        if "openapi" in data or "swagger" in data:
            raise FormatError(
                "this is an OpenAPI document, not a JSON Schema (use --format openapi)",
                file=ws.root.name,
                line=1,
            )

    def options(self, strict: bool) -> Options:
        return Options(strict=strict, api=False, honour_defaults=True)

    def compare(self, differ: Differ, old: Workspace, new: Workspace, position: Position) -> None:
        o = Node(old.root, "", old.root.data)
        n = Node(new.root, "", new.root.data)
        root = differ.root("$", "$", o, n, position)
        differ.schema(root, "", "", o, n, position)
