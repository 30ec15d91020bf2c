"""The elements of one OpenAPI, Swagger or JSON Schema version, walked as documents.

Entries are read as impact analysis reads them (``impact_keys``, ``impact_refs``):

- ``operations`` (OpenAPI, Swagger): ``GET /orders/{id}`` is known when the version has that
  operation, templates compared by position and the method in any case (``operation_key``);
  webhooks and callbacks by the names their findings carry.
- ``fields`` as a JSON pointer (``/components/schemas/Order/properties/email``): known when
  it leads somewhere as written, in the root document or a file its ``$ref``s reach. A
  finding's pointer is where its element is written, so a pointer through a ``$ref``
  (``.../schema/properties/email`` where ``schema`` is a ``$ref``) would match nothing.
- ``fields`` as a property path, OpenAPI and Swagger: ``Order.address.city`` starts at the
  named component ``Order`` and goes property by property, as far as impact can follow it:
  within a component through ``allOf``/``oneOf``/``anyOf``, array ``items`` and the other
  subschema keywords a finding's pointer passes through (``schema_element``), and into other
  components through the ``$ref``s of properties, combinators and items (``RefReach``).
- ``fields`` as a property path, JSON Schema: ``lines[].qty`` is an instance path from the
  root schema (array steps are transparent, ``*`` stands for ``additionalProperties``,
  ``<pattern>`` for a ``patternProperties`` entry), through ``$ref``s and combinators, as the
  paths of findings are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any

from ..diff.resolve import Resolver
from ..documents.loader import Document
from ..documents.pointer import escape
from ..documents.refs import Workspace
from ..errors import TesseraError
from ..formats import get_adapter
from ..formats.api_adapter import ApiAdapter
from ..formats.api_model import METHODS
from .impact_keys import json_path_names, operation_key, pointer_segments
from .usage_elements import closest

Place = tuple[Document, str, Any]  # a schema: its document, pointer and value
_ROOTS = (("components", "schemas"), ("definitions",))  # OpenAPI 3, Swagger 2
_COMBINATORS = ("allOf", "oneOf", "anyOf")
_SUBSCHEMA = (
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "additionalProperties",
    "unevaluatedProperties",
    "additionalItems",
    "unevaluatedItems",
)
"""Keywords holding one subschema that a finding's pointer passes through (``schema_element``)."""
_SCHEMA_MAPS = ("patternProperties", "dependentSchemas", "$defs", "definitions")
_EXTRA = ("additionalProperties", "unevaluatedProperties")
_INSTANCE_ITEMS = ("items", "prefixItems", "additionalItems", "unevaluatedItems")
_INSTANCE_SAME = ("allOf", "oneOf", "anyOf", "if", "then", "else")
_MAX_REFS = 32  # a $ref chain longer than this is a cycle


