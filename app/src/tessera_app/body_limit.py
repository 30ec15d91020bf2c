"""The request body limit of the management API (``TESSERA_MAX_REQUEST_BYTES``), answered with
a message that names it.

Each ``/api/v1`` router is mounted with FastAPI's ``max_body_size`` (Starlette's request body
limit), which counts the bytes as they are read: a body without a length, or longer than it
said, stops being read at the limit and is answered 413. A body whose ``Content-Length`` is over
the limit is refused here, before a byte of it is read, because Starlette would answer it with
a bare "Content Too Large"; both answers say the limit and its setting.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/api/"


def too_large(limit: int) -> str:
    """What a 413 says."""
    return (
        f"the request body is over {limit:,} bytes, the limit (TESSERA_MAX_REQUEST_BYTES raises it)"
    )


class DeclaredLengthLimit:
    """ASGI middleware: 413 for an ``/api/`` request whose ``Content-Length`` is over
    ``max_bytes``, without reading its body."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX):
            length = Headers(scope=scope).get("content-length", "").strip()
            if length.isdigit() and int(length) > self.max_bytes:
                response = JSONResponse({"detail": too_large(self.max_bytes)}, 413)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
