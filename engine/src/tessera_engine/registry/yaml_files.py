"""Reading one registry YAML file: safe, strict, and with positions found only when needed.

Parsing goes through the engine's YAML loader (``documents.loader``: yaml_rs, YAML 1.2, size
and nesting limits, duplicate keys refused with their line), the fastest we measured: about
15 µs for a typical consumer file against about 200 µs for ruamel.yaml's C-accelerated safe
composer (see docs/registry.md). ruamel.yaml does the rest, on the few files that need it:

- Anchors, aliases and explicit tags are refused. A file can only hold them if its text has an
  ``&`` (an anchor, which every alias needs) or a ``!`` (a tag); only such files are scanned,
  event by event, with ruamel's C parser, which reports the exact place.
- Positions: a registry file that passed the parser holds plain data with no positions. When
  a check fails, ``locate`` composes just that file with ruamel and walks its nodes to the
  offending key or value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, DocumentStartEvent, NodeEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..documents.loader import Source, parse_document, read_source
from ..errors import LoadError

Token = str | int


@dataclass(frozen=True)
class YamlFile:
    path: str  # as the source knows it
    name: str  # as the user sees it
    text: str
    data: Any


def read_yaml(source: Source, path: str) -> YamlFile:
    """Read, decode and parse one file; ``InputError`` naming file:line:column otherwise."""
    name, raw = read_source(source, path)
    document = parse_document(path, name, raw)
    text, data = document.text, document.data
    if "&" in text or "!" in text or (isinstance(data, list) and "---" in text):
        _refuse_extensions(text, name)
    if data is None:
        raise LoadError("the file is empty: expected a mapping of keys", file=name, line=1)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        raise LoadError(f"expected a mapping of keys at the top, found {kind}", file=name, line=1)
    return YamlFile(path, name, text, data)


def _refuse_extensions(text: str, name: str) -> None:
    """Refuse anchors, aliases, explicit tags and multiple documents (exact positions)."""
    yaml = YAML(typ="safe")
    documents = 0
    try:
        for event in yaml.parse(text):
            mark = event.start_mark
            where = {"file": name, "line": mark.line + 1, "column": mark.column + 1}
            if isinstance(event, AliasEvent):
                raise LoadError("YAML aliases are not allowed in a registry file", **where)
            if isinstance(event, NodeEvent) and event.anchor:
                raise LoadError("YAML anchors are not allowed in a registry file", **where)
            tag = getattr(event, "tag", None)
            if isinstance(event, NodeEvent) and tag and not _implicit(event):
                raise LoadError(f"YAML tags ({tag}) are not allowed in a registry file", **where)
            if isinstance(event, DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise LoadError("a registry file holds one YAML document", **where)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise LoadError(
            f"invalid YAML: {err.problem}", file=name, line=line, column=column
        ) from None
    except YAMLError as err:
        raise LoadError(f"invalid YAML: {err}", file=name) from None


def _implicit(event: Any) -> bool:
    implicit = getattr(event, "implicit", None)
    if isinstance(implicit, tuple):
        return any(implicit)
    return bool(implicit)


class Positions:
    """Positions in one file's text, from ruamel's node tree (composed on first use)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._root: Node | None = None
        self._composed = False

    def locate(self, tokens: Sequence[Token], *, at_key: bool = False) -> tuple[int, int]:
        """(line, column) of the element at ``tokens``: a scalar value itself (its key with
        ``at_key``), a collection by its key or item; when the path does not exist, the
        nearest enclosing element that does."""
        node = self._node()
        if node is None:
            return 1, 1
        mark = node.start_mark
        for token in tokens:
            found = _child(node, token)
            if found is None:
                break
            key_node, node = found
            mark = key_node.start_mark if key_node is not None else node.start_mark
        else:
            if tokens and isinstance(node, ScalarNode) and not at_key:
                mark = node.start_mark
        return mark.line + 1, mark.column + 1

    def _node(self) -> Node | None:
        if not self._composed:
            self._composed = True
            try:
                self._root = YAML(typ="safe").compose(self._text)
            except YAMLError:
                self._root = None
        return self._root


def _child(node: Node, token: Token) -> tuple[Node | None, Node] | None:
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == str(token):
                return key_node, value_node
        return None
    if isinstance(node, SequenceNode) and isinstance(token, int) and 0 <= token < len(node.value):
        return None, node.value[token]
    return None
