"""The version a proposal publishes, by the contract's versioning policy.

The base is the latest version known for the contract: the newest of the mirror's published
versions (``contract_versions``) and the workflow's own publications, so two pull requests
merged one after the other get consecutive versions even before the registry commit lands.
``auto`` (and ``suggest`` without a producer's version) takes the next version the findings
need (``tessera_engine.semver.next_version``); a version the producer gave (``suggest``,
``enforce``) is kept when it is after the base.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from tessera_engine.errors import UsageError
from tessera_engine.model import Bump
from tessera_engine.semver import next_version, parse

from .db.registry_models import ContractVersion
from .db.workflow_models import Publication

if TYPE_CHECKING:
    from .db.workflow_models import Proposal

FIRST_VERSION = "1.0.0"
PRODUCER_GIVEN = "given by the producer"


def latest_version(session: Session, contract_id: str) -> str | None:
    """The highest version published for ``contract_id`` (mirror or workflow), if any."""
    known = list(
        session.scalars(select(Publication.version).where(Publication.contract_id == contract_id))
    )
    known += session.scalars(
        select(ContractVersion.version).where(ContractVersion.contract_id == contract_id)
    )
    parsed = []
    for text in known:
        try:
            parsed.append((parse(text), text))
        except UsageError:
            continue  # not a semantic version: cannot be a base
    return max(parsed)[1] if parsed else None


def publish_version(proposal: Proposal, latest: str | None) -> tuple[str, list[str]]:
    """The version to publish and the notes that explain it."""
    bump = Bump(proposal.bump)
    given = proposal.version_origin.startswith(PRODUCER_GIVEN) and proposal.proposed_version
    base = latest or proposal.current_version
    if given and proposal.proposed_version:
        if base is None or parse(proposal.proposed_version).compare(parse(base)) > 0:
            return proposal.proposed_version, []
        version = next_version(base, bump if bump is not Bump.NONE else Bump.PATCH)
        return version, [
            f"the producer's version {proposal.proposed_version} is not after {base}: "
            f"published as {version}"
        ]
    if base is None:
        version = proposal.proposed_version or FIRST_VERSION
        return version, [f"first published version of {proposal.contract_id}: {version}"]
    if bump is Bump.NONE:
        return next_version(base, Bump.PATCH), ["no change needs a new version: a patch release"]
    return next_version(base, bump), []
