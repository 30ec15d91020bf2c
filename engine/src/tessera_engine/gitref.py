"""Reading files as they are at a git ref, for ``tessera diff --against REF PATH``.

The working-tree file is the new version; the same path in ``REF`` (a branch, tag, commit or
``HEAD~1``) is the old one, read straight from the object database through pygit2, so no
second checkout is needed. Sibling files that ``$ref`` points to are read at the same ref.

The old side is confined like the new one (``documents.files``): a path is read only when it
is under the root folder, after the symbolic links stored in the tree (blobs of mode 120000)
are followed within the tree. A link to an absolute path or above the top of the tree is
refused, never looked up on disk; a walk refuses a link that leaves the root, naming it.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pygit2

from .documents.files import ROOT_HINT, OutsideRoot
from .errors import LoadError, UsageError

MAX_LINKS = 40
"""Symbolic links followed in one path before giving up (Linux's own limit)."""
_LINK_BYTES = 4096
"""Longest symbolic link target read (a path, as ``PATH_MAX``)."""


class _Escapes(Exception):
    """A symbolic link in the tree points to an absolute path or above the tree's top."""


class GitTreeSource:
    """Files of one commit, addressed by their working-tree paths, under ``root`` (a
    working-tree folder; the whole tree when ``None``)."""

    def __init__(self, start: str, ref: str, root: str | None = None) -> None:
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
        self.root = ""
        if root is not None:
            self.root = self._root_of(root)

    def within(self, root: str) -> GitTreeSource:
        """The same commit, confined to the working-tree folder ``root``."""
        confined = copy.copy(self)
        confined.root = self._root_of(root)
        return confined

    def _root_of(self, root: str) -> str:
        try:
            return self._relative(root)
        except LoadError:
            raise UsageError(f"the root {root} is not inside the git repository") from None

    def _relative(self, path: str) -> str:
        """``path`` relative to the top of the working tree, '/' between parts ('' for the
        top). Folders are resolved on disk (so /tmp and /private/tmp agree); the last part is
        not, as a symbolic link there is read as the tree at the ref has it."""
        absolute = os.path.abspath(path)
        head, tail = os.path.split(absolute)
        candidates = (Path(absolute), Path(os.path.realpath(head)) / tail)
        for candidate in candidates:
            try:
                relative = candidate.relative_to(self.workdir).as_posix()
            except ValueError:
                continue
            return "" if relative == "." else relative
        raise LoadError(f"not inside the git repository at {self.workdir}", file=path)

    def _inside(self, relative: str) -> bool:
        root = self.root
        return not root or relative == root or relative.startswith(root + "/")

    def _lookup(self, relative: str) -> pygit2.Object | None:
        if not relative:
            return self.tree
        try:
            return self.tree[relative]
        except KeyError:
            return None

    def _resolve(self, relative: str) -> str:
        """``relative`` with the tree's symbolic links followed (part by part, as the kernel
        would), within the tree only."""
        parts = [p for p in relative.split("/") if p not in ("", ".")]
        done: list[str] = []
        links = 0
        while parts:
            name = parts.pop(0)
            if name == "..":
                if not done:
                    raise _Escapes
                done.pop()
                continue
            entry = self._lookup("/".join([*done, name]))
            if entry is None or entry.filemode != pygit2.GIT_FILEMODE_LINK:
                done.append(name)
                continue
            links += 1
            blob = self.repo[entry.id]
            if links > MAX_LINKS or not isinstance(blob, pygit2.Blob):
                raise LoadError("too many levels of symbolic links", file=f"{self.ref}:{relative}")
            target = bytes(blob.data[:_LINK_BYTES]).decode("utf-8", "replace")
            if target.startswith("/"):
                raise _Escapes
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
        return "/".join(done)

    def _confined(self, path: str) -> str:
        """The path in the tree that ``path`` names, links followed; ``OutsideRoot`` when it
        (or a link it goes through) leaves the root."""
        relative = self._relative(path)
        try:
            resolved = self._resolve(relative)
        except _Escapes:
            resolved = None
        if resolved is None or not self._inside(resolved):
            link = resolved != relative
            raise OutsideRoot(self.display(path), self._shown_root(), ROOT_HINT, link=link)
        return resolved

    def _shown_root(self) -> str:
        return f"{self.ref}:{self.root or '.'}/"

    def read(self, path: str) -> bytes:
        relative = self._confined(path)
        blob = self._lookup(relative)
        if blob is None:
            raise FileNotFoundError(relative)
        if not isinstance(blob, pygit2.Blob):
            raise IsADirectoryError(relative)
        return bytes(blob.data)

    def size(self, path: str) -> int | None:
        try:
            blob = self._lookup(self._confined(path))
        except LoadError as err:
            if isinstance(err, OutsideRoot):
                raise
            return None
        return int(blob.size) if isinstance(blob, pygit2.Blob) else None

    def files(self, path: str, suffixes: tuple[str, ...]) -> list[str] | None:
        top = self._confined(path)
        tree = self._lookup(top)
        if not isinstance(tree, pygit2.Tree):
            return None
        found: list[str] = []
        pending = [(Path(path), tree, top)]
        seen = {top}
        while pending:
            at, folder, relative = pending.pop()
            for entry in folder:
                name = entry.name or ""
                shown = at / name
                inner = f"{relative}/{name}" if relative else name
                followed: tuple[str, pygit2.Object] | None = (inner, entry)
                if entry.filemode == pygit2.GIT_FILEMODE_LINK:
                    followed = self._link_target(inner, str(shown), name.endswith(suffixes))
                if followed is None:
                    continue
                inner, target = followed
                if isinstance(target, pygit2.Tree):
                    if inner not in seen:
                        seen.add(inner)
                        pending.append((shown, target, inner))
                elif name.endswith(suffixes) and isinstance(target, pygit2.Blob):
                    found.append(str(shown))
        return sorted(found)

    def _link_target(
        self, inner: str, shown: str, listed: bool
    ) -> tuple[str, pygit2.Object] | None:
        """Where the link ``inner`` leads in the tree, or None when it leads nowhere a walk
        goes; ``OutsideRoot`` when it leaves the root and the walk would take it (a file it
        lists, or a folder of the tree). A link out of the tree is never looked up on disk."""
        try:
            resolved: str | None = self._resolve(inner)
        except _Escapes:
            resolved = None
        target = self._lookup(resolved) if resolved is not None else None
        if resolved is not None and self._inside(resolved):
            return (resolved, target) if target is not None else None
        if listed or isinstance(target, pygit2.Tree):
            raise OutsideRoot(self.display(shown), self._shown_root(), ROOT_HINT, link=True)
        return None

    def display(self, path: str) -> str:
        try:
            return f"{self.ref}:{self._relative(path)}"
        except LoadError:
            return f"{self.ref}:{path}"


def absolute(path: str) -> str:
    return os.path.abspath(path)
