"""The elements of one published version, named as consumers name them in ``uses``.

``elements_of(format, published)`` loads a published version's spec as ``tessera diff`` loads
it and answers, for one declared entry (``operations: [GET /orders]``), whether it names
something the version holds, and which real element is closest when it does not.

"Holds" follows impact analysis exactly (``impact_keys``): an entry is known when one of its
keys is the key of an element of the version, or encloses one (``shop.v1`` encloses
``shop.v1.Order``; dbt ``orders.*`` is the relation ``orders``): precisely the entries whose
key a finding on that version's elements can meet as ``exact`` or ``inside``. An entry that
only an enclosing element's change could meet (``Order.nonexistent``, whose parent ``Order``
exists) names nothing, and is unknown.

    graphql   types, fields, arguments (Type.field(arg:)), input fields, enum values,
              directives (@name) and their arguments, ``schema`` and its root operations
    protobuf  messages (nested ones too), fields, oneofs, enums and their values, services,
              RPCs (Service/Method), extensions; packages enclose them
    avro      named types, record fields, enum symbols; a field's array items (``field[]``),
              map values (``field{}``) and union branches (``field|branch``) as findings name
              them
    dbt       relations (``orders``, a source's ``raw.orders.*``) and their columns

OpenAPI, Swagger and JSON Schema are walked as documents (``usage_documents``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from ..documents.refs import Workspace
from ..formats import get_adapter
from ..formats.native import NATIVE_NAMES, Settings, native_format
from .impact_keys import Key, usage_keys
from .model import PublishedVersion
from .versions import VersionSource

KINDS = ("operations", "fields", "messages", "columns")
Names = tuple[dict[str, list[str]], list[str]]
"""Suggestion pools per ``uses`` kind, and names known but never suggested."""


class Elements(Protocol):
    """What one published version holds, for checking declared usage entries."""

    def knows(self, kind: str, entry: str) -> bool:
        """Whether ``entry`` (declared under ``uses.<kind>``) names an element of the version."""

    def suggest(self, kind: str, entry: str) -> str | None:
        """The known entry closest to ``entry``, if one is close enough."""


def elements_of(format_name: str, published: PublishedVersion) -> Elements:
    """The elements of ``published``, read as a ``format_name`` contract (``InputError`` when
    its spec does not load)."""
    source = VersionSource(published)
    if format_name in NATIVE_NAMES:
        native = native_format(format_name)
        loaded = native.load(source, source.root, Settings(mode=native.default_mode, strict=True))
        return native_elements(format_name, loaded)
    from .usage_documents import DocumentElements

    ws = Workspace(source, source.root)
    adapter = get_adapter(format_name)
    adapter.validate(ws)
    return DocumentElements(format_name, ws)


def native_elements(format_name: str, loaded: Any) -> Elements:
    """The elements of one version of a native format, as ``NativeFormat.load`` returned it."""
    names, hidden = _NAMERS[format_name](loaded)
    return KeyedElements(format_name, names, hidden)


class KeyedElements:
    """Elements known by their keys (``impact_keys.usage_keys``): every element's key and
    every key enclosing one. ``names`` are the elements' spellings per ``uses`` kind, the
    pools suggestions are taken from (each is itself a known entry); ``hidden`` names are
    known but never suggested. An entry spelled as a name is known without computing keys;
    the keys are computed on the first entry that is not."""

    def __init__(
        self,
        format_name: str,
        names: Mapping[str, Sequence[str]],
        hidden: Sequence[str] = (),
    ) -> None:
        self.format = format_name
        self.names = names
        self.hidden = hidden
        self._fold = str.lower if format_name == "dbt" else str  # dbt names ignore case
        self._spelled = {self._fold(name) for name in self._all()}
        self._keys: frozenset[Key] | None = None

    def knows(self, kind: str, entry: str) -> bool:
        if self._fold(entry.strip()) in self._spelled:
            return True
        return any(key in self.keys() for key in usage_keys(self.format, kind, entry))

    def keys(self) -> frozenset[Key]:
        """Every element's key, and every key enclosing one."""
        if self._keys is None:
            spelling = _SPELLING[self.format]  # every kind of a format reads names alike
            keys: set[Key] = set()
            for name in self._all():
                for key in usage_keys(self.format, spelling, name):
                    keys.update(key[:end] for end in range(1, len(key) + 1))
            self._keys = frozenset(keys)
        return self._keys

    def suggest(self, kind: str, entry: str) -> str | None:
        preferred = self.names.get(kind, ())
        everything = [name for spelled in self.names.values() for name in spelled]
        return closest(entry, preferred) or closest(entry, everything)

    def _all(self) -> Iterator[str]:
        yield from self.hidden
        for spelled in self.names.values():
            yield from spelled


