"""What the two HTTP API formats (OpenAPI 3.x and Swagger 2.0) share as adapters: how a
document is recognised and validated, the default mode and policy, and the comparison of two
API models. Each format only says how to build its model."""

from __future__ import annotations

from typing import Any

from ..checks.api import compare_api
from ..diff.core import Differ, Options
from ..diff.resolve import Resolver
from ..documents.refs import Workspace
from ..errors import FormatError
from ..model import Position
from ..modes import Mode
from .api_model import ApiModel


class ApiAdapter:
    name = ""
    title = ""  # "OpenAPI 3", "Swagger 2.0"
    version_field = ""  # "openapi", "swagger"
    expected = ""  # how the version should read, for messages
    mappings: tuple[str, ...] = ()  # top-level keys that must hold mappings
    other_field = ""  # the version field of the other API format
    other_format = ""  # its --format name and title, for the hint
    other_title = ""
    default_mode = Mode.AUTO
    default_policy = "lenient"

    def version_ok(self, version: Any) -> bool:
        raise NotImplementedError

    def build(self, ws: Workspace, resolver: Resolver) -> ApiModel:
        raise NotImplementedError

    def accepts(self, data: Any) -> bool:
        return isinstance(data, dict) and self.version_ok(data.get(self.version_field))

    def validate(self, ws: Workspace) -> None:
        data, name, field = ws.root.data, ws.root.name, self.version_field
        if not isinstance(data, dict):
            raise FormatError(
                f"not a {self.title} document: expected a mapping at the top", file=name, line=1
            )
        if self.other_field in data and field not in data:
            raise FormatError(
                f"this is a {self.other_title} document, not {self.title} "
                f"(use --format {self.other_format})",
                file=name,
                line=ws.root.locate(f"/{self.other_field}").line,
            )
        if not self.version_ok(data.get(field)):
            found = field in data
            problem = (
                f"'{field}' is {data.get(field)!r}, expected {self.expected}"
                if found
                else f"no '{field}' field"
            )
            raise FormatError(
                f"not a {self.title} document: {problem}",
                file=name,
                line=ws.root.locate(f"/{field}").line if found else 1,
            )
        for key in self.mappings:
            if key in data and not isinstance(data[key], dict):
                loc = ws.root.locate(f"/{key}")
                raise FormatError(
                    f"'{key}' must be a mapping", file=name, line=loc.line, column=loc.column
                )

    def options(self, strict: bool) -> Options:
        return Options(strict=strict, api=True, honour_defaults=False)

    def compare(self, differ: Differ, old: Workspace, new: Workspace, position: Position) -> None:
        compare_api(differ, self.build(old, differ.old), self.build(new, differ.new))
