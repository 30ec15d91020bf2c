"""Comparing two versions of a protobuf module: the shared context and the order of checks.

Each check family (``protobuf_files``, ``protobuf_messages``, ``protobuf_enums``,
``protobuf_services``) walks the pairs it cares about and calls ``Context.emit``. A change
may match several catalog rules that differ only in the ``--proto-level`` they break at
(a field deleted without reserving its number is ``FIELD_NO_DELETE`` at the file level and
``FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED`` at the wire level): ``emit`` takes them in order
of preference and reports the first that belongs to the chosen level, or else the first one
capped at safe.

Positions: a message reachable from an RPC's request is an input, from a response an
output. Messages no RPC uses (Kafka-style schemas) are read and written by unknown parties:
they are ``both``, which the mode narrows (``backward`` judges them as inputs). Files,
packages, services and options are structural (``none``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..catalog import Catalog, load_catalog
from ..model import Effect, Location, Position, Severity
from .native import Change, Settings
from .protobuf_model import Element, Module


@dataclass
class Context:
    old: Module
    new: Module
    settings: Settings
    catalog: Catalog = field(default_factory=load_catalog)
    changes: list[Change] = field(default_factory=list)
    _positions: dict[str, Position] = field(default_factory=dict)

    @property
    def level(self) -> str:
        return self.settings.proto_level

    def emit(
        self,
        rules: str | Sequence[str],
        *,
        position: Position,
        path: str,
        key: str,
        location: Location | None,
        args: dict[str, Any] | None = None,
        old_location: Location | None = None,
        effect: Effect | None = None,
        capped: bool = False,
        every: bool = False,
    ) -> None:
        """Report the first of ``rules`` in the chosen level (with ``every``: all of them),
        or else the first one, capped at safe."""
        candidates = [rules] if isinstance(rules, str) else list(rules)
        chosen = [r for r in candidates if self.level in self.catalog[r].categories]
        chosen = chosen if every else chosen[:1]
        cap = Severity.SAFE if capped else None
        if not chosen:
            chosen = candidates[:1]
            if self.catalog[chosen[0]].categories:
                cap = Severity.SAFE
        self.changes.extend(
            Change(
                rule=rule,
                position=position,
                path=path,
                key=key,
                location=location,
                args=args or {},
                effect=effect,
                old_location=old_location,
                cap=cap,
            )
            for rule in chosen
        )

    def position(self, full_name: str) -> Position:
        """Who reads the message or enum ``full_name`` (in either version)."""
        if not self._positions:
            self._positions = _merge(_positions(self.old), _positions(self.new))
        return self._positions.get(full_name, Position.BOTH)


def compare(old: Module, new: Module, settings: Settings) -> list[Change]:
    from . import protobuf_enums, protobuf_files, protobuf_messages, protobuf_services

    ctx = Context(old, new, settings)
    protobuf_files.check(ctx)
    protobuf_messages.check(ctx)
    protobuf_enums.check(ctx)
    protobuf_services.check(ctx)
    return ctx.changes


def _merge(a: dict[str, Position], b: dict[str, Position]) -> dict[str, Position]:
    merged = dict(a)
    for name, position in b.items():
        merged[name] = merged[name].merge(position) if name in merged else position
    return merged


def _positions(module: Module) -> dict[str, Position]:
    """Input/output for every message and enum an RPC reaches (others are absent)."""
    found: dict[str, Position] = {}
    for service in module.services.values():
        for method in service.proto.method:
            _reach(module, method.input_type.lstrip("."), Position.INPUT, found)
            _reach(module, method.output_type.lstrip("."), Position.OUTPUT, found)
    return found


def _reach(module: Module, start: str, position: Position, found: dict[str, Position]) -> None:
    stack = [start]
    while stack:
        name = stack.pop()
        current = found.get(name)
        if current is not None and current.merge(position) is current:
            continue
        found[name] = position if current is None else current.merge(position)
        message = module.imported_messages.get(name)
        if message is not None:
            stack.extend(_field_types(message.proto.field))


def _field_types(fields: Iterable[Any]) -> Iterable[str]:
    for f in fields:
        if f.type_name:
            yield f.type_name.lstrip(".")


def display(element: Element) -> str:
    return element.full_name
