"""Producer mode (``python -m tessera_engine.action.producer``): this repository's specs
against their contracts' active published versions in the registry.

Inputs: ``INPUT_REGISTRY`` (the registry checkout), ``INPUT_REPOSITORY`` (``owner/name``,
default ``GITHUB_REPOSITORY``: the contracts whose source is this repository),
``INPUT_CONTRACTS`` (ids, space or comma separated, instead), ``INPUT_FAIL_ON``,
``INPUT_REPORT_PATH``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping

from ..errors import TesseraError
from ..registry.loader import load_registry
from .producer_checks import check_contract, own_contracts
from .reasons import Check
from .report import Report
from .runner import read_input
from .step import in_workspace, main, workspace


def run(env: Mapping[str, str]) -> Report:
    registry = load_registry(in_workspace(read_input("registry", "registry", env), env))
    repository = read_input("repository", env.get("GITHUB_REPOSITORY", ""), env)
    ids = [i for i in re.split(r"[\s,]+", read_input("contracts", "", env)) if i]
    contracts = own_contracts(registry, repository, ids)
    if not contracts:
        raise TesseraError(
            f"no contract in the registry has its source in {repository or '(no repository)'}:"
            " set `contracts`"
        )
    checks: list[Check] = []
    notes: list[str] = []
    for contract in contracts:
        found, result = check_contract(registry, contract, workspace(env))
        checks += found
        if result is None and not found:
            notes.append(f"{contract.id}: unchanged since its active version")
        elif result is not None:
            versions = result.versions
            notes.append(
                f"{contract.id}: {result.diff.verdict}, {versions.current} → "
                f"{versions.proposed or '?'}; {result.acknowledgement.reason}"
            )
    title = f"Tessera producer check: {', '.join(c.id for c in contracts)}"
    return Report("producer", checks, title, notes)


if __name__ == "__main__":
    sys.exit(main(run))
