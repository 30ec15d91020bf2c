"""Git objects of the fake GitHub: blobs, trees and commits hashed the way git hashes them."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import pygit2

BLOB_MODE = "100644"
TREE_MODE = "040000"


@dataclass(frozen=True)
class Commit:
    sha: str
    tree: str
    parents: tuple[str, ...]
    message: str
    author: str
    date: str


@dataclass
class ObjectStore:
    """The object database of one repository (content-addressed, append-only)."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, dict[str, tuple[str, str]]] = field(
        default_factory=dict
    )  # name -> (mode, sha)
    commits: dict[str, Commit] = field(default_factory=dict)
    # (old blob, new blob) -> their patch: blobs never change, so neither do their patches
    patches: dict[tuple[str | None, str | None], Patch] = field(default_factory=dict)

    def put_blob(self, data: bytes) -> str:
        sha = _hash(b"blob", data)
        self.blobs[sha] = data
        return sha

    def put_tree(self, entries: dict[str, tuple[str, str]]) -> str:
        body = b"".join(
            f"{mode.lstrip('0')} {name}".encode() + b"\0" + bytes.fromhex(sha)
            for name, (mode, sha) in sorted(entries.items(), key=lambda item: _tree_key(*item))
        )
        sha = _hash(b"tree", body)
        self.trees[sha] = dict(entries)
        return sha

    def put_commit(
        self, tree: str, parents: tuple[str, ...], message: str, author: str, date: str
    ) -> str:
        lines = [f"tree {tree}", *(f"parent {p}" for p in parents)]
        lines += [f"author {author} {date}", f"committer {author} {date}", "", message]
        sha = _hash(b"commit", "\n".join(lines).encode())
        self.commits[sha] = Commit(sha, tree, parents, message, author, date)
        return sha

    def tree_from_files(self, files: dict[str, bytes]) -> str:
        """Build (and store) the nested trees holding ``files`` (path -> content)."""
        return self._build({path: self.put_blob(data) for path, data in files.items()})

    def _build(self, blobs: dict[str, str]) -> str:
        entries: dict[str, tuple[str, str]] = {}
        children: dict[str, dict[str, str]] = {}
        for path, sha in blobs.items():
            head, sep, rest = path.partition("/")
            if sep:
                children.setdefault(head, {})[rest] = sha
            else:
                entries[head] = (BLOB_MODE, sha)
        for name, sub in children.items():
            entries[name] = (TREE_MODE, self._build(sub))
        return self.put_tree(entries)

    def flatten(self, tree: str, prefix: str = "") -> dict[str, str]:
        """Every blob under ``tree``: path -> blob sha."""
        out: dict[str, str] = {}
        for name, (mode, sha) in self.trees[tree].items():
            if mode == TREE_MODE:
                out.update(self.flatten(sha, f"{prefix}{name}/"))
            else:
                out[f"{prefix}{name}"] = sha
        return out

    def files_at(self, commit: str) -> dict[str, bytes]:
        return {p: self.blobs[s] for p, s in self.flatten(self.commits[commit].tree).items()}

    def with_changes(self, base_tree: str | None, changes: dict[str, str | None]) -> str:
        """A new tree: ``base_tree`` with blobs replaced (path -> blob sha) or removed (None)."""
        blobs = self.flatten(base_tree) if base_tree else {}
        for path, sha in changes.items():
            if sha is None:
                blobs.pop(path, None)
            else:
                blobs[path] = sha
        return self._build(blobs)

    def lookup(self, tree: str, path: str) -> tuple[str, str] | None:
        """The (mode, sha) of ``path`` below ``tree``, or None."""
        mode, sha = TREE_MODE, tree
        for part in [p for p in path.split("/") if p]:
            if mode != TREE_MODE or part not in self.trees[sha]:
                return None
            mode, sha = self.trees[sha][part]
        return mode, sha


RENAME_SIMILARITY = 0.5
"""How alike a removed and an added file must be to count as a rename (git's default, 50%)."""


@dataclass(frozen=True)
class FileChange:
    """One file of a diff between two commits, as a pull request's files list shows it."""

    path: str
    status: str  # added, removed, modified, renamed
    old_sha: str | None  # the blob before (None when added)
    new_sha: str | None  # the blob after (None when removed)
    previous_path: str | None = None  # a renamed file's old path


