"""The registry API's engine runs, as tasks for ``engine_sandbox``: the pre-publish check, the
impact of a proposed spec, and the diff between two published versions.

The router reads what a run needs from the mirror (in the API process) and hands it over as
plain data; each task runs in a bounded child process and returns its response body as JSON
bytes, made there too, so that neither the comparison nor serializing a large diff holds the
API process. The bodies are those of ``registry_schemas`` (``CheckOut``, ``ImpactOut``,
``Diff``), which the routes declare as their response models.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera_engine.registry import model as engine

from . import registry_schemas as out
from .registry_engine import Judging, check_of, diff_versions, impact_of_judged


@dataclass(frozen=True)
class ProposedRun:
    """A proposed spec (path -> text) to judge against a contract's active version."""

    judged: Judging
    files: dict[str, str]
    proposed_version: str | None


@dataclass(frozen=True)
class VersionsRun:
    """Two published versions of a contract to diff."""

    registry: engine.Registry
    contract: engine.Contract
    old: engine.PublishedVersion
    new: engine.PublishedVersion


def check_body(run: ProposedRun) -> bytes:
    """``POST /contracts/{id}/check``: the diff against the active version and the version
    the change needs."""
    found = check_of(run.judged, run.files, run.proposed_version)
    return (
        out.CheckOut(
            contract=run.judged.contract.id,
            against=found.against,
            verdict=found.result.verdict,  # type: ignore[arg-type]
            bump=found.result.bump.value,
            next_version=found.next_version,
            diff=out.Diff.model_validate(found.result.to_dict()),
        )
        .model_dump_json()
        .encode()
    )


def impact_body(run: ProposedRun) -> bytes:
    """``POST /contracts/{id}/impact``: which declared consumers the change concerns."""
    result = impact_of_judged(run.judged, run.files, run.proposed_version)
    return out.ImpactOut.model_validate(result.to_dict()).model_dump_json().encode()


def diff_body(run: VersionsRun) -> bytes:
    """``GET /contracts/{id}/diff``: the diff between two published versions."""
    result = diff_versions(run.registry, run.contract, run.old, run.new)
    return out.Diff.model_validate(result.to_dict()).model_dump_json().encode()
