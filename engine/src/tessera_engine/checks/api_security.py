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


def _alternatives(raw: list[dict[str, list[str]]] | None) -> list[Requirement]:
    if not raw:
        return [{}]  # no requirement: anonymous access
    return [{name: frozenset(scopes) for name, scopes in alt.items()} for alt in raw]


def _implies(held: Requirement, needed: Requirement) -> bool:
    """A client holding ``held`` also satisfies ``needed``."""
    return all(name in held and scopes <= held[name] for name, scopes in needed.items())


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
    lost = [alt for alt in o_alts if not any(_implies(alt, need) for need in n_alts)]
    gained = [alt for alt in n_alts if not any(_implies(alt, need) for need in o_alts)]
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
