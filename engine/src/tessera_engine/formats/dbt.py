"""dbt: a project's ``manifest.json`` (schema v10 to v12; v5 to v9 best effort), optionally
with a ``catalog.json`` for column types, compared relation by relation.

A version is a ``manifest.json`` file, or a directory holding one (a ``target/`` directory);
a ``catalog.json`` beside it in that directory is read too, and ``--catalog PATH`` (one per
version, in the order of the versions) names one explicitly. Models, seeds, snapshots and
sources are keyed by package and name (and version), never by database or schema, so two
builds of one project for different targets compare equal.

Positions: every relation and column is an output (consumers select from what the project
builds), so ``auto`` (the default) judges everything as an output, as ``forward`` does;
``backward`` judges everything as an input and reverses what widening and narrowing mean.

Guarantees (tests, constraints, source freshness and ``meta.tessera`` freshness and volume)
follow the guarantee policy (``--guarantees``): ``strict`` (a relaxed guarantee breaks),
``notify`` (reported, at most dangerous) or ``ignore`` (not reported). See ``docs/formats.md``.
"""

from __future__ import annotations

import os.path
from dataclasses import replace
from typing import Any

from ..documents import Document, Source, parse_document
from ..documents.loader import read_source
from ..errors import LoadError
from ..modes import Mode
from .dbt_catalog import merge_catalog
from .dbt_compare import Comparer
from .dbt_model import Manifest
from .dbt_read import read_manifest
from .dbt_tests import attach_tests
from .native import Change, ElementGraph, Settings

MANIFEST = "manifest.json"
CATALOG = "catalog.json"


class DbtFormat:
    name = "dbt"
    default_mode = Mode.AUTO
    default_policy = "strict"
    suffixes = ()  # recognised by content, not by suffix: see native.detect_native

    def load(self, source: Source, path: str, settings: Settings) -> Manifest:
        catalog = settings.catalog
        if source.files(path, (MANIFEST,)) is not None:  # a directory
            manifest_path = os.path.join(path, MANIFEST)
            beside = os.path.join(path, CATALOG)
            if catalog is None and source.size(beside) is not None:
                catalog = beside
        else:
            manifest_path = path
        manifest = read_manifest(_json(source, manifest_path))
        attach_tests(manifest)
        if catalog is not None:
            merge_catalog(manifest, _json(source, catalog))
        return manifest

    def display(self, loaded: Any) -> str:
        assert isinstance(loaded, Manifest)
        return loaded.display

    def compare(self, old: Any, new: Any, settings: Settings) -> list[Change]:
        assert isinstance(old, Manifest) and isinstance(new, Manifest)
        return Comparer(old, new, settings.guarantees).run()

    def references(self, loaded: Any) -> ElementGraph:
        assert isinstance(loaded, Manifest)
        return element_graph(loaded)


def element_graph(manifest: Manifest) -> ElementGraph:
    """Lineage for impact analysis: a relation, named as consumers declare it (``orders``,
    ``raw.orders``, ``orders.v2``, lower-cased), refers to the relations it is built from
    (``depends_on.nodes``), and is shown by its key (``model.shop.orders``)."""
    by_id = {r.unique_id: r for r in manifest.relations.values()}
    edges: dict[str, tuple[str, ...]] = {}
    shown: dict[str, str] = {}
    for relation in manifest.relations.values():
        label = relation.label.lower()
        shown[label] = relation.key
        parents = (by_id.get(uid) for uid in relation.depends_on)
        refs = tuple(dict.fromkeys(p.label.lower() for p in parents if p is not None))
        if refs:
            edges[label] = refs
    return ElementGraph(edges, lineage=True, shown=shown)


def _json(source: Source, path: str) -> Document:
    """A JSON file parsed with the shared loader (so findings and errors have lines)."""
    name, raw = read_source(source, path)
    document = parse_document(f"{path}.json", name, raw)
    if not isinstance(document.data, dict):
        raise LoadError("expected a JSON object", file=name, line=1, column=1)
    return replace(document, path=path)
