"""What ``impact`` decides: the diff, the consumers it concerns and why, and whether the
change needs their acknowledgement. Plain values with ``to_dict`` for the JSON output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import DiffResult, Finding, Location, Severity


@dataclass(frozen=True, slots=True)
class Match:
    """One finding that concerns one consumer, and the declared usage that selected it.

    ``kind`` is the usage kind (operations, fields, messages, columns) or ``everything`` for a
    consumer that declared no ``uses``; ``usage`` the entry as declared; ``relation`` how it
    met the change (exact, inside: the change is inside the used element, parent: the used
    element is inside the changed or removed one, reaches: the used element leads to the
    changed one through types or ``$ref``s, downstream: the used dbt model is built from the
    changed one, everything); ``via`` the chain for ``reaches`` and ``downstream``
    (``Query.order -> Order.email``; ``model.shop.orders -> model.shop.orders_daily``);
    ``severity`` the finding's severity for this consumer (an added column is dangerous for a
    ``select *`` reader)."""

    finding: Finding
    kind: str
    usage: str
    relation: str
    severity: Severity
    via: tuple[str, ...] = ()

    @property
    def informs(self) -> bool:
        """Reached through dbt lineage: listed, never asked to acknowledge (which columns of
        the used model carry the changed one is not known)."""
        return self.relation == "downstream"

    @property
    def needs_acknowledgement(self) -> bool:
        return self.severity is Severity.BREAKING and not self.informs

    def to_dict(self) -> dict[str, Any]:
        usage: dict[str, Any] = {"kind": self.kind, "entry": self.usage, "relation": self.relation}
        if self.via:
            usage["via"] = list(self.via)
        return {
            "fingerprint": self.finding.fingerprint,
            "rule": self.finding.rule,
            "element": self.finding.path,
            "severity": self.severity.value,
            "usage": usage,
        }


@dataclass(frozen=True, slots=True)
class Link:
    """One step of a transitive chain: ``consumer`` (of ``service``, team ``team``) reads the
    contract before it and republishes into ``contract``."""

    consumer: str
    team: str
    service: str
    contract: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "consumer": self.consumer,
            "team": self.team,
            "service": self.service,
            "republishes": self.contract,
        }


@dataclass(frozen=True, slots=True)
class AffectedConsumer:
    """A consumer a change concerns, directly (``chain`` empty) or through declared lineage."""

    consumer: str
    team: str
    service: str
    repo: str
    contract: str  # the contract its dependency is on (another one when transitive)
    versions: str  # its declared range
    in_range: bool | None  # the proposed version is in that range; None: unknown/transitive
    matches: tuple[Match, ...]
    chain: tuple[Link, ...]
    must_acknowledge: bool
    location: Location | None = None

    @property
    def severity(self) -> Severity:
        return max((m.severity for m in self.matches), default=Severity.ANNOTATION)

    @property
    def transitive(self) -> bool:
        return bool(self.chain)

    @property
    def breaking_use(self) -> bool:
        """A breaking finding meets what it uses (not only through dbt lineage)."""
        return any(m.needs_acknowledgement for m in self.matches)

    def to_dict(self) -> dict[str, Any]:
        return {
            "consumer": self.consumer,
            "team": self.team,
            "service": self.service,
            "repo": self.repo,
            "contract": self.contract,
            "versions": self.versions,
            "in_range": self.in_range,
            "severity": self.severity.value,
            "must_acknowledge": self.must_acknowledge,
            "chain": [link.to_dict() for link in self.chain],
            "matches": [match.to_dict() for match in self.matches],
            "location": self.location.to_dict() if self.location else None,
        }


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    required: bool
    reason: str
    teams: tuple[str, ...] = ()  # the teams that must acknowledge

    def to_dict(self) -> dict[str, Any]:
        return {"required": self.required, "reason": self.reason, "teams": list(self.teams)}


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """The versions the impact was judged with, and where they came from."""

    versioning: str  # auto | suggest | enforce
    current: str | None
    proposed: str | None
    prerelease: bool
    origin: str  # how ``proposed`` was chosen

    def to_dict(self) -> dict[str, Any]:
        return {
            "versioning": self.versioning,
            "current": self.current,
            "proposed": self.proposed,
            "prerelease": self.prerelease,
            "origin": self.origin,
        }


@dataclass(frozen=True, slots=True)
class ImpactResult:
    contract: str
    owner: str
    diff: DiffResult
    versions: VersionInfo
    consumers: tuple[AffectedConsumer, ...]
    acknowledgement: Acknowledgement
    notes: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        """0 when no consumer must acknowledge, 1 when some must."""
        return 1 if self.acknowledgement.required else 0

    @property
    def direct(self) -> tuple[AffectedConsumer, ...]:
        return tuple(c for c in self.consumers if not c.transitive)

    @property
    def transitive(self) -> tuple[AffectedConsumer, ...]:
        return tuple(c for c in self.consumers if c.transitive)

    def to_dict(self) -> dict[str, Any]:
        return {
            "contract": self.contract,
            "owner": self.owner,
            "verdict": self.diff.verdict,
            "bump": self.diff.bump.value,
            "versions": self.versions.to_dict(),
            "acknowledgement": self.acknowledgement.to_dict(),
            "consumers": [consumer.to_dict() for consumer in self.consumers],
            "notes": list(self.notes),
            "diff": self.diff.to_dict(),
        }
