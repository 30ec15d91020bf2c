"""The version a merge publishes: the one the change was judged with, when it still can be.

The base is the latest version known for the contract: the newest of the mirror's published
versions (``contract_versions``) and the workflow's own publications, so two pull requests
merged one after the other get consecutive versions even before the registry commit lands.

The judged version is the one the check showed: the producer's (``suggest``, ``enforce``) or
the next one the findings need (``auto``, and ``suggest`` without a usable producer's
version). It is published as it is when it is after the base and carries the bump the
findings require. Otherwise the smallest version after the base that carries the bump
(``tessera_engine.semver.next_version``) is published, with a note that says why: another
change was published first, the version was too small (a merge while an ``enforce`` check
failed), none was given, or nothing needed a new version (a patch release). With no base at all
the judged version, or ``1.0.0``, is the first version.

``version_to_publish`` decides on plain values, so a pull request's check can show the very
version its merge would publish now; ``publish_version`` applies it to a proposal at the merge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from tessera_engine.errors import UsageError
from tessera_engine.model import Bump
from tessera_engine.semver import check, next_version, parse

from .db.registry_models import ContractVersion
from .db.workflow_models import Publication

if TYPE_CHECKING:
    from .db.workflow_models import Proposal

FIRST_VERSION = "1.0.0"
PRODUCER_GIVEN = "given by the producer"
"""How ``version_origin`` starts when the judged version is the producer's."""


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


def version_to_publish(
    contract_id: str,
    bump: Bump,
    current: str | None,
    judged: str | None,
    latest: str | None,
) -> tuple[str, str | None]:
    """The version a merge publishes for a change judged against ``current`` with the version
    ``judged`` (None: no version was judged), when the latest published version is ``latest``;
    and why it is not ``judged``, when it is not."""
    base = latest or current
    if base is None:
        if judged is None:
            return FIRST_VERSION, f"the first version of {contract_id}, and none was given"
        return judged, None
    needed = next_version(base, bump if bump is not Bump.NONE else Bump.PATCH)
    if judged is None:
        return needed, f"no version was given, and {needed} is the smallest after {base}"
    if parse(judged).compare(parse(base)) <= 0:
        if bump is Bump.NONE and judged == current == base:
            return needed, "no change needs a new version, so a patch release"
        return needed, f"{judged} is not after {base}, which is already published"
    verdict = check(base, judged, bump)
    if verdict.ok:
        return judged, None
    return needed, f"{judged} is too small ({verdict.reason})"


def publish_version(proposal: Proposal, latest: str | None) -> tuple[str, list[str]]:
    """The version to publish for ``proposal`` at its merge, and the notes that explain it."""
    version, why = version_to_publish(
        proposal.contract_id,
        Bump(proposal.bump),
        proposal.current_version,
        proposal.proposed_version,
        latest,
    )
    return version, [f"published as {version}: {why}"] if why else []
