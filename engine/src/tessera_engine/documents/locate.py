"""From a JSON pointer to a line and column in the source text, computed lazily.

Parsers that keep positions for every node are slow (a 4 MB YAML file costs seconds), and most
diffs need the position of a handful of elements. So documents are parsed by the fastest parser
available, and positions are recovered afterwards, only for the pointers a finding needs:

- JSON: walk the text from the root, container by container. Each container visited is scanned
  once (its members' offsets are memoised); member values are skipped with the C JSON decoder.
- YAML: walk block structure by indentation, line by line, again memoising each block's
  children. Flow collections (``{a: 1}``) are not descended into: the locator then answers with
  the nearest enclosing element it could place, which is still the right line for an annotation.

Both answer the *key* of an object member (``"email": ...`` is where a reader looks), or the
start of an array item.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]

from .pointer import escape, split, unescape

_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


class LineIndex:
    """Offsets of line starts, for turning a character offset into (line, column)."""

    def __init__(self, text: str) -> None:
        # each line starts one past the end of the previous one (map/accumulate stay in C)
        ends = itertools.accumulate(map((1).__add__, map(len, text.split("\n"))))
        self._starts = [0, *ends]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1


class _Trie(dict[str, "_Trie"]):
    """Pointer tokens as a tree; ``end`` marks a pointer that ends here."""

    end = False


def _trie(pointers: list[str]) -> _Trie:
    root = _Trie()
    for pointer in pointers:
        node = root
        if pointer.startswith("/") and "~" not in pointer:
            tokens = pointer[1:].split("/")  # nothing to unescape: the common case, fast
        else:
            try:
                tokens = split(pointer)
            except ValueError:
                tokens = []
        for token in tokens:
            child = node.get(token)
            if child is None:
                child = node[token] = _Trie()
            node = child
        node.end = True
    return root


class JsonLocator:
    def __init__(self, text: str) -> None:
        self._text = text
        self._decoder = json.JSONDecoder()
        self._members: dict[int, dict[str, tuple[int, int]]] = {}
        self._items: dict[int, list[int]] = {}
        self._lines: LineIndex | None = None

    def locate(self, pointer: str) -> tuple[int, int]:
        """(line, column) of the element at ``pointer``, or of its nearest located ancestor."""
        offset = self._offset(pointer)
        if self._lines is None:
            self._lines = LineIndex(self._text)
        return self._lines.position(offset)

    def locate_many(self, pointers: list[str]) -> dict[str, tuple[int, int]]:
        """(line, column) for many pointers in one pass over the text: only containers on
        the way to a wanted pointer are walked member by member; every other value is
        skipped once, by the C decoder."""
        offsets: dict[str, int] = {}
        start = self._ws(0)
        # on malformed text the pointers found so far keep their offsets
        with contextlib.suppress(ValueError, IndexError):
            self._walk(start, start, _trie(pointers), "", offsets)
        if self._lines is None:
            self._lines = LineIndex(self._text)
        result = {}
        for pointer in pointers:
            offset = offsets.get(pointer)
            if offset is None:
                offset = self._offset(pointer)  # absent from the text: nearest ancestor
            result[pointer] = self._lines.position(offset)
        return result

    def _walk(self, at: int, shown: int, trie: _Trie, pointer: str, out: dict[str, int]) -> int:
        """Record offsets below the value at ``at``; return the offset just past it."""
        if trie.end:
            out[pointer] = shown
        text = self._text
        if not trie or text[at] not in "{[":
            return self._skip(at)
        closing = "}" if text[at] == "{" else "]"
        i = self._ws(at + 1)
        index = 0
        while i < len(text) and text[i] != closing:
            if closing == "}":
                key_at = i
                key, i = scanstring(text, i + 1)
                i = self._ws(self._ws(i) + 1)
                token, member_shown = str(key), key_at
            else:
                token, member_shown = str(index), i
                index += 1
            child = trie.get(token)
            if child is not None:
                escaped = token.replace("~", "~0").replace("/", "~1")
                i = self._walk(i, member_shown, child, f"{pointer}/{escaped}", out)
            else:
                i = self._skip(i)
            i = self._ws(i)
            if i < len(text) and text[i] == ",":
                i = self._ws(i + 1)
        return i + 1

    def _offset(self, pointer: str) -> int:
        text = self._text
        value_at = self._ws(0)
        shown = value_at
        try:
            tokens = split(pointer)
        except ValueError:
            return shown
        for token in tokens:
            if value_at >= len(text):
                break
            opener = text[value_at]
            if opener == "{":
                members = self._scan_object(value_at)
                if token not in members:
                    break
                shown, value_at = members[token]
            elif opener == "[":
                items = self._scan_array(value_at)
                if not token.isdigit() or int(token) >= len(items):
                    break
                shown = value_at = items[int(token)]
            else:
                break
        return shown

    def _scan_object(self, start: int) -> dict[str, tuple[int, int]]:
        cached = self._members.get(start)
        if cached is not None:
            return cached
        text, members = self._text, {}
        i = self._ws(start + 1)
        try:
            while i < len(text) and text[i] != "}":
                key_at = i
                key, i = scanstring(text, i + 1)
                i = self._ws(self._ws(i) + 1)  # past ':'
                members[key] = (key_at, i)
                i = self._ws(self._skip(i))
                if i < len(text) and text[i] == ",":
                    i = self._ws(i + 1)
        except (ValueError, IndexError):
            pass  # malformed tail: keep what was found
        self._members[start] = members
        return members

    def _scan_array(self, start: int) -> list[int]:
        cached = self._items.get(start)
        if cached is not None:
            return cached
        text, items = self._text, []
        i = self._ws(start + 1)
        try:
            while i < len(text) and text[i] != "]":
                items.append(i)
                i = self._ws(self._skip(i))
                if i < len(text) and text[i] == ",":
                    i = self._ws(i + 1)
        except (ValueError, IndexError):
            pass
        self._items[start] = items
        return items

    def _ws(self, i: int) -> int:
        match = _WS.match(self._text, i)
        return match.end() if match else i

    def _skip(self, i: int) -> int:
        """The offset just past the JSON value starting at ``i``."""
        char = self._text[i]
        if char in "{[":
            return int(self._decoder.raw_decode(self._text, i)[1])
        if char == '"':
            return int(scanstring(self._text, i + 1)[1])
        match = _SCALAR.match(self._text, i)
        if not match:
            raise ValueError("unexpected character")
        return match.end()


_Placed = tuple[tuple[int, int], tuple[int, int] | None]


class YamlLocator:
    """Locates block-style YAML by indentation."""

    def __init__(self, text: str) -> None:
        text = text.replace("\r\n", "\n")  # line and column do not count the CR
        self._lines = text.split("\n")
        count = len(self._lines)
        # indentation of every content line, -1 for blank and comment lines
        self._indent = [
            len(spaces) if first not in _NOT_CONTENT else -1
            for spaces, first in _LINE_START.findall(text)
        ]
        # for every content line, the next content line indented no deeper (its block's end)
        self._next = [count] * count
        pending: list[int] = []
        for index, depth in enumerate(self._indent):
            if depth < 0:
                continue
            while pending and self._indent[pending[-1]] >= depth:
                self._next[pending.pop()] = index
            pending.append(index)
        # children of a block: (first line, content column) -> members or items
        self._members: dict[tuple[int, int], dict[str, tuple[int, int]]] = {}
        self._items: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self._placed: dict[str, _Placed] = {}  # pointer -> where shown, the block it opens
        self._content_from: list[int | None] | None = None

    def locate(self, pointer: str) -> tuple[int, int]:
        root = self._root_block()
        if root is None:
            return 1, 1
        try:
            split(pointer)
        except ValueError:
            pointer = ""
        line, column = self._place(pointer, root)[0]
        return line + 1, column + 1

    def _place(self, pointer: str, root: tuple[int, int]) -> _Placed:
        """(where ``pointer`` is shown, the block its value opens or None). Every prefix
        placed is kept, so pointers that share a path (the findings below one deep schema)
        walk it once, not once each."""
        tokens: list[str] = []
        prefix = pointer
        while prefix and prefix not in self._placed:
            prefix, _, token = prefix.rpartition("/")
            tokens.append(unescape(token))
        shown, block = self._placed.get(prefix, (root, root)) if prefix else (root, root)
        for token in reversed(tokens):
            if block is not None:
                shown, block = self._step(block, shown, token)
            prefix = f"{prefix}/{escape(token)}"
            self._placed[prefix] = (shown, block)
        return shown, block

    def _step(self, block: tuple[int, int], shown: tuple[int, int], token: str) -> _Placed:
        """One token down from ``block``: where it is shown, and the block its value opens
        (None when there is no block to go further: a scalar, a flow collection, a miss)."""
        line, col = block
        text = self._lines[line]
        if text[col : col + 1] == "-" and text[col + 1 : col + 2] in ("", " "):
            items = self._scan_items(line, col)
            if not token.isdigit() or int(token) >= len(items):
                return shown, None
            shown = items[int(token)]
            return shown, self._item_content(*shown)
        members = self._scan_members(line, col)
        if token not in members:
            return shown, None
        shown = members[token]
        return shown, self._value_block(*shown)

    # -- blocks ---------------------------------------------------------------------------------

    def _content(self, line: int) -> int | None:
        """Column of the first content character of a line, None for blank and comment lines."""
        depth = self._indent[line]
        return None if depth < 0 else depth

    def _next_content(self, line: int) -> int | None:
        """The first content line from ``line`` on (found once per run of blank and comment
        lines: a file may hold millions of them)."""
        if self._content_from is None:
            following: list[int | None] = [None] * (len(self._lines) + 1)
            for index in range(len(self._lines) - 1, -1, -1):
                following[index] = index if self._indent[index] >= 0 else following[index + 1]
            self._content_from = following
        return self._content_from[line] if line < len(self._content_from) else None

    def _root_block(self) -> tuple[int, int] | None:
        first = self._next_content(0)
        if first is None:
            return None
        return first, self._indent[first]

    def _children(self, line: int, col: int) -> list[tuple[int, int]]:
        """Entry starts of the block whose first entry is at (line, col)."""
        entries = [(line, col)]
        indent = self._indent
        if indent[line] == col:
            index = self._next[line]
        else:  # a block starting mid-line, after "- ": its second entry follows the first's
            # value, whose lines are indented deeper; skip them a sibling block at a time
            found = self._next_content(line + 1)
            while found is not None and indent[found] > col:
                found = self._next_content(self._next[found])
            index = len(indent) if found is None else found
        while index < len(indent) and indent[index] == col:
            entries.append((index, col))
            index = self._next[index]
        return entries

    def _scan_members(self, line: int, col: int) -> dict[str, tuple[int, int]]:
        cached = self._members.get((line, col))
        if cached is not None:
            return cached
        members: dict[str, tuple[int, int]] = {}
        for entry_line, entry_col in self._children(line, col):
            text = self._lines[entry_line]
            key_col = entry_col
            if text[entry_col : entry_col + 2] == "? ":  # an explicit key: "? key" / ": value"
                rest = text[entry_col + 2 :]
                key_col = entry_col + 2 + len(rest) - len(rest.lstrip())
                key: str | None = _explicit_key(rest)
            else:
                key = _parse_key(text, entry_col)
            if key is not None and key not in members:
                members[key] = (entry_line, key_col)
        self._members[(line, col)] = members
        return members

    def _scan_items(self, line: int, col: int) -> list[tuple[int, int]]:
        cached = self._items.get((line, col))
        if cached is not None:
            return cached
        items = [
            entry
            for entry in self._children(line, col)
            if self._lines[entry[0]][col : col + 1] == "-"
        ]
        self._items[(line, col)] = items
        return items

    def _item_content(self, line: int, col: int) -> tuple[int, int] | None:
        """Where the value of the sequence item at (line, col) starts."""
        text = self._lines[line]
        rest = text[col + 1 :]
        stripped = rest.lstrip(" ")
        if stripped and not stripped.startswith("#"):
            return line, col + 1 + len(rest) - len(stripped)
        nxt = self._next_content(line + 1)
        if nxt is None:
            return None
        indent = self._content(nxt)
        return (nxt, indent) if indent is not None and indent > col else None

    def _value_block(self, line: int, col: int) -> tuple[int, int] | None:
        """Where the block value of the mapping key at (line, col) starts, if it is a block."""
        text = self._lines[line]
        colon = _key_end(text, col)
        if colon is None:
            return None
        rest = text[colon:].strip()
        if rest and not rest.startswith("#") and not rest.startswith(("&", "!")):
            return None  # a scalar or a flow collection on the same line
        nxt = self._next_content(line + 1)
        if nxt is None:
            return None
        indent = self._content(nxt)
        if indent is None:
            return None
        if indent > col or (indent == col and self._lines[nxt][col : col + 1] == "-"):
            return nxt, indent
        return None


_LINE_START = re.compile(r"^( *)(---|#|[^\n]|)", re.MULTILINE)
_NOT_CONTENT = frozenset({"", "#", "---"})


def _parse_key(text: str, col: int) -> str | None:
    """The mapping key written at ``col`` of a line, or None when the line is not ``key:``."""
    found = read_key(text, col)
    return found[0] if found else None


def _key_end(text: str, col: int) -> int | None:
    """Offset just past the ':' that ends the key at ``col``."""
    found = read_key(text, col)
    return found[1] if found else None


_PLAIN_KEY_END = re.compile(r":(?=[ \t]|$)")
_YAML_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)")
_ESCAPED = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}


def read_key(text: str, col: int) -> tuple[str, int] | None:
    """(key, offset past its ':') for a block mapping key at ``col``: plain (which may hold
    ':' and '#' when no space follows or precedes them), single- or double-quoted (with YAML
    escapes such as ``\\xE9``)."""
    char = text[col : col + 1]
    if char == '"':
        end = col + 1
        while end < len(text) and text[end] != '"':
            end += 2 if text[end] == "\\" else 1
        if end >= len(text):
            return None
        key = _YAML_ESCAPE.sub(_unescape, text[col + 1 : end])
        return _after_colon(text, end + 1, key)
    if char == "'":
        end = col + 1
        while True:
            end = text.find("'", end)
            if end < 0:
                return None
            if text[end + 1 : end + 2] != "'":
                break
            end += 2
        return _after_colon(text, end + 1, text[col + 1 : end].replace("''", "'"))
    if not char or char in "[{|>#" or (char in "-?" and text[col + 1 : col + 2] in ("", " ")):
        return None
    colon = _PLAIN_KEY_END.search(text, col)
    comment = text.find(" #", col)
    if colon is None or (0 <= comment < colon.start()):
        return None
    return text[col : colon.start()].strip(), colon.end()


def _explicit_key(rest: str) -> str:
    rest = rest.strip()
    if len(rest) > 1 and rest[0] == rest[-1] and rest[0] in "'\"":
        inner = rest[1:-1]
        return inner.replace("''", "'") if rest[0] == "'" else _YAML_ESCAPE.sub(_unescape, inner)
    return rest


def _after_colon(text: str, index: int, key: str) -> tuple[str, int] | None:
    rest = text[index:]
    stripped = rest.lstrip(" \t")
    if not stripped.startswith(":"):
        return None
    return key, index + len(rest) - len(stripped) + 1


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] in "xuU" and len(code) > 1:
        return chr(int(code[1:], 16))
    return _ESCAPED.get(code, code)


def second_key_line(text: str, key: str) -> int | None:
    """The line where ``key`` appears a second time in the same block mapping: keys are
    tracked per open mapping (a stack by indentation), and a line indented less (or a new
    sequence item) closes the deeper mappings."""
    open_mappings: list[tuple[int, set[str]]] = []  # (column, keys seen), columns increasing
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith(("#", "---")):
            continue
        column = len(line) - len(stripped)
        while stripped.startswith("- "):  # "- key: value" opens a mapping after the dash
            while open_mappings and open_mappings[-1][0] >= column:
                open_mappings.pop()
            column += 2 + len(stripped[2:]) - len(stripped[2:].lstrip(" "))
            stripped = stripped[2:].lstrip(" ")
        while open_mappings and open_mappings[-1][0] > column:
            open_mappings.pop()
        found = read_key(line, column)
        if found is None:
            continue
        if not open_mappings or open_mappings[-1][0] != column:
            open_mappings.append((column, set()))
        keys = open_mappings[-1][1]
        if found[0] == key and key in keys:
            return number
        keys.add(found[0])
    return None
