"""Checkpoints in the registry's git history: the trailers of every commit the App makes.

    with_trailers(message, checkpoint) -> str        the commit message, trailers appended
    read_registry(path) -> RegistryAnchors           the checkpoints of every commit of a
                                                     registry checkout (all its refs), and
                                                     the commits whose trailers were left out

Each registry commit the App makes (a publish) ends with git trailers naming the audit
log's newest committed signed event::

    Tessera-Audit-Seq: 1532
    Tessera-Audit-Hash: 5f0c…
    Tessera-Audit-Key: 1a2b3c4d5e6f7a8b
    Tessera-Audit-Signature: base64…

The registry's history is replicated (every clone) and tamper-evident (each commit hashes its
parents), so these outlive any change made to the database; ``tessera audit verify --registry
PATH`` checks the log against them. ``git log --format='%(trailers)'`` shows them.

Anyone who can push a commit to any ref of the registry can write trailers, so a commit
whose ``Tessera-Audit-*`` trailers are incomplete or malformed is not an anchor: it is left
out with a warning, and verification goes on with the well-formed ones (a well-formed
checkpoint is still checked against its signature, which only the service's key can make).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .audit_checkpoints import Checkpoint, CheckpointError

SEQ = "Tessera-Audit-Seq"
HASH = "Tessera-Audit-Hash"
KEY = "Tessera-Audit-Key"
SIGNATURE = "Tessera-Audit-Signature"
FIELDS = ((SEQ, "seq"), (HASH, "hash"), (KEY, "key_id"), (SIGNATURE, "signature"))
_LEFT_OUT = "not used as an anchor"


def with_trailers(message: str, checkpoint: Checkpoint | None) -> str:
    """``message`` with the trailers of ``checkpoint`` as its last paragraph (unchanged when
    there is no signed event yet)."""
    if checkpoint is None:
        return message
    values = checkpoint.to_dict()
    block = "\n".join(f"{trailer}: {values[name]}" for trailer, name in FIELDS)
    return f"{message.rstrip()}\n\n{block}\n"


def parse(trailers: Mapping[str, str], source: str) -> Checkpoint | None:
    """The checkpoint in a commit's ``trailers`` (None: the commit has none);
    ``CheckpointError`` when some are there but not all, or one is malformed."""
    present = [trailer for trailer, _ in FIELDS if trailer in trailers]
    if not present:
        return None
    missing = [trailer for trailer, _ in FIELDS if trailer not in trailers]
    if missing:
        raise CheckpointError(f"{source}: the trailer {missing[0]} is missing")
    data: dict[str, Any] = {name: trailers[trailer].strip() for trailer, name in FIELDS}
    if not data["seq"].isdigit():
        raise CheckpointError(f"{source}: {SEQ} is not a number: {data['seq']!r}")
    data["seq"] = int(data["seq"])
    return Checkpoint.parse(data, source)


@dataclass
class RegistryAnchors:
    """What a registry checkout holds: the ``checkpoints`` of the commits with a complete,
    well-formed set of trailers, oldest first, and one ``warnings`` line (naming the commit)
    for each commit whose trailers were left out."""

    checkpoints: list[Checkpoint] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_registry(path: str | Path) -> RegistryAnchors:
    """The checkpoints in the commits reachable from any ref (and HEAD) of the git
    repository at ``path``, oldest first, and the commits left out for incomplete or
    malformed trailers; ``CheckpointError`` when ``path`` is not a git repository."""
    import pygit2

    try:
        repo = pygit2.Repository(str(path))
    except pygit2.GitError as err:
        raise CheckpointError(f"{path}: not a git repository ({err})") from None
    walker = repo.walk(None, pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE)
    tips = 0
    names = ["HEAD", *repo.references] if not repo.head_is_unborn else list(repo.references)
    for name in names:
        try:
            commit = repo.revparse_single(name).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            continue  # a ref to something that is not a commit (a tree tag, a stale symref)
        walker.push(commit.id)
        tips += 1
    found = RegistryAnchors()
    if not tips:
        return found
    for commit in walker:
        source = f"registry commit {str(commit.id)[:12]}"
        try:
            trailers = commit.message_trailers
        except (pygit2.GitError, ValueError) as err:
            found.warnings.append(f"{source}: unreadable trailers ({err}): {_LEFT_OUT}")
            continue
        try:
            checkpoint = parse(trailers, source)
        except CheckpointError as err:
            found.warnings.append(f"{err}: {_LEFT_OUT}")
            continue
        if checkpoint is not None:
            found.checkpoints.append(checkpoint)
    return found
