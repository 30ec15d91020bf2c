"""One version of a contract as a set of documents, and ``$ref`` resolution between them.

A ``Workspace`` starts from a root file and loads sibling files on demand when a ``$ref``
names them (``common.yaml#/components/schemas/Error``). Fragments are JSON pointers
(percent-decoded) or JSON Schema anchors; absolute URIs resolve against the ``$id``s found in
the loaded documents. Nothing is fetched from the network, and a sibling file is read only
inside the root the source is confined to (``files.FileSource``): a ``$ref`` that leaves it
(``/etc/passwd``, ``../../x``, ``%2e%2e/x``, a symbolic link) is a ``RefError`` at the ``$ref``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from ..errors import RefError
from .files import OutsideRoot
from .loader import Document, Source, load_document
from .pointer import escape, from_fragment, resolve

# Keywords whose values are data, not schemas or spec objects: never look for $ref or $id in them.
DATA_KEYWORDS = frozenset({"enum", "const", "default", "example", "examples", "x-example"})

# Keywords whose values map arbitrary names to schemas: a property may be called "default".
NAME_MAPS = frozenset(
    {
        "properties",
        "patternProperties",
        "definitions",
        "$defs",
        "dependentSchemas",
        "schemas",
    }
)


class Workspace:
    def __init__(self, source: Source, root_path: str) -> None:
        self.source = source
        self.root = load_document(source, root_path)
        self.documents: dict[str, Document] = {self.root.path: self.root}
        self._ids: dict[str, tuple[Document, str]] | None = None
        self._anchors: dict[str, dict[str, str]] = {}
        self._resolved: dict[tuple[str, str], tuple[Document, str, Any]] = {}

    @classmethod
    def of(cls, source: Source, document: Document) -> Workspace:
        """A workspace around an already parsed document."""
        ws = cls.__new__(cls)
        ws.source = source
        ws.root = document
        ws.documents = {document.path: document}
        ws._ids = None
        ws._anchors = {}
        ws._resolved = {}
        return ws

    def document(self, path: str) -> Document:
        doc = self.documents.get(path)
        if doc is None:
            doc = load_document(self.source, path)
            self.documents[path] = doc
            self._ids = None
        return doc

    def resolve(self, doc: Document, ref: str, at: str) -> tuple[Document, str, Any]:
        """Follow ``ref`` written in ``doc`` at pointer ``at``: (document, pointer, value)."""
        key = (doc.path, ref)
        found = self._resolved.get(key)
        if found is None:
            found = self._resolved[key] = self._resolve(doc, ref, at)
        return found

    def _resolve(self, doc: Document, ref: str, at: str) -> tuple[Document, str, Any]:
        url, fragment = urldefrag(ref)
        if ref.endswith("#"):
            fragment = ""
        target = doc
        if url:
            if urlsplit(url).scheme:
                return self._resolve_by_id(doc, ref, at, url, fragment)
            base = _root_id(doc.data)
            if base and urldefrag(urljoin(base, url))[0] in self._id_index():
                # relative to the document's $id: a schema embedded under that id
                return self._resolve_by_id(doc, ref, at, urljoin(base, url), fragment)
            path = posixpath.normpath(posixpath.join(posixpath.dirname(doc.path), unquote(url)))
            try:
                target = self.document(path)
            except RefError:
                raise
            except OutsideRoot as outside:
                hint = f" ({outside.hint})" if outside.hint else ""
                raise self._error(
                    doc,
                    at,
                    f"$ref '{ref}' is outside the spec's root {outside.root}: only files "
                    f"under it are read{hint}",
                ) from None
            except Exception as err:  # a missing or broken sibling file
                raise self._error(doc, at, f"cannot resolve $ref '{ref}': {err}") from None
        return self._in_document(doc, at, ref, target, fragment)

    def _in_document(
        self, doc: Document, at: str, ref: str, target: Document, fragment: str
    ) -> tuple[Document, str, Any]:
        if fragment and not fragment.startswith("/"):
            pointer = self._anchor_index(target).get(fragment)
            if pointer is None:
                raise self._error(doc, at, f"cannot resolve $ref '{ref}': no anchor '{fragment}'")
        else:
            pointer = from_fragment(fragment)
        try:
            return target, pointer, resolve(target.data, pointer)
        except KeyError as missing:
            raise self._error(
                doc, at, f"cannot resolve $ref '{ref}': '{missing.args[0]}' not found"
            ) from None

    def _resolve_by_id(
        self, doc: Document, ref: str, at: str, url: str, fragment: str
    ) -> tuple[Document, str, Any]:
        found = self._id_index().get(url.rstrip("#"))
        if found is None:
            raise self._error(
                doc,
                at,
                f"cannot resolve $ref '{ref}': remote references are not fetched "
                "(no loaded document declares that $id)",
            )
        target, base = found
        if fragment.startswith("/"):
            pointer = base + from_fragment(fragment)
            try:
                return target, pointer, resolve(target.data, pointer)
            except KeyError as missing:
                raise self._error(
                    doc, at, f"cannot resolve $ref '{ref}': '{missing.args[0]}' not found"
                ) from None
        if fragment:
            return self._in_document(doc, at, ref, target, fragment)
        return target, base, resolve(target.data, base)

    def check_refs(self) -> None:
        """Resolve every ``$ref`` of this version (its root and the files it reaches), so a
        dangling reference is an error even where no comparison would look. Raises the
        ``RefError`` of the first one that fails, located at that ``$ref``."""
        pending = [self.root]
        checked: set[str] = set()
        while pending:
            doc = pending.pop()
            if doc.path in checked:
                continue
            checked.add(doc.path)
            for ref in dict.fromkeys(iter_refs(doc.data)):
                try:
                    target, _, _ = self.resolve(doc, ref, "")
                except RefError:
                    self.resolve(doc, ref, _pointer_of_ref(doc.data, ref))  # raise, located
                    raise
                pending.append(target)

    def _error(self, doc: Document, at: str, message: str) -> RefError:
        location = doc.locate(at)
        return RefError(message, file=doc.name, line=location.line, column=location.column)

    def _id_index(self) -> dict[str, tuple[Document, str]]:
        if self._ids is None:
            self._ids = {}
            for doc in list(self.documents.values()):
                for pointer, identifier in _ids_in(doc.data):
                    self._ids.setdefault(identifier, (doc, pointer))
        return self._ids

    def _anchor_index(self, doc: Document) -> dict[str, str]:
        index = self._anchors.get(doc.path)
        if index is None:
            index = {}
            for pointer, node in _schema_nodes(doc.data):
                anchor = node.get("$anchor") or node.get("$dynamicAnchor")
                if isinstance(anchor, str):
                    index.setdefault(anchor, pointer)
                for key in ("$id", "id"):  # drafts 4-7 name anchors with "#name" ids
                    legacy = node.get(key)
                    if isinstance(legacy, str) and legacy.startswith("#") and len(legacy) > 1:
                        index.setdefault(legacy[1:], pointer)
            self._anchors[doc.path] = index
        return index


def iter_refs(value: Any) -> Iterator[str]:
    """Every ``$ref`` string inside ``value`` (without following them), skipping data-valued
    keywords (examples, defaults, enums), where ``$ref`` is just data."""
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        node, names = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                yield ref
            for key, child in node.items():
                if isinstance(child, dict | list) and (names or key not in DATA_KEYWORDS):
                    stack.append((child, key in NAME_MAPS))
        elif isinstance(node, list):
            for child in node:
                if isinstance(child, dict | list):
                    stack.append((child, False))


def _pointer_of_ref(data: Any, ref: str) -> str:
    """The pointer of the first ``$ref`` whose value is ``ref`` (for error messages)."""
    for pointer, node in _schema_nodes(data):
        if node.get("$ref") == ref:
            return f"{pointer}/$ref"
    return ""


def _root_id(data: Any) -> str | None:
    if isinstance(data, dict):
        identifier = data.get("$id", data.get("id"))
        if isinstance(identifier, str) and not identifier.startswith("#"):
            return identifier
    return None


def _schema_nodes(data: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every mapping in a document with its pointer, skipping data-valued keywords.
    Iterative, so deeply nested documents cannot exhaust the stack."""
    stack: list[tuple[str, Any, bool]] = [("", data, False)]
    while stack:
        pointer, node, names = stack.pop()
        if isinstance(node, dict):
            yield pointer, node
            for key, value in node.items():
                if isinstance(value, dict | list) and (names or key not in DATA_KEYWORDS):
                    stack.append((f"{pointer}/{escape(key)}", value, key in NAME_MAPS))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, dict | list):
                    stack.append((f"{pointer}/{index}", value, False))


def _ids_in(data: Any) -> Iterator[tuple[str, str]]:
    """(pointer, absolute $id) for every schema declaring an ``$id`` (or draft-4 ``id``),
    resolved against the nearest enclosing one (the root's included). Each node carries its
    base down, so the work grows with the document, not with its size times its depth."""
    stack: list[tuple[str, Any, bool, str]] = [("", data, False, "")]
    while stack:
        pointer, node, names, base = stack.pop()
        if isinstance(node, dict):
            identifier = node.get("$id", node.get("id"))
            if isinstance(identifier, str) and not identifier.startswith("#"):
                base = urldefrag(urljoin(base, identifier))[0]
                yield pointer, base
            for key, value in node.items():
                if isinstance(value, dict | list) and (names or key not in DATA_KEYWORDS):
                    stack.append((f"{pointer}/{escape(key)}", value, key in NAME_MAPS, base))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, dict | list):
                    stack.append((f"{pointer}/{index}", value, False, base))
