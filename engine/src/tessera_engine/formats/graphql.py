"""GraphQL: SDL files (one file, or a directory of ``.graphql``/``.graphqls``/``.gql`` files
merged into one schema) and introspection results (JSON), compared element by element.

Reading SDL goes through the fast reader in ``graphql_sdl`` (graphql-core's parser is far too
slow for million-byte schemas); graphql-core is used only to word syntax errors exactly and to
read and validate introspection results. See ``graphql_compare`` for what is reported, and
``graphql_positions`` for how inputs and outputs are told apart.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..documents import Source
from ..documents.loader import read_text
from ..errors import FormatError, LoadError
from ..modes import Mode
from .graphql_build import build, sdl_position
from .graphql_compare import compare
from .graphql_model import Schema, SourceFile, named
from .graphql_sdl import Document, SdlDuplicateError, SdlSyntaxError, read, token_offsets
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
    return build(name, sources, documents)


NOT_SDL = "not GraphQL SDL (this diff reads both versions as GraphQL): "
"""Put before a syntax error in a file whose name is not a GraphQL file's: most likely a file
of another format (an OpenAPI document beside a ``.graphql`` new version)."""


def _syntax_error(file: str, text: str, err: SdlSyntaxError) -> FormatError:
    """graphql-core's wording of the error; ours when graphql-core accepts the text (it
    parses executable definitions, which a schema may not hold). A file whose name does not
    end in a GraphQL suffix is said not to be GraphQL SDL first."""
    from graphql import GraphQLError, Source, parse

    prefix = "" if file.lower().endswith(SDL_SUFFIXES) else NOT_SDL
    try:
        parse(Source(text, file), no_location=True)
    except GraphQLError as error:
        where = error.locations[0] if error.locations else None
        return FormatError(
            prefix + error.message,
            file=file,
            line=where.line if where else None,
            column=where.column if where else None,
        )
    offsets = token_offsets(text)
    offset = offsets[err.index] if err.index < len(offsets) else len(text)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    token = text[offset : offset + 20].split(maxsplit=1)[0] if offset < len(text) else "end of file"
    return FormatError(
        f"{prefix}Syntax Error: Expected {err.expected}, found {token!r} (a schema holds only "
        "type system definitions).",
        file=file,
        line=line,
        column=column,
    )
