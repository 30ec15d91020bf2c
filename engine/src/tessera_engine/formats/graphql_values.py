"""GraphQL string tokens and literals: decoding strings and block strings (the spec's
algorithm, as graphql-core implements it) without importing graphql-core on the hot path."""

from __future__ import annotations

import json
import re

_ESCAPE = re.compile(r"\\(?:u\{([0-9A-Fa-f]+)\}|.)")
"""An escape sequence; group 1 holds the code point of a braced one (``\\u{1F600}``)."""
_LINES = re.compile(r"\r\n|[\n\r]")


def string_value(token: str) -> str:
    """The text of a string or block string token (quotes included)."""
    if token.startswith('"""'):
        return block_string_value(token[3:-3])
    body = token
    if "\\u{" in body:
        body = _ESCAPE.sub(_braced_to_json, body)
    text: str = json.loads(body, strict=False)
    return text


def _braced_to_json(match: re.Match[str]) -> str:
    """A braced escape as JSON spells it; any other escape as it is (so ``\\\\u{41}``, an
    escaped backslash before ``u{41}``, stays text)."""
    braced = match.group(1)
    return match.group(0) if braced is None else _escape_code_point(int(braced, 16))


def _escape_code_point(code: int) -> str:
    if code > 0xFFFF:  # as a surrogate pair, which json.loads joins
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def block_string_value(raw: str) -> str:
    """The value of a block string's raw content (the spec's BlockStringValue)."""
    lines = _LINES.split(raw.replace('\\"""', '"""'))
    common: int | None = None
    first_non_empty: int | None = None
    last_non_empty = -1
    for index, line in enumerate(lines):
        indent = len(line) - len(line.lstrip(" \t"))
        if indent == len(line):
            continue  # blank
        if first_non_empty is None:
            first_non_empty = index
        last_non_empty = index
        if index != 0 and (common is None or indent < common):
            common = indent
    if first_non_empty is None:
        return ""
    if common:
        lines = [lines[0], *(line[common:] for line in lines[1:])]
    return "\n".join(lines[first_non_empty : last_non_empty + 1])


def quote(text: str) -> str:
    """A canonical string literal."""
    return json.dumps(text, ensure_ascii=False)
