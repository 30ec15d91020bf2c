"""Reason codes: one per kind of answer the action gives, in the manner of Pact's
``can-i-deploy`` (every check says *why*, with a stable code a script can match).

Each ``Check`` has a level: ``error`` (breaking: the consumer cannot deploy or the declaration
is wrong), ``warning`` (dangerous: fine today, but something is coming), ``ok``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OK = "OK"
DECLARATION_INVALID = "DECLARATION_INVALID"
CONTRACT_NOT_PUBLISHED = "CONTRACT_NOT_PUBLISHED"
VERSION_OUT_OF_RANGE = "VERSION_OUT_OF_RANGE"
USAGE_BROKEN = "USAGE_BROKEN"
PENDING_BREAKING_PROPOSAL = "PENDING_BREAKING_PROPOSAL"
PENDING_DANGEROUS_CHANGE = "PENDING_DANGEROUS_CHANGE"
SPEC_BREAKING = "SPEC_BREAKING"
SPEC_DANGEROUS = "SPEC_DANGEROUS"
SPEC_NOT_PUBLISHED = "SPEC_NOT_PUBLISHED"
SPEC_UNREADABLE = "SPEC_UNREADABLE"

ERROR, WARNING, NOTICE = "error", "warning", "notice"

REASONS: dict[str, tuple[str, str]] = {
    OK: (NOTICE, "the dependency is satisfied by the active published version"),
    DECLARATION_INVALID: (
        ERROR,
        "the consumer declaration does not validate against the registry (schema, unknown "
        "contract or team, bad version range, a `uses` kind the format does not have)",
    ),
    CONTRACT_NOT_PUBLISHED: (ERROR, "the declared contract has no published version yet"),
    VERSION_OUT_OF_RANGE: (
        ERROR,
        "the contract's active version is outside the version range the consumer declares",
    ),
    USAGE_BROKEN: (
        ERROR,
        "between the newest published version in the declared range and the active version, "
        "a breaking change meets something the consumer declares it uses",
    ),
    PENDING_BREAKING_PROPOSAL: (
        WARNING,
        "an open proposal has a breaking change to something the consumer declares it uses "
        "(the proposal waits for this team's acknowledgement)",
    ),
    PENDING_DANGEROUS_CHANGE: (
        WARNING,
        "an open proposal has a dangerous change to something the consumer declares it uses",
    ),
    SPEC_BREAKING: (ERROR, "producer mode: a breaking change against the active version"),
    SPEC_DANGEROUS: (WARNING, "producer mode: a dangerous change against the active version"),
    SPEC_NOT_PUBLISHED: (
        NOTICE,
        "producer mode: the contract has no published version to compare with",
    ),
    SPEC_UNREADABLE: (ERROR, "producer mode: the spec (or the published one) does not load"),
}


@dataclass(frozen=True)
class Check:
    """One answer: a reason code, its level, a message, and where it belongs."""

    code: str
    message: str
    contract: str = ""
    consumer: str = ""
    file: str | None = None
    line: int | None = None
    column: int | None = None
    proposal: int | None = None
    rule: str | None = None

    @property
    def level(self) -> str:
        return REASONS[self.code][0]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "level": self.level, "message": self.message}
        for key in ("contract", "consumer", "file", "line", "column", "proposal", "rule"):
            value = getattr(self, key)
            if value not in (None, ""):
                data[key] = value
        return data
