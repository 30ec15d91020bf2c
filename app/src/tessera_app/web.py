"""The FastAPI application factory. Nothing happens at import time: ``create_app`` reads the
settings, makes the engine and session factory, and mounts the routers."""

from __future__ import annotations

from importlib import import_module

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from . import __version__
from .auth import AUTH_RESPONSES, document_optional_reads
from .db.base import make_engine, session_factory
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
    def readyz() -> JSONResponse:
        """Readiness: the database answers."""
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as err:  # any driver error means not ready
            return JSONResponse({"status": "unavailable", "error": type(err).__name__}, 503)
        return JSONResponse({"status": "ok"})

    for name in ROUTER_MODULES:
        module = import_module(f"{__package__}.api.{name}")
        app.include_router(module.router, prefix="/api/v1", responses=AUTH_RESPONSES)
    app.include_router(import_module(f"{__package__}.github.ingress").router)  # /webhooks/github
    document_optional_reads(app)
    return app
