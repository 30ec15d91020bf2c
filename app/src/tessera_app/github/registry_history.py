"""Whether one registry commit descends from another, read through the Git Data API.

    descends(gh, repo, head, ancestor) -> Descent

The walk goes from ``head`` through its parents, newest first, until it meets ``ancestor``
(a descendant: ``Descent.YES``). A commit committed well before ``ancestor`` (more than
``CLOCK_SKEW`` earlier) cannot lead to it and is not followed, so the walk reads about as many
commits as were made since ``ancestor``; a head rewound to an older commit is answered in two
reads. ``ancestor`` no longer in the repository (a force-push, then garbage collection) is
``Descent.NO``; a walk longer than ``MAX_COMMITS`` is ``Descent.UNKNOWN`` (refused too: the
mirror never follows a history it could not check).
"""

from __future__ import annotations

import heapq
from datetime import timedelta
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .gateway import Installation

CLOCK_SKEW = timedelta(days=1)
MAX_COMMITS = 1000


class Descent(Enum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


def descends(
    gh: Installation, repo: str, head: str, ancestor: str, *, limit: int = MAX_COMMITS
) -> Descent:
    """Whether ``head`` is ``ancestor`` or one of its descendants in ``repo``."""
    if head == ancestor:
        return Descent.YES
    base = gh.commit(repo, ancestor)
    if base is None:
        return Descent.NO
    floor = base.committed_at - CLOCK_SKEW
    first = gh.commit(repo, head)
    if first is None or first.committed_at < floor:
        return Descent.NO
    queue = [(-first.committed_at.timestamp(), first.sha, first.parents)]
    seen = {first.sha}
    read = 1
    while queue:
        _, _, parents = heapq.heappop(queue)
        for parent in parents:
            if parent == ancestor:
                return Descent.YES
            if parent in seen:
                continue
            seen.add(parent)
            if read >= limit:
                return Descent.UNKNOWN
            found = gh.commit(repo, parent)
            read += 1
            if found is not None and found.committed_at >= floor:
                heapq.heappush(queue, (-found.committed_at.timestamp(), found.sha, found.parents))
    return Descent.NO
