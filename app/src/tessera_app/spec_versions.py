"""The version a spec declares about itself, where its format has a place for one.

    openapi, swagger           ``info.version`` of the root document (the file with a
                               top-level ``openapi`` / ``swagger`` key)
    jsonschema                 a top-level ``x-version`` keyword (JSON Schema has no version
                               keyword of its own; validators ignore ``x-`` keywords)
    avro                       a ``version`` attribute on a schema file's top-level record
    graphql, protobuf, dbt     none: the version comes from the pull request

``declared_version(format, files, document)`` reads the files (path -> text; ``document``
loads one parsed, so the diff that follows reuses it) and returns what they declare, with
where (path:line): ``None`` when nothing is declared. A value that is not a
semantic version, or files that declare different versions, come back with a ``problem`` and no
``version``: reported, never guessed. A file that does not parse declares nothing here (the
engine reports the syntax error when it diffs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tessera_engine.documents import Document, parse_document
from tessera_engine.errors import TesseraError, UsageError
from tessera_engine.semver import parse

_DOCUMENT_SUFFIXES = (".json", ".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class DeclaredVersion:
    """What the spec declares: ``version`` (normalized, ``MAJOR.MINOR.PATCH[-pre][+build]``)
    when it is a semantic version, else ``problem`` says why it cannot be used."""

    written: str  # the value as written
    where: str  # "info.version in api/openapi.yaml:3"
    version: str | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class _Place:
    keyword: str  # how the place is named in messages ("info.version")
    pointer: str  # its JSON pointer in the document
    declares: Callable[[Any], bool]  # the document is one that may declare it
    suffixes: tuple[str, ...]  # the files looked at (all of them when the spec is one file)


def _openapi(key: str) -> Callable[[Any], bool]:
    return lambda data: isinstance(data, dict) and key in data


def _is_record(data: Any) -> bool:
    return isinstance(data, dict) and data.get("type") in ("record", "error")


PLACES: Mapping[str, _Place] = {
    "openapi": _Place("info.version", "/info/version", _openapi("openapi"), _DOCUMENT_SUFFIXES),
    "swagger": _Place("info.version", "/info/version", _openapi("swagger"), _DOCUMENT_SUFFIXES),
    "jsonschema": _Place(
        "x-version", "/x-version", lambda data: isinstance(data, dict), _DOCUMENT_SUFFIXES
    ),
    "avro": _Place("version", "/version", _is_record, (".avsc",)),
}
"""Where each format declares its version; a format not listed declares none."""


def declares_versions(format_name: str) -> bool:
    """Whether specs of this format have a place to declare their version."""
    return format_name in PLACES


def place_of(format_name: str) -> str | None:
    """How the version's place is named for this format (``info.version``), if it has one."""
    place = PLACES.get(format_name)
    return place.keyword if place is not None else None


def declared_version(
    format_name: str,
    files: Mapping[str, str],
    document: Callable[[str], Document] | None = None,
) -> DeclaredVersion | None:
    """The version ``files`` (repository path -> text) declare, if any. ``document(path)``
    gives a file parsed (by default, it is parsed here)."""
    place = PLACES.get(format_name)
    if place is None:
        return None

    def parse_one(path: str) -> Document:
        return parse_document(path, path, files[path].encode("utf-8"))

    load = document or parse_one
    found: list[DeclaredVersion] = []
    for path in sorted(files):
        if len(files) > 1 and not path.lower().endswith(place.suffixes):
            continue
        one = _declared_in(path, load, place)
        if one is not None:
            found.append(one)
    if not found:
        return None
    if len({d.written for d in found}) > 1:
        listed = "; ".join(f"{d.written!r} ({d.where})" for d in found)
        return DeclaredVersion(
            written=found[0].written,
            where=found[0].where,
            problem=f"the spec's files declare different versions: {listed}",
        )
    return found[0]


def _declared_in(
    path: str, load: Callable[[str], Document], place: _Place
) -> DeclaredVersion | None:
    try:
        document = load(path)
    except TesseraError:
        return None  # the engine reports it, with file:line, when it diffs
    if not place.declares(document.data):
        return None
    value = _at(document.data, place.pointer)
    if value is None or isinstance(value, (dict, list)):
        return None
    written = str(value).strip()
    where = f"{place.keyword} in {_line_of(document, place.pointer)}"
    if not isinstance(value, str):  # YAML reads `version: 1.0` as a number
        return DeclaredVersion(written, where, problem=_not_semver(written, where))
    try:
        version = str(parse(written))
    except UsageError:
        return DeclaredVersion(written, where, problem=_not_semver(written, where))
    return DeclaredVersion(written, where, version=version)


def _at(data: Any, pointer: str) -> Any:
    for step in pointer.strip("/").split("/"):
        if not isinstance(data, dict):
            return None
        data = data.get(step)
    return data


def _line_of(document: Document, pointer: str) -> str:
    location = document.locate(pointer)
    return f"{document.path}:{location.line}" if location.line else document.path


def _not_semver(written: str, where: str) -> str:
    return (
        f"{written!r} ({where}) is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.4.0 or "
        "2.0.0-rc.1), so it is not used"
    )
