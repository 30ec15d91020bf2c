"""Declared usage checked against what contracts have published.

A consumer is asked to acknowledge a breaking change only when one of its ``uses`` entries
meets it, so an entry that names nothing (``GET /orderz``, ``Order.nonexistent``) silently
opts its team out. ``check_usages`` reads every entry of every dependency that declares
``uses`` against the active published version of its contract (``versions.active``: semver
precedence and the contract's pre-release policy) and reports the ones that name no element
of it, at the entry itself, with the closest real element (``usage_elements``).

A dependency whose version range leaves the active version out (a consumer that has not
moved to the new major yet) is read against the newest published version its range admits,
the one it still reads: what the active version dropped is not a mistake in its declaration
(the GitHub Action reports it as the breaking change it is, ``USAGE_BROKEN``).

- Each version is loaded once, and only when some consumer declares ``uses`` of a kind that
  fits its format (kinds that do not fit are ``crosscheck``'s); each distinct entry is judged
  once per version.
- An entry that another published version has but the one it is read against does not (the
  team acknowledged a break and its declaration is out of date, or it names a pre-release's
  addition) is a note that says so, not an error: it names something real, and one team's
  out-of-date file must not fail every other team's registry pull request. A name no published
  version has is a mistake: an error.
- A contract with no published version has nothing to check against: a note, not an error.
- A contract whose version files have problems is not checked (those problems are reported).
- An active version whose spec does not load, or that was published in another format than
  the contract now declares, is one problem, at that version file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..documents.loader import Source, parse_document, read_source
from ..errors import InputError, UsageError
from .crosscheck import USAGE_KINDS
from .impact_versions import in_range
from .loader import Loaded
from .model import Consumer, Contract, Dependency, PublishedVersion
from .problems import Pointed, Problem
from .ranges import parse_version
from .usage_elements import KINDS, Elements, elements_of, protobuf_elements
from .usage_protobuf import ProtocBatch
from .versions import active

WORDS = {
    "operations": "an operation",
    "fields": "a field",
    "messages": "a message or named type",
    "columns": "a column",
}
"""How an entry of each ``uses`` kind is spoken of."""

Published = Mapping[str, Sequence[tuple[Path, PublishedVersion]]]
"""contract id -> its published versions, each with the file it was read from."""


@dataclass
class UsageReport:
    """What checking the declared usage found (``validate`` positions and sorts it)."""

    pointed: list[Pointed] = field(default_factory=list)  # unknown entries, where declared
    problems: list[Problem] = field(default_factory=list)  # specs that do not load
    notes: list[Problem] = field(default_factory=list)  # nothing published to check against
    outdated: list[Pointed] = field(default_factory=list)  # named what an older version had
    checked: int = 0  # entries checked against a published version


@dataclass
class _Use:
    """A dependency that declares ``uses``, with its consumer, its place in ``consumes`` and
    its entries in the kinds its contract's format takes."""

    consumer: Consumer
    index: int  # the dependency's place in ``consumes``
    dependency: Dependency
    entries: list[tuple[str, int, str]]  # (kind, position in the kind's list, entry)


