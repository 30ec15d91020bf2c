"""The registry API: contracts, versions and their diffs, teams, consumers, the dependency
graph, search, the impact of a proposed spec, the pre-publish check, and the resync.

Everything here reads the mirror and writes nothing, except ``POST /registry/resync`` (admin).
Unknown ids are 404; bad input is 422; a spec that does not parse is 422 with the engine's
one-line message (file:line:col); a contract with no published version to judge a change
against is 409.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tessera_engine.errors import InputError
from tessera_engine.registry.ranges import parse_version

from .. import graph as graphs
from ..auth import Principal, require
from ..db.base import transaction
from ..db.registry_models import Consumer, Contract, ContractVersion, Team
from ..engine_sandbox import Busy, EngineSandbox, SandboxError
from ..mirror import published_version, resync
from . import registry_read as read
from . import registry_runs as runs
from . import registry_schemas as out
from .registry_engine import Judging, NothingToCompare, judging, registry_for

router = APIRouter(tags=["registry"])

READ = [Depends(require("read"))]
TEXT = r"^[^\x00-\x1f\x7f]*$"  # no control characters (PostgreSQL refuses NUL)
RegistryId = Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Filter = Annotated[str | None, Query(max_length=255, pattern=TEXT)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"description": "unknown id"}}
ENGINE_ERRORS: Responses = {
    404: {"description": "unknown contract"},
    409: {"description": "no published version to compare against"},
    422: {
        "description": "bad input, a spec that does not parse (file:line:col: message), or "
        "one over a limit: its size, or the CPU time (`TESSERA_CHECK_CPU_SECONDS`) or memory "
        "(`TESSERA_CHECK_MEMORY_MB`) comparing it took"
    },
    503: {
        "description": "every engine worker is busy (`TESSERA_CHECK_WORKERS`): try again after "
        "`Retry-After` seconds"
    },
}
T = TypeVar("T")


def session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    with factory() as opened:
        yield opened


Db = Annotated[Session, Depends(session)]


def _contract(db: Session, contract_id: str) -> Contract:
    row = db.get(Contract, contract_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no contract {contract_id!r}")
    return row


def _judging(db: Session, contract_id: str) -> Judging:
    """The contract as the mirror has it, with its active version (409 when none); the
    session is closed afterwards: the engine runs without the database."""
    try:
        return judging(db, contract_id)
    except NothingToCompare as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    finally:
        db.close()


def _engine_run(request: Request, task: Callable[[T], bytes], argument: T, what: str) -> Response:
    """``task(argument)`` in the engine sandbox, its JSON as the response: 422 when the input
    is refused or too costly, 503 with ``Retry-After`` when every worker is busy."""
    sandbox: EngineSandbox = request.app.state.sandbox
    try:
        body = sandbox.run(task, argument, what=what)
    except Busy as err:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            str(err),
            headers={"Retry-After": str(err.retry_after)},
        ) from None
    except SandboxError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from None
    return Response(body, media_type="application/json")


@router.get("/contracts", response_model=out.Page[out.ContractOut], dependencies=READ)
def list_contracts(
    db: Db,
    team: Filter = None,
    format: Filter = None,
    tag: Filter = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> out.Page[out.ContractOut]:
    """Contracts by id, filtered by owner team, format and tag."""
    statement = read.contracts_query(team, format, tag)
    rows = list(db.scalars(statement.limit(limit).offset(offset)))
    active = read.active_versions(db, rows, read.registry_settings(db))
    return out.Page(
        items=[read.contract_out(row, active[row.id]) for row in rows],
        total=read.count(db, statement),
        limit=limit,
        offset=offset,
    )


@router.get("/contracts/{contract_id}", responses=NOT_FOUND, dependencies=READ)
def get_contract(db: Db, contract_id: RegistryId) -> out.ContractDetail:
    """A contract with its reviewed settings (declared and in effect) and its versions."""
    return read.contract_detail(db, _contract(db, contract_id), read.registry_settings(db))


@router.get("/contracts/{contract_id}/versions", responses=NOT_FOUND, dependencies=READ)
def list_versions(db: Db, contract_id: RegistryId) -> list[out.VersionOut]:
    """The published versions, lowest to highest precedence (without their files)."""
    _contract(db, contract_id)
    rows = db.scalars(select(ContractVersion).where(ContractVersion.contract_id == contract_id))
    return [read.version_out(row) for row in _by_precedence(list(rows))]


def _by_precedence(rows: list[ContractVersion]) -> list[ContractVersion]:
    return sorted(rows, key=lambda row: parse_version(row.version))


def _version(db: Session, contract_id: str, version: str) -> ContractVersion:
    row = db.scalars(
        select(ContractVersion).where(
            ContractVersion.contract_id == contract_id, ContractVersion.version == version
        )
    ).one_or_none()
    if row is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"{contract_id} has no published version {version!r}"
        )
    return row


VersionText = Annotated[str, Path(max_length=255, pattern=TEXT)]


@router.get("/contracts/{contract_id}/versions/{version}", responses=NOT_FOUND, dependencies=READ)
def get_version(db: Db, contract_id: RegistryId, version: VersionText) -> out.VersionDetail:
    """One published version with its files (the spec as published)."""
    _contract(db, contract_id)
    row = _version(db, contract_id, version)
    return out.VersionDetail(**read.version_out(row).model_dump(), files=row.files)


@router.get(
    "/contracts/{contract_id}/diff",
    response_model=out.Diff,
    responses=ENGINE_ERRORS,
    dependencies=READ,
)
def diff_between(
    request: Request,
    db: Db,
    contract_id: RegistryId,
    from_: Annotated[str, Query(alias="from", max_length=255, pattern=TEXT)],
    to: Annotated[str, Query(max_length=255, pattern=TEXT)],
) -> Response:
    """The engine's diff from one published version to another (either order), with the
    contract's reviewed settings: ``tessera diff --output json``. Runs in the engine sandbox
    (see ``/check``)."""
    _contract(db, contract_id)
    old, new = _version(db, contract_id, from_), _version(db, contract_id, to)
    registry = registry_for(db, contract_id)
    run = runs.VersionsRun(
        registry, registry.contracts[contract_id], published_version(old), published_version(new)
    )
    db.close()
    return _engine_run(request, runs.diff_body, run, "the diff")


def _spec_files(row: Contract, body: out.SpecIn) -> dict[str, str]:
    if body.files is not None:
        return body.files
    assert body.spec is not None
    if body.path is None and len(row.source_paths) != 1:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"{row.id} has {len(row.source_paths)} source paths: give files (path -> text)",
        )
    return {body.path or row.source_paths[0]: body.spec}


@router.post(
    "/contracts/{contract_id}/check",
    response_model=out.CheckOut,
    responses=ENGINE_ERRORS,
    dependencies=READ,
)
def check_spec(request: Request, db: Db, contract_id: RegistryId, body: out.SpecIn) -> Response:
    """The pre-publish compatibility check: the proposed spec diffed against the active
    published version with the contract's reviewed settings, and the version it needs.
    Writes nothing.

    The comparison runs in a separate process bounded in CPU time
    (`TESSERA_CHECK_CPU_SECONDS`) and memory (`TESSERA_CHECK_MEMORY_MB`), at most
    `TESSERA_CHECK_WORKERS` at once; the request body is at most `TESSERA_MAX_REQUEST_BYTES`
    (413 beyond)."""
    files = _spec_files(_contract(db, contract_id), body)
    run = runs.ProposedRun(_judging(db, contract_id), files, body.proposed_version)
    return _engine_run(request, runs.check_body, run, "the check")


@router.post(
    "/contracts/{contract_id}/impact",
    response_model=out.ImpactOut,
    responses=ENGINE_ERRORS,
    dependencies=READ,
)
def impact_of_spec(request: Request, db: Db, contract_id: RegistryId, body: out.SpecIn) -> Response:
    """Which declared consumers the proposed spec concerns, and whether they must
    acknowledge: ``tessera impact --output json`` against the active version. Writes
    nothing. Bounded as ``/check`` is."""
    files = _spec_files(_contract(db, contract_id), body)
    run = runs.ProposedRun(_judging(db, contract_id), files, body.proposed_version)
    return _engine_run(request, runs.impact_body, run, "the impact")


@router.get("/teams", response_model=out.Page[out.TeamOut], dependencies=READ)
def list_teams(db: Db, limit: Limit = 50, offset: Offset = 0) -> out.Page[out.TeamOut]:
    statement = select(Team).order_by(Team.id)
    rows = db.scalars(statement.limit(limit).offset(offset))
    return out.Page(
        items=[read.team_out(row) for row in rows],
        total=read.count(db, statement),
        limit=limit,
        offset=offset,
    )


@router.get("/teams/{team_id}", responses=NOT_FOUND, dependencies=READ)
def get_team(db: Db, team_id: RegistryId) -> out.TeamDetail:
    """A team with the contracts it owns and its consuming services."""
    row = db.get(Team, team_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no team {team_id!r}")
    contracts = db.scalars(
        select(Contract.id).where(Contract.owner_id == team_id).order_by(Contract.id)
    )
    consumers = db.scalars(
        select(Consumer.id).where(Consumer.team_id == team_id).order_by(Consumer.id)
    )
    return out.TeamDetail(
        **read.team_out(row).model_dump(), contracts=list(contracts), consumers=list(consumers)
    )


@router.get("/consumers", response_model=out.Page[out.ConsumerOut], dependencies=READ)
def list_consumers(
    db: Db,
    team: Filter = None,
    contract: Filter = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> out.Page[out.ConsumerOut]:
    """Consuming services with their declarations, filtered by team and consumed contract."""
    statement = read.consumers_query(team, contract)
    rows = list(db.scalars(statement.limit(limit).offset(offset)))
    return out.Page(
        items=read.consumers_out(db, rows),
        total=read.count(db, statement),
        limit=limit,
        offset=offset,
    )


@router.get(
    "/graph",
    responses={404: {"description": "unknown team or node"}, 422: {"description": "bad query"}},
    dependencies=READ,
)
def get_graph(
    db: Db,
    team: Filter = None,
    around: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=TEXT,
            description="a node (team:<id>, service:<consumer id>, contract:<id>)",
        ),
    ] = None,
    depth: Annotated[int, Query(ge=1, le=4)] = 1,
    max_nodes: Annotated[int, Query(ge=1, le=10_000)] = graphs.DEFAULT_MAX_NODES,
) -> out.GraphOut:
    """The service dependency graph: teams, services and contracts; owns, consumes and
    republishes edges. ``team``: that team's part; ``around`` + ``depth``: a neighbourhood;
    neither: the whole graph (up to ``max_nodes``)."""
    if team is not None and around is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "give team or around, not both")
    try:
        if team is not None:
            found = graphs.of_team(db, team, max_nodes)
        elif around is not None:
            found = graphs.around(db, around, depth, max_nodes)
        else:
            found = graphs.whole(db, max_nodes)
    except graphs.UnknownNode as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    except ValueError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
    return out.GraphOut(
        nodes=[out.Node(**vars(node)) for node in found.nodes.values()],
        edges=[out.Edge(**vars(edge)) for edge in found.edges.values()],
        truncated=found.truncated,
    )


@router.get("/search", dependencies=READ)
def search(
    db: Db,
    q: Annotated[str, Query(max_length=200, pattern=TEXT)] = "",
    type: Literal["contract", "team", "consumer"] | None = None,
    team: Filter = None,
    tag: Filter = None,
    limit: Limit = 50,
) -> out.SearchOut:
    """Contracts, teams and consumers whose id, name or description contains ``q``."""
    return out.SearchOut(items=read.search(db, q, type, team, tag, limit), limit=limit)


@router.post(
    "/registry/resync",
    responses={
        401: {"description": "no valid API key"},
        403: {"description": "not an admin key"},
        409: {"description": "TESSERA_REGISTRY_PATH is not set"},
        422: {"description": "the registry is not valid (file:line:col: message)"},
    },
)
def resync_registry(
    request: Request, principal: Annotated[Principal, Depends(require("admin"))]
) -> out.ResyncOut:
    """Rebuild the mirror from the registry checkout at ``TESSERA_REGISTRY_PATH`` (admin)."""
    path = request.app.state.settings.registry_path
    if not path:
        raise HTTPException(status.HTTP_409_CONFLICT, "TESSERA_REGISTRY_PATH is not set")
    try:
        with transaction(request.app.state.sessions) as db:
            report = resync(db, path, actor=principal.actor)
    except InputError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
    return out.ResyncOut.model_validate(report.to_dict())
