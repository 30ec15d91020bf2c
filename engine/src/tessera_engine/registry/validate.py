"""Validating a registry directory, and loading it for the rest of the engine.

``validate(path)`` reports every problem of a registry at once (sorted by file and position,
one line each), the declared ``uses`` checked against the contracts' active versions
included (``usage_check``), and notes that are not problems; ``load_registry(path)`` returns
the ``Registry`` or raises one ``InputError`` naming the first problem (and how many more there
are).

Loading does not check ``uses`` against published versions: an entry that a newer published
version no longer holds is a problem for the consumer to fix in its own pull request, never a
reason for the registry, and what was published into it, to stop loading.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..documents.loader import FileSource, Source, read_text
from ..errors import InputError, LoadError
from .crosscheck import crosscheck
from .loader import Loaded, load
from .model import PublishedVersion, Registry
from .problems import Pointed, Problem
from .usage_check import check_usages
from .versions import REGISTRY_ONLY, check_version, version_files
from .yaml_files import Positions


@dataclass
class ValidationResult:
    root: str
    problems: list[Problem]
    counts: dict[str, int] = field(default_factory=dict)
    registry: Registry | None = None  # None when there are problems
    notes: list[Problem] = field(default_factory=list)  # worth knowing, not problems

    @property
    def valid(self) -> bool:
        return not self.problems


def validate(
    path: str | Path, source: Source | None = None, *, usages: bool = True
) -> ValidationResult:
    """Every problem of the registry at ``path``: files, schemas, cross-references, versions,
    and (``usages``) declared ``uses`` entries that name nothing in the published version they
    are read against."""
    source = source or FileSource(path, hint=REGISTRY_ONLY)
    root = Path(path)
    if not root.is_dir():
        name = source.display(str(root))
        reason = "not found" if not root.exists() else "not a directory"
        return ValidationResult(str(root), [Problem(name, 1, 1, f"registry {reason}")])
    loaded = load(root, source)
    pointed = loaded.pointed + crosscheck(loaded)
    problems = list(loaded.problems)
    versions = 0
    published: dict[str, list[tuple[Path, PublishedVersion]]] = {}
    broken: set[str] = set()
    used = _used(loaded) if usages else set()  # only their versions are kept
    for contract in sorted(loaded.contracts):
        for file in version_files(root, contract, source):
            versions += 1
            found, version = check_version(file, source)
            problems.extend(found)
            if version is None:
                broken.add(contract)
            elif contract in used:
                published.setdefault(contract, []).append((file, version))
    problems.extend(_stray_versions(root, loaded, source))
    notes: list[Problem] = []
    counts = {
        "teams": len(loaded.teams),
        "contracts": len(loaded.contracts),
        "consumers": len(loaded.consumers),
        "declarations": sum(len(c.dependencies) for c in loaded.consumers.values()),
        "versions": versions,
    }
    if usages:
        report = check_usages(loaded, published, broken, source)
        pointed += report.pointed
        problems.extend(report.problems)
        notes = sorted([*report.notes, *_positioned(report.outdated, loaded, source)])
        counts["uses"] = report.checked
    problems.extend(_positioned(pointed, loaded, source))
    problems.sort()
    registry = None if problems else _registry(loaded)
    return ValidationResult(str(root), problems, counts, registry, notes)


def load_registry(path: str | Path, source: Source | None = None) -> Registry:
    """The registry at ``path``; one ``InputError`` naming the first problem otherwise (the
    declared ``uses`` are not checked against published versions: see the module docstring)."""
    result = validate(path, source, usages=False)
    if result.registry is None:
        first = result.problems[0]
        more = len(result.problems) - 1
        suffix = (
            f" (and {more} more problem{'s' if more > 1 else ''}: run tessera registry validate)"
            if more
            else ""
        )
        raise LoadError(
            first.message + suffix, file=first.file, line=first.line, column=first.column
        )
    return result.registry


def _used(loaded: Loaded) -> set[str]:
    """The contracts some consumer declares ``uses`` of."""
    return {
        dependency.contract
        for consumer in loaded.consumers.values()
        for dependency in consumer.dependencies
        if not dependency.uses.everything
    }


def _registry(loaded: Loaded) -> Registry:
    registry = Registry(
        root=loaded.root,
        settings=loaded.settings,
        teams=loaded.teams,
        contracts=loaded.contracts,
        consumers=loaded.consumers,
    )
    registry.index()  # part of loading: every impact question afterwards is a lookup
    return registry


def _positioned(pointed: Iterable[Pointed], loaded: Loaded, source: Source) -> list[Problem]:
    """Line and column for each pointed problem: each file involved is composed once."""
    positions: dict[str, Positions | None] = {}
    problems = []
    for item in pointed:
        if item.file not in positions:
            positions[item.file] = _positions(loaded.paths.get(item.file), source)
        found = positions[item.file]
        line, column = found.locate(item.path, at_key=item.at_key) if found else (1, 1)
        problems.append(Problem(item.file, line, column, item.message))
    return problems


def _positions(path: str | None, source: Source) -> Positions | None:
    if path is None:
        return None
    try:
        return Positions(read_text(source, path)[1])
    except InputError:
        return None


def _stray_versions(root: Path, loaded: Loaded, source: Source) -> list[Problem]:
    """Published versions kept for a contract the registry does not declare."""
    folder = root / "contracts"
    if not folder.is_dir():
        return []
    problems = []
    for child in sorted(folder.iterdir()):
        if child.is_dir() and child.name not in loaded.contracts:
            contract_file = any((folder / f"{child.name}{s}").is_file() for s in (".yaml", ".yml"))
            if not contract_file:
                name = source.display(str(child))
                problems.append(
                    Problem(
                        name,
                        1,
                        1,
                        f"published versions of an unknown contract "
                        f"{child.name!r}: no contracts/{child.name}.yaml",
                    )
                )
    return problems
