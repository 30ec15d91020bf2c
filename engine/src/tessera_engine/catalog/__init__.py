"""The rule catalog: every kind of change Tessera reports, kept as data in ``rules.yaml``.

A rule is a stable kebab-case id ``<layer>.<element>.<change>``, the effect the change has on
the set of valid values, optional severity overrides by position, a message template and a
"why it breaks" explanation. Checks emit rule ids with arguments and never format text;
``modes`` turns an effect and a position into a severity.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml_rs

from ..errors import InternalError
from ..model import Bump, Effect, Position, Severity

RULE_ID = re.compile(r"^[a-z]+(?:-[a-z]+)*\.[a-z]+(?:-[a-z]+)*\.[a-z]+(?:-[a-z]+)*$")
LAYERS = ("api", "schema", "meta", "lifecycle")


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    message: str
    why: str
    effect: Effect | None  # None: the check decides, among ``effects``
    effects: tuple[Effect, ...]
    severity: dict[Position, Severity] = field(default_factory=dict)
    bump: Bump | None = None
    formats: tuple[str, ...] = ()
    peers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # protobuf: the --proto-level values the rule breaks at

    @property
    def layer(self) -> str:
        return self.id.split(".")[0]

    @property
    def element(self) -> str:
        return self.id.split(".")[1]

    @property
    def change(self) -> str:
        return self.id.split(".")[2]

    def render(self, args: dict[str, Any]) -> str:
        return str(_Formatter().vformat(self.message, (), args))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "layer": self.layer,
            "element": self.element,
            "change": self.change,
            "summary": self.summary,
            "effect": self.effect.value if self.effect else "conditional",
            "effects": [e.value for e in self.effects],
            "severity": {p.value: s.value for p, s in self.severity.items()},
            "bump": self.bump.value if self.bump else None,
            "formats": list(self.formats),
            "message": self.message,
            "why": self.why,
            "peers": {k: list(v) for k, v in self.peers.items()},
            **({"categories": list(self.categories)} if self.categories else {}),
        }


class _Formatter(string.Formatter):
    """``str.format`` that shows ``?`` for a missing argument instead of raising, and renders
    values the way a reader expects (JSON-ish, lists joined)."""

    def get_value(self, key: int | str, args: Any, kwargs: Any) -> Any:
        value: Any = kwargs.get(key, "?") if isinstance(key, str) else "?"
        return value

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion == "j":  # {value!j}: as a JSON literal ("open", 3, null)
            return _Literal(show_literal(value))
        return super().convert_field(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, _Literal):
            return format(str(value), format_spec)
        return str(super().format_field(show(value), format_spec))


class _Literal(str):
    """A value already rendered as a JSON literal."""


def show(value: Any) -> str:
    """A compact, readable rendering of a schema value for messages."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return ", ".join(show_literal(v) for v in items)
    return str(value)


def show_literal(value: Any) -> str:
    import json

    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return str(value)


class Catalog:
    def __init__(self, version: int, rules: list[Rule]) -> None:
        self.version = version
        self.rules = {rule.id: rule for rule in rules}
        self._aliases = {alias: rule.id for rule in rules for alias in rule.aliases}

    def __getitem__(self, rule_id: str) -> Rule:
        rule = self.rules.get(rule_id) or self.rules.get(self._aliases.get(rule_id, ""))
        if rule is None:
            raise InternalError(f"a check emitted the unknown rule id {rule_id!r}")
        return rule

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self.rules or rule_id in self._aliases

    def __iter__(self) -> Any:
        return iter(self.rules.values())

    def __len__(self) -> int:
        return len(self.rules)


CATALOG_FILES = ("rules.yaml", "graphql.yaml", "protobuf.yaml", "avro.yaml", "dbt.yaml")
"""The catalog's parts: the shared rules (OpenAPI, Swagger, JSON Schema, lifecycle), then the
rules only one native format can produce."""


@cache
def load_catalog() -> Catalog:
    rules: list[Rule] = []
    version = 0
    for raw_file in raw_catalog():
        version = max(version, int(raw_file["version"]))
        rules.extend(_rule(raw) for raw in raw_file["rules"] or [])
    return Catalog(version, rules)


def raw_catalog() -> list[dict[str, Any]]:
    """The catalog files as written (those present), before the loader fills in defaults."""
    found: list[dict[str, Any]] = []
    for name in CATALOG_FILES:
        path = resources.files(__package__).joinpath(name)
        if path.is_file():
            data: Any = yaml_rs.loads(path.read_text(encoding="utf-8"), parse_datetime=False)
            found.append(data)
    return found


def _rule(raw: dict[str, Any]) -> Rule:
    rule_id = raw["id"]
    if not RULE_ID.match(rule_id) or rule_id.split(".")[0] not in LAYERS:
        raise InternalError(f"bad rule id in the catalog: {rule_id!r}")
    effect_raw = raw.get("effect", "conditional")
    effect = None if effect_raw == "conditional" else Effect(effect_raw)
    effects = tuple(Effect(e) for e in raw.get("effects", [effect_raw] if effect else []))
    severity = {Position(p): Severity(s) for p, s in (raw.get("severity") or {}).items()}
    return Rule(
        id=rule_id,
        summary=raw["summary"].strip(),
        message=raw["message"].strip(),
        why=" ".join(raw["why"].split()),
        effect=effect,
        effects=effects,
        severity=severity,
        bump=Bump(raw["bump"]) if raw.get("bump") else None,
        formats=tuple(raw.get("formats", ())),
        peers={k: tuple(v) for k, v in (raw.get("peers") or {}).items()},
        aliases=tuple(raw.get("aliases", ())),
        categories=tuple(raw.get("categories", ())),
    )
