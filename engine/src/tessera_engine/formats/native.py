"""Formats with their own parser and model: GraphQL SDL, protobuf modules and Avro schemas.

OpenAPI, Swagger and JSON Schema share one JSON-document framework (``diff``/``checks``). The
formats here are not JSON documents (or, for Avro, follow their own resolution rules), so each
brings a loader and a comparator that walks its own model and reports ``Change``s: a rule id
from the catalog, the position of the element (who reads it), the effect, a natural key and
the source locations. ``classify`` turns changes into findings exactly as the JSON framework
does: severity from the rule, effect, position and mode; message from the rule's template;
fingerprint from the rule, key and arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, runtime_checkable

from ..catalog import Catalog
from ..documents import Source
from ..fingerprint import fingerprint
from ..model import Effect, Finding, Location, Position, Severity, bounded_args
from ..modes import Mode, severity


@dataclass(frozen=True)
class Settings:
    """What a comparator may need to know about the run."""

    mode: Mode
    strict: bool  # the content-model policy: strict (Confluent) or lenient (tolerant readers)
    today: date | None = None
    proto_level: str = "file"  # protobuf only: file | package | wire_json | wire
    guarantees: str = "strict"  # dbt only: strict | notify | ignore (GUARANTEE_POLICIES)
    catalog: str | None = None  # dbt only: the catalog.json of the version being loaded


@dataclass(frozen=True)
class Change:
    """One difference a comparator found, before classification.

    ``key`` is the element's logical key (natural names, never line numbers): with the rule
    and ``args`` it makes the fingerprint, so it must not change when the file is reformatted.
    ``location`` points into the new version (for a removed element, its nearest surviving
    parent); ``old_location`` into the old one. ``effect`` defaults to the rule's own effect
    (it must be given for a conditional rule). ``cap`` limits the severity (a protobuf rule
    outside the chosen ``--proto-level`` is at most safe); ``dangerous`` marks a change the
    comparator could not decide, which caps a breaking severity at dangerous.
    """

    rule: str
    position: Position
    path: str
    key: str
    location: Location | None
    args: Mapping[str, Any] = field(default_factory=dict)
    effect: Effect | None = None
    pointer: str = ""
    old_location: Location | None = None
    operations: tuple[str, ...] = ()
    dangerous: bool = False
    cap: Severity | None = None


class NativeFormat(Protocol):
    """A format with its own loader and comparator (see the module docstring)."""

    name: str
    default_mode: Mode
    default_policy: str  # "strict" or "lenient"
    suffixes: tuple[str, ...]  # file name endings that identify the format (".graphql")

    def load(self, source: Source, path: str, settings: Settings) -> Any:
        """Read and parse one version; raise an ``InputError`` naming file:line on bad input."""

    def display(self, loaded: Any) -> str:
        """How to name a loaded version in the result (its file or directory)."""

    def compare(self, old: Any, new: Any, settings: Settings) -> Iterable[Change]:
        """Every change from ``old`` to ``new``."""


@dataclass(frozen=True)
class ElementGraph:
    """What refers to what inside one loaded version, for impact analysis (``registry/
    impact_reach``): a consumer that uses an element is concerned by changes to the elements
    it reaches. Nothing here changes a finding.

    ``edges`` maps an element's name, spelled as consumers declare it (``Query.order``,
    ``Order.customer``, ``shop.v1.Orders/Get``, ``shop.Order.address``), to the names of the
    elements it refers to directly (the types a field returns or takes, the messages of an
    RPC, the named types a field holds). ``lineage``: the edges are data lineage (an element
    is built from the ones it refers to: a dbt model from its parents) rather than types, so
    what they reach is informational and limited to the registry's transitive depth.
    ``shown`` names an element in a chain when its declared name is not the one people read
    (dbt: ``orders`` is shown ``model.shop.orders``).
    """

    edges: Mapping[str, tuple[str, ...]]
    lineage: bool = False
    shown: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class ReferencingFormat(Protocol):
    """A native format that can tell impact analysis what its elements refer to (optional:
    a format without ``references`` is matched by names alone)."""

    def references(self, loaded: Any) -> ElementGraph:
        """The element graph of one version as ``load`` returned it."""


NATIVE_FORMATS = {
    "graphql": ("graphql", "GraphQLFormat", (".graphql", ".graphqls", ".gql")),
    "protobuf": ("protobuf", "ProtobufFormat", (".proto",)),
    "avro": ("avro", "AvroFormat", (".avsc",)),
    "dbt": ("dbt", "DbtFormat", ()),  # no suffix: see detect_native
}
"""name -> (module in this package, class, the file name endings that identify it). Kept
here, not only on the classes, so recognising a path imports no format's code."""
NATIVE_NAMES = tuple(NATIVE_FORMATS)
PROTO_LEVELS = ("file", "package", "wire_json", "wire")
GUARANTEE_POLICIES = ("strict", "notify", "ignore")


def native_format(name: str) -> NativeFormat:
    """The native format called ``name`` (its module is imported now)."""
    from importlib import import_module

    module, attribute, _ = NATIVE_FORMATS[name]
    cls = getattr(import_module(f"{__package__}.{module}"), attribute)
    instance: NativeFormat = cls()
    return instance


def detect_native(source: Source, path: str) -> str | None:
    """The native format ``path`` holds, if it is one: a file by its name (a ``.json`` file
    by an introspection result's ``__schema`` near its start, a dbt ``manifest.json`` by its
    ``dbt_schema_version``), a directory by the files in it (dbt: a ``manifest.json``)."""
    lower = path.lower()
    for name, (_, _, suffixes) in NATIVE_FORMATS.items():
        if lower.endswith(suffixes):
            return name
    if lower.endswith(".json"):
        try:
            head = source.read(path)[:4096]
        except OSError:
            return None
        if lower.rsplit("/", 1)[-1] == "manifest.json" and b'"dbt_schema_version"' in head:
            return "dbt"
        return "graphql" if b'"__schema"' in head else None
    for name, (_, _, suffixes) in NATIVE_FORMATS.items():
        if suffixes and source.files(path, suffixes):
            return name
    if source.size(f"{path.rstrip('/')}/manifest.json") is not None:
        return "dbt"
    return None


def classify(changes: Iterable[Change], catalog: Catalog, mode: Mode) -> list[Finding]:
    """Findings for ``changes``; changes with the same fingerprint merge (positions join)."""
    merged: dict[str, Finding] = {}
    for change in changes:
        rule = catalog[change.rule]
        effect = change.effect or rule.effect
        if effect is None:
            raise ValueError(f"{rule.id} is conditional: the change must choose an effect")
        level = severity(rule, effect, change.position, mode, dangerous=change.dangerous)
        if change.cap is not None and level > change.cap:
            level = change.cap
        args = dict(change.args)
        finding = Finding(
            rule=rule.id,
            severity=level,
            position=change.position,
            effect=effect,
            path=change.path,
            pointer=change.pointer,
            location=change.location,
            message=rule.render(args),
            fingerprint=fingerprint(rule.id, change.key, args),
            args=bounded_args(args),
            operations=change.operations,
            old_location=change.old_location,
        )
        existing = merged.get(finding.fingerprint)
        merged[finding.fingerprint] = finding if existing is None else _merge(existing, finding)
    return list(merged.values())


def _merge(a: Finding, b: Finding) -> Finding:
    from dataclasses import replace

    worse = a if a.severity >= b.severity else b
    operations = tuple(dict.fromkeys((*a.operations, *b.operations)))
    return replace(worse, position=a.position.merge(b.position), operations=operations)
