"""Who an API key acts for, what it may do, and how its decisions are recorded.

A key's principal follows its highest scope:

    read    reads only (when ``TESSERA_READ_ACCESS=key`` reads need it); it acts for nobody and
            may name an ``owner`` (who holds it) for the listing
    write   bound to one registry ``team``: acknowledges, blocks, cancels, holds and unholds for
            that team only; any other team is refused
    admin   has a named ``owner`` (a person or a system): acts for any team, waives,
            force-publishes, manages keys and jobs

The audit actor is derived from the key, never from a request: ``team web (key ci)`` for a team
key, ``alice (admin key ops) acting for web`` for an admin key deciding for a team (``alice
(admin key ops)`` when no team is concerned). Keys made before keys had principals (a write key
without a team, an admin key without an owner) may only read until replaced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, get_args

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
RANK: dict[str, int] = {scope: rank for rank, scope in enumerate(SCOPES, start=1)}
Role = Literal["anonymous", "read", "write", "admin"]

NAME_MAX = 50  # a key's name and owner are bounded so that every actor fits the audit columns
OWNER_MAX = 50
ACTOR_MAX = 200  # audit_events.actor, acknowledgements.actor, ... are String(200)


def role_of(scopes: Iterable[str]) -> Role:
    """The highest of ``scopes`` (scopes nest: admin implies write implies read)."""
    rank = max((RANK.get(s, 0) for s in scopes), default=0)
    return SCOPES[rank - 1] if rank else "anonymous"


def principal_problem(role: Role, team: str | None, owner: str | None) -> str | None:
    """Why a key of ``role`` cannot be made with this ``team`` and ``owner``, or None."""
    if role == "write":
        if not team:
            return "a write key acts for one registry team: give its team (--team TEAM)"
        if owner:
            return "a write key acts for its team: an owner is for admin and read keys"
    elif role == "admin":
        if not owner:
            return "an admin key needs a named owner, the person or system holding it (--owner)"
        if team:
            return "an admin key acts for every team: a team is for write keys"
    elif team:
        return "a read key acts for nobody: a team is for write keys"
    return None


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key (``key_id``) with its team or owner, or the anonymous reader
    (``key_id`` None)."""

    key_id: int | None
    name: str
    scopes: frozenset[str]
    team: str | None = None
    owner: str | None = None
    prefix: str | None = None

    @property
    def role(self) -> Role:
        return role_of(self.scopes) if self.key_id is not None else "anonymous"

    def allows(self, scope: Scope) -> bool:
        return max((RANK.get(s, 0) for s in self.scopes), default=0) >= RANK[scope]

    @property
    def unbound(self) -> str | None:
        """Why this key may only read although its scope says more (made before keys had
        principals), or None."""
        role = self.role
        if role not in ("write", "admin") or principal_problem(role, self.team, self.owner) is None:
            return None
        option = "--team TEAM" if role == "write" else "--owner WHO"
        return (
            f"API key {self.key_id} ({self.name}) has no {'team' if role == 'write' else 'owner'}"
            f": it may only read; create a {role} key with {option} and revoke this one"
        )

    def refusal(self, team: str) -> str | None:
        """Why this key may not act for ``team``, or None when it may."""
        if self.unbound:
            return self.unbound
        if self.role == "admin":
            return None
        if self.role == "write":
            if team == self.team:
                return None
            return f"API key {self.name} belongs to team {self.team}: it cannot act for team {team}"
        return f"API key {self.name} is a read key: it acts for no team"

    def actor_for(self, team: str | None) -> str:
        """The actor the audit log records for a decision made with this key (for ``team``)."""
        if self.key_id is None:
            return "anonymous"
        if self.role == "admin" and self.owner:
            actor = f"{self.owner} (admin key {self.name})"
            return f"{actor} acting for {team}" if team else actor
        if self.role == "write" and self.team:
            return f"team {self.team} (key {self.name})"
        return f"{self.owner} (key {self.name})" if self.owner else f"key {self.name}"

    @property
    def actor(self) -> str:
        """The actor of an action that concerns no team (managing keys, retrying a job)."""
        return self.actor_for(None)

    def evidence(self) -> dict[str, Any]:
        """The key behind a decision, as the evidence recorded with it."""
        key: dict[str, Any] = {"id": self.key_id, "name": self.name, "prefix": self.prefix}
        key["role"] = self.role
        if self.team:
            key["team"] = self.team
        if self.owner:
            key["owner"] = self.owner
        return key


ANONYMOUS = Principal(key_id=None, name="anonymous", scopes=frozenset({"read"}))


def describe(role: Role | str, team: str | None, owner: str | None) -> str:
    """``team web``, ``admin alice``, ``read alice``, ``read``; ``write, no team`` for an old
    key without its principal."""
    if role == "write":
        return f"team {team}" if team else "write, no team (reads only)"
    if role == "admin":
        return f"admin {owner}" if owner else "admin, no owner (reads only)"
    return f"read {owner}" if owner else "read"
