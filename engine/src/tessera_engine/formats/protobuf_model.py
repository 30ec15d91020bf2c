"""Tessera's model of a compiled protobuf module: files, messages, enums, services and
extensions indexed by name, each with its source path (for ``SourceCodeInfo`` locations) and
its resolved features (proto2, proto3 and editions alike).

Only the module's own files are compared; imported files (well-known types, dependencies)
are indexed too so that field types resolve.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ..model import Location

# Field numbers inside descriptor.proto, used in SourceCodeInfo paths.
FILE_PACKAGE, FILE_MESSAGE, FILE_ENUM, FILE_SERVICE, FILE_EXTENSION, FILE_OPTIONS = 2, 4, 5, 6, 7, 8
FILE_SYNTAX, FILE_EDITION = 12, 14
MSG_FIELD, MSG_NESTED, MSG_ENUM, MSG_EXT_RANGE, MSG_EXTENSION, MSG_OPTIONS = 2, 3, 4, 5, 6, 7
MSG_ONEOF, MSG_RESERVED_RANGE, MSG_RESERVED_NAME = 8, 9, 10
FIELD_NAME, FIELD_NUMBER, FIELD_LABEL, FIELD_TYPE, FIELD_TYPE_NAME = 1, 3, 4, 5, 6
FIELD_DEFAULT, FIELD_OPTIONS, FIELD_JSON_NAME = 7, 8, 10
ENUM_VALUE, ENUM_OPTIONS, VALUE_NUMBER = 2, 3, 2
SERVICE_METHOD, METHOD_INPUT, METHOD_OUTPUT, METHOD_OPTIONS = 2, 2, 3, 4
FILE_FEATURES, MESSAGE_FEATURES, FIELD_FEATURES, ENUM_FEATURES = 50, 12, 21, 7

_DEFAULTS = {
    "proto2": {
        "field_presence": "EXPLICIT",
        "enum_type": "CLOSED",
        "repeated_field_encoding": "EXPANDED",
        "utf8_validation": "NONE",
        "message_encoding": "LENGTH_PREFIXED",
        "json_format": "LEGACY_BEST_EFFORT",
    },
    "proto3": {
        "field_presence": "IMPLICIT",
        "enum_type": "OPEN",
        "repeated_field_encoding": "PACKED",
        "utf8_validation": "VERIFY",
        "message_encoding": "LENGTH_PREFIXED",
        "json_format": "ALLOW",
    },
}
_DEFAULTS["editions"] = {**_DEFAULTS["proto3"], "field_presence": "EXPLICIT"}
FEATURES = tuple(_DEFAULTS["proto2"])
# Language features are extensions of FeatureSet: (pb.cpp) = 1000, (pb.java) = 1001. They
# are read from the raw bytes (their Python classes are not shipped with protobuf).
LANGUAGE_FEATURES = {
    (1000, 2): ("cpp_string_type", {1: "VIEW", 2: "CORD", 3: "STRING"}),
    (1001, 2): ("java_utf8_validation", {1: "DEFAULT", 2: "VERIFY"}),
}
for _defaults in _DEFAULTS.values():
    _defaults.update(cpp_string_type="STRING", java_utf8_validation="DEFAULT")


@dataclass(frozen=True, slots=True)
class Features:
    """The resolved values of the features that matter for compatibility."""

    values: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str:
        return dict(self.values)[name]

    def resolve(self, options: Any) -> Features:
        """These features overridden by the ``features`` set in ``options`` (if any)."""
        if options is None or not options.HasField("features"):
            return self
        features = options.features
        changed = dict(self.values)
        for name in FEATURES:
            if features.HasField(name):
                descriptor = features.DESCRIPTOR.fields_by_name[name].enum_type
                changed[name] = descriptor.values_by_number[getattr(features, name)].name
        changed.update(_language_features(features))
        return replace(self, values=tuple(changed.items()))


def _language_features(features: Any) -> dict[str, str]:
    from google.protobuf.unknown_fields import UnknownFieldSet  # type: ignore[import-untyped]

    found: dict[str, str] = {}
    for unknown in UnknownFieldSet(features):
        if unknown.wire_type != 2:
            continue
        for number, value in _varints(unknown.data):
            named = LANGUAGE_FEATURES.get((unknown.field_number, number))
            if named is not None and value in named[1]:
                found[named[0]] = named[1][value]
    return found


def _varints(data: bytes) -> Iterator[tuple[int, int]]:
    """(field number, value) of the varint fields in a serialized message."""
    position = 0
    while position < len(data):
        tag, position = _varint(data, position)
        if tag & 7 != 0:
            return  # only varint fields are features we read
        value, position = _varint(data, position)
        yield tag >> 3, value


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while position < len(data):
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return result, position


@dataclass(eq=False)
class ProtoFile:
    name: str  # as protoc names it (relative to the module root)
    proto: Any  # FileDescriptorProto
    shown: str  # as shown to the user
    syntax: str  # proto2 | proto3 | editions
    features: Features
    _spans: dict[tuple[int, ...], tuple[int, int]] | None = field(default=None, repr=False)

    @property
    def package(self) -> str:
        return str(self.proto.package)

    def locate(self, path: tuple[int, ...]) -> Location | None:
        """The location of the element at ``path`` (a SourceCodeInfo path), if recorded."""
        if self._spans is None:
            self._spans = {}
            for loc in self.proto.source_code_info.location:
                key = tuple(loc.path)
                if key not in self._spans:
                    self._spans[key] = (loc.span[0] + 1, loc.span[1] + 1)
        span = self._spans.get(path)
        return Location(self.shown, span[0], span[1]) if span else None

    def at(self, *paths: tuple[int, ...]) -> Location:
        """The first recorded location among ``paths``, else the file itself (line 1)."""
        for path in paths:
            found = self.locate(path)
            if found is not None:
                return found
        return Location(self.shown, 1, 1)

    @property
    def syntax_label(self) -> str:
        if self.syntax == "editions":
            return f"editions {_edition(self.proto)}"
        return self.syntax


@dataclass(eq=False)
class Element:
    """A message, enum, service or extension: where it is and what it is."""

    kind: str  # message | enum | service | extension
    full_name: str
    nested_name: str  # the name inside its file ("Outer.Inner")
    file: ProtoFile
    path: tuple[int, ...]
    proto: Any
    parent: Element | None  # the enclosing message
    features: Features

    @property
    def package(self) -> str:
        return self.file.package

    def location(self) -> Location:
        return self.file.at(self.path)


@dataclass
class Module:
    """One version of a module: its files and every named element, by full name."""

    files: dict[str, ProtoFile]  # the module's own files, by name
    messages: dict[str, Element]
    enums: dict[str, Element]
    services: dict[str, Element]
    extensions: dict[str, Element]
    imported_enums: dict[str, Element]  # every enum, imports included (for type checks)
    imported_messages: dict[str, Element]

    def packages(self) -> set[str]:
        return {f.package for f in self.files.values()}


def build(descriptors: Any, module_files: list[str], shown: dict[str, str]) -> Module:
    """The model of ``descriptors`` (a FileDescriptorSet); ``module_files`` are compared."""
    own = set(module_files)
    module = Module({}, {}, {}, {}, {}, {}, {})
    for proto in descriptors.file:
        syntax = _syntax(proto)
        features = Features(tuple(_DEFAULTS[syntax].items())).resolve(
            proto.options if proto.HasField("options") else None
        )
        pfile = ProtoFile(proto.name, proto, shown.get(proto.name, proto.name), syntax, features)
        mine = proto.name in own
        if mine:
            module.files[proto.name] = pfile
        for element in _elements(pfile):
            if element.kind == "enum":
                module.imported_enums[element.full_name] = element
            elif element.kind == "message":
                module.imported_messages[element.full_name] = element
            if mine:
                index = {
                    "message": module.messages,
                    "enum": module.enums,
                    "service": module.services,
                    "extension": module.extensions,
                }[element.kind]
                index[element.full_name] = element
    return module


def _syntax(proto: Any) -> str:
    if proto.syntax == "editions":
        return "editions"
    return "proto3" if proto.syntax == "proto3" else "proto2"


def _edition(proto: Any) -> str:
    from google.protobuf.descriptor_pb2 import Edition  # type: ignore[import-untyped]

    return str(Edition.Name(proto.edition)).removeprefix("EDITION_")


def _elements(pfile: ProtoFile) -> Iterator[Element]:
    proto = pfile.proto
    prefix = f"{proto.package}." if proto.package else ""
    for i, message in enumerate(proto.message_type):
        yield from _message(pfile, message, (FILE_MESSAGE, i), prefix, "", None, pfile.features)
    for i, enum in enumerate(proto.enum_type):
        yield _enum(pfile, enum, (FILE_ENUM, i), prefix, "", None, pfile.features)
    for i, service in enumerate(proto.service):
        full = prefix + service.name
        yield Element(
            "service", full, service.name, pfile, (FILE_SERVICE, i), service, None, pfile.features
        )
    for i, ext in enumerate(proto.extension):
        yield _extension(pfile, ext, (FILE_EXTENSION, i), prefix, "", None, pfile.features)


def _options(proto: Any) -> Any:
    return proto.options if proto.HasField("options") else None


def _message(
    pfile: ProtoFile,
    proto: Any,
    path: tuple[int, ...],
    prefix: str,
    outer: str,
    parent: Element | None,
    inherited: Features,
) -> Iterator[Element]:
    nested = outer + proto.name
    features = inherited.resolve(_options(proto))
    element = Element("message", prefix + nested, nested, pfile, path, proto, parent, features)
    yield element
    inner = nested + "."
    for i, child in enumerate(proto.nested_type):
        yield from _message(pfile, child, (*path, MSG_NESTED, i), prefix, inner, element, features)
    for i, enum in enumerate(proto.enum_type):
        yield _enum(pfile, enum, (*path, MSG_ENUM, i), prefix, inner, element, features)
    for i, ext in enumerate(proto.extension):
        yield _extension(pfile, ext, (*path, MSG_EXTENSION, i), prefix, inner, element, features)


def _enum(
    pfile: ProtoFile,
    proto: Any,
    path: tuple[int, ...],
    prefix: str,
    outer: str,
    parent: Element | None,
    inherited: Features,
) -> Element:
    nested = outer + proto.name
    features = inherited.resolve(_options(proto))
    return Element("enum", prefix + nested, nested, pfile, path, proto, parent, features)


def _extension(
    pfile: ProtoFile,
    proto: Any,
    path: tuple[int, ...],
    prefix: str,
    outer: str,
    parent: Element | None,
    inherited: Features,
) -> Element:
    nested = outer + proto.name
    features = inherited.resolve(_options(proto))
    return Element("extension", prefix + nested, nested, pfile, path, proto, parent, features)