class DocumentElements:
    """What one version of an OpenAPI, Swagger or JSON Schema contract holds."""

    def __init__(self, format_name: str, ws: Workspace) -> None:
        self.format = format_name
        self.ws = ws
        self.api = format_name in ("openapi", "swagger")
        self._operations: dict[tuple[str, ...], str] | None = None
        self._reached = False  # whether every file the $refs reach is loaded
        self._root_components: dict[str, list[Place]] | None = None
        self._all_components: dict[str, list[Place]] | None = None  # sibling files' too

    def knows(self, kind: str, entry: str) -> bool:
        if kind == "operations":
            if not self.api:
                return False
            key = operation_key(entry)
            return key in self._plain_operations() or key in self.operations()
        if entry.startswith("/"):
            segments = pointer_segments(entry)
            if self._pointer(segments, self.ws.root)[1] is None:
                return True
            self._reach_everything()  # a finding's pointer is the same in whichever file
            return any(self._pointer(segments, d)[1] is None for d in self.ws.documents.values())
        names = self._names(entry)
        if self.api and not names:
            return False  # no component named: impact reads no key from it
        return self._path(names)[1] is None

    def suggest(self, kind: str, entry: str) -> str | None:
        if kind == "operations":
            return self._closest_operation(entry) if self.api else None
        if entry.startswith("/"):
            segments = pointer_segments(entry)
            reached, failed = self._pointer(segments, self.ws.root)
            if failed is None:
                return None
            return self._repaired(
                segments,
                reached,
                failed,
                lambda parts: "/" + "/".join(escape(part) for part in parts),
                lambda parts: self._pointer(parts, self.ws.root)[1] is None,
            )
        names = self._names(entry)
        reached, failed = self._path(names)
        if failed is None:
            return None
        prefix = "$." if not self.api and entry.strip().startswith("$") else ""
        return self._repaired(
            names,
            reached,
            failed,
            lambda parts: prefix + ".".join(parts),
            lambda parts: self._path(parts)[1] is None,
        )

    def operations(self) -> dict[tuple[str, ...], str]:
        """The operations' keys, each with its name as its findings carry it (none in a JSON
        Schema)."""
        if not self.api:
            return {}
        if self._operations is None:
            adapter = get_adapter(self.format)
            assert isinstance(adapter, ApiAdapter)
            model = adapter.build(self.ws, Resolver(self.ws))
            labels = [operation.label for operation in model.operations.values()]
            self._operations = {operation_key(label): label for label in labels}
        return self._operations

    def _plain_operations(self) -> set[tuple[str, ...]]:
        """The keys of the operations written directly under ``paths`` (no ``$ref``d path
        item): the usual case, known without building the API model (``operations``)."""
        paths = self.ws.root.data.get("paths") if isinstance(self.ws.root.data, dict) else None
        if not isinstance(paths, dict):
            return set()
        return {
            operation_key(f"{method.upper()} {path}")
            for path, item in paths.items()
            if isinstance(path, str)
            and path.startswith("/")
            and isinstance(item, dict)
            and "$ref" not in item
            for method in METHODS
            if isinstance(item.get(method), dict)
        }

    def _closest_operation(self, entry: str) -> str | None:
        """The closest operation, one with the same method first."""
        labels = list(self.operations().values())
        method = entry.strip().split(" ", 1)[0].upper()
        same = [label for label in labels if label.split(" ", 1)[0] == method]
        return closest(entry, same) or closest(entry, labels)

    # -- walking

    def _names(self, entry: str) -> tuple[str, ...]:
        if self.api:
            return tuple(part for part in re.split(r"[./]", entry.strip()) if part)
        return json_path_names(entry)

    def _path(self, names: tuple[str, ...]) -> tuple[list[str], int | None]:
        """Walk ``names``: the names available where the walk stopped, and the index of the
        first name not found (None when every name was)."""
        places = self._root_places()
        for index, name in enumerate(names):
            if self.api and index == 0:
                children = self._components(name)
                following = children.get(name)
                if following is None:
                    return sorted(children), index
            else:
                following = self._children(places, name).get(name)
                if following is None:
                    return sorted(self._children(places, None)), index
            places = [p for place in following for p in self._expanded(place)]
        return [], None

    def _pointer(self, segments: tuple[str, ...], doc: Document) -> tuple[list[str], int | None]:
        """Follow a JSON pointer in ``doc`` as written (a finding's pointer is where its
        element is written, never a path through a ``$ref``): the keys where it stopped, and
        the index of the first segment not found (None when it resolves)."""
        value = doc.data
        for index, segment in enumerate(segments):
            if isinstance(value, dict) and segment in value:
                value = value[segment]
            elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
                value = value[int(segment)]
            else:
                keys = list(value) if isinstance(value, dict) else []
                return [str(k) for k in keys], index
        return [], None

    def _repaired(
        self,
        parts: tuple[str, ...],
        reached: list[str],
        failed: int,
        spell: Callable[[tuple[str, ...]], str],
        known: Callable[[tuple[str, ...]], bool],
    ) -> str | None:
        """``parts`` with its first unknown part replaced by the closest name there: with the
        rest of the entry when that is then known, else up to the replaced part."""
        found = closest(parts[failed], reached)
        if found is None:
            return None
        whole = (*parts[:failed], found, *parts[failed + 1 :])
        if failed + 1 < len(parts) and known(whole):
            return spell(whole)
        return spell(whole[: failed + 1])

    def _root_places(self) -> list[Place]:
        if self.api:
            return []
        return self._expanded((self.ws.root, "", self.ws.root.data))

    def _components(self, name: str) -> dict[str, list[Place]]:
        """The named components (name -> their places): the root document's, or, when
        ``name`` is not one of them, those of every file the version's ``$ref``s reach (a
        finding in a sibling file names its component as the root's are named)."""
        if self._root_components is None:
            self._root_components = _components_of([self.ws.root])
        if name in self._root_components:
            return self._root_components
        if self._all_components is None:
            self._reach_everything()
            self._all_components = _components_of(list(self.ws.documents.values()))
        return self._all_components

    def _reach_everything(self) -> None:
        """Load every file the version's ``$ref``s reach (after a dangling ``$ref``, those
        reached before it)."""
        if not self._reached:
            self._reached = True
            with suppress(TesseraError, OSError):
                self.ws.check_refs()

    def _children(self, places: list[Place], wanted: str | None) -> dict[str, list[Place]]:
        """Property name -> the places of its schema, from the schemas at ``places``: the
        property ``wanted`` only, or every one (None)."""
        found: dict[str, list[Place]] = {}
        seen: set[tuple[str, str]] = set()
        stack = list(places)
        while stack:
            place = stack.pop()
            doc, pointer, schema = place
            if (doc.path, pointer) in seen or not isinstance(schema, dict):
                continue
            seen.add((doc.path, pointer))
            properties = schema.get("properties")
            if isinstance(properties, dict):
                names = properties if wanted is None else [wanted] if wanted in properties else []
                for name in names:
                    at = f"{pointer}/properties/{escape(name)}"
                    found.setdefault(str(name), []).append((doc, at, properties[name]))
            stack += self._api_within(place) if self.api else self._instance_within(place, found)
        return found

    def _api_within(self, place: Place) -> Iterator[Place]:
        """The subschemas of ``place`` whose properties impact names as the component's own
        (a finding's pointer passes through them) or, through a ``$ref``, as the component's
        the reference enters."""
        doc, pointer, schema = place
        for keyword in _COMBINATORS:
            members = schema.get(keyword)
            if isinstance(members, list):
                for number, member in enumerate(members):
                    yield from self._expanded((doc, f"{pointer}/{keyword}/{number}", member))
        items = schema.get("items")
        if isinstance(items, dict):
            yield from self._expanded((doc, f"{pointer}/items", items))
        for keyword in _SUBSCHEMA:
            value = schema.get(keyword)
            if isinstance(value, dict):
                yield doc, f"{pointer}/{keyword}", value
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list):
            for number, member in enumerate(prefix):
                yield doc, f"{pointer}/prefixItems/{number}", member
        for keyword in _SCHEMA_MAPS:
            members = schema.get(keyword)
            if isinstance(members, dict):
                for name, member in members.items():
                    yield doc, f"{pointer}/{keyword}/{escape(name)}", member

    def _instance_within(self, place: Place, found: dict[str, list[Place]]) -> Iterator[Place]:
        """The subschemas of ``place`` that describe the same instance (combinators,
        conditionals, dependent schemas) or its items (array steps are transparent); the
        schemas of extra members are recorded in ``found`` as ``*`` and ``<pattern>``."""
        doc, pointer, schema = place
        for keyword in (*_INSTANCE_SAME, *_INSTANCE_ITEMS):
            value = schema.get(keyword)
            members = value if isinstance(value, list) else [value]
            for number, member in enumerate(members):
                at = f"{pointer}/{keyword}" + (f"/{number}" if isinstance(value, list) else "")
                if isinstance(member, dict):
                    yield from self._expanded((doc, at, member))
        dependent = schema.get("dependentSchemas")
        if isinstance(dependent, dict):
            for name, member in dependent.items():
                at = f"{pointer}/dependentSchemas/{escape(name)}"
                yield from self._expanded((doc, at, member))
        for keyword in _EXTRA:
            value = schema.get(keyword)
            if isinstance(value, dict):
                found.setdefault("*", []).append((doc, f"{pointer}/{keyword}", value))
        patterns = schema.get("patternProperties")
        if isinstance(patterns, dict):
            for name, member in patterns.items():
                at = f"{pointer}/patternProperties/{escape(name)}"
                found.setdefault(f"<{name}>", []).append((doc, at, member))

    def _expanded(self, place: Place) -> list[Place]:
        """``place`` and, when its schema is a ``$ref``, the schema the reference leads to."""
        resolved = self._resolve(place)
        return [place] if resolved is None else [place, resolved]

    def _resolve(self, place: Place) -> Place | None:
        """The end of the ``$ref`` chain at ``place`` (None when it holds no ``$ref`` or the
        chain does not resolve)."""
        doc, pointer, schema = place
        followed = False
        for _ in range(_MAX_REFS):
            ref = schema.get("$ref") if isinstance(schema, dict) else None
            if not isinstance(ref, str):
                break
            try:
                doc, pointer, schema = self.ws.resolve(doc, ref, pointer)
            except (TesseraError, OSError, KeyError, TypeError):
                return None
            followed = True
        return (doc, pointer, schema) if followed else None


def _components_of(documents: list[Document]) -> dict[str, list[Place]]:
    found: dict[str, list[Place]] = {}
    for doc in documents:
        for root in _ROOTS:
            schemas = _get(doc.data, root)
            if not isinstance(schemas, dict):
                continue
            base = "/" + "/".join(root)
            for name, schema in schemas.items():
                found.setdefault(str(name), []).append((doc, f"{base}/{escape(name)}", schema))
    return found


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        if not isinstance(data, dict):
            return None
        data = data.get(step)
    return data
