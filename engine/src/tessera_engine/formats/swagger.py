"""Swagger 2.0: paths, parameters, bodies and responses into the API model.

Swagger puts the schema keywords of non-body parameters, form fields and response headers on
the object itself (``type``, ``items``, ``enum``, ...). The builder synthesises a JSON Schema
from them, once per source object (the comparison memoises schemas by identity), and keeps
each synthesised node at the pointer of the object it came from, so findings land on its line.

``in: body`` and ``in: formData`` parameters become the request body, one media type per
effective ``consumes`` entry (for form fields, only the form media types among them, else
``application/x-www-form-urlencoded``, or ``multipart/form-data`` when a field is a file); a
response ``schema`` gets one media type per ``produces`` entry. Bodies and responses are
compared together with those lists, so a change of the top-level ``consumes`` or ``produces``
is not mistaken for "unchanged".
"""

from __future__ import annotations

from typing import Any

from ..diff.nodes import Node
from ..diff.resolve import Resolver
from ..documents.refs import Workspace
from .api_adapter import ApiAdapter
from .api_model import (
    METHODS,
    ApiModel,
    Body,
    Header,
    MediaType,
    ModelSize,
    Operation,
    Parameter,
    Response,
    template_key,
)
from .openapi import security_requirements

# The keywords a parameter, items or header object shares with JSON Schema.
_SCHEMA_KEYWORDS = (
    "type",
    "format",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "multipleOf",
    "x-nullable",
)
_JSON = "application/json"
_URLENCODED = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"
_FORM_TYPES = (_URLENCODED, _MULTIPART)
_MAPPINGS = ("paths", "definitions", "parameters", "responses", "securityDefinitions")


class SwaggerAdapter(ApiAdapter):
    name = "swagger"
    title = "Swagger 2.0"
    version_field = "swagger"
    expected = "'2.0'"
    mappings = _MAPPINGS
    other_field, other_format, other_title = "openapi", "openapi", "OpenAPI 3"

    def version_ok(self, version: Any) -> bool:
        return str(version) == "2.0"

    def build(self, ws: Workspace, resolver: Resolver) -> ApiModel:
        return build(ws, resolver)


def build(ws: Workspace, resolver: Resolver) -> ApiModel:
    return _Builder(ws, resolver).model()


