"""A fast reader for GraphQL SDL (type system documents).

graphql-core's parser takes about half a second for a 1 MB schema; this reader takes a tenth
of that. One compiled regular expression splits the text into tokens in C (``findall``: the
ignored characters, commas and comments are skipped inside the match); a small
recursive-descent reader then builds only what the model needs. Elements remember the index
of their token: offsets, lines and columns are computed only for the elements a finding
points at (one ``finditer`` pass over the file, then a bisect over line starts).

The reader accepts exactly the type system grammar. On anything else it raises
``SdlSyntaxError`` with the token it stopped at; the loader then asks graphql-core for the
exact message and location (graphql-core is imported only on that path).

Bounds. Every match of the token expression consumes what it scans (an unterminated string
is one bad token, trailing whitespace and comments end in an empty match), so tokenizing is
linear whatever the text. Type references and values are read with loops, not recursion, and
refused (``SdlLimitError``) past ``MAX_LIST_NESTING`` lists and ``MAX_NESTING`` values; a file
holds at most ``max_elements()`` definitions, fields, arguments, enum values, members,
directives, values and type references.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..limits import MAX_LIST_NESTING, MAX_NESTING, max_elements, too_many_elements
from .graphql_model import (
    ENUM,
    INPUT,
    INTERFACE,
    OBJECT,
    SCALAR,
    UNION,
    DirectiveDef,
    EnumValue,
    Field,
    InputValue,
    TypeDef,
    Usage,
)
from .graphql_values import quote, string_value

_IGNORED = r"(?:[ \t\n\r,\ufeff]++|#[^\n\r]*+)*+"
_BLOCK_BODY = r'"""(?:[^"\\]++|\\"""|\\|"(?!""))*+'
_HEX = "[0-9A-Fa-f]"
_NOT_SURROGATE = "(?![dD][89A-Fa-f])"
_PAIR = rf"[dD][89abAB]{_HEX}{{2}}\\u[dD][c-fC-F]{_HEX}{{2}}"
_CODE_POINT = (  # without leading zeros: 0 to U+10FFFF, no surrogate
    rf"(?:[1-9A-Fa-f]{_HEX}{{0,2}}|{_NOT_SURROGATE}[1-9A-Fa-f]{_HEX}{{3}}"
    rf"|[1-9A-Fa-f]{_HEX}{{4}}|10{_HEX}{{4}}|)"
)
_UNICODE = (  # the escapes graphql-core accepts: no lone surrogate, nothing past U+10FFFF
    rf"u(?:{_NOT_SURROGATE}{_HEX}{{4}}|{_PAIR})|u\{{(?={_HEX}{{1,8}}\}})0*+{_CODE_POINT}\}}"
)
_STRING_BODY = rf'"(?:[^"\\\n\r]++|\\(?:["\\/bfnrt]|{_UNICODE}))*+'
_TOKEN = (
    f'{_BLOCK_BODY}"""'  # block string
    f'|{_STRING_BODY}"'  # string
    f"|{_BLOCK_BODY}|{_STRING_BODY}"  # unterminated: one bad token, so it is scanned once
    r"|[_A-Za-z][_0-9A-Za-z]*+"  # name
    r"|-?(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?(?:[eE][+-]?[0-9]++)?(?![_A-Za-z.0-9])"  # number
    r"|\.\.\.|[!$&()\[\]{}:=@|]"  # punctuators
    r"|[^ \t\n\r,]"  # anything else: the reader stops there
    r"|\Z"  # the end: trailing whitespace and comments match once, not once per character
)
TOKENS = re.compile(f"{_IGNORED}({_TOKEN})")
STRING = re.compile(f'{_BLOCK_BODY}"""|{_STRING_BODY}"')
"""A complete string token (a token starting with a quote may be an unterminated one)."""
_NUMBER_START = frozenset("-0123456789")
_KINDS = {
    "type": OBJECT,
    "interface": INTERFACE,
    "union": UNION,
    "enum": ENUM,
    "input": INPUT,
    "scalar": SCALAR,
}
LISTS_TOO_DEEP = f"list types nested more than {MAX_LIST_NESTING} levels deep in one type"
VALUES_TOO_DEEP = f"values nested more than {MAX_NESTING:,} levels deep"
_OPERATIONS = frozenset({"query", "mutation", "subscription"})
_END = ""  # the token after the last one


class SdlSyntaxError(Exception):
    """The reader stopped at token ``index`` (``len(tokens)``: the end of the file), in the
    definition starting at token ``start``."""

    def __init__(self, index: int, expected: str, start: int = 0) -> None:
        super().__init__(expected)
        self.index = index
        self.expected = expected
        self.start = start


class SdlLimitError(Exception):
    """The text goes past a limit at token ``index``: ``message`` says which."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message


@dataclass
class SchemaPart:
    """A ``schema`` definition or extension."""

    file: int
    at: int
    extension: bool
    description: str | None
    roots: dict[str, tuple[str, int]]  # operation -> (type name, token index)
    directives: list[Usage]


@dataclass
class Document:
    """What one SDL file defines, in order; extensions are merged by the builder."""

    tokens: list[str]
    types: list[tuple[TypeDef, bool]] = field(default_factory=list)  # (type, is extension)
    directives: list[DirectiveDef] = field(default_factory=list)
    schemas: list[SchemaPart] = field(default_factory=list)


def _complete(token: str) -> bool:
    """Whether a token starting with a quote is a complete string (``STRING``), told from its
    end: an unterminated block string runs to the end of the file and does not end in an
    unescaped ``\"\"\"``; an unterminated string does not end in an unescaped quote."""
    if token.startswith('"""'):
        return len(token) >= 6 and token.endswith('"""') and token[-4] != "\\"
    if len(token) < 2 or token[-1] != '"':
        return False
    end = len(token) - 1
    start = end
    while token[start - 1] == "\\":
        start -= 1
    return (end - start) % 2 == 0


def token_offsets(text: str) -> list[int]:
    """The offset of every token (the same tokens ``read`` saw), then of the end."""
    return [match.start(1) for match in TOKENS.finditer(text)]


def _tokens(text: str) -> list[str]:
    """The tokens of ``text``, ending with exactly one ``_END``."""
    tokens = TOKENS.findall(text)
    while tokens and tokens[-1] == _END:
        tokens.pop()
    tokens.append(_END)
    return tokens


def read(text: str, file: int) -> Document:
    """Read one SDL file; raises ``SdlSyntaxError`` where the grammar is not followed and
    ``SdlLimitError`` past a limit."""
    tokens = _tokens(text)
    document = Document(tokens)
    _Reader(tokens, file, document).document()
    tokens.pop()
    return document


def literal(text: str) -> str:
    """The canonical form of one constant GraphQL value written as text (``{b: 1, a: "x"}``
    -> ``{a: "x", b: 1}``); raises ``SdlSyntaxError`` when it is not one and
    ``SdlLimitError`` when it nests too deeply."""
    tokens = _tokens(text)
    reader = _Reader(tokens, 0, Document(tokens))
    value = reader.value()
    if tokens[reader.i] != _END:
        raise reader.fail("the end of the value")
    return value


class _Reader:
    def __init__(self, tokens: list[str], file: int, document: Document) -> None:
        self.t = tokens
        self.i = 0
        self.file = file
        self.doc = document
        self.elements = 0
        self.max_elements = max_elements()
        self.start = 0  # the token the current definition starts at

    # -- helpers -------------------------------------------------------------------------

    def fail(self, expected: str) -> SdlSyntaxError:
        return SdlSyntaxError(min(self.i, len(self.t) - 1), expected, self.start)

    def count(self, elements: int = 1) -> None:
        """Count elements read; refuse the file past the element limit."""
        self.elements += elements
        if self.elements > self.max_elements:
            what = "definitions, fields, arguments, values and type references"
            raise SdlLimitError(self.i, too_many_elements(None, what=what).message)

    def expect(self, punctuator: str) -> None:
        if self.t[self.i] != punctuator:
            raise self.fail(f"'{punctuator}'")
        self.i += 1

    def name(self) -> str:
        token = self.t[self.i]
        if not token or not (token[0].isalpha() or token[0] == "_") or not token.isascii():
            raise self.fail("a name")
        self.i += 1
        return token

    def description(self) -> str | None:
        token = self.t[self.i]
        if token[:1] == '"':
            if not _complete(token):
                raise self.fail("a string")
            self.i += 1
            return token
        return None

    # -- definitions ---------------------------------------------------------------------

    def document(self) -> None:
        t = self.t
        if t[0] == _END:
            raise self.fail("a definition")
        while t[self.i] != _END:
            self.definition()

    def definition(self) -> None:
        self.count()
        self.start = self.i
        description = self.description()
        start = self.i
        keyword = self.t[self.i]
        if keyword == "extend" and description is None:
            self.i += 1
            keyword = self.t[self.i]
            if keyword == "schema":
                self.schema(start, None, extension=True)
                return
            kind = _KINDS.get(keyword)
            if kind is None:
                raise self.fail("a type system extension")
            self.type_definition(kind, start, None, extension=True)
            return
        if keyword == "schema":
            self.schema(start, description, extension=False)
        elif keyword == "directive":
            self.directive_definition(start, description)
        elif keyword in _KINDS:
            self.type_definition(_KINDS[keyword], start, description, extension=False)
        else:
            raise self.fail("a type system definition")

    def schema(self, start: int, description: str | None, *, extension: bool) -> None:
        self.i += 1
        directives = self.directives()
        roots: dict[str, tuple[str, int]] = {}
        if self.t[self.i] == "{":
            self.i += 1
            while True:
                at = self.i
                operation = self.name()
                if operation not in _OPERATIONS:
                    self.i = at
                    raise self.fail("query, mutation or subscription")
                self.expect(":")
                self.count()
                roots[operation] = (self.name(), at)
                if self.t[self.i] == "}":
                    self.i += 1
                    break
        elif not extension or not directives:
            raise self.fail("'{'")
        self.doc.schemas.append(
            SchemaPart(self.file, start, extension, description, roots, directives)
        )

    def type_definition(
        self, kind: str, start: int, description: str | None, *, extension: bool
    ) -> None:
        self.i += 1
        definition = TypeDef(kind, self.name(), description, self.file, start)
        t = self.t
        if kind in (OBJECT, INTERFACE) and t[self.i] == "implements":
            self.i += 1
            if t[self.i] == "&":
                self.i += 1
            definition.interfaces.append(self.name())
            while t[self.i] == "&":
                self.i += 1
                self.count()
                definition.interfaces.append(self.name())
        definition.directives = self.directives()
        has_body = False
        if kind in (OBJECT, INTERFACE):
            if t[self.i] == "{":
                self.fields(definition.fields, definition.name)
                has_body = True
        elif kind == INPUT:
            if t[self.i] == "{":
                self.i += 1
                values = definition.inputs
                while True:
                    value = self.input_value()
                    if values.setdefault(value.name, value) is not value:
                        raise SdlDuplicateError(
                            value.at,
                            f"Field '{definition.name}.{value.name}' can only be defined once.",
                        )
                    if t[self.i] == "}":
                        self.i += 1
                        break
                has_body = True
        elif kind == ENUM:
            if t[self.i] == "{":
                self.enum_values(definition.values, definition.name)
                has_body = True
        elif kind == UNION and t[self.i] == "=":
            self.i += 1
            if t[self.i] == "|":
                self.i += 1
            definition.members.append(self.name())
            while t[self.i] == "|":
                self.i += 1
                self.count()
                definition.members.append(self.name())
            has_body = True
        if extension and not (has_body or definition.directives or definition.interfaces):
            raise self.fail("'{'" if kind != UNION else "'='")
        self.doc.types.append((definition, extension))

    def fields(self, into: dict[str, Field], owner: str) -> None:
        t = self.t
        self.i += 1
        while True:
            self.elements += 2  # the field and its type
            if self.elements > self.max_elements:
                self.count(0)
            description = self.description()
            at = self.i
            name = self.name()
            args: dict[str, InputValue] = {}
            if t[self.i] == "(":
                self.arguments_definition(args, f"{owner}.{name}")
            self.expect(":")
            type_ref = self.type_ref()
            directives = tuple(self.directives())
            field = Field(name, type_ref, args, description, directives, self.file, at)
            if into.setdefault(name, field) is not field:
                raise SdlDuplicateError(at, f"Field '{owner}.{name}' can only be defined once.")
            if t[self.i] == "}":
                self.i += 1
                return

    def arguments_definition(self, into: dict[str, InputValue], owner: str) -> None:
        self.i += 1
        while True:
            value = self.input_value()
            if into.setdefault(value.name, value) is not value:
                raise SdlDuplicateError(
                    value.at, f"Argument '{owner}({value.name}:)' can only be defined once."
                )
            if self.t[self.i] == ")":
                self.i += 1
                return

    def input_value(self) -> InputValue:
        self.count(2)  # the argument or input field and its type
        description = self.description()
        at = self.i
        name = self.name()
        self.expect(":")
        type_ref = self.type_ref()
        default = None
        if self.t[self.i] == "=":
            self.i += 1
            default = self.value()
        directives = tuple(self.directives())
        return InputValue(name, type_ref, default, description, directives, self.file, at)

    def enum_values(self, into: dict[str, EnumValue], owner: str) -> None:
        self.i += 1
        while True:
            self.count()
            description = self.description()
            at = self.i
            name = self.name()
            if name in ("true", "false", "null"):
                self.i = at
                raise self.fail("an enum value name (not true, false or null)")
            directives = tuple(self.directives())
            value = EnumValue(name, description, directives, self.file, at)
            if into.setdefault(name, value) is not value:
                raise SdlDuplicateError(
                    at, f"Enum value '{owner}.{name}' can only be defined once."
                )
            if self.t[self.i] == "}":
                self.i += 1
                return

    def directive_definition(self, start: int, description: str | None) -> None:
        self.i += 1
        self.expect("@")
        name = self.name()
        args: dict[str, InputValue] = {}
        if self.t[self.i] == "(":
            self.arguments_definition(args, f"@{name}")
        repeatable = self.t[self.i] == "repeatable"
        if repeatable:
            self.i += 1
        if self.t[self.i] != "on":
            raise self.fail("'on'")
        self.i += 1
        if self.t[self.i] == "|":
            self.i += 1
        locations = [self.name()]
        while self.t[self.i] == "|":
            self.i += 1
            self.count()
            locations.append(self.name())
        self.doc.directives.append(
            DirectiveDef(name, description, args, tuple(locations), repeatable, self.file, start)
        )

    # -- types, values, directives --------------------------------------------------------

    def type_ref(self) -> str:
        """A type reference in canonical form (``[String!]!``); lists are read with a loop."""
        t = self.t
        if t[self.i] != "[":
            ref = self.name()
            if t[self.i] == "!":
                self.i += 1
                return ref + "!"
            return ref
        depth = 0
        while t[self.i] == "[":
            depth += 1
            if depth > MAX_LIST_NESTING:
                raise SdlLimitError(self.i, LISTS_TOO_DEEP)
            self.i += 1
        if depth:
            self.count(depth)  # each list refers to a type too
        parts = [self.name()]
        for level in range(depth + 1):
            if level:
                self.expect("]")
                parts.append("]")
            if t[self.i] == "!":
                self.i += 1
                parts.append("!")
        return "[" * depth + "".join(parts)

    def directives(self) -> list[Usage]:
        t = self.t
        found: list[Usage] = []
        while t[self.i] == "@":
            self.count()
            self.i += 1
            name = self.name()
            args: list[tuple[str, str]] = []
            if t[self.i] == "(":
                self.i += 1
                while True:
                    key = self.name()
                    self.expect(":")
                    args.append((key, self.value()))
                    if t[self.i] == ")":
                        self.i += 1
                        break
                args.sort()
            found.append((name, tuple(args)))
        return found

    def value(self) -> str:
        """A constant value as a canonical literal: lists and objects are kept on a stack of
        open containers (their items so far, and for objects the key being read), so nesting
        costs no recursion."""
        t = self.t
        if t[self.i] not in ("[", "{"):
            self.count()
            return self.scalar()
        open_: list[tuple[list[str], list[str] | None]] = []  # (items, [key] of an object)
        while True:
            self.count()
            token = t[self.i]
            if token in ("[", "{"):
                if len(open_) >= MAX_NESTING:
                    raise SdlLimitError(self.i, VALUES_TOO_DEEP)
                self.i += 1
                open_.append(([], [""] if token == "{" else None))
                done = None
            else:
                done = self.scalar()
            while open_:
                items, key = open_[-1]
                if done is not None:
                    items.append(done if key is None else f"{key[0]}: {done}")
                    done = None
                if t[self.i] == ("]" if key is None else "}"):
                    self.i += 1
                    open_.pop()
                    if key is None:
                        done = "[" + ", ".join(items) + "]"
                    else:
                        done = "{" + ", ".join(sorted(items)) + "}"
                    continue
                if key is not None:
                    key[0] = self.name()
                    self.expect(":")
                break
            if not open_ and done is not None:
                return done

    def scalar(self) -> str:
        """A string, number, boolean, null or enum value."""
        token = self.t[self.i]
        first = token[:1]
        if first == '"':
            if not _complete(token):
                raise self.fail("a string")
            self.i += 1
            return quote(string_value(token))
        if first in _NUMBER_START and token != "-":
            self.i += 1
            return token
        return self.name()


class SdlDuplicateError(Exception):
    """A name defined twice inside one definition (at token ``index``)."""

    def __init__(self, index: int | str, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message
