"""The normalized model of an HTTP API, shared by OpenAPI 3.x and Swagger 2.0.

Every element has a natural key, independent of its position in the file and of formatting:

- an operation: ``GET /pets/{}`` (path parameters are positional, so renaming ``{id}`` to
  ``{petId}`` keeps the key); webhooks ``WEBHOOK newPet POST``; callbacks
  ``POST /subscribe CALLBACK onEvent {$request.body#/url} POST``;
- a parameter: ``query.limit``, ``header.x-request-id`` (lower-cased: HTTP headers are
  case-insensitive), ``path.1`` (its position in the template);
- a response: its status code (``200``, ``4XX``, ``default``); a media type: its name; a header:
  its lower-cased name.

Schemas stay as located JSON Schema nodes: the schema checks compare them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..diff.nodes import Node
from ..documents.refs import Workspace
from ..limits import max_elements, too_many_elements
from ..model import Position

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SUCCESS_PREFIXES = ("2", "3")


@dataclass(eq=False)
class MediaType:
    name: str
    node: Node
    schema: Node | None


@dataclass(eq=False)
class Parameter:
    key: str
    name: str
    location: str
    node: Node
    schema: Node | None
    required: bool
    deprecated: bool
    serialization: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Body:
    node: Node
    required: bool
    content: dict[str, MediaType]


@dataclass(eq=False)
class Header:
    name: str
    node: Node
    schema: Node | None
    required: bool


@dataclass(eq=False)
class Response:
    status: str
    node: Node
    content: dict[str, MediaType]
    headers: dict[str, Header]

    @property
    def success(self) -> bool:
        return self.status.startswith(SUCCESS_PREFIXES) or self.status == "default"


@dataclass(eq=False)
class Operation:
    key: str
    label: str
    node: Node
    path_item: Node | None
    parameters: dict[str, Parameter]
    body: Body | None
    responses: dict[str, Response]
    security: list[dict[str, list[str]]] | None
    security_node: Node | None
    flipped: bool = False  # webhooks and callbacks: the API provider sends the request
    parts: list[Node] = field(default_factory=list)  # everything the operation depends on

    @property
    def method(self) -> str:
        return self.label.split(" ", 1)[0]

    @property
    def request_position(self) -> Position:
        """Who reads the request (parameters, body, credentials): the provider, so an input;
        for a webhook or callback, where the provider sends the request, the consumer."""
        return Position.OUTPUT if self.flipped else Position.INPUT

    @property
    def response_position(self) -> Position:
        """Who reads the responses and their headers: the consumer, or the provider for a
        webhook or callback."""
        return Position.INPUT if self.flipped else Position.OUTPUT


class ModelSize:
    """What building one side's model has created so far: operations and their parameters,
    responses, headers and media types. References make parts of a document count many
    times (a shared response with its headers under every operation, a callback under every
    operation that names it, callbacks naming each other), so the model is bounded on its
    own, by the element limit, and refused past it."""

    def __init__(self, ws: Workspace) -> None:
        self.name = ws.root.name
        self.count = 0

    def add(self, operation: Operation) -> None:
        self.count += 1 + len(operation.parameters) + len(operation.responses)
        self.count += len(operation.body.content) if operation.body is not None else 0
        for response in operation.responses.values():
            self.count += len(response.headers) + len(response.content)
        if self.count > max_elements():
            raise too_many_elements(
                self.name, what="operations, parameters, responses, headers and media types"
            )


@dataclass(eq=False)
class ApiModel:
    ws: Workspace
    root: Node
    operations: dict[str, Operation]
    servers: dict[str, Node]
    security_schemes: dict[str, Node]


def template_key(path: str) -> tuple[str, list[str]]:
    """``/pets/{petId}/toys/{toy}`` -> (``/pets/{}/toys/{}``, [``petId``, ``toy``]). An
    unclosed ``{`` is literal (each brace is looked for once: a long path stays linear)."""
    names: list[str] = []
    out: list[str] = []
    i = 0
    while i < len(path):
        start = path.find("{", i)
        end = path.find("}", start) if start >= 0 else -1
        if end < 0:
            out.append(path[i:])
            break
        out.append(path[i:start])
        names.append(path[start + 1 : end])
        out.append("{}")
        i = end + 1
    return "".join(out), names
