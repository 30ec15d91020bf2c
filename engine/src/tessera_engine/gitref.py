"""Reading files as they are at a git ref, for ``tessera diff --against REF PATH``.

The working-tree file is the new version; the same path in ``REF`` (a branch, tag, commit or
``HEAD~1``) is the old one, read straight from the object database through pygit2, so no
second checkout is needed. Sibling files that ``$ref`` points to are read at the same ref.
"""

from __future__ import annotations

import os
from pathlib import Path

import pygit2

from .errors import LoadError, UsageError


class GitTreeSource:
    """Files of one commit, addressed by their working-tree paths."""

    def __init__(self, start: str, ref: str) -> None:
        found = pygit2.discover_repository(start)
        if found is None:
            raise UsageError(f"--against needs a git repository, and {start} is not in one")
        self.repo = pygit2.Repository(found)
        if self.repo.is_bare or self.repo.workdir is None:
            raise UsageError("--against needs a repository with a working tree")
        self.workdir = Path(self.repo.workdir).resolve()
        self.ref = ref
        try:
            commit = self.repo.revparse_single(ref).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError):
            raise UsageError(f"unknown git ref {ref!r}") from None
        self.tree = commit.tree

    def _relative(self, path: str) -> str:
        absolute = Path(path).resolve()
        try:
            return absolute.relative_to(self.workdir).as_posix()
        except ValueError:
            raise LoadError(f"not inside the git repository at {self.workdir}", file=path) from None

    def read(self, path: str) -> bytes:
        relative = self._relative(path)
        try:
            entry = self.tree[relative]
        except KeyError:
            raise FileNotFoundError(relative) from None
        blob = self.repo[entry.id]
        if not isinstance(blob, pygit2.Blob):
            raise IsADirectoryError(relative)
        return bytes(blob.data)

    def size(self, path: str) -> int | None:
        try:
            entry = self.tree[self._relative(path)]
        except (KeyError, LoadError):
            return None
        blob = self.repo[entry.id]
        return int(blob.size) if isinstance(blob, pygit2.Blob) else None

    def files(self, path: str, suffixes: tuple[str, ...]) -> list[str] | None:
        relative = self._relative(path)
        try:
            tree = self.tree[relative] if relative not in ("", ".") else self.tree
        except KeyError:
            return None
        if not isinstance(tree, pygit2.Tree):
            return None
        found: list[str] = []
        self._walk(tree, Path(path), suffixes, found)
        return sorted(found)

    def _walk(self, tree: pygit2.Tree, at: Path, suffixes: tuple[str, ...], out: list[str]) -> None:
        for entry in tree:
            name = entry.name or ""
            if isinstance(entry, pygit2.Tree):
                self._walk(entry, at / name, suffixes, out)
            elif name.endswith(suffixes):
                out.append(str(at / name))

    def display(self, path: str) -> str:
        try:
            return f"{self.ref}:{self._relative(path)}"
        except LoadError:
            return f"{self.ref}:{path}"


def absolute(path: str) -> str:
    return os.path.abspath(path)