def diff(store: ObjectStore, base: str, head: str) -> list[FileChange]:
    """The files differing between two commits, sorted by path; a removed file and an added
    one at least ``RENAME_SIMILARITY`` alike are one rename (identical blobs first)."""
    old = store.flatten(store.commits[base].tree)
    new = store.flatten(store.commits[head].tree)
    removed = {p: s for p, s in old.items() if p not in new}
    added = {p: s for p, s in new.items() if p not in old}
    changes = [
        FileChange(p, "modified", old[p], new[p])
        for p in old.keys() & new.keys()
        if old[p] != new[p]
    ]
    for path, sha in sorted(added.items()):
        source = _rename_source(store, sha, removed)
        if source is None:
            changes.append(FileChange(path, "added", None, sha))
        else:
            changes.append(FileChange(path, "renamed", removed.pop(source), sha, source))
    changes += [FileChange(p, "removed", s, None) for p, s in removed.items()]
    return sorted(changes, key=lambda change: change.path)


def _rename_source(store: ObjectStore, sha: str, removed: dict[str, str]) -> str | None:
    for path, old_sha in sorted(removed.items()):
        if old_sha == sha:
            return path
    best, best_score = None, RENAME_SIMILARITY
    new_count = store.blobs[sha].count(b"\n")
    for path, old_sha in sorted(removed.items()):
        old_count = store.blobs[old_sha].count(b"\n")
        changed = patch(store, old_sha, sha)
        kept = max(old_count - changed.deletions, 0)  # lines both sides share
        score = 2 * kept / (old_count + new_count) if old_count + new_count else 1.0
        if score >= best_score:
            best, best_score = path, score
    return best


@dataclass(frozen=True)
class Patch:
    """The unified diff of one file (hunks only, as GitHub's ``patch`` field) and its counts."""

    text: str | None  # None for a binary file
    additions: int
    deletions: int


def patch(store: ObjectStore, old_sha: str | None, new_sha: str | None) -> Patch:
    """The patch turning blob ``old_sha`` into ``new_sha`` (either None: empty file), by
    libgit2's diff (as GitHub's is git's: fast on multi-megabyte specs), kept per pair."""
    key = (old_sha, new_sha)
    found = store.patches.get(key)
    if found is not None:
        return found
    old = store.blobs[old_sha] if old_sha else b""
    new = store.blobs[new_sha] if new_sha else b""
    if b"\0" in old or b"\0" in new:
        found = Patch(None, 0, 0)
    else:
        made = pygit2.Patch.create_from(old, new, context_lines=3)
        _, additions, deletions = made.line_stats
        text = made.text or ""
        hunks = text[text.find("\n@@") + 1 :] if "\n@@" in text else ""
        found = Patch(hunks.rstrip("\n") or None, additions, deletions)
    store.patches[key] = found
    return found


def _hash(kind: bytes, body: bytes) -> str:
    return hashlib.sha1(kind + b" " + str(len(body)).encode() + b"\0" + body).hexdigest()


def _tree_key(name: str, entry: tuple[str, str]) -> str:
    return name + "/" if entry[0] == TREE_MODE else name


def descends(commits: Mapping[str, Commit], sha: str, ancestor: str) -> bool:
    """Whether commit ``ancestor`` is ``sha`` or one of its ancestors."""
    todo, seen = [sha], set()
    while todo:
        current = todo.pop()
        if current == ancestor:
            return True
        if current not in seen and current in commits:
            seen.add(current)
            todo.extend(commits[current].parents)
    return False


def commits_between(commits: Mapping[str, Commit], base: str, head: str) -> list[str]:
    """The commits reachable from ``head`` but not from ``base`` (a pull request's commits)."""
    done = set()
    todo = [base]
    while todo:
        current = todo.pop()
        if current not in done and current in commits:
            done.add(current)
            todo.extend(commits[current].parents)
    found, todo = [], [head]
    while todo:
        current = todo.pop()
        if current in done or current not in commits:
            continue
        done.add(current)
        found.append(current)
        todo.extend(commits[current].parents)
    return found
