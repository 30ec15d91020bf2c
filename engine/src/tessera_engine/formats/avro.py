"""Apache Avro schemas (``.avsc``): loading, and comparison under Avro's schema resolution.

Modes. Avro compatibility is about a reader schema reading data written with a writer schema
(Avro 1.12 specification, "Schema Resolution"). Tessera maps Confluent's modes onto its
effect/position model: ``backward`` (the default, as in Confluent's registry) = the new
schema reads data written with the old one, every element judged as an input; ``forward`` =
the old schema reads data written with the new one, every element judged as an output;
``full`` = both; ``*_transitive`` = against every older version given (``tessera diff v1 v2 v3
--mode backward_transitive``). Mode ``auto`` treats the subject as under ``backward``. Each
change's effect says which direction it breaks (see ``avro_compare``): narrowing breaks
backward, widening breaks forward, replacing breaks both.

Logical types. Resolution ignores logical types (the specification and Apache Avro's checkers
only look at the underlying type), so a logical type added, removed or changed on the same
underlying type (``timestamp-millis`` -> ``timestamp-micros``) reads fine but changes what the
values mean: it is reported as *dangerous*, never breaking. The exception is ``decimal``: the
specification says two decimals match only when precision and scale match, so changing either
breaks (Apache Avro's checkers do not enforce this; a documented deviation of the conformance
pairs).

Files. A path is one ``.avsc`` file (any name when ``--format avro`` is given) or a directory:
every ``.avsc`` file under it is one schema, and a file may refer to named types defined in
other files of the directory, in any order (files are parsed in the order their references
allow; a cycle of references between files is an error). Versions of a directory are paired
by relative file path. Aliases written without a dot are relative to the type's namespace,
as the specification says.
"""

from __future__ import annotations

import re
import sys
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from ..documents import Document, Source, parse_document
from ..documents.loader import read_source
from ..documents.pointer import escape
from ..errors import FormatError, LimitError, LoadError
from ..model import Effect, Position
from ..modes import Mode, effective_position
from .avro_compare import BOTH, Comparer, Where
from .avro_model import Array, AvroVersion, Map, Named, Record, Schema, TopLevel, Union
from .avro_parse import SchemaParser, UnknownTypeError
from .avro_work import WorkBudget
from .native import Change, ElementGraph, Settings

_RECURSION_LIMIT = 20_000


class AvroFormat:
    name = "avro"
    default_mode = Mode.BACKWARD
    default_policy = "strict"
    suffixes = (".avsc",)

    def load(self, source: Source, path: str, settings: Settings) -> AvroVersion:
        files = source.files(path, self.suffixes)
        with _deep_recursion(source.display(path)):
            if files is None:
                document = _document(source, path)
                parser = SchemaParser(document, {})
                schema = parser.parse_root()
                return AvroVersion(document.name, [TopLevel("", schema)], elements=parser.elements)
            if not files:
                raise FormatError("no .avsc files in this directory", file=source.display(path))
            return _load_directory(source, path, files)

    def display(self, loaded: Any) -> str:
        assert isinstance(loaded, AvroVersion)
        return loaded.display

    def compare(self, old: Any, new: Any, settings: Settings) -> list[Change]:
        assert isinstance(old, AvroVersion) and isinstance(new, AvroVersion)
        position = effective_position(settings.mode, Position.INPUT)
        comparer = Comparer(position, WorkBudget(old.elements + new.elements, new.display))
        with _deep_recursion(new.display):
            if not (old.is_directory or new.is_directory):
                a, b = old.schemas[0].schema, new.schemas[0].schema
                comparer.schema(a, b, Where(_root_path(b, "schema"), b.site, a.site), BOTH)
                return comparer.changes
            olds = {top.key: top.schema for top in old.schemas}
            for top in new.schemas:
                b = top.schema
                a_or_none = olds.pop(top.key, None)
                if a_or_none is None:
                    where = Where(_root_path(b, top.key), b.site, b.site)
                    args = {"file": top.key}
                    comparer.emit("schema.avro-schema.added", where, args, effect=Effect.EXTENSION)
                    continue
                where = Where(_root_path(b, top.key), b.site, a_or_none.site)
                comparer.schema(a_or_none, b, where, BOTH)
            for key, a in olds.items():
                comparer.changes.append(
                    Change(
                        rule="schema.avro-schema.removed",
                        position=position,
                        path=_root_path(a, key),
                        key=key,
                        location=None,
                        args={"file": key},
                        old_location=a.site.location(),
                    )
                )
        return comparer.changes

    def references(self, loaded: Any) -> ElementGraph:
        assert isinstance(loaded, AvroVersion)
        return element_graph(loaded)