def check_usages(
    loaded: Loaded, published: Published, broken: set[str], source: Source
) -> UsageReport:
    """Every declared ``uses`` entry of ``loaded`` against its contract's active version in
    ``published``; contracts in ``broken`` (version files with problems) are left out."""
    report = UsageReport()
    planned: list[_Plan] = []
    for contract_id, uses in _declared(loaded).items():
        contract = loaded.contracts[contract_id]
        if contract_id in broken:
            continue
        versions = published.get(contract_id, ())
        if not versions:
            report.notes += [_unpublished(contract, use) for use in uses]
            continue
        policy = contract.prerelease or loaded.settings.prerelease
        chosen = active([version for _, version in versions], policy)
        assert chosen is not None
        history = _History(contract, [version for _, version in versions])
        plans: dict[str, _Plan] = {}  # version -> what is checked against it
        for use in uses:
            version = _judged_against(use.dependency, chosen, versions)
            plan = plans.get(version.version)
            if plan is None:
                path = next(p for p, v in versions if v is version)
                plan = _Plan(contract, path, version, version is chosen, history, [])
                plans[version.version] = plan
            plan.uses.append(use)
        planned += plans.values()
    protobuf = [plan for plan in planned if plan.contract.format == "protobuf"]
    rest = [plan for plan in planned if plan.contract.format != "protobuf"]
    # protoc compiles every protobuf version in the background while the others are read
    with ProtocBatch([plan.version for plan in protobuf]) as batch:
        for plan in rest:
            _check_contract(plan, None, report, source)
        for number, plan in enumerate(protobuf):
            _check_contract(plan, batch.module(number), report, source)
    return report


def _check_contract(plan: _Plan, module: Any | None, report: UsageReport, source: Source) -> None:
    """Check the planned uses against their version (a protobuf ``module`` compiled already,
    if there is one)."""
    contract, version = plan.contract, plan.version
    if version.format != contract.format:
        report.problems.append(_other_format(plan.path, contract, version, source))
        return
    try:
        if module is not None:
            elements = protobuf_elements(module)
        else:
            elements = elements_of(contract.format, version)
    except (InputError, UsageError) as err:
        report.problems.append(_unloadable(plan.path, version, err, source))
        return
    _check(plan, elements, report)


def _declared(loaded: Loaded) -> dict[str, list[_Use]]:
    """contract id -> the dependencies on it that declare ``uses`` of a kind it takes."""
    found: dict[str, list[_Use]] = {}
    for consumer in loaded.consumers.values():
        for index, dependency in enumerate(consumer.dependencies):
            contract = loaded.contracts.get(dependency.contract)
            entries = _entries(contract, dependency) if contract is not None else []
            if contract is not None and entries:
                use = _Use(consumer, index, dependency, entries)
                found.setdefault(contract.id, []).append(use)
    return found


def _entries(contract: Contract, dependency: Dependency) -> list[tuple[str, int, str]]:
    """(kind, position, entry) of each entry declared in a kind the contract's format takes."""
    allowed = USAGE_KINDS.get(contract.format, ())
    return [
        (kind, number, entry)
        for kind in KINDS
        if kind in allowed
        for number, entry in enumerate(getattr(dependency.uses, kind))
    ]


def _check(plan: _Plan, elements: Elements, report: UsageReport) -> None:
    # (kind, entry) -> the problem, if any, and whether an older version has the element
    verdicts: dict[tuple[str, str], tuple[str, bool] | None] = {}
    for use in plan.uses:
        file = use.consumer.location.file if use.consumer.location else "?"
        for kind, number, entry in use.entries:
            report.checked += 1
            if (kind, entry) not in verdicts:
                verdicts[kind, entry] = _verdict(plan, elements, kind, entry)
            verdict = verdicts[kind, entry]
            if verdict is not None:
                message, outdated = verdict
                where = ("consumes", use.index, "uses", kind, number)
                found = report.outdated if outdated else report.pointed
                found.append(Pointed(file, where, message))


def _judged_against(
    dependency: Dependency,
    current: PublishedVersion,
    versions: Sequence[tuple[Path, PublishedVersion]],
) -> PublishedVersion:
    """The version a dependency's ``uses`` are read against: the active one, unless the
    dependency's range leaves it out; then the newest published version the range admits (the
    one the consumer reads until it moves its range), when there is one."""
    if in_range(dependency.versions, current.version) is not False:
        return current
    inside = [v for _, v in versions if in_range(dependency.versions, v.version)]
    return max(inside, key=lambda v: parse_version(v.version)) if inside else current


