"""Security requirements and security schemes.

An operation's security is a list of alternatives, each naming schemes (and OAuth scopes)
that must all be satisfied. A change is breaking when a client that satisfied one of the old
alternatives satisfies none of the new ones; it relaxes security when the new alternatives
accept clients the old ones did not.
"""

from __future__ import annotations

from ..diff.core import At, Differ, Scope
from ..formats.api_model import ApiModel, Operation
from ..model import Position

Requirement = dict[str, frozenset[str]]

IMPLIES_PER_ALTERNATIVE = 64
"""Implication tests one security comparison may spend per alternative (see ``_unsatisfied``)."""


def _alternatives(raw: list[dict[str, list[str]]] | None) -> list[Requirement]:
    if not raw:
        return [{}]  # no requirement: anonymous access
    return [{name: frozenset(scopes) for name, scopes in alt.items()} for alt in raw]


def _implies(held: Requirement, needed: Requirement) -> bool:
    """A client holding ``held`` also satisfies ``needed``."""
    return all(name in held and scopes <= held[name] for name, scopes in needed.items())


def _unsatisfied(holders: list[Requirement], needs: list[Requirement]) -> list[Requirement]:
    """The alternatives in ``holders`` whose clients satisfy none of ``needs``. One listed on
    both sides is found by key; others are tried against ``needs`` while
    ``IMPLIES_PER_ALTERNATIVE`` tries per alternative last, then count as unsatisfied (the
    cautious answer), so the work grows with the lists, not with their product."""
    listed = {_key(need) for need in needs}
    tries = IMPLIES_PER_ALTERNATIVE * (len(holders) + len(needs))
    found = []
    for held in holders:
        if _key(held) in listed:
            continue
        satisfied = False
        for need in needs:
            tries -= 1
            if tries < 0:
                break
            if _implies(held, need):
                satisfied = True
                break
        if not satisfied:
            found.append(held)
    return found


def _key(requirement: Requirement) -> frozenset[tuple[str, frozenset[str]]]:
    return frozenset(requirement.items())


def describe(alternatives: list[Requirement]) -> str:
    parts = []
    for alt in alternatives:
        if not alt:
            parts.append("no credentials")
            continue
        schemes = [
            name + (f" ({', '.join(sorted(scopes))})" if scopes else "")
            for name, scopes in sorted(alt.items())
        ]
        parts.append(" and ".join(schemes))
    return " or ".join(parts)


def compare(
    differ: Differ, root: Scope, old: Operation, new: Operation, position: Position
) -> None:
    o_alts, n_alts = _alternatives(old.security), _alternatives(new.security)
    if o_alts == n_alts:
        return
    at: At = {"old": old.security_node, "new": new.security_node or new.node}
    lost = _unsatisfied(o_alts, n_alts)
    gained = _unsatisfied(n_alts, o_alts)
    if lost:
        detail = (
            f"clients with {describe(lost)} are no longer authorised: security was "
            f"{describe(o_alts)}, now {describe(n_alts)}"
        )
        differ.emit(
            root,
            "api.security.tightened",
            **at,
            lseg="|security",
            args={"detail": detail, "old": describe(o_alts), "new": describe(n_alts)},
            position=position,
        )
    elif gained:
        detail = f"security was {describe(o_alts)}, now {describe(n_alts)}"
        differ.emit(
            root,
            "api.security.relaxed",
            **at,
            lseg="|security",
            args={"detail": detail, "old": describe(o_alts), "new": describe(n_alts)},
            position=position,
        )


_SCHEME_FIELDS = ("type", "in", "name", "scheme", "bearerFormat", "openIdConnectUrl")
_FLOW_FIELDS = ("authorizationUrl", "tokenUrl", "refreshUrl")


def schemes(differ: Differ, old: ApiModel, new: ApiModel) -> None:
    root: Scope | None = None
    for name in old.security_schemes.keys() & new.security_schemes.keys():
        o, n = old.security_schemes[name], new.security_schemes[name]
        if differ.same(o, n):
            continue
        details = [
            f"{field} changed from {o.get(field)} to {n.get(field)}"
            for field in _SCHEME_FIELDS
            if o.get(field) != n.get(field)
        ]
        o_flows, n_flows = o.get("flows") or {}, n.get("flows") or {}
        if isinstance(o_flows, dict) and isinstance(n_flows, dict):
            for flow in sorted(o_flows.keys() - n_flows.keys()):
                details.append(f"flow {flow} removed")
            for flow in sorted(o_flows.keys() & n_flows.keys()):
                of, nf = o_flows[flow], n_flows[flow]
                if isinstance(of, dict) and isinstance(nf, dict):
                    details.extend(
                        f"{flow} {field} changed"
                        for field in _FLOW_FIELDS
                        if of.get(field) != nf.get(field)
                    )
        if not details:
            continue
        if root is None:
            root = differ.root("security schemes", "securitySchemes", None, n, Position.NONE)
        differ.emit(
            root,
            "api.security-scheme.changed",
            old=o,
            new=n,
            lseg=f"|{name}",
            args={"name": name, "detail": "; ".join(details)},
        )
