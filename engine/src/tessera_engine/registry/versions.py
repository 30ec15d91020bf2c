"""Published versions: ``contracts/<id>/versions/<version>.json`` in the registry.

Each file holds one published version of a contract: its metadata (format, source repo,
paths and commit, when it was published, the pull request, the fingerprints acknowledged) and
the spec files themselves, so the registry alone can answer "what is active" and diff a new
source against it (``VersionSource``).

Which version is active (``active``): the highest published version by semver precedence,
except that a pre-release is passed over while the contract's pre-release policy does not
allow pre-releases, unless no release has been published at all (then the highest pre-release
is the only baseline there is).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..documents.files import FileSource, OutsideRoot, may_read
from ..documents.loader import Source, parse_document, read_source
from ..documents.pointer import join
from ..errors import InputError, LoadError
from . import schema
from .model import PrereleasePolicy, PublishedVersion
from .problems import Problem
from .ranges import parse_version

VERSIONS_DIR = "versions"
OWN_FILES_ONLY = "a contract's spec reads only the files of its source paths"
REGISTRY_ONLY = "a registry reads only its own files"


def versions_dir(root: str | Path, contract: str) -> Path:
    return Path(root) / "contracts" / contract / VERSIONS_DIR


def version_path(root: str | Path, contract: str, version: str) -> Path:
    return versions_dir(root, contract) / f"{version}.json"


def to_json(published: PublishedVersion) -> dict[str, Any]:
    return {
        "contract": published.contract,
        "version": published.version,
        "format": published.format,
        "source": {
            "repo": published.repo,
            "paths": list(published.paths),
            "commit": published.commit,
        },
        "published_at": published.published_at,
        "pull_request": published.pull_request,
        "findings": list(published.findings),
        "files": dict(sorted(published.files.items())),
    }


def dumps(published: PublishedVersion) -> str:
    """Deterministic JSON: fixed key order (the files last, by path), two-space indent, UTF-8
    text, a final newline."""
    return json.dumps(to_json(published), indent=2, ensure_ascii=False) + "\n"


def write_version(root: str | Path, published: PublishedVersion) -> Path:
    """Write ``published`` to its place in the registry at ``root`` (refusing a bad one)."""
    problems = _problems(to_json(published), published.contract, published.version)
    if problems:
        raise LoadError(f"cannot publish: {problems[0]}", file=str(root))
    path = version_path(root, published.contract, published.version)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(published), encoding="utf-8")
    return path


def read_version(path: str | Path, source: Source | None = None) -> PublishedVersion:
    """One published version; ``InputError`` naming file:line:column when it is not valid."""
    problems, published = check_version(Path(path), source or FileSource(Path(path).parent))
    if problems:
        raise problems[0].error()
    assert published is not None
    return published


def check_version(path: Path, source: Source) -> tuple[list[Problem], PublishedVersion | None]:
    """Every problem of one version file (all of them), and the version when there are none."""
    try:
        name, raw = read_source(source, str(path))
        document = parse_document(str(path), name, raw)
    except InputError as err:
        return [Problem.from_error(err, source.display(str(path)))], None
    contract, version = path.parent.parent.name, path.name.removesuffix(".json")
    problems = []
    for pointer_path, message in _problems(document.data, contract, version):
        where = document.locate(join("", *pointer_path))
        problems.append(Problem(name, where.line, where.column, message))
    if problems:
        return sorted(problems), None
    return [], _from_json(document.data)


def _problems(data: Any, contract: str, version: str) -> list[tuple[tuple[str | int, ...], str]]:
    errors = [(e.path, e.message) for e in schema.check("version", data)]
    if errors:
        return errors
    if data["contract"] != contract:
        errors.append(
            (("contract",), f"contract {data['contract']!r} in the versions of {contract!r}")
        )
    if data["version"] != version:
        errors.append((("version",), f"version {data['version']!r} in a file named {version}.json"))
    return errors


def _from_json(data: dict[str, Any]) -> PublishedVersion:
    source = data["source"]
    return PublishedVersion(
        contract=data["contract"],
        version=data["version"],
        format=data["format"],
        repo=source["repo"],
        paths=tuple(source["paths"]),
        commit=source["commit"],
        published_at=data["published_at"],
        files=MappingProxyType(dict(data["files"])),
        pull_request=data.get("pull_request"),
        findings=tuple(data.get("findings", ())),
    )


def version_files(root: str | Path, contract: str, source: Source | None = None) -> list[Path]:
    """The version files of ``contract``; a folder ``source`` may not read (a symbolic link
    out of the registry) stands for its files, so that reading it reports the link."""
    folder = versions_dir(root, contract)
    if not folder.is_dir():
        return []
    if source is not None and not may_read(source, str(folder)):
        return [folder]
    return sorted(p for p in folder.iterdir() if p.name.endswith(".json") and p.is_file())


def list_versions(root: str | Path, contract: str) -> list[PublishedVersion]:
    """Every published version of ``contract``, lowest to highest precedence (each file read
    within its folder; ``registry.validate`` confines a whole registry to its root)."""
    found = [read_version(path) for path in version_files(root, contract)]
    return sorted(found, key=lambda published: parse_version(published.version))


def active(
    published: Iterable[PublishedVersion], policy: PrereleasePolicy
) -> PublishedVersion | None:
    """The active version among ``published`` (see the module docstring), or None."""
    ordered = sorted(published, key=lambda p: parse_version(p.version), reverse=True)
    if not ordered:
        return None
    if policy.allowed:
        return ordered[0]
    releases = [p for p in ordered if not parse_version(p.version).prerelease]
    return releases[0] if releases else ordered[0]


def active_version(
    root: str | Path, contract: str, policy: PrereleasePolicy
) -> PublishedVersion | None:
    return active(list_versions(root, contract), policy)


@dataclass(frozen=True)
class VersionSource:
    """A published version's files as a ``documents.Source``, for ``tessera_engine.diff``:
    ``diff(version_source.root, new, old_source=version_source, ...)``.

    It reads only the version's own files (the contract's source paths), never the disk: a
    path that leaves them (absolute, or ``..`` above the top) is ``OutsideRoot``, any other
    path that is not one of them does not exist."""

    published: PublishedVersion

    @property
    def root(self) -> str:
        """The path to diff: the one file, or the directory that holds all of them."""
        paths = sorted(self.published.files)
        if len(paths) == 1:
            return paths[0]
        return posixpath.commonpath(paths) or "."

    def read(self, path: str) -> bytes:
        text = self.published.files.get(self._confined(path))
        if text is None:
            raise FileNotFoundError(path)
        return text.encode("utf-8")

    def size(self, path: str) -> int | None:
        text = self.published.files.get(self._confined(path))
        return None if text is None else len(text.encode("utf-8"))

    def display(self, path: str) -> str:
        return f"{self.published.contract}@{self.published.version}:{_clean(path)}"

    def _confined(self, path: str) -> str:
        clean = _clean(path)
        if clean.startswith(("/", "../")) or clean == "..":
            shown = f"{self.published.contract}@{self.published.version}"
            raise OutsideRoot(self.display(path), shown, OWN_FILES_ONLY)
        return clean

    def files(self, path: str, suffixes: tuple[str, ...]) -> list[str] | None:
        folder = self._confined(path)
        prefix = "" if folder in ("", ".") else folder.rstrip("/") + "/"
        inside = [p for p in self.published.files if p.startswith(prefix)]
        if not inside or folder in self.published.files:
            return None
        return sorted(p for p in inside if p.endswith(suffixes))


def _clean(path: str) -> str:
    normal = posixpath.normpath(path.replace("\\", "/"))
    return normal.removeprefix("./")
