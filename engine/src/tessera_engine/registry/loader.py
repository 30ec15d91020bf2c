"""Reading a registry directory: every file parsed, checked against its JSON Schema, and built
into model values. Problems are collected, never raised, so that all of them are reported.

    tessera.yaml              settings
    teams/*.yaml              one team each; the id is the file name
    contracts/*.yaml          one contract each; the id is the file name
    consumers/*.yaml          one consuming service each; the id is the file name
    contracts/<id>/versions/  published versions (``versions.py``)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..documents.files import may_read
from ..documents.loader import Source
from ..documents.locate import YamlLocator
from ..documents.pointer import join
from ..errors import InputError
from ..model import Location
from . import build, schema
from .model import Consumer, Contract, Registry, Settings, Team
from .problems import Pointed, Problem
from .yaml_files import YamlFile, read_yaml

SETTINGS_FILE = "tessera.yaml"
DIRECTORIES = {"teams": "team", "contracts": "contract", "consumers": "consumer"}
"""directory -> the kind of file it holds."""
SUFFIXES = (".yaml", ".yml")


@dataclass
class Loaded:
    """What the files of a registry hold, with the problems found in them one by one."""

    root: str
    settings: Settings = field(default_factory=Settings)
    teams: dict[str, Team] = field(default_factory=dict)
    contracts: dict[str, Contract] = field(default_factory=dict)
    consumers: dict[str, Consumer] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    pointed: list[Pointed] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)  # display name -> path, to re-read
    unreadable: dict[str, set[str]] = field(default_factory=dict)
    """kind -> ids (file names) of files that exist but did not load: references to them are
    not reported again as unknown."""

    def exists(self, kind: str, id_: str) -> bool:
        table = self.teams if kind == "team" else self.contracts
        return id_ in table or id_ in self.unreadable.get(kind, set())


def registry_files(root: Path, source: Source) -> dict[str, list[Path]]:
    """kind -> the files of that kind under ``root``, sorted (one directory level). A folder
    the source may not read (a symbolic link out of the registry) is not listed: it stands
    for its files, so that reading it reports the link."""
    found: dict[str, list[Path]] = {"settings": [root / SETTINGS_FILE]}
    for directory, kind in DIRECTORIES.items():
        folder = root / directory
        if not folder.is_dir():
            found[kind] = []
        elif not may_read(source, str(folder)):
            found[kind] = [folder]
        else:
            found[kind] = sorted(
                p for p in folder.iterdir() if p.name.endswith(SUFFIXES) and p.is_file()
            )
    return found


def load(root: Path, source: Source) -> Loaded:
    loaded = Loaded(str(root))
    for kind, paths in registry_files(root, source).items():
        for path in paths:
            _load_file(loaded, kind, path, source)
    return loaded


def _load_file(loaded: Loaded, kind: str, path: Path, source: Source) -> None:
    try:
        file = read_yaml(source, str(path))
    except InputError as error:
        err = error
        loaded.unreadable.setdefault(kind, set()).add(_stem(path))
        name = source.display(str(path))
        if kind == "settings" and not path.is_file():
            err = InputError(f"not a registry: {SETTINGS_FILE} is missing", file=name)
        loaded.problems.append(Problem.from_error(err, name))
        return
    loaded.paths[file.name] = file.path
    errors = schema.check(kind, file.data)
    extra = _source_problems(file.data) if kind == "contract" and not errors else []
    if errors or extra:
        loaded.unreadable.setdefault(kind, set()).add(_stem(path))
        loaded.pointed.extend(Pointed(file.name, e.path, e.message, e.at_key) for e in errors)
        loaded.pointed.extend(Pointed(file.name, path_, message) for path_, message in extra)
        return
    locate = _locator(file)
    if kind == "settings":
        loaded.settings = build.settings(file.data, locate)
        return
    stem = _stem(path)
    declared = file.data.get("id", stem)
    if declared != stem:
        loaded.pointed.append(
            Pointed(
                file.name,
                ("id",),
                f"the id {declared!r} does not match the file name "
                f"({stem!r}): name the file {declared}.yaml",
            )
        )
    if kind == "team":
        _register(loaded, kind, file.name, build.team(file.data, locate), loaded.teams)
    elif kind == "contract":
        _register(loaded, kind, file.name, build.contract(file.data, locate), loaded.contracts)
    else:
        consumer = build.consumer(file.data, stem, locate)
        _register(loaded, kind, file.name, consumer, loaded.consumers)


Declared = TypeVar("Declared", Team, Contract, Consumer)


def _register(
    loaded: Loaded, kind: str, name: str, value: Declared, table: dict[str, Declared]
) -> None:
    other = table.get(value.id)
    if other is not None:
        first = other.location.file if other.location else "?"
        message = f"duplicate {kind} id {value.id!r} (also in {first})"
        loaded.pointed.append(Pointed(name, ("id",), message))
        return
    table[value.id] = value


def _stem(path: Path) -> str:
    return path.name.rsplit(".", 1)[0]


def _source_problems(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    source = data["source"]
    if "path" in source and "paths" in source:
        return [(("source", "paths"), "source: give path or paths, not both")]
    if "path" not in source and "paths" not in source:
        return [(("source",), "source: missing 'path' (or 'paths'): where the spec is in repo")]
    return []


def _locator(file: YamlFile) -> Callable[[tuple[str | int, ...]], Location]:
    """Block-structure positions (``documents.locate``) for the model's locations: a single
    pass over the file's lines, only for files that passed their checks."""
    locator: list[YamlLocator] = []

    def locate(path: tuple[str | int, ...]) -> Location:
        if not locator:
            locator.append(YamlLocator(file.text))
        line, column = locator[0].locate(join("", *path))
        return Location(file.name, line, column)

    return locate


def load_registry(path: str | Path, source: Source | None = None) -> Registry:
    """The registry at ``path``, validated; one ``InputError`` naming the first problem
    otherwise (``validate.validate`` lists all of them)."""
    from .validate import load_registry as validated

    return validated(path, source)
