"""GitHub's published REST description, as the fake GitHub's referee.

``Description.load(path)`` reads an OpenAPI 3.1 document whose schemas are plain JSON Schema
(the vendored subset of ``@octokit/openapi``, ``tests/app/github/rest_description/``); each
``Operation`` in it checks one request (path and query parameters, JSON body) and one response
(the schema of its status) with the ``jsonschema`` package, and answers ``Violation`` s that name
the operation and the JSON pointer of what is wrong.

The fake consults the description given to ``create_app(state, description=...)``, else the
process-wide one set with ``use(description)`` (the tests set it once); without either, nothing
is checked. Every violation is also kept on the description (``take_violations``) so a test run
can fail on one even when the client swallowed the error answer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

MAX_REPORTED = 10  # errors reported per request or response


@dataclass(frozen=True)
class Violation:
    """One way a request or a response departs from the description."""

    operation: str  # the operationId, e.g. ``pulls/get``
    direction: str  # ``request`` or ``response``
    status: int | None  # the response's status (None for a request)
    pointer: str  # a JSON pointer into the body, or ``/path/<name>``, ``/query/<name>``
    message: str

    def __str__(self) -> str:
        where = self.direction if self.status is None else f"{self.direction} {self.status}"
        return f"{self.operation} {where} at {self.pointer or '/'}: {self.message}"


def _formats() -> FormatChecker:
    """The formats GitHub's description uses that can be checked without more packages."""
    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if isinstance(value, str):
            datetime.fromisoformat(value)
        return True

    @checker.checks("date", raises=ValueError)
    def _date(value: object) -> bool:
        if isinstance(value, str):
            date.fromisoformat(value)
        return True

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        return not isinstance(value, str) or bool(urlsplit(value).scheme)

    return checker


FORMATS = _formats()


def _pointer(parts: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _errors(validator: Draft202012Validator, value: Any) -> list[ValidationError]:
    found = []
    for error in validator.iter_errors(value):
        found.append(best_match([error]) if error.context else error)
        if len(found) >= MAX_REPORTED:
            break
    return sorted(found, key=lambda e: list(map(str, e.absolute_path)))


@dataclass(frozen=True)
class Parameter:
    name: str
    where: str  # path | query | header
    required: bool
    validator: Draft202012Validator

    def coerce(self, text: str) -> Any:
        """The value of ``text`` as the schema's type sees it (query strings are text)."""
        schema = self.validator.schema
        kinds = schema.get("type", "string") if isinstance(schema, Mapping) else "string"
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if "integer" in kinds:
            try:
                return int(text)
            except ValueError:
                return text
        if "boolean" in kinds and text in ("true", "false"):
            return text == "true"
        return text


class Operation:
    """One operation of the description: its parameters, body and response schemas."""

    def __init__(self, method: str, path: str, doc: Mapping[str, Any]) -> None:
        self.id: str = doc["operationId"]
        self.method = method.upper()
        self.path = path
        self.parameters = [
            Parameter(
                p["name"],
                p["in"],
                bool(p.get("required", False)),
                Draft202012Validator(p.get("schema", {}), format_checker=FORMATS),
            )
            for p in doc.get("parameters", [])
        ]
        body = doc.get("requestBody")
        self.body_required = bool(body and body.get("required"))
        self.body: Draft202012Validator | None = None
        if body is not None:
            schema = _json_schema(body.get("content", {}))
            self.body = Draft202012Validator(schema or {}, format_checker=FORMATS)
        self.responses: dict[str, Draft202012Validator | None] = {}
        for status, response in doc.get("responses", {}).items():
            schema = _json_schema(response.get("content", {}))
            self.responses[status] = (
                None if schema is None else Draft202012Validator(schema, format_checker=FORMATS)
            )

    def check_request(
        self, path_args: Mapping[str, str], query: Mapping[str, str], body: Any, has_body: bool
    ) -> list[Violation]:
        """The ways a request departs from the operation's parameters and body schema."""
        found: list[Violation] = []
        given = {"path": path_args, "query": query}
        for parameter in self.parameters:
            values = given.get(parameter.where)
            if values is None:
                continue  # headers and cookies: not checked
            pointer = f"/{parameter.where}/{parameter.name}"
            if parameter.name not in values:
                if parameter.required:
                    found.append(self._violation(pointer, "a required parameter is missing"))
                continue
            value = parameter.coerce(values[parameter.name])
            for error in _errors(parameter.validator, value):
                found.append(self._violation(pointer, error.message))
        if self.body is None:
            if has_body and body not in ({}, None):
                found.append(self._violation("", "the operation takes no request body"))
            return found
        if not has_body:
            if self.body_required:
                found.append(self._violation("", "the request body is required"))
            return found
        for error in _errors(self.body, body):
            found.append(self._violation(_pointer(error.absolute_path), error.message))
        return found

    def check_response(self, status: int, body: Any) -> list[Violation]:
        """The ways a response departs from the schema the description gives its status."""
        key = str(status)
        if key not in self.responses:
            key = "default" if "default" in self.responses else ""
        if not key:
            if status >= 400:
                return []  # GitHub documents only some errors (401, 403, 5xx come anywhere)
            described = ", ".join(sorted(self.responses))
            message = f"status {status} is not described (only {described})"
            return [Violation(self.id, "response", status, "", message)]
        validator = self.responses[key]
        if validator is None:
            if status >= 400 or body in (None, b"", {}):
                return []  # an error body GitHub sends and the description does not show
            return [Violation(self.id, "response", status, "", "a body where none is described")]
        return [
            Violation(self.id, "response", status, _pointer(e.absolute_path), e.message)
            for e in _errors(validator, body)
        ]

    def _violation(self, pointer: str, message: str) -> Violation:
        return Violation(self.id, "request", None, pointer, message)


def _json_schema(content: Mapping[str, Any]) -> dict[str, Any] | None:
    entry = content.get("application/json")
    if entry is None:
        return None
    schema = entry.get("schema")
    return dict(schema) if isinstance(schema, dict) else {}


class Description:
    """The operations of one REST description, by operationId, and the violations seen."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        info = doc.get("info", {})
        self.api_version: str = str(info.get("x-github-api-version") or info.get("version"))
        self.source: dict[str, Any] = dict(info.get("x-source", {}))
        self.operations: dict[str, Operation] = {}
        for path, item in doc.get("paths", {}).items():
            for method, operation in item.items():
                if isinstance(operation, dict) and "operationId" in operation:
                    made = Operation(method, path, operation)
                    self.operations[made.id] = made
        self._violations: list[Violation] = []
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path | str) -> Description:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def operation(self, operation_id: str) -> Operation | None:
        return self.operations.get(operation_id)

    def record(self, violations: Iterable[Violation]) -> None:
        with self._lock:
            self._violations.extend(violations)

    def violations(self) -> list[Violation]:
        with self._lock:
            return list(self._violations)

    def take_violations(self) -> list[Violation]:
        """The violations seen since the last call (and forget them)."""
        with self._lock:
            taken, self._violations = self._violations, []
        return taken


class _Process:
    """The description every fake GitHub of this process consults (set with ``use``)."""

    description: Description | None = None


def use(description: Description | None) -> None:
    """Check every fake GitHub of this process against ``description`` (None: stop)."""
    _Process.description = description


def active() -> Description | None:
    """The process-wide description set with ``use``, if any."""
    return _Process.description


__all__ = ["Description", "Operation", "Violation", "active", "use"]
