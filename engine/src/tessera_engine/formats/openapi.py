"""OpenAPI 3.0 and 3.1: paths, webhooks and callbacks into the API model."""

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

_DEFAULT_STYLE = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}


class OpenApiAdapter(ApiAdapter):
    name = "openapi"
    title = "OpenAPI 3"
    version_field = "openapi"
    expected = "3.0.x or 3.1.x"
    mappings = ("paths", "webhooks", "components")
    other_field, other_format, other_title = "swagger", "swagger", "Swagger 2.0"

    def version_ok(self, version: Any) -> bool:
        return isinstance(version, str) and version.startswith("3.")

    def build(self, ws: Workspace, resolver: Resolver) -> ApiModel:
        return build(ws, resolver)


def build(ws: Workspace, resolver: Resolver) -> ApiModel:
    root = Node(ws.root, "", ws.root.data)
    operations = _Operations(ModelSize(ws))
    global_security = root.kw("security")
    paths = root.kw("paths")
    if paths is not None:
        for path, item in paths.members().items():
            if isinstance(path, str) and path.startswith("/"):
                _path_item(resolver, operations, path, item, global_security, "", "", False)
    webhooks = root.kw("webhooks")
    if webhooks is not None:
        for name, item in webhooks.members().items():
            _path_item(
                resolver,
                operations,
                name,
                item,
                global_security,
                f"WEBHOOK {name} ",
                f"WEBHOOK {name} ",
                True,
                template=False,
            )
    servers = {}
    server_list = root.kw("servers")
    for server in server_list.items() if server_list is not None else []:
        url = server.get("url")
        if isinstance(url, str):
            servers[url] = server
    schemes: dict[str, Node] = {}
    components = root.kw("components")
    scheme_map = components.kw("securitySchemes") if components is not None else None
    if scheme_map is not None:
        for name, scheme in scheme_map.members().items():
            schemes[name] = resolver.follow_ref(scheme)
    return ApiModel(ws, root, dict(operations), servers, schemes)


class _Operations(dict[str, Operation]):
    """The operations found so far (by key), counted against the model's size as they come,
    with the callbacks being expanded (a callback that leads back to itself is not expanded
    inside itself again)."""

    def __init__(self, size: ModelSize) -> None:
        super().__init__()
        self.size = size
        self.expanding: set[int] = set()

    def __setitem__(self, key: str, operation: Operation) -> None:
        self.size.add(operation)
        super().__setitem__(key, operation)


def _path_item(
    resolver: Resolver,
    operations: _Operations,
    path: str,
    item_node: Node,
    global_security: Node | None,
    key_prefix: str,
    label_prefix: str,
    flipped: bool,
    *,
    template: bool = True,
) -> None:
    item = resolver.follow_ref(item_node)
    if not isinstance(item.value, dict):
        return
    tkey, names = template_key(path) if template else (path, [])
    shared = item.kw("parameters")
    for method in METHODS:
        op = item.kw(method)
        if op is None or not isinstance(op.value, dict):
            continue
        key = (
            f"{key_prefix}{method.upper()}"
            if not template
            else f"{key_prefix}{method.upper()} {tkey}"
        )
        label = (
            f"{label_prefix}{method.upper()}"
            if not template
            else f"{label_prefix}{method.upper()} {path}"
        )
        parameters: dict[str, Parameter] = {}
        for source in (shared, op.kw("parameters")):
            for raw in source.items() if source is not None else []:
                parameter = _parameter(resolver, raw, names)
                if parameter is not None:
                    parameters[parameter.key] = parameter
        security_node = op.kw("security") if op.has("security") else global_security
        security = security_requirements(security_node)
        parts = [op] + ([shared] if shared is not None else [])
        if not op.has("security") and global_security is not None:
            parts.append(global_security)
        operations[key] = Operation(
            key=key,
            label=label,
            node=op,
            path_item=item,
            parameters=parameters,
            body=_body(resolver, op.kw("requestBody")),
            responses=_responses(resolver, op.kw("responses")),
            security=security,
            security_node=security_node,
            flipped=flipped,
            parts=parts,
        )
        callbacks = op.kw("callbacks")
        for cb_name, raw_callback in callbacks.members().items() if callbacks is not None else []:
            callback = resolver.follow_ref(raw_callback)
            if id(callback.value) in operations.expanding:
                continue  # a callback inside itself: its operations are listed once, above
            operations.expanding.add(id(callback.value))
            for expression, cb_item in callback.members().items():
                _path_item(
                    resolver,
                    operations,
                    expression,
                    cb_item,
                    global_security,
                    f"{key} CALLBACK {cb_name} {expression} ",
                    f"{label} → callback {cb_name} ",
                    not flipped,
                    template=False,
                )
            operations.expanding.discard(id(callback.value))


