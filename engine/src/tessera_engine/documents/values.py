"""One cheap pass over a parsed document: its values counted, its nesting checked, and YAML's
mapping keys given the form JSON would give them.

Every comparator reads documents as JSON: mapping keys are strings. YAML 1.2 resolves plain
keys like any other scalar, so ``200:``, ``1:``, ``null:`` or ``true:`` arrive as an int,
``None`` or a bool. Such keys are given their JSON spelling (``"200"``, ``"1"``, ``"null"``,
``"true"``), as converting the file to JSON would: ``200:`` is how response codes are commonly
written in OpenAPI YAML, and the YAML spec itself treats the two spellings as one key only
after that conversion. Keys JSON cannot express (a sequence or a mapping as a key) are refused,
and so are two keys that become the same string (``1:`` and ``"1":``). A YAML ``!!set`` is the
mapping it stands for: its members as keys, each with a null value.

The same pass counts every mapping, list and scalar, so a document over the element limit is
refused before any comparator spends time on it.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import LimitError, LoadError
from ..limits import MAX_NESTING, max_elements, too_many_elements
from .locate import YamlLocator, second_key_line
from .pointer import escape

_CONTAINERS = (dict, list)


def checked(data: Any, name: str, text: str, *, yaml: bool) -> Any:
    """``data`` with YAML keys spelled as JSON's (when ``yaml``), once its values are counted
    and its nesting is checked. Raises ``LimitError`` above ``max_elements()`` values or
    ``MAX_NESTING`` levels, ``LoadError`` for a key JSON cannot hold."""
    if yaml:
        data = _as_json(data, name, text, data)
    if type(data) not in _CONTAINERS:
        return data
    limit = max_elements()
    count = 1
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        count += len(value)
        children = value.values() if type(value) is dict else value
        if yaml:
            children = _fix_children(value, name, text, data)
        for child in children:
            kind = type(child)
            if kind is dict or kind is list:
                if depth >= MAX_NESTING:
                    raise LimitError(f"nested more than {MAX_NESTING} levels deep", file=name)
                stack.append((child, depth + 1))
    if count > limit:
        raise too_many_elements(name, count)
    return data


def _fix_children(value: Any, name: str, text: str, root: Any) -> Any:
    """The children of a YAML mapping or list, once its keys and its ``!!set`` members are in
    JSON form (changed in place, so the parent keeps the same object)."""
    if type(value) is dict:
        if not all(type(key) is str for key in value):
            fixed = _string_keys(value, name, text, root)
            value.clear()
            value.update(fixed)
        for key, child in value.items():
            if isinstance(child, set | frozenset):
                value[key] = _set_mapping(child, name, text, root)
        return value.values()
    for index, child in enumerate(value):
        if isinstance(child, set | frozenset):
            value[index] = _set_mapping(child, name, text, root)
    return value


def _as_json(value: Any, name: str, text: str, root: Any) -> Any:
    """The root of a YAML document in JSON form (a ``!!set`` root becomes a mapping)."""
    if isinstance(value, set | frozenset):
        return _set_mapping(value, name, text, root)
    return value


def _string_keys(mapping: dict[Any, Any], name: str, text: str, root: Any) -> dict[str, Any]:
    fixed: dict[str, Any] = {}
    for key, child in mapping.items():
        spelled = key if type(key) is str else _spelling(key, mapping, name, text, root)
        if spelled in fixed:
            line = second_key_line(text, spelled) or _line_of(mapping, text, root)
            raise LoadError(
                f"duplicate key '{spelled}' (keys are compared as JSON strings)",
                file=name,
                line=line,
            )
        fixed[spelled] = child
    return fixed


def _set_mapping(members: set[Any] | frozenset[Any], name: str, text: str, root: Any) -> Any:
    holder = dict.fromkeys(members)
    return dict(sorted(_string_keys(holder, name, text, root).items()))


def _spelling(key: Any, mapping: Any, name: str, text: str, root: Any) -> str:
    """A scalar key as JSON spells it; a sequence or mapping key is refused."""
    if key is None:
        return "null"
    if key is True or key is False:
        return "true" if key else "false"
    if type(key) is int:
        return str(key)
    if type(key) is float:
        if math.isnan(key):
            return ".nan"
        if math.isinf(key):
            return ".inf" if key > 0 else "-.inf"
        return repr(key)
    what = "a mapping" if isinstance(key, frozenset) else "a sequence"
    raise LoadError(
        f"{what} used as a mapping key: JSON keys are strings (quote the key)",
        file=name,
        line=_line_of(mapping, text, root),
    )


def _line_of(target: Any, text: str, root: Any) -> int | None:
    """The line of the mapping ``target`` (found again by identity: only on an error)."""
    stack: list[tuple[str, Any]] = [("", root)]
    while stack:
        pointer, value = stack.pop()
        if value is target:
            return YamlLocator(text).locate(pointer)[0]
        if type(value) is dict:
            stack.extend((f"{pointer}/{escape(str(k))}", v) for k, v in value.items())
        elif type(value) is list:
            stack.extend((f"{pointer}/{i}", v) for i, v in enumerate(value))
    return None
