"""The FastAPI application factory. Nothing happens at import time: ``create_app`` reads the
settings, makes the engine and session factory, and mounts the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import import_module
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from . import __version__, mirror_findings
from .auth import AUTH_RESPONSES, document_optional_reads, may_read
from .body_limit import DeclaredLengthLimit, too_large
from .db.base import database_unavailable, make_engine, session_factory
from .engine_sandbox import Bounds, EngineSandbox
from .rate_limits import RateLimits
from .settings import Settings

ROUTER_MODULES = ("registry", "proposals", "audit", "jobs", "keys")
"""Modules of ``tessera_app.api``, each with a ``router`` mounted under ``/api/v1``."""
LIMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"description": "the request body is over `TESSERA_MAX_REQUEST_BYTES`"},
    429: {
        "description": "too many requests from this API key or address "
        "(`TESSERA_RATE_LIMIT_PER_KEY`, `TESSERA_RATE_LIMIT_PER_ADDRESS`): try again after "
        "`Retry-After` seconds"
    },
}
"""What every ``/api/v1`` operation may answer besides its own (``rate_limits``, and the
body limit each router is mounted with)."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    app = FastAPI(
        title="Tessera",
        version=__version__,
        description="Contracts as code: the registry mirror, proposals, acknowledgements, "
        "the audit log and the job queue.",
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.sandbox = EngineSandbox(
        Bounds(settings.check_cpu_seconds, settings.check_memory_mb, settings.check_workers)
    )

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
        app.include_router(
            module.router,
            prefix="/api/v1",
            responses={**AUTH_RESPONSES, **LIMIT_RESPONSES},
            max_body_size=settings.max_request_bytes,
        )
    app.include_router(import_module(f"{__package__}.github.check_help").router)  # /checks/help
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(413, _too_large)
    app.add_middleware(
        RateLimits,
        per_key=settings.rate_limit_per_key,
        per_address=settings.rate_limit_per_address,
        sessions=app.state.sessions,
        pepper=settings.secret_key,
    )
    if settings.trusted_proxies:  # before the rates: they count the client the proxy names
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.add_middleware(DeclaredLengthLimit, max_bytes=settings.max_request_bytes)  # outermost
    document_optional_reads(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """On shutdown, the engine runs still in progress are ended."""
    try:
        yield
    finally:
        app.state.sandbox.close()


RETRY_AFTER_SECONDS = 10


async def _invalid_request(request: Request, err: Exception) -> Response:
    """422 with what is wrong where, as FastAPI says it, without echoing the input back (it
    may be large, or hold values JSON cannot carry, such as NaN)."""
    assert isinstance(err, RequestValidationError)
    errors = [{k: v for k, v in e.items() if k != "input"} for e in err.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, 422)


async def _too_large(request: Request, err: Exception) -> Response:
    """413 naming the limit and its setting, for a body that went over
    ``TESSERA_MAX_REQUEST_BYTES`` while it was read (see ``body_limit``)."""
    assert isinstance(err, StarletteHTTPException)
    detail = err.detail
    if request.url.path.startswith("/api/") and detail == "Content Too Large":
        detail = too_large(request.app.state.settings.max_request_bytes)
    return JSONResponse({"detail": detail}, 413, headers=err.headers)


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
