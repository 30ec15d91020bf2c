"""GraphQL: SDL files (one file, or a directory of ``.graphql``/``.graphqls``/``.gql`` files
merged into one schema) and introspection results (JSON), compared element by element.

Reading SDL goes through the fast reader in ``graphql_sdl`` (graphql-core's parser is far too
slow for million-byte schemas); graphql-core is used only to word syntax errors exactly and to
read and validate introspection results. See ``graphql_compare`` for what is reported, and
``graphql_positions`` for how inputs and outputs are told apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..documents import Source
from ..documents.loader import read_text
from ..errors import FormatError, LimitError, LoadError
from ..modes import Mode
from .graphql_build import build, sdl_position
from .graphql_compare import compare
from .graphql_model import Schema, SourceFile, named
from .graphql_sdl import (
    Document,
    SdlDuplicateError,
    SdlLimitError,
    SdlSyntaxError,
    read,
    token_offsets,
)
from .native import Change, ElementGraph, Settings

SDL_SUFFIXES = (".graphql", ".graphqls", ".gql")


class GraphQLFormat:
    name = "graphql"
    default_mode = Mode.AUTO
    default_policy = "lenient"
    suffixes = SDL_SUFFIXES

    def load(self, source: Source, path: str, settings: Settings) -> Schema:
        files = source.files(path, SDL_SUFFIXES)
        if files is None:
            name, text = read_text(source, path)
            if path.lower().endswith(".json") or text.lstrip()[:1] in ("{", "["):
                from .graphql_introspection import read_introspection

                return read_introspection(name, text)
            return read_sdl(name, [(name, text)])
        if not files:
            raise LoadError(
                f"no {', '.join(SDL_SUFFIXES)} files in this directory", file=source.display(path)
            )
        return read_sdl(source.display(path), [read_text(source, file) for file in files])

    def display(self, loaded: Schema) -> str:
        return loaded.name

    def compare(self, old: Schema, new: Schema, settings: Settings) -> Iterable[Change]:
        return compare(old, new)

    def references(self, loaded: Schema) -> ElementGraph:
        return element_graph(loaded)


def element_graph(schema: Schema) -> ElementGraph:
    """For impact analysis: a field (``Query.order``, ``Order.customer``) or input field refers
    to the named types of its type and arguments; a type to its fields, a union to its members,
    an interface to the types implementing it (a query may select their fields). An object
    does not refer to its interfaces: it declares every field they have."""
    types = schema.types
    implementations: dict[str, list[str]] = {}
    for name, definition in types.items():
        for interface in definition.interfaces:
            implementations.setdefault(interface, []).append(name)
    edges: dict[str, tuple[str, ...]] = {}
    for name, definition in types.items():
        refs: list[str] = []
        members = [
            (field_name, [f.type, *(a.type for a in f.args.values())])
            for field_name, f in definition.fields.items()
        ]
        members += [(input_name, [v.type]) for input_name, v in definition.inputs.items()]
        for member, type_refs in members:
            targets = tuple(t for t in dict.fromkeys(named(r) for r in type_refs) if t in types)
            if targets:
                path = f"{name}.{member}"
                edges[path] = targets
                refs.append(path)
        refs += definition.members + implementations.get(name, [])
        if refs:
            edges[name] = tuple(dict.fromkeys(refs))
    return ElementGraph(edges)


def read_sdl(name: str, texts: list[tuple[str, str]]) -> Schema:
    """One schema from SDL texts (display name, text)."""
    sources: list[SourceFile] = []
    documents: list[Document] = []
    for index, (file, text) in enumerate(texts):
        sources.append(SourceFile(file, sdl_position(text)))
        try:
            documents.append(read(text, index))
        except SdlSyntaxError as err:
            raise _syntax_error(file, text, err) from None
        except SdlDuplicateError as err:
            line, column = sources[index].position(err.index)
            raise FormatError(err.message, file=file, line=line, column=column) from None
        except SdlLimitError as err:
            line, column = sources[index].position(err.index)
            raise LimitError(err.message, file=file, line=line, column=column) from None
    return build(name, sources, documents)


NOT_SDL = "not GraphQL SDL (this diff reads both versions as GraphQL): "
"""Put before a syntax error in a file whose name is not a GraphQL file's: most likely a file
of another format (an OpenAPI document beside a ``.graphql`` new version)."""


def _syntax_error(file: str, text: str, err: SdlSyntaxError) -> FormatError:
    """graphql-core's wording of the error; ours when graphql-core accepts the text (it
    parses executable definitions, which a schema may not hold). A file whose name does not
    end in a GraphQL suffix is said not to be GraphQL SDL first."""
    prefix = "" if file.lower().endswith(SDL_SUFFIXES) else NOT_SDL
    offsets = token_offsets(text)
    offset = offsets[err.index] if err.index < len(offsets) else len(text)
    start = offsets[err.start] if err.start < len(offsets) else len(text)
    following = offsets[err.index + 1] if err.index + 1 < len(offsets) else len(text)
    worded = _graphql_core_error(text, start, following)
    if worded is not None:
        message, line, column = worded
        return FormatError(prefix + message, file=file, line=line, column=column)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    token = text[offset : offset + 20].split(maxsplit=1)[0] if offset < len(text) else "end of file"
    if err.expected == "a string":
        message = "Syntax Error: Unterminated string or invalid escape sequence."
    else:
        message = (
            f"Syntax Error: Expected {err.expected}, found {token!r} (a schema holds only "
            "type system definitions)."
        )
    return FormatError(prefix + message, file=file, line=line, column=column)


_ORACLE_CHARS = 256 * 1024
"""The most text given to graphql-core to word a syntax error: its parser is ten times slower
than the reader, so it reads only the definition the reader stopped in, when that is short."""
_LINE_BREAK = re.compile(r"\r\n|[\n\r]")


def _graphql_core_error(text: str, start: int, until: int) -> tuple[str, int, int] | None:
    """graphql-core's message, line and column for the error the reader found in the token
    ending before ``until``, in the definition starting at ``start`` (its wording depends on
    nothing before). None when graphql-core finds no error, or none up to that token in the
    window it was given, or cannot read it (nesting past its recursion limit)."""
    from graphql import GraphQLError, parse

    line_start = max(text.rfind("\n", 0, start), text.rfind("\r", 0, start)) + 1
    end = min(len(text), start + _ORACLE_CHARS)
    if until > end:
        return None
    # the definition where it stands: the text before it on its line blanked, so graphql-core
    # counts the same columns
    snippet = " " * (start - line_start) + text[start:end]
    try:
        parse(snippet, no_location=True)
    except GraphQLError as error:
        if not error.locations or not error.positions or "nested too deeply" in error.message:
            return None
        if line_start + next(iter(error.positions)) > until and end < len(text):
            return None  # past the reader's error: where graphql-core stopped may be the cut
        where = error.locations[0]
        lines_before = len(_LINE_BREAK.findall(text, 0, line_start))
        return error.message, lines_before + where.line, where.column
    except RecursionError:
        return None
    return None
