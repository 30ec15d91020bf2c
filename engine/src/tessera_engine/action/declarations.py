"""A consumer repository's own declarations (``tessera/consumer.yaml``, or a directory of
them), checked against the registry as if they were its ``consumers/<id>.yaml``.

The registry is overlaid in a temporary directory (links to its files; the repository's
declarations replace registry consumers of the same id), validated as a whole with
``registry.validate``, and every problem and location is mapped back to the path the user
knows: the repository's file, or the registry's.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..documents import FileSource, OutsideRoot, spec_root
from ..errors import InputError
from ..model import Location
from ..registry.model import Registry
from ..registry.problems import Problem
from ..registry.validate import validate
from ..registry.yaml_files import Positions, read_yaml

SUFFIXES = (".yaml", ".yml")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass
class Overlay:
    """The registry with the repository's declarations in place, and how to name files."""

    root: Path
    registry_root: Path
    files: dict[str, str]  # overlay path of a declaration -> the repository's path
    registry: Registry | None
    problems: list[Problem]
    ids: list[str] = field(default_factory=list)  # the repository's consumer ids

    def shown(self, path: str) -> str:
        """A path inside the overlay, as the user knows it."""
        if path in self.files:
            return self.files[path]
        try:
            relative = Path(path).relative_to(self.root)
        except ValueError:
            return path
        return os.path.join(str(self.registry_root), str(relative))

    def location(self, location: Location | None) -> Location | None:
        if location is None:
            return None
        return Location(self.shown(location.file), location.line, location.column)

    def positions(self, repo_path: str) -> Positions | None:
        try:
            return Positions(Path(repo_path).read_text(encoding="utf-8"))
        except OSError:
            return None

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def declaration_files(path: str | Path) -> list[Path]:
    """The declaration files at ``path``: the file, or a directory's YAML files (top level)."""
    target = Path(path)
    if target.is_dir():
        return sorted(p for p in target.iterdir() if p.suffix in SUFFIXES and p.is_file())
    return [target]


def overlay(registry_root: str | Path, declarations: str | Path) -> Overlay:
    """Validate the declarations at ``declarations`` against the registry at ``registry_root``."""
    registry_root = Path(registry_root)
    root = Path(tempfile.mkdtemp(prefix="tessera-overlay-"))
    files: dict[str, str] = {}
    ids: list[str] = []
    found = declaration_files(declarations)
    if not found or not all(p.is_file() for p in found):
        shutil.rmtree(root, ignore_errors=True)
        missing = Problem(str(declarations), 1, 1, "no consumer declaration found here")
        return Overlay(root, registry_root, {}, None, [missing])
    outside = _outside_their_folder(declarations, found)
    if outside:
        shutil.rmtree(root, ignore_errors=True)
        return Overlay(root, registry_root, {}, None, outside)
    for entry in registry_root.iterdir() if registry_root.is_dir() else ():
        if entry.name not in ("consumers", ".git"):
            (root / entry.name).symlink_to(entry.resolve())
    consumers = root / "consumers"
    consumers.mkdir()
    for path in found:
        ids.append(_consumer_id(path))
    for entry in sorted((registry_root / "consumers").glob("*")):
        if entry.suffix in SUFFIXES and entry.stem not in ids:
            (consumers / entry.name).symlink_to(entry.resolve())
    for path, consumer_id in zip(found, ids, strict=True):
        target = consumers / f"{consumer_id}{path.suffix}"
        shutil.copyfile(path, target)
        files[str(target)] = str(path)
    result = validate(root, FileSource())
    made = Overlay(root, registry_root, files, result.registry, [], ids)
    made.problems = [
        Problem(made.shown(p.file), p.line, p.column, p.message) for p in result.problems
    ]
    return made


def _outside_their_folder(declarations: str | Path, found: list[Path]) -> list[Problem]:
    """The declarations that are symbolic links out of their folder (in a pull request's
    checkout, a link to any file of the runner): refused before anything reads them."""
    own = FileSource(spec_root(os.fspath(declarations)), hint="")
    problems = []
    for path in found:
        try:
            own.resolve(str(path))
        except OutsideRoot as err:
            problems.append(Problem(str(path), 1, 1, err.message))
    return problems


def _consumer_id(path: Path) -> str:
    """The id the declaration gives, else its file's stem (validation reports a bad file)."""
    try:
        data = read_yaml(FileSource(), str(path)).data
    except InputError:
        return path.stem
    value = data.get("id")
    return value if isinstance(value, str) and _ID.match(value) else path.stem