class _Builder:
    """Builds the model of one side; holds the synthesised schemas of that side."""

    def __init__(self, ws: Workspace, resolver: Resolver) -> None:
        self.ws = ws
        self.resolver = resolver
        self.root = Node(ws.root, "", ws.root.data)
        self._schemas: dict[int, dict[str, Any]] = {}  # id(source object) -> its schema
        self._forms: dict[int, Node] = {}  # id(operation) -> its form fields as one schema
        self.size = ModelSize(ws)

    def model(self) -> ApiModel:
        operations: dict[str, Operation] = {}
        paths = self.root.kw("paths")
        for path, item in paths.members().items() if paths is not None else []:
            if isinstance(path, str) and path.startswith("/"):
                self._path_item(operations, path, item)
        return ApiModel(self.ws, self.root, operations, self._servers(), self._schemes())

    # -- operations ---------------------------------------------------------------------------

    def _path_item(self, operations: dict[str, Operation], path: str, item_node: Node) -> None:
        item = self.resolver.follow_ref(item_node)
        if not isinstance(item.value, dict):
            return
        tkey, names = template_key(path)
        for method in METHODS:
            op = item.kw(method)
            if op is not None and isinstance(op.value, dict):
                key = f"{method.upper()} {tkey}"
                operation = self._operation(key, f"{method.upper()} {path}", op, item, names)
                self.size.add(operation)
                operations[key] = operation

    def _operation(self, key: str, label: str, op: Node, item: Node, names: list[str]) -> Operation:
        shared = item.kw("parameters")
        raw = self._merged_parameters(shared, op.kw("parameters"))
        parameters: dict[str, Parameter] = {}
        for node in raw:
            if node.get("in") not in ("body", "formData"):
                parameter = self._parameter(node, names)
                parameters[parameter.key] = parameter
        security_node = op.kw("security") if op.has("security") else self.root.kw("security")
        inherited = [self.root.kw(k) for k in ("security", "consumes", "produces") if not op.has(k)]
        parts = [
            op,
            *([shared] if shared is not None else []),
            *(node for node in inherited if node is not None),
        ]
        return Operation(
            key=key,
            label=label,
            node=op,
            path_item=item,
            parameters=parameters,
            body=self._body(op, raw, op.kw("parameters") or shared or op),
            responses=self._responses(op),
            security=security_requirements(security_node),
            security_node=security_node,
            parts=parts,
        )

    def _merged_parameters(self, *sources: Node | None) -> list[Node]:
        """Path-level then operation-level parameters, the latter overriding the former when
        they have the same location and name."""
        found: dict[tuple[str, str], Node] = {}
        for source in sources:
            for raw in source.items() if source is not None else []:
                node = self.resolver.follow_ref(raw)
                name, location = node.get("name"), node.get("in")
                if isinstance(name, str) and isinstance(location, str):
                    found[location, name] = node
        return list(found.values())

    def _parameter(self, node: Node, template_names: list[str]) -> Parameter:
        name, location = node.value["name"], node.value["in"]
        if location == "path" and name in template_names:
            key = f"path.{template_names.index(name)}"
        elif location == "header":
            key = f"header.{name.lower()}"
        else:
            key = f"{location}.{name}"
        serialization = {"collectionFormat": node.get("collectionFormat", "csv")}
        required = node.get("required") is True or location == "path"
        return Parameter(
            key,
            name,
            location,
            node,
            self._schema_node(node),
            required,
            node.get("deprecated") is True,
            serialization,
        )

    # -- synthesised schemas ------------------------------------------------------------------

    def _schema_node(self, node: Node) -> Node:
        """The JSON Schema of a parameter, items or header object, at that object's place."""
        return Node(node.doc, node.ptr, self._schema(node.value))

    def _schema(self, source: dict[str, Any]) -> dict[str, Any]:
        cached = self._schemas.get(id(source))
        if cached is not None:
            return cached
        schema = {k: source[k] for k in _SCHEMA_KEYWORDS if k in source}
        if schema.get("type") == "file":
            schema.update(type="string", format="binary")
        items = source.get("items")
        if isinstance(items, dict):
            schema["items"] = self._schema(items)
        self._schemas[id(source)] = self.resolver.synthesize(schema)
        return schema

    def _form_schema(self, op: Node, fields: list[Node], anchor: Node) -> Node:
        """The form fields of an operation as one object schema; each property keeps the
        location of its field."""
        cached = self._forms.get(id(op.value))
        if cached is not None:
            return cached
        properties: dict[str, Any] = {}
        origins: dict[str, Node] = {}
        for field in fields:
            origins[field.value["name"]] = self._schema_node(field)
            properties[field.value["name"]] = origins[field.value["name"]].value
        value: dict[str, Any] = {
            "type": "object",
            "properties": self.resolver.synthesize(properties),
        }
        required = [f.value["name"] for f in fields if f.get("required") is True]
        if required:
            value["required"] = required
        schema = Node(
            anchor.doc,
            anchor.ptr,
            self.resolver.synthesize(value),
            origins={
                "properties": Node(anchor.doc, anchor.ptr, properties, origins=origins),
            },
        )
        self._forms[id(op.value)] = schema
        return schema

    # -- bodies -------------------------------------------------------------------------------

    def _body(self, op: Node, parameters: list[Node], anchor: Node) -> Body | None:
        body = [p for p in parameters if p.get("in") == "body"]
        if body:
            node = body[-1]
            media = self._media(op, "consumes", _JSON)
            return self._make_body(
                node, node.get("required") is True, node.kw("required"), media, node.kw("schema")
            )
        fields = [p for p in parameters if p.get("in") == "formData"]
        if not fields:
            return None
        default = _MULTIPART if any(f.get("type") == "file" for f in fields) else _URLENCODED
        media = [
            (name, at)
            for name, at in self._media(op, "consumes", default)
            if name.lower() in _FORM_TYPES
        ] or [(default, anchor)]
        required = [f.kw("required") for f in fields if f.get("required") is True]
        return self._make_body(
            anchor,
            bool(required),
            required[0] if required else None,
            media,
            self._form_schema(op, fields, anchor),
        )

    def _make_body(
        self,
        at: Node,
        required: bool,
        required_node: Node | None,
        media: list[tuple[str, Node]],
        schema: Node | None,
    ) -> Body:
        """A body whose node's value holds everything that decides whether it changed: its
        requiredness, media types and schema."""
        value: dict[str, Any] = {
            "consumes": [name for name, _ in media],
            "schema": schema.value if schema is not None else None,
        }
        origins = {}
        if required:
            value["required"] = True
            origins["required"] = required_node or at
        node = Node(at.doc, at.ptr, self.resolver.synthesize(value), origins=origins)
        content = {name.lower(): MediaType(name, where, schema) for name, where in media}
        return Body(node, required, content)

    def _media(self, op: Node, keyword: str, default: str) -> list[tuple[str, Node]]:
        """The effective ``consumes`` or ``produces`` of an operation: (media type, where it is
        declared); the default, placed at the operation, when neither level declares any."""
        declared = op.kw(keyword) or self.root.kw(keyword)
        found = [
            (item.value, item)
            for item in (declared.items() if declared is not None else [])
            if isinstance(item.value, str)
        ]
        return found or [(default, op)]

    # -- responses ----------------------------------------------------------------------------

    def _responses(self, op: Node) -> dict[str, Response]:
        found: dict[str, Response] = {}
        raw = op.kw("responses")
        for status, response in raw.members().items() if raw is not None else []:
            if str(status).startswith("x-"):
                continue
            node = self.resolver.follow_ref(response)
            if isinstance(node.value, dict):
                code = str(status).upper() if str(status).lower() != "default" else "default"
                found[code] = self._response(op, code, node)
        return found

    def _response(self, op: Node, code: str, node: Node) -> Response:
        headers: dict[str, Header] = {}
        header_map = node.kw("headers")
        for name, header in header_map.members().items() if header_map is not None else []:
            if isinstance(header.value, dict):
                headers[name.lower()] = Header(name, header, self._schema_node(header), False)
        schema = node.kw("schema")
        media = self._media(op, "produces", _JSON) if schema is not None else []
        content = {name.lower(): MediaType(name, where, schema) for name, where in media}
        # the node's value includes the media types, so a new ``produces`` is a change
        value = self.resolver.synthesize({**node.value, "produces": list(content)})
        return Response(code, Node(node.doc, node.ptr, value, ref=node.ref), content, headers)

    # -- what all operations share ------------------------------------------------------------

    def _servers(self) -> dict[str, Node]:
        host = self.root.kw("host")
        base_node = self.root.kw("basePath")
        base = base_node.value if base_node is not None and isinstance(base_node.value, str) else ""
        base = "" if base == "/" else base
        if host is None or not isinstance(host.value, str):
            return {base: base_node} if base and base_node is not None else {}
        schemes = self.root.get("schemes")
        if not isinstance(schemes, list) or not schemes:
            schemes = ["https"]
        return {
            f"{scheme}://{host.value}{base}": host for scheme in schemes if isinstance(scheme, str)
        }

    def _schemes(self) -> dict[str, Node]:
        definitions = self.root.kw("securityDefinitions")
        if definitions is None:
            return {}
        return {name: self._scheme(node) for name, node in definitions.members().items()}

    def _scheme(self, node: Node) -> Node:
        """An OAuth2 scheme gets an OpenAPI 3 style ``flows`` view of its one flow, so a
        changed flow or URL is reported like in OpenAPI 3."""
        flow = node.get("flow")
        if not isinstance(flow, str):
            return node
        urls = {k: node.value[k] for k in ("authorizationUrl", "tokenUrl") if k in node.value}
        value = self.resolver.synthesize({**node.value, "flows": {flow: urls}})
        return Node(node.doc, node.ptr, value)
