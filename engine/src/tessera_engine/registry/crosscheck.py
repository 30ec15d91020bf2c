"""Checks across the files of a registry: every reference resolves, every declaration makes
sense for the contract it is about. Each problem points at the offending key or value."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from ..formats import FORMAT_NAMES
from ..formats.native import NATIVE_NAMES
from .loader import Loaded
from .model import Consumer, Contract, Dependency
from .problems import Pointed
from .ranges import Range, RangeError, parse_range

USAGE_KINDS = {
    "openapi": ("operations", "fields"),
    "swagger": ("operations", "fields"),
    "jsonschema": ("fields",),
    "graphql": ("operations", "fields"),
    "protobuf": ("operations", "fields", "messages"),
    "avro": ("fields", "messages"),
    "dbt": ("columns",),
}
"""format -> the kinds of ``uses`` that mean something for it."""
DOCUMENT_FORMATS = ("openapi", "swagger", "jsonschema")
"""The formats a content-model ``policy`` (strict | lenient) applies to."""


def engine_formats() -> tuple[str, ...]:
    """The formats this engine can diff (a registry may only name these)."""
    return (*FORMAT_NAMES, *NATIVE_NAMES)


def crosscheck(loaded: Loaded) -> list[Pointed]:
    problems: list[Pointed] = []
    formats = engine_formats()
    for contract in loaded.contracts.values():
        problems.extend(_contract(contract, loaded, formats))
    for consumer in loaded.consumers.values():
        problems.extend(_consumer(consumer, loaded))
    return problems


def _file(value: Contract | Consumer) -> str:
    return value.location.file if value.location else "?"


def _contract(contract: Contract, loaded: Loaded, formats: tuple[str, ...]) -> Iterator[Pointed]:
    file = _file(contract)
    if not loaded.exists("team", contract.owner):
        yield Pointed(
            file, ("owner",), f"unknown team {contract.owner!r}: no teams/{contract.owner}.yaml"
        )
    if contract.format not in formats:
        yield Pointed(
            file,
            ("format",),
            f"this Tessera cannot read the format "
            f"{contract.format!r} (it reads {', '.join(formats)})",
        )
    if contract.proto_level is not None and contract.format != "protobuf":
        yield Pointed(
            file,
            ("compatibility", "proto_level"),
            f"proto_level applies to protobuf contracts, not {contract.format}",
        )
    if contract.policy is not None and contract.format not in DOCUMENT_FORMATS:
        yield Pointed(
            file,
            ("compatibility", "policy"),
            "policy (strict | lenient) applies to "
            f"{', '.join(DOCUMENT_FORMATS)} contracts, not {contract.format}",
        )


def _consumer(consumer: Consumer, loaded: Loaded) -> Iterator[Pointed]:
    file = _file(consumer)
    if not loaded.exists("team", consumer.team):
        yield Pointed(
            file, ("team",), f"unknown team {consumer.team!r}: no teams/{consumer.team}.yaml"
        )
    seen: dict[str, int] = {}
    for index, dependency in enumerate(consumer.dependencies):
        at = ("consumes", index)
        first = seen.setdefault(dependency.contract, index)
        if first != index:
            yield Pointed(
                file,
                (*at, "contract"),
                f"{dependency.contract!r} is declared twice "
                f"(also consumes[{first}]): merge the two",
            )
        yield from _dependency(consumer, dependency, at, loaded)


def _dependency(
    consumer: Consumer, dependency: Dependency, at: tuple[str | int, ...], loaded: Loaded
) -> Iterator[Pointed]:
    file = _file(consumer)
    contract = loaded.contracts.get(dependency.contract)
    if contract is None and not loaded.exists("contract", dependency.contract):
        yield Pointed(
            file,
            (*at, "contract"),
            f"unknown contract {dependency.contract!r}: no contracts/{dependency.contract}.yaml",
        )
    elif contract is not None and contract.owner == consumer.team:
        yield Pointed(
            file,
            (*at, "contract"),
            f"team {consumer.team!r} consumes its own "
            f"contract {contract.id!r}: declare only other teams' contracts",
        )
    problem = _range_problem(dependency.versions)
    if problem:
        yield Pointed(file, (*at, "versions"), f"invalid version range: {problem}")
    if contract is not None:
        allowed = USAGE_KINDS.get(contract.format, ())
        for kind in ("operations", "fields", "messages", "columns"):
            if getattr(dependency.uses, kind) and kind not in allowed:
                fits = ", ".join(allowed) or "nothing"
                yield Pointed(
                    file,
                    (*at, "uses", kind),
                    f"uses.{kind} does not apply to a {contract.format} contract (it takes {fits})",
                    True,
                )
    for number, republished in enumerate(dependency.republishes):
        where = (*at, "republishes", number)
        if not loaded.exists("contract", republished):
            yield Pointed(file, where, f"republishes an unknown contract {republished!r}")
        elif republished == dependency.contract:
            yield Pointed(file, where, f"republishes the contract it reads ({republished!r})")


def _range_problem(text: str) -> str | None:
    return _parsed(text)[1]


@lru_cache(maxsize=4096)
def _parsed(text: str) -> tuple[Range | None, str | None]:
    try:
        return parse_range(text), None
    except RangeError as err:
        return None, str(err)