def security_requirements(node: Node | None) -> list[dict[str, list[str]]] | None:
    if node is None or not isinstance(node.value, list):
        return None
    requirements = []
    for requirement in node.value:
        if isinstance(requirement, dict):
            requirements.append(
                {
                    str(name): sorted(str(s) for s in scopes) if isinstance(scopes, list) else []
                    for name, scopes in requirement.items()
                }
            )
    return requirements


def _parameter(resolver: Resolver, raw: Node, template_names: list[str]) -> Parameter | None:
    node = resolver.follow_ref(raw)
    value = node.value
    if not isinstance(value, dict):
        return None
    name, location = value.get("name"), value.get("in")
    if not isinstance(name, str) or not isinstance(location, str):
        return None
    if location == "path" and name in template_names:
        key = f"path.{template_names.index(name)}"
    elif location == "header":
        key = f"header.{name.lower()}"
    else:
        key = f"{location}.{name}"
    schema = node.kw("schema")
    content_type = None
    content = node.kw("content")
    if schema is None and content is not None:
        for media_name, media in content.members().items():
            content_type = media_name
            schema = media.kw("schema")
            break
    style = value.get("style", _DEFAULT_STYLE.get(location, "form"))
    serialization = {
        "style": style,
        "explode": value.get("explode", style == "form"),
        "allowReserved": value.get("allowReserved", False),
        "content": content_type,
    }
    required = value.get("required") is True or location == "path"
    return Parameter(
        key, name, location, node, schema, required, value.get("deprecated") is True, serialization
    )


def _media_types(resolver: Resolver, content: Node | None) -> dict[str, MediaType]:
    found: dict[str, MediaType] = {}
    if content is None:
        return found
    for name, media in content.members().items():
        if isinstance(media.value, dict):
            found[name.lower()] = MediaType(name, media, media.kw("schema"))
    return found


def _body(resolver: Resolver, raw: Node | None) -> Body | None:
    if raw is None:
        return None
    node = resolver.follow_ref(raw)
    if not isinstance(node.value, dict):
        return None
    return Body(node, node.get("required") is True, _media_types(resolver, node.kw("content")))


def _responses(resolver: Resolver, raw: Node | None) -> dict[str, Response]:
    found: dict[str, Response] = {}
    if raw is None:
        return found
    for status, response in raw.members().items():
        if str(status).startswith("x-"):
            continue
        node = resolver.follow_ref(response)
        if not isinstance(node.value, dict):
            continue
        headers: dict[str, Header] = {}
        header_map = node.kw("headers")
        for name, raw_header in header_map.members().items() if header_map is not None else []:
            header = resolver.follow_ref(raw_header)
            if not isinstance(header.value, dict):
                continue
            schema = header.kw("schema")
            content = header.kw("content")
            if schema is None and content is not None:
                media = next(iter(content.members().values()), None)
                schema = media.kw("schema") if media is not None else None
            headers[name.lower()] = Header(name, header, schema, header.get("required") is True)
        code = str(status).upper() if str(status).lower() != "default" else "default"
        found[code] = Response(code, node, _media_types(resolver, node.kw("content")), headers)
    return found