def _verdict(plan: _Plan, elements: Elements, kind: str, entry: str) -> tuple[str, bool] | None:
    """What is wrong with ``entry`` (None: nothing), and whether an older published version
    has it (an out-of-date declaration rather than a mistake)."""
    if elements.knows(kind, entry):
        return None
    which = "its active version" if plan.active else "the newest in its declared range"
    had = plan.history.holding(kind, entry, besides=plan.version)
    if had is not None:
        newer = parse_version(had) > parse_version(plan.version.version)
        return (
            f"{entry!r} is {'not yet' if newer else 'no longer'} {WORDS[kind]} of "
            f"{plan.contract.id} {plan.version.version} ({which}; {had} has it): until the "
            "declaration names what the team reads in that version, changes to it ask this "
            "team nothing",
            True,
        )
    message = (
        f"{entry!r} is not {WORDS[kind]} of {plan.contract.id} {plan.version.version} ({which})"
    )
    suggestion = elements.suggest(kind, entry)
    if suggestion is not None and suggestion != entry:
        message += f": did you mean {suggestion!r}?"
    return message, False


class _History:
    """The published versions of a contract, newest first, read only when an entry is
    unknown to the version it is checked against (to say which other version has it)."""

    def __init__(self, contract: Contract, versions: list[PublishedVersion]) -> None:
        self.contract = contract
        self.versions = sorted(versions, key=lambda v: parse_version(v.version), reverse=True)
        self._elements: dict[str, Elements | None] = {}

    def holding(self, kind: str, entry: str, *, besides: PublishedVersion) -> str | None:
        """The newest version but ``besides`` that has ``entry``, if any."""
        for version in self.versions:
            if version is besides:
                continue
            elements = self._of(version)
            if elements is not None and elements.knows(kind, entry):
                return version.version
        return None

    def _of(self, version: PublishedVersion) -> Elements | None:
        if version.version not in self._elements:
            found = None
            if version.format == self.contract.format:
                with suppress(InputError, UsageError):
                    found = elements_of(self.contract.format, version)
            self._elements[version.version] = found
        return self._elements[version.version]


@dataclass
class _Plan:
    """What to check against one published version of a contract: the version (and the file
    it was read from, whether it is the active one), the contract's other versions, and the
    dependencies read against it."""

    contract: Contract
    path: Path
    version: PublishedVersion
    active: bool
    history: _History
    uses: list[_Use]


def _unpublished(contract: Contract, use: _Use) -> Problem:
    """At the dependency (its position is known from loading: no file is composed again)."""
    where = use.dependency.location or use.consumer.location
    file, line, column = (where.file, where.line, where.column or 1) if where else ("?", 1, 1)
    return Problem(
        file,
        line,
        column,
        f"{contract.id} has no published version yet: nothing to check the uses declared "
        "here against until one is published",
    )


def _unloadable(
    path: Path, version: PublishedVersion, err: InputError | UsageError, source: Source
) -> Problem:
    """At the version file's ``files``: its spec does not load."""
    return _at(
        path,
        "/files",
        f"the spec of {version.contract} {version.version} (its active version) does not "
        f"load, so the uses declared on it cannot be checked: {err}",
        source,
    )


def _other_format(
    path: Path, contract: Contract, version: PublishedVersion, source: Source
) -> Problem:
    """At the version file's ``format``: the contract now declares another format."""
    return _at(
        path,
        "/format",
        f"{contract.id} {version.version} (its active version) was published as "
        f"{version.format}, but the contract's format is {contract.format}: the uses declared "
        "on it cannot be checked",
        source,
    )


def _at(path: Path, pointer: str, message: str, source: Source) -> Problem:
    """A problem at ``pointer`` in the version file at ``path``."""
    name, line, column = source.display(str(path)), 1, 1
    try:
        where = parse_document(str(path), *read_source(source, str(path))).locate(pointer)
        line, column = where.line, where.column or 1
    except InputError:
        pass  # it was read a moment ago; the problem stays at the file's start
    return Problem(name, line, column, message)
