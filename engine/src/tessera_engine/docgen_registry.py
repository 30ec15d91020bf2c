"""The registry reference (``docs/registry-reference.md``), generated from the JSON Schemas of the
registry's file kinds (``registry/schemas/*.schema.json``): every file kind, and every field with
its type, whether it is required, its default, its allowed values and its description.

A field's default is the schema's ``default`` keyword, or else the one its description states
in the schemas' convention, ``default X`` at the end (``whether ... (default true)``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).resolve().parent / "registry" / "schemas"
ORDER = ("settings", "team", "contract", "consumer", "version")
"""The file kinds in the order a reader meets them; any other schema follows by name."""

_DEFAULT_IN_TEXT = re.compile(r"(?:^|\()default ([^()]+?)\)?$")
_CONSTRAINTS = (
    ("minimum", "≥ {}"),
    ("maximum", "≤ {}"),
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
    ("minProperties", "at least {} keys"),
    ("maxProperties", "at most {} keys"),
)

Schema = dict[str, Any]


@dataclass(frozen=True)
class Field:
    path: str
    type: str
    required: bool
    default: str
    allowed: str
    description: str


def kind_of(path: Path) -> str:
    return path.name.removesuffix(".schema.json")


def schema_paths(directory: Path = SCHEMAS) -> list[Path]:
    def rank(path: Path) -> tuple[int, str]:
        kind = kind_of(path)
        return (ORDER.index(kind) if kind in ORDER else len(ORDER), kind)

    return sorted(directory.glob("*.schema.json"), key=rank)


def _resolve(node: Schema, root: Schema) -> Schema:
    """``node`` with its local ``$ref`` (``#/$defs/name``) merged in; its own keys win."""
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    if not ref.startswith("#/$defs/"):
        raise ValueError(f"unsupported $ref {ref!r}: only #/$defs/... is documented")
    target = _resolve(root["$defs"][ref.removeprefix("#/$defs/")], root)
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


def type_of(node: Schema, root: Schema) -> str:
    node = _resolve(node, root)
    declared = node.get("type")
    if isinstance(declared, list):
        return " or ".join(str(t) for t in declared)
    if "enum" in node and declared is None:
        kinds = sorted({_json_type(v) for v in node["enum"]})
        return " or ".join(kinds)
    if declared == "array":
        items = node.get("items")
        return f"array of {type_of(items, root)}" if isinstance(items, dict) else "array"
    map_of = node.get("additionalProperties")
    if declared == "object" and isinstance(map_of, dict) and "properties" not in node:
        return f"map of {type_of(map_of, root)}"
    return str(declared) if declared else "any"


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if value is None:
        return "null"
    return "string" if isinstance(value, str) else type(value).__name__


def _code(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"


def allowed_of(node: Schema, root: Schema) -> str:
    node = _resolve(node, root)
    parts: list[str] = []
    if "enum" in node:
        values = (v if isinstance(v, str) else json.dumps(v) for v in node["enum"])
        parts.append(", ".join(_code(v) for v in values))
    if "const" in node:
        parts.append("only " + _code(json.dumps(node["const"])))
    if "pattern" in node:
        parts.append("pattern " + _code(node["pattern"]))
    for key, text in _CONSTRAINTS:
        if key in node:
            empty = key in ("minLength", "minItems", "minProperties") and node[key] == 1
            parts.append("not empty" if empty else text.format(node[key]))
    if node.get("uniqueItems"):
        parts.append("no duplicates")
    if isinstance(node.get("propertyNames"), dict):
        keys = allowed_of(node["propertyNames"], root)
        if keys:
            parts.append(f"keys: {keys}")
    items = node.get("items")
    if node.get("type") == "array" and isinstance(items, dict):
        item = _resolve(items, root)
        if item.get("type") != "object":
            inner = allowed_of(item, root)
            if inner:
                parts.append(f"each item: {inner}")
    return "; ".join(parts)


def default_of(node: Schema, root: Schema) -> str:
    node = _resolve(node, root)
    if "default" in node:
        value = node["default"]
        return _code(value if isinstance(value, str) else json.dumps(value))
    match = _DEFAULT_IN_TEXT.search(str(node.get("description", "")))
    return _code(match.group(1)) if match else ""


def _describe(node: Schema, root: Schema) -> str:
    node = _resolve(node, root)
    texts = [str(node.get("description", ""))]
    items = node.get("items")
    if node.get("type") == "array" and isinstance(items, dict):
        item = _resolve(items, root)
        if item.get("type") == "object":
            if item.get("description"):
                texts.append(f"each item: {item['description']}")
            node = item
    extra = node.get("additionalProperties")
    if node.get("type") == "object" and "properties" in node and extra in (None, True):
        texts.append("other keys are allowed")
    text = "; ".join(t for t in texts if t)
    return " ".join(text.split()).replace("|", "\\|")


def fields(node: Schema, root: Schema, prefix: str = "") -> Iterator[Field]:
    """Every documented field below ``node``, depth first, in the schema's order."""
    node = _resolve(node, root)
    required = set(node.get("required", ()))
    for name, child in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        yield Field(
            path=path,
            type=type_of(child, root),
            required=name in required,
            default=default_of(child, root),
            allowed=allowed_of(child, root),
            description=_describe(child, root),
        )
        yield from _below(child, root, path)


def _below(node: Schema, root: Schema, path: str) -> Iterator[Field]:
    node = _resolve(node, root)
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        item = _resolve(node["items"], root)
        if item.get("type") == "object" or "properties" in item:
            yield from fields(item, root, f"{path}[].")
    elif "properties" in node:
        yield from fields(node, root, f"{path}.")
    elif isinstance(node.get("additionalProperties"), dict):
        value = _resolve(node["additionalProperties"], root)
        if "properties" in value:
            yield from fields(value, root, f"{path}.*.")


def _cell(text: str) -> str:
    return text or "—"


def kind_markdown(path: Path) -> list[str]:
    root: Schema = json.loads(path.read_text(encoding="utf-8"))
    where, _, what = _title(path).partition(": ")
    lines = [f"## `{where}`", ""]
    if what:
        lines += [f"{what[:1].upper()}{what[1:]}. {root.get('description', '')}".rstrip(), ""]
    lines += [
        f"Schema: [`{path.name}`](../registry-template/schemas/{path.name}) (`{root.get('$id')}`).",
        "",
        "| field | type | required | default | allowed values | description |",
        "|---|---|---|---|---|---|",
    ]
    for field in fields(root, root):
        lines.append(
            f"| `{field.path}` | {field.type} | {'yes' if field.required else ''} "
            f"| {_cell(field.default)} | {_cell(field.allowed)} | {_cell(field.description)} |"
        )
    lines.append("")
    return lines


def registry_reference_markdown(directory: Path = SCHEMAS) -> str:
    from .docgen import GENERATED

    paths = schema_paths(directory)
    lines = [
        GENERATED,
        "",
        "# Registry reference",
        "",
        "Every file kind of the registry repository and every field it may hold, generated from",
        "the JSON Schemas that `tessera registry validate` checks each file against. Unknown keys",
        "are errors unless a row says otherwise. `a[].b` is the key `b` of each item of the list",
        "`a`; `a.*` is any key of the mapping `a`. A field left out takes its default (a",
        "contract's settings fall back to the registry's `defaults`). How the files fit together,",
        "the cross-checks and published versions: [the registry](registry.md).",
        "",
    ]
    for path in paths:
        where, _, what = _title(path).partition(": ")
        lines.append(f"- [`{where}`](#{_anchor(where)}): {what}")
    lines.append("")
    for path in paths:
        lines += kind_markdown(path)
    return "\n".join(lines)


def _title(path: Path) -> str:
    return str(json.loads(path.read_text(encoding="utf-8")).get("title", kind_of(path)))


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading (``## `contracts/<id>.yaml` `` → ``contractsidyaml``)."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-")
