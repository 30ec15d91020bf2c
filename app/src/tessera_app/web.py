"""The FastAPI application factory. Nothing happens at import time: ``create_app`` reads the
settings, makes the engine and session factory, and mounts the routers."""

from __future__ import annotations

from importlib import import_module

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from . import __version__, mirror_findings
from .auth import AUTH_RESPONSES, document_optional_reads, may_read
from .db.base import database_unavailable, make_engine, session_factory
from .settings import Settings

ROUTER_MODULES = ("registry", "proposals", "audit", "jobs", "keys")
"""Modules of ``tessera_app.api``, each with a ``router`` mounted under ``/api/v1``."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    app = FastAPI(
        title="Tessera",
        version=__version__,
        description="Contracts as code: the registry mirror, proposals, acknowledgements, "
        "the audit log and the job queue.",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)

    @app.get("/healthz", tags=["probes"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["probes"], responses={503: {"description": "database unreachable"}})
    def readyz(request: Request) -> JSONResponse:
        """Readiness: the database answers. ``registry`` tells what the mirror applied from each
        source (commit, when) and what it found inconsistent (a registry source that lacks a
        published version, holds one with other files, ...): the service is ready all the same,
        ``consistent: false`` asks an operator to look, not for a restart. When reads need a
        key (``TESSERA_READ_ACCESS``), a caller without one sees only whether the mirror is
        consistent and how many findings there are, not what they name."""
        try:
            with app.state.sessions() as session:
                session.execute(text("SELECT 1"))
                registry = mirror_findings.health(session)
            if not may_read(request):
                registry = {
                    "consistent": registry["consistent"],
                    "findings": len(registry["findings"]),
                }
        except Exception as err:  # any driver error (or an unmigrated database): not ready
            return JSONResponse({"status": "unavailable", "error": type(err).__name__}, 503)
        return JSONResponse({"status": "ok", "registry": registry})

    # the webhook first: GitHub's deliveries are the hot path, matched before the API's routes
    app.include_router(import_module(f"{__package__}.github.ingress").router)  # /webhooks/github
    for name in ROUTER_MODULES:
        module = import_module(f"{__package__}.api.{name}")
        app.include_router(module.router, prefix="/api/v1", responses=AUTH_RESPONSES)
    app.include_router(import_module(f"{__package__}.github.check_help").router)  # /checks/help
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    document_optional_reads(app)
    return app


RETRY_AFTER_SECONDS = 10


async def _invalid_request(request: Request, err: Exception) -> Response:
    """422 with what is wrong where, as FastAPI says it, without echoing the input back (it
    may be large, or hold values JSON cannot carry, such as NaN)."""
    assert isinstance(err, RequestValidationError)
    errors = [{k: v for k, v in e.items() if k != "input"} for e in err.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, 422)


async def _database_error(request: Request, err: Exception) -> Response:
    """The database went away mid-request: 503 with ``Retry-After``, never a 500 (any other
    database error is a bug, and stays one). A webhook answered 503 shows as failed on
    GitHub, and reconciliation redelivers it."""
    if not database_unavailable(err):
        raise err
    return JSONResponse(
        {"detail": "the database is unavailable: try again shortly"},
        503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
