"""Producer mode: the specs of this repository's contracts against their active published
versions, for repositories that do not install the App.

A contract is this repository's when its ``source.repo`` is the repository (or its id is
listed); its files are read at ``source.paths`` in the workspace. One whose files are those
of the active version is unchanged and skipped. The diff runs with the registry's reviewed
settings (``registry.impact``), so each finding names the consumers whose usage it meets.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from pathlib import Path

from ..documents import FileSource
from ..errors import InputError, TesseraError
from ..model import Severity
from ..registry.impact import impact
from ..registry.impact_result import ImpactResult
from ..registry.model import Contract, Registry
from ..registry.versions import VersionSource, active_version
from .reasons import SPEC_BREAKING, SPEC_DANGEROUS, SPEC_NOT_PUBLISHED, SPEC_UNREADABLE, Check
from .step import inside


def own_contracts(registry: Registry, repository: str, ids: list[str]) -> list[Contract]:
    """The contracts to check: those listed by id, else those whose source is ``repository``."""
    if ids:
        unknown = [i for i in ids if i not in registry.contracts]
        if unknown:
            raise TesseraError(f"no contract {', '.join(unknown)} in the registry")
        return [registry.contracts[i] for i in ids]
    return [
        c
        for _, c in sorted(registry.contracts.items())
        if c.source.repo.lower() == repository.lower()
    ]


def check_contract(
    registry: Registry, contract: Contract, workspace: Path
) -> tuple[list[Check], ImpactResult | None]:
    """The checks of one contract's spec in ``workspace`` (paths relative to it)."""
    published = active_version(registry.root, contract.id, registry.prerelease_of(contract))
    paths = list(contract.source.paths)
    if published is None:
        message = f"{contract.id} has no published version to compare with"
        return [Check(SPEC_NOT_PUBLISHED, message, contract.id, file=paths[0])], None
    if _unchanged(workspace, published.files):
        return [], None
    new = paths[0] if len(paths) == 1 else posixpath.commonpath(paths)
    if not inside(workspace, workspace / new):
        message = f"{new}: leads outside the checkout through a symbolic link: not read"
        return [Check(SPEC_UNREADABLE, message, contract.id, file=new)], None
    old = VersionSource(published)
    try:
        result = impact(
            registry,
            contract.id,
            old.root,
            str(workspace / new),
            current_version=published.version,
            old_source=old,
        )
    except TesseraError as err:
        return [Check(SPEC_UNREADABLE, str(err), contract.id, file=new)], None
    return _checks(result, contract, workspace), result


def _unchanged(workspace: Path, files: Mapping[str, str]) -> bool:
    """Whether the workspace holds exactly the published files (read within the workspace,
    bounded: a link to a device or out of the checkout is simply "changed", and the diff
    then refuses it)."""
    source = FileSource(workspace)
    for path, text in files.items():
        try:
            if source.read(str(workspace / path)) != text.encode("utf-8"):
                return False
        except (OSError, InputError):
            return False
    return True


def _checks(result: ImpactResult, contract: Contract, workspace: Path) -> list[Check]:
    users: dict[str, list[str]] = {}
    for affected in result.consumers:
        for match in affected.matches:
            users.setdefault(match.finding.fingerprint, []).append(affected.consumer)
    checks: list[Check] = []
    for finding in result.diff.findings:
        if finding.severity < Severity.DANGEROUS:
            continue
        code = SPEC_BREAKING if finding.severity is Severity.BREAKING else SPEC_DANGEROUS
        who = users.get(finding.fingerprint, [])
        concern = f"; concerns {', '.join(dict.fromkeys(who))}" if who else ""
        message = (
            f"{contract.id} {result.versions.current or ''}→{result.versions.proposed or '?'}: "
            f"`{finding.path}`: {finding.message} ({finding.rule}){concern}"
        )
        location = finding.location
        file = _relative(location.file, workspace) if location else None
        checks.append(
            Check(
                code,
                message,
                contract.id,
                file=file,
                line=location.line if location else None,
                column=location.column if location else None,
                rule=finding.rule,
            )
        )
    return checks


def _relative(path: str, workspace: Path) -> str:
    try:
        return Path(path).resolve().relative_to(workspace.resolve()).as_posix()
    except ValueError:
        return path
