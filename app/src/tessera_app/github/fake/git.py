"""Git objects of the fake GitHub: blobs, trees and commits hashed the way git hashes them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

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


def changed_paths(store: ObjectStore, base: str, head: str) -> dict[str, str]:
    """Files differing between two commits: path -> status (added, modified, removed)."""
    old = store.flatten(store.commits[base].tree)
    new = store.flatten(store.commits[head].tree)
    out: dict[str, str] = {}
    for path in sorted(old.keys() | new.keys()):
        if path not in old:
            out[path] = "added"
        elif path not in new:
            out[path] = "removed"
        elif old[path] != new[path]:
            out[path] = "modified"
    return out


def _hash(kind: bytes, body: bytes) -> str:
    return hashlib.sha1(kind + b" " + str(len(body)).encode() + b"\0" + body).hexdigest()


def _tree_key(name: str, entry: tuple[str, str]) -> str:
    return name + "/" if entry[0] == TREE_MODE else name
