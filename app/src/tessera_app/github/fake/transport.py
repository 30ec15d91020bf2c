"""A synchronous httpx transport that runs an ASGI app in-process (no socket).

httpx's own ``ASGITransport`` is async-only, and the gateway is synchronous; this one runs the app
on an event loop in a helper thread (an anyio blocking portal) and honours the request's read
timeout, so a fake that hangs makes the client time out as it would over the network.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import anyio
import anyio.from_thread
import httpx


class SyncASGITransport(httpx.BaseTransport):
    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._portal_cm: AbstractContextManager[anyio.from_thread.BlockingPortal] | None = None
        self._portal: anyio.from_thread.BlockingPortal | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._portal is None:
            self._portal_cm = anyio.from_thread.start_blocking_portal()
            self._portal = self._portal_cm.__enter__()
        body = request.read()
        copy = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        timeout = (request.extensions.get("timeout") or {}).get("read")

        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            with anyio.fail_after(timeout):
                response = await self._inner.handle_async_request(copy)
                content = await response.aread()
            return response.status_code, response.headers.raw, content

        try:
            status, headers, content = self._portal.call(call)
        except TimeoutError as exc:
            raise httpx.ReadTimeout(f"timed out after {timeout} s", request=request) from exc
        return httpx.Response(status, headers=headers, content=content, request=request)

    def close(self) -> None:
        if self._portal_cm is not None:
            self._portal_cm.__exit__(None, None, None)
            self._portal_cm = self._portal = None