def closest(entry: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``entry`` (``difflib``, case ignored), if one is close enough."""
    by_lower: dict[str, str] = {}
    for candidate in candidates:
        by_lower.setdefault(candidate.lower(), candidate)
    found = difflib.get_close_matches(entry.strip().lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[found[0]] if found else None


# --- GraphQL


def _graphql_names(schema: Any) -> Names:
    from ..formats.graphql_model import Schema

    assert isinstance(schema, Schema)
    operations: list[str] = []
    fields: list[str] = []
    messages: list[str] = ["schema", *(f"schema.{op}" for op in schema.roots)]
    roots = set(schema.roots.values())
    for name, definition in schema.types.items():
        if name.startswith("__"):
            continue  # introspection types
        messages.append(name)
        for field_name, field in definition.fields.items():
            path = f"{name}.{field_name}"
            (operations if name in roots else fields).append(path)
            fields += [f"{path}({argument}:)" for argument in field.args]
        fields += [f"{name}.{member}" for member in (*definition.inputs, *definition.values)]
    for name, directive in schema.directives.items():
        messages.append(f"@{name}")
        fields += [f"@{name}({argument}:)" for argument in directive.args]
    return {"operations": operations, "fields": fields, "messages": messages}, []


# --- protobuf


def protobuf_elements(module: Any) -> Elements:
    """The elements of a compiled protobuf module (``protobuf_model.Module``)."""
    names, hidden = _module_names(module)
    return KeyedElements("protobuf", names, hidden)


def _protobuf_names(version: Any) -> Names:
    from ..formats.protobuf import ProtoVersion

    assert isinstance(version, ProtoVersion)
    return _module_names(version.module)


def _module_names(module: Any) -> Names:
    operations: list[str] = []
    fields: list[str] = []
    messages: list[str] = []
    for name, service in module.services.items():
        operations.append(name)
        operations += [f"{name}/{method.name}" for method in service.proto.method]
    for name, message in module.messages.items():
        messages.append(name)
        fields += [f"{name}.{field.name}" for field in message.proto.field]
        fields += [f"{name}.{oneof.name}" for oneof in message.proto.oneof_decl]
    for name, enum in module.enums.items():
        messages.append(name)
        fields += [f"{name}.{value.name}" for value in enum.proto.value]
    for name, extension in module.extensions.items():
        fields.append(name)
        extendee = str(extension.proto.extendee).lstrip(".")
        if extension.parent is None and extendee:
            fields.append(f"{extendee}.{extension.proto.name}")  # as its findings name it
    return {"operations": operations, "fields": fields, "messages": messages}, []


# --- Avro


def _avro_names(version: Any) -> Names:
    from ..formats.avro_model import Array, AvroVersion, Enum, Map, Named, Record, Union, branch_key

    assert isinstance(version, AvroVersion)
    fields: list[str] = []
    messages: list[str] = []
    hidden: list[str] = []  # item, value and branch paths, unnamed top-level schemas
    seen: set[str] = set()
    stack: list[tuple[Any, str]] = []
    for top in reversed(version.schemas):
        path = top.key or "schema"  # how findings name an unnamed top-level schema
        if not isinstance(top.schema, Named):
            hidden.append(path)
        stack.append((top.schema, path))
    while stack:
        schema, path = stack.pop()
        if isinstance(schema, Named):
            if schema.fullname in seen:
                continue
            seen.add(schema.fullname)
            messages.append(schema.fullname)
            if isinstance(schema, Record):
                for field in reversed(schema.fields):
                    fields.append(f"{schema.fullname}.{field.name}")
                    stack.append((field.type, f"{schema.fullname}.{field.name}"))
            elif isinstance(schema, Enum):
                fields += [f"{schema.fullname}.{symbol}" for symbol in schema.symbols]
        elif isinstance(schema, Array):
            hidden.append(f"{path}[]")
            stack.append((schema.items, f"{path}[]"))
        elif isinstance(schema, Map):
            hidden.append(f"{path}{{}}")
            stack.append((schema.values, f"{path}{{}}"))
        elif isinstance(schema, Union):
            for branch in reversed(schema.branches):
                hidden.append(f"{path}|{branch_key(branch)}")
                stack.append((branch, f"{path}|{branch_key(branch)}"))
    return {"fields": fields, "messages": messages}, hidden


# --- dbt


def _dbt_names(manifest: Any) -> Names:
    from ..formats.dbt_model import Manifest

    assert isinstance(manifest, Manifest)
    columns: list[str] = []
    for relation in manifest.relations.values():
        columns.append(f"{relation.label}.*")
        columns += [f"{relation.label}.{column.name}" for column in relation.columns.values()]
    return {"columns": columns}, []


_NAMERS: dict[str, Callable[[Any], Names]] = {
    "graphql": _graphql_names,
    "protobuf": _protobuf_names,
    "avro": _avro_names,
    "dbt": _dbt_names,
}


_SPELLING = {"graphql": "fields", "protobuf": "fields", "avro": "fields", "dbt": "columns"}
"""format -> the ``uses`` kind whose reading (``impact_keys``) gives its names' keys."""
