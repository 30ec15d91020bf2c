"""Consumer mode's checks on a validated overlay: can-i-deploy against the published contracts
and the open proposals that would break what the consumer declares it uses."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import TesseraError
from ..registry.impact import impact
from ..registry.impact_result import Match
from ..registry.impact_versions import in_range
from ..registry.model import Consumer, Dependency, PublishedVersion, Registry
from ..registry.versions import VersionSource, active, list_versions
from ..registry.yaml_files import Positions
from .declarations import Overlay
from .proposals import OpenProposal
from .reasons import (
    CONTRACT_NOT_PUBLISHED,
    OK,
    PENDING_BREAKING_PROPOSAL,
    PENDING_DANGEROUS_CHANGE,
    USAGE_BROKEN,
    VERSION_OUT_OF_RANGE,
    Check,
)

Proposals = Callable[[str], list[OpenProposal]]


class ConsumerChecks:
    """The checks of the repository's consumers in one overlay."""

    def __init__(self, made: Overlay, proposals: Proposals | None) -> None:
        assert made.registry is not None
        self.overlay = made
        self.registry: Registry = made.registry
        self.proposals = proposals
        self._positions: dict[str, Positions | None] = {}

    def run(self) -> list[Check]:
        checks: list[Check] = []
        for consumer_id in self.overlay.ids:
            consumer = self.registry.consumers[consumer_id]
            for number, dependency in enumerate(consumer.dependencies):
                checks += self.dependency(consumer, number, dependency)
        return checks

    def dependency(self, consumer: Consumer, number: int, dep: Dependency) -> list[Check]:
        contract = self.registry.contracts[dep.contract]
        at = self._at(dep, ("consumes", number, "versions"))
        published = list_versions(self.registry.root, contract.id)
        current = active(published, self.registry.prerelease_of(contract))
        if current is None:
            message = f"{contract.id} has no published version: {consumer.id} cannot deploy yet"
            return [Check(CONTRACT_NOT_PUBLISHED, message, contract.id, consumer.id, *at)]
        checks: list[Check] = []
        if in_range(dep.versions, current.version) is False:
            checks.append(
                Check(
                    VERSION_OUT_OF_RANGE,
                    f"{contract.id} {current.version} is active, outside the range "
                    f"{dep.versions!r} that {consumer.id} declares",
                    contract.id,
                    consumer.id,
                    *at,
                )
            )
            baseline = _newest_in(published, dep.versions)
            if baseline is not None:
                label = f"{contract.id} {current.version} (active, since {baseline.version})"
                checks += self._changes(consumer, number, dep, baseline, current, label, None)
        if self.proposals is not None:
            for proposal in self.proposals(contract.id):
                checks += self._proposal(consumer, number, dep, current, proposal)
        if not checks:
            message = f"{contract.id} {current.version} (active) satisfies {dep.versions!r}"
            checks.append(Check(OK, message, contract.id, consumer.id, *at))
        return checks

    def _proposal(
        self,
        consumer: Consumer,
        number: int,
        dep: Dependency,
        current: PublishedVersion,
        proposal: OpenProposal,
    ) -> list[Check]:
        pull = f" (pull request #{proposal.pull_request})" if proposal.pull_request else ""
        label = f"proposal #{proposal.id}{pull}"
        if proposal.files:
            contract = self.registry.contracts[dep.contract]
            new = proposal.as_version(contract.format)
            return self._changes(consumer, number, dep, current, new, label, proposal.id)
        at = self._at(dep, ("consumes", number))
        if consumer.team in proposal.required:
            count = len(proposal.required[consumer.team])
            message = (
                f"{label} on {dep.contract} has {count} breaking change(s) that team "
                f"{consumer.team} must acknowledge"
            )
            code = PENDING_BREAKING_PROPOSAL
            return [Check(code, message, dep.contract, consumer.id, *at, proposal.id)]
        if consumer.team in proposal.informed:
            message = f"{label} on {dep.contract} has changes that concern team {consumer.team}"
            code = PENDING_DANGEROUS_CHANGE
            return [Check(code, message, dep.contract, consumer.id, *at, proposal.id)]
        return []

    def _changes(
        self,
        consumer: Consumer,
        number: int,
        dep: Dependency,
        old: PublishedVersion,
        new: PublishedVersion,
        label: str,
        proposal: int | None,
    ) -> list[Check]:
        """What the change from ``old`` to ``new`` does to what ``consumer`` declares."""
        old_source, new_source = VersionSource(old), VersionSource(new)
        try:
            result = impact(
                self.registry,
                dep.contract,
                old_source.root,
                new_source.root,
                current_version=old.version,
                source=new_source,
                old_source=old_source,
            )
        except TesseraError as err:
            raise TesseraError(f"{label} on {dep.contract}: {err}") from None
        checks: list[Check] = []
        for affected in result.consumers:
            if affected.consumer != consumer.id or affected.transitive:
                continue
            for match in affected.matches:
                code = _code(match, proposal)
                at = self._at(dep, _usage_path(number, dep, match))
                message = f"{label} {_change(match)}, which {consumer.id} declares it uses"
                message += f" ({_usage(match)})"
                rule = match.finding.rule
                checks.append(Check(code, message, dep.contract, consumer.id, *at, proposal, rule))
        return checks

    def _at(self, dep: Dependency, tokens: tuple[str | int, ...]) -> tuple[str | None, int, int]:
        location = self.overlay.location(dep.location)
        if location is None:
            return None, 1, 1
        if location.file not in self._positions:
            self._positions[location.file] = self.overlay.positions(location.file)
        positions = self._positions[location.file]
        if positions is None:
            return location.file, location.line, location.column
        line, column = positions.locate(tokens)
        return location.file, line, column


def _code(match: Match, proposal: int | None) -> str:
    if proposal is None:
        return USAGE_BROKEN
    breaking = match.needs_acknowledgement
    return PENDING_BREAKING_PROPOSAL if breaking else PENDING_DANGEROUS_CHANGE


def _newest_in(published: list[PublishedVersion], versions: str) -> PublishedVersion | None:
    inside = [p for p in published if in_range(versions, p.version)]
    return inside[-1] if inside else None


def _change(match: Match) -> str:
    finding = match.finding
    return f"{finding.severity.value}: `{finding.path}`: {finding.message}"


def _usage(match: Match) -> str:
    if match.kind == "everything":
        return "it declares no `uses`, so everything"
    via = f" via {' -> '.join(match.via)}" if match.via else ""
    return f"{match.kind}: `{match.usage}`, {match.relation}{via}"


def _usage_path(number: int, dep: Dependency, match: Match) -> tuple[str | int, ...]:
    if match.kind == "everything":
        return ("consumes", number, "contract")
    entries = getattr(dep.uses, match.kind, ())
    if match.usage in entries:
        return ("consumes", number, "uses", match.kind, entries.index(match.usage))
    return ("consumes", number, "uses", match.kind)