def element_graph(version: AvroVersion) -> ElementGraph:
    """For impact analysis: a record refers to its fields, a field (``shop.Order.address``) to
    the named types its type holds (directly, or as array items, map values, union branches)."""
    edges: dict[str, tuple[str, ...]] = {}
    stack: list[Schema] = [top.schema for top in version.schemas]
    seen: set[str] = set()
    while stack:
        for schema in _named_in(stack.pop()):
            if schema.fullname in seen:
                continue
            seen.add(schema.fullname)
            if not isinstance(schema, Record):
                continue
            fields: list[str] = []
            for f in schema.fields:
                held = _named_in(f.type)
                stack += held
                if held:
                    path = f"{schema.fullname}.{f.name}"
                    edges[path] = tuple(dict.fromkeys(n.fullname for n in held))
                    fields.append(path)
            if fields:
                edges[schema.fullname] = tuple(fields)
    return ElementGraph(edges)


def _named_in(schema: Schema) -> list[Named]:
    """The named types ``schema`` is or holds, without entering them."""
    found: list[Named] = []
    stack = [schema]
    while stack:
        current = stack.pop()
        if isinstance(current, Named):
            found.append(current)
        elif isinstance(current, Array):
            stack.append(current.items)
        elif isinstance(current, Map):
            stack.append(current.values)
        elif isinstance(current, Union):
            stack.extend(reversed(current.branches))
    return found


def _root_path(schema: Any, fallback: str) -> str:
    return schema.fullname if isinstance(schema, Named) else fallback


def _document(source: Source, path: str) -> Document:
    """The file parsed as JSON (whatever its suffix: ``.avsc`` is JSON)."""
    name, raw = read_source(source, path)
    document = replace(parse_document(f"{path}.json", name, raw), path=path)
    if _SURROGATE_ESCAPE.search(document.text):
        _refuse_lone_surrogates(document)
    return document


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _refuse_lone_surrogates(document: Document) -> None:
    """Refuse a string holding a lone surrogate (JSON's ``"\\ud800"``): no output can print
    it. Looked for only when the text holds such an escape."""
    stack: list[tuple[str, Any]] = [("", document.data)]
    while stack:
        pointer, value = stack.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                at = f"{pointer}/{escape(key)}"
                _printable(key, document, at)
                stack.append((at, child))
        elif isinstance(value, list):
            stack.extend((f"{pointer}/{index}", child) for index, child in enumerate(value))
        elif isinstance(value, str):
            _printable(value, document, pointer)


def _printable(text: str, document: Document, pointer: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        loc = document.locate(pointer)
        raise LoadError(
            "a string holds a lone surrogate (an unpaired \\u escape)",
            file=loc.file,
            line=loc.line,
            column=loc.column,
        ) from None


def _load_directory(source: Source, root: str, files: list[str]) -> AvroVersion:
    """Every file of a directory, each parsed once the named types it refers to exist. A file
    that refers to a name not defined yet waits for that name: it is parsed again only when
    another file defines it, so files in any order cost about one parse each."""
    documents = [_document(source, path) for path in files]
    names: dict[str, Named] = {}
    parsed: dict[int, TopLevel] = {}
    elements = 0
    blocked: dict[int, UnknownTypeError] = {}
    waiting: dict[str, set[int]] = {}  # a full name -> the files waiting for it
    queue = deque(range(len(documents)))
    while queue:
        index = queue.popleft()
        parser = SchemaParser(documents[index], names)
        try:
            schema = parser.parse_root()
        except UnknownTypeError as err:
            blocked[index] = err
            for name in err.candidates:
                waiting.setdefault(name, set()).add(index)
            continue
        names.update(parser.defined)
        elements += parser.elements
        parsed[index] = TopLevel(_relative(root, files[index]), schema)
        for name in parser.defined:
            for ready in sorted(waiting.pop(name, ())):
                if blocked.pop(ready, None) is not None:
                    queue.append(ready)
    if blocked:
        raise blocked[min(blocked)]
    schemas = [parsed[i] for i in sorted(parsed)]
    return AvroVersion(source.display(root), schemas, is_directory=True, elements=elements)


def _relative(root: str, path: str) -> str:
    import os.path

    return os.path.relpath(path, root).replace(os.sep, "/")


@contextmanager
def _deep_recursion(name: str) -> Iterator[None]:
    """Deeply nested schemas recurse: raise the limit while working, and turn an overflow
    into a one-line error."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _RECURSION_LIMIT))
    try:
        yield
    except RecursionError:
        raise LimitError("the schema is nested too deeply", file=name) from None
    finally:
        sys.setrecursionlimit(limit)
