"""Files on disk, confined to a root folder: the only way the engine reads a spec's files.

Specs come from strangers (a pull request's checkout in the Action), and a document names
other files (``$ref: ../../etc/passwd``, a symbolic link in a module directory), so every
read and every directory walk is checked against a root the caller chose, never one the
document chose:

- a path is resolved (symbolic links followed, ``..`` folded) before the check, and read
  only when the resolved path is the root or under it; otherwise ``OutsideRoot``;
- only regular files are read: a FIFO, a device or a socket is refused before it is opened,
  and checked again on the opened descriptor (opened non-blocking, without following a
  last-moment symbolic link), so nothing blocks and nothing unbounded is read;
- at most the size limit plus one byte is read (``limits.max_file_bytes``);
- a directory walk refuses a symbolic link that leaves the root when the walk would have
  taken it (a file it lists, or a directory), naming the link: skipping it instead would
  silently change what is compared (a file missing from one version reads as a removal).

The caller's root is the folder given, or the file's folder (``spec_root``); the CLI's
``--root DIR`` widens it for specs whose files live beside a shared parent.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import LoadError
from ..limits import max_file_bytes

if TYPE_CHECKING:
    from .loader import Source

ROOT_HINT = "--root DIR widens it to a folder that holds every file the spec needs"
"""How a caller of the CLI widens the root (in the message of a refused read)."""

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class OutsideRoot(LoadError):
    """A path that resolves outside the root its source is confined to. ``root`` is the root
    as shown to the user; ``hint`` says how the caller may widen it (may be empty)."""

    def __init__(self, file: str, root: str, hint: str, *, link: bool = False) -> None:
        if link:
            what = f"leads outside the root {root} through a symbolic link"
        else:
            what = f"is outside the root {root}"
        tail = f" ({hint})" if hint else ""
        super().__init__(f"{what}: not read{tail}", file=file)
        self.root = root
        self.hint = hint


def may_read(source: Source, folder: str) -> bool:
    """Whether ``source`` may read under ``folder`` (its root holds it), to ask before the
    folder is listed: every source's ``size`` refuses a path outside its root."""
    try:
        source.size(folder)
    except OutsideRoot:
        return False
    return True


def spec_root(path: str) -> str:
    """The default root of a spec given as ``path``: the directory itself, or the file's
    folder."""
    if os.path.isdir(path):
        return path
    return os.path.dirname(path) or "."


class FileSource:
    """Files on disk under ``root`` (see the module docstring). Paths are shown relative to
    the working directory when inside it. ``also`` names single files the caller chose to be
    readable wherever they are (a dbt ``--catalog``); ``root=None`` confines nothing (for
    callers that read only paths they wrote or chose themselves), though reads stay bounded
    and limited to regular files."""

    # Unconfined by default at class level too: a subclass with its own ``__init__`` (the
    # app's RootedSource, over a folder it wrote itself) keeps working as it did.
    _root: str | None = None
    _shown_root: str = ""
    _hint: str = ""
    _also: frozenset[str] = frozenset()

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        hint: str = ROOT_HINT,
        also: Iterable[str] = (),
    ) -> None:
        if root is not None:
            self._root = os.path.realpath(root)
            shown = self.display(os.fspath(root))
            self._shown_root = shown if shown.endswith(os.sep) else shown + os.sep
        self._hint = hint
        self._also = frozenset(os.path.realpath(path) for path in also)

    def resolve(self, path: str) -> str:
        """``path`` with its symbolic links resolved; ``OutsideRoot`` when that is outside
        the root."""
        if "\0" in path:
            raise FileNotFoundError(path)
        real = os.path.realpath(path)
        if self._inside(real):
            return real
        link = real != os.path.abspath(path)
        raise OutsideRoot(self.display(path), self._shown_root, self._hint, link=link)

    def _inside(self, real: str) -> bool:
        root = self._root
        if root is None or real in self._also:
            return True
        return real == root or real.startswith(root.rstrip(os.sep) + os.sep)

    def files(self, path: str, suffixes: tuple[str, ...]) -> list[str] | None:
        top = self.resolve(path)
        if not os.path.isdir(top):
            return None
        found: list[str] = []
        seen = {top}
        pending = [(Path(path), top)]
        while pending:
            shown, real = pending.pop()
            try:
                with os.scandir(real) as entries:
                    listed = sorted(entries, key=lambda e: e.name)
            except OSError:  # an unreadable folder holds nothing to compare
                continue
            for entry in listed:
                at = shown / entry.name
                matches = entry.name.endswith(suffixes)
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    is_dir = os.path.isdir(target)
                    if not self._inside(target):
                        if matches or is_dir:
                            raise OutsideRoot(
                                self.display(str(at)), self._shown_root, self._hint, link=True
                            )
                        continue
                else:
                    target = entry.path
                    is_dir = entry.is_dir(follow_symlinks=False)
                if is_dir:
                    if target not in seen:
                        seen.add(target)
                        pending.append((at, target))
                elif matches and _is_regular(target):
                    found.append(str(at))
        return sorted(found)

    def read(self, path: str) -> bytes:
        real = self.resolve(path)
        kind = _kind(os.stat(real).st_mode)
        if kind == "a directory":
            raise IsADirectoryError(path)
        if kind:
            raise LoadError(f"is {kind}, not a regular file: not read", file=self.display(path))
        descriptor = os.open(real, _OPEN_FLAGS)
        try:
            status = os.fstat(descriptor)
            kind = _kind(status.st_mode)
            if kind:  # replaced between the check and the open
                raise LoadError(f"is {kind}, not a regular file: not read", file=self.display(path))
            return _read_at_most(descriptor, max_file_bytes() + 1, status.st_size)
        finally:
            os.close(descriptor)

    def size(self, path: str) -> int | None:
        real = self.resolve(path)
        try:
            status = os.stat(real)
        except OSError:
            return None
        return status.st_size if stat.S_ISREG(status.st_mode) else None

    def display(self, path: str) -> str:
        try:
            rel = os.path.relpath(path)
        except ValueError:
            return path
        return path if rel.startswith("..") else rel


def _kind(mode: int) -> str:
    """What a file of ``mode`` is, when it is not a regular file ("" when it is)."""
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISDIR(mode):
        return "a directory"
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _is_regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _read_at_most(descriptor: int, limit: int, expected: int) -> bytes:
    """Up to ``limit`` bytes from ``descriptor``, in one read of the ``expected`` size when
    the file is as large as it says: a file that grows while it is read, or claims a size it
    does not have, never makes the read unbounded."""
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(descriptor, min(left, max(expected + 1, 1 << 16)))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
