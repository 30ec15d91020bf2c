"""The service dependency graph, read from the registry mirror.

Nodes are teams, services (consumers) and contracts, named ``team:<id>``, ``service:<consumer
id>`` and ``contract:<id>``. Edges:

    team -owns-> contract          the contract's owner
    team -owns-> service           the consumer's team
    service -consumes-> contract   a declaration (with its version range)
    service -republishes-> contract  what the service reads it feeds into that contract

Three views, each answered with indexed queries (never by loading the whole registry for a
filtered view):

    whole(session)                 every node and edge (up to ``max_nodes``)
    of_team(session, team)         the team, what it owns, and every edge into or out of that
    around(session, node, depth)   the neighbourhood: nodes within ``depth`` edges, either way
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from .db.registry_models import Consumer, Contract, Dependency, Republication, Team

KINDS = ("team", "service", "contract")
CHUNK = 1000  # ids per IN (...) list
DEFAULT_MAX_NODES = 2000


class UnknownNode(LookupError):
    """A node id that names nothing in the mirror."""


@dataclass(frozen=True)
class Node:
    id: str
    kind: str  # team | service | contract
    label: str
    team: str | None = None  # the owning team (a team: itself)
    format: str | None = None  # contracts only


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str  # owns | consumes | republishes
    versions: str | None = None  # consumes: the declared range


@dataclass
class Graph:
    max_nodes: int = DEFAULT_MAX_NODES
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], Edge] = field(default_factory=dict)
    truncated: bool = False

    def add_node(self, node: Node) -> bool:
        """Add ``node`` unless the graph is full; whether it is in the graph now."""
        if node.id in self.nodes:
            return True
        if len(self.nodes) >= self.max_nodes:
            self.truncated = True
            return False
        self.nodes[node.id] = node
        return True

    def add_edge(self, source: Node, target: Node, kind: str, versions: str | None = None) -> None:
        """The edge and both ends, unless an end does not fit."""
        if self.add_node(source) and self.add_node(target):
            self.edges.setdefault(
                (source.id, target.id, kind), Edge(source.id, target.id, kind, versions)
            )


def node_id(kind: str, id_: str) -> str:
    return f"{kind}:{id_}"


def parse_node(text: str) -> tuple[str, str]:
    """``kind:id`` -> (kind, id); ``ValueError`` naming the forms accepted."""
    kind, sep, id_ = text.partition(":")
    if not sep or kind not in KINDS or not id_:
        raise ValueError(
            f"{text!r} is not a node: give team:<id>, service:<consumer id> or contract:<id>"
        )
    return kind, id_


def _team(id_: str, name: str) -> Node:
    return Node(node_id("team", id_), "team", name or id_, id_)


def _contract(id_: str, owner: str, format_: str) -> Node:
    return Node(node_id("contract", id_), "contract", id_, owner, format_)


def _service(id_: str, service: str, team: str) -> Node:
    return Node(node_id("service", id_), "service", service, team)


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


class _Reader:
    """The queries, each adding what it finds to ``graph``."""

    def __init__(self, session: Session, graph: Graph) -> None:
        self.session = session
        self.graph = graph

    def _rows(self, statement: Any, column: Any, ids: Iterable[str]) -> Iterator[Any]:
        for chunk in _chunks(ids):
            yield from self.session.execute(statement.where(column.in_(chunk)))

    def teams(self, ids: Iterable[str]) -> None:
        for id_, name in self._rows(select(Team.id, Team.name), Team.id, ids):
            self.graph.add_node(_team(id_, name))

    def owned_by(self, teams: Iterable[str]) -> None:
        """owns edges from ``teams`` to their contracts and services."""
        statement = select(Contract.id, Contract.owner_id, Contract.format, Team.name).join(
            Team, Team.id == Contract.owner_id
        )
        for id_, owner, format_, name in self._rows(statement, Contract.owner_id, teams):
            self.graph.add_edge(_team(owner, name), _contract(id_, owner, format_), "owns")
        statement = select(Consumer.id, Consumer.service, Consumer.team_id, Team.name).join(
            Team, Team.id == Consumer.team_id
        )
        for id_, service, team, name in self._rows(statement, Consumer.team_id, teams):
            self.graph.add_edge(_team(team, name), _service(id_, service, team), "owns")

    def owners(self, contracts: Iterable[str] = (), services: Iterable[str] = ()) -> None:
        """owns edges into ``contracts`` and ``services`` from their teams."""
        statement = select(Contract.id, Contract.owner_id, Contract.format, Team.name).join(
            Team, Team.id == Contract.owner_id
        )
        for id_, owner, format_, name in self._rows(statement, Contract.id, contracts):
            self.graph.add_edge(_team(owner, name), _contract(id_, owner, format_), "owns")
        statement = select(Consumer.id, Consumer.service, Consumer.team_id, Team.name).join(
            Team, Team.id == Consumer.team_id
        )
        for id_, service, team, name in self._rows(statement, Consumer.id, services):
            self.graph.add_edge(_team(team, name), _service(id_, service, team), "owns")

    def consumes(self, column: InstrumentedAttribute[str], ids: Iterable[str]) -> None:
        """consumes edges whose ``column`` (a dependency's consumer or contract) is in ids."""
        statement = (
            select(
                Dependency.consumer_id,
                Consumer.service,
                Consumer.team_id,
                Dependency.contract_id,
                Contract.owner_id,
                Contract.format,
                Dependency.versions,
            )
            .join(Consumer, Consumer.id == Dependency.consumer_id)
            .join(Contract, Contract.id == Dependency.contract_id)
        )
        for consumer, service, team, contract, owner, format_, versions in self._rows(
            statement, column, ids
        ):
            self.graph.add_edge(
                _service(consumer, service, team),
                _contract(contract, owner, format_),
                "consumes",
                versions,
            )

    def republishes(self, column: InstrumentedAttribute[str], ids: Iterable[str]) -> None:
        """republishes edges whose ``column`` (the consumer, or the target) is in ids."""
        statement = (
            select(
                Republication.consumer_id,
                Consumer.service,
                Consumer.team_id,
                Republication.target_id,
                Contract.owner_id,
                Contract.format,
            )
            .join(Consumer, Consumer.id == Republication.consumer_id)
            .join(Contract, Contract.id == Republication.target_id)
        )
        for consumer, service, team, target, owner, format_ in self._rows(statement, column, ids):
            self.graph.add_edge(
                _service(consumer, service, team), _contract(target, owner, format_), "republishes"
            )


def of_team(session: Session, team: str, max_nodes: int = DEFAULT_MAX_NODES) -> Graph:
    """Team ``team``, its contracts and services, and every edge touching them."""
    if session.get(Team, team) is None:
        raise UnknownNode(f"no team {team!r}")
    graph = Graph(max_nodes)
    reader = _Reader(session, graph)
    reader.teams([team])
    reader.owned_by([team])
    contracts = [n.id.split(":", 1)[1] for n in graph.nodes.values() if n.kind == "contract"]
    services = [n.id.split(":", 1)[1] for n in graph.nodes.values() if n.kind == "service"]
    reader.consumes(Dependency.consumer_id, services)
    reader.consumes(Dependency.contract_id, contracts)
    reader.republishes(Republication.consumer_id, services)
    reader.republishes(Republication.target_id, contracts)
    return graph


def around(
    session: Session, node: str, depth: int = 1, max_nodes: int = DEFAULT_MAX_NODES
) -> Graph:
    """The nodes within ``depth`` edges of ``node`` (following edges either way), with the
    edges that reach them."""
    kind, id_ = parse_node(node)
    start = _node(session, kind, id_)
    if start is None:
        raise UnknownNode(f"no {kind} {id_!r}")
    graph = Graph(max_nodes)
    graph.add_node(start)
    reader = _Reader(session, graph)
    seen = {node}
    frontier = {node}
    for _ in range(depth):
        before = set(graph.nodes)
        by_kind = _ids_by_kind(frontier)
        reader.owned_by(by_kind["team"])
        reader.owners(by_kind["contract"], by_kind["service"])
        reader.consumes(Dependency.contract_id, by_kind["contract"])
        reader.consumes(Dependency.consumer_id, by_kind["service"])
        reader.republishes(Republication.target_id, by_kind["contract"])
        reader.republishes(Republication.consumer_id, by_kind["service"])
        frontier = set(graph.nodes) - before - seen
        seen |= frontier
        if not frontier or graph.truncated:
            break
    return graph


def whole(session: Session, max_nodes: int = DEFAULT_MAX_NODES) -> Graph:
    """Every team, contract and service (up to ``max_nodes``), and the edges between them."""
    graph = Graph(max_nodes)
    reader = _Reader(session, graph)
    teams = list(session.scalars(select(Team.id).order_by(Team.id)))
    reader.teams(teams)
    reader.owned_by(teams)
    everything = [n.id.split(":", 1)[1] for n in graph.nodes.values() if n.kind == "contract"]
    reader.consumes(Dependency.contract_id, everything)
    reader.republishes(Republication.target_id, everything)
    return graph


def _node(session: Session, kind: str, id_: str) -> Node | None:
    if kind == "team":
        team = session.get(Team, id_)
        return _team(team.id, team.name) if team else None
    if kind == "contract":
        contract = session.get(Contract, id_)
        return _contract(contract.id, contract.owner_id, contract.format) if contract else None
    consumer = session.get(Consumer, id_)
    return _service(consumer.id, consumer.service, consumer.team_id) if consumer else None


def _ids_by_kind(nodes: Sequence[str] | set[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for node in nodes:
        kind, id_ = parse_node(node)
        found[kind].append(id_)
    return found
