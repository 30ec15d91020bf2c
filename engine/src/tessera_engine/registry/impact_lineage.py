"""Transitive impact through declared lineage: a consumer that ``republishes`` what it reads
into contract B carries a change on to B's consumers.

Breadth first from the directly affected consumers, one republish hop per level, up to the
registry's ``transitive_depth``. A contract is entered once (the visited set makes cycles
safe, and the first, shortest chain is the one shown), and a consumer already affected is not
listed again. B's consumers are taken as affected whatever their ``uses`` say: which of B's
elements carry the changed data is not declared anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .impact_result import AffectedConsumer, Link, Match
from .model import Consumer, Dependency, Registry

Step = tuple[Consumer, Dependency, tuple[Link, ...], tuple[Match, ...]]


def transitive(
    registry: Registry,
    contract_id: str,
    direct: Iterable[tuple[Consumer, Dependency, tuple[Match, ...]]],
    make: Callable[[Consumer, Dependency, tuple[Match, ...], tuple[Link, ...]], AffectedConsumer],
) -> list[AffectedConsumer]:
    """The consumers reached through republishing from the ``direct`` ones (with the matches
    that made each direct consumer affected), nearest first."""
    depth = registry.settings.transitive_depth
    visited = {contract_id}
    listed: set[str] = set()
    frontier: list[Step] = []
    for consumer, dependency, matches in direct:
        listed.add(consumer.id)
        frontier.append((consumer, dependency, (), matches))
    reached: list[AffectedConsumer] = []
    for _ in range(depth):
        following: list[Step] = []
        for consumer, dependency, chain, matches in frontier:
            for target in dependency.republishes:
                if target in visited:
                    continue
                visited.add(target)
                link = Link(consumer.id, consumer.team, consumer.service, target)
                for downstream, downstream_dep in registry.consumers_of(target):
                    if downstream.id in listed:
                        continue
                    listed.add(downstream.id)
                    path = (*chain, link)
                    reached.append(make(downstream, downstream_dep, matches, path))
                    following.append((downstream, downstream_dep, path, matches))
        if not following:
            break
        frontier = following
    return reached
