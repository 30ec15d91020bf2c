"""A webhook's body as the ingress takes it: read within a limit, then decoded and checked.

    await read(request, limit) -> bytearray        the body as it streams in; ``TooLarge`` as
                                                    soon as Content-Length or the bytes received
                                                    pass ``limit`` (nothing more is read)
    decode(body, content_type) -> (payload, raw)   the payload and its JSON text; ``Malformed``
                                                    says what is wrong with it

The body is never buffered past the limit (``TESSERA_WEBHOOK_MAX_BYTES``, by default GitHub's
25 MB cap on a payload): Starlette's ``request.body()`` held every body whole, so 8 concurrent
100 MB bodies, signed or not, raised the process by a gigabyte.

GitHub delivers a payload as the body (``application/json``) or, when the App's owner chose
``application/x-www-form-urlencoded``, as the form field ``payload``; either way it signs the
body as sent, so the signature is checked on the raw body before ``decode``. A payload is a
JSON object (orjson: ``NaN`` and ``Infinity`` are not JSON, and nothing nests past 1,024),
nested at most ``MAX_NESTING`` deep, whose ``installation.id`` (the one id the ingress stores)
fits a ``BIGINT`` column.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request

from .payloads import is_id

FORM = "application/x-www-form-urlencoded"
MAX_NESTING = 64
"""Arrays and objects nested in one payload. GitHub's nest 7 deep at most; the worker reads a
stored payload back with the standard library's recursive JSON decoder, which fails near 1,000
levels (less the stack in use), so a deeper one would fail in every attempt of its job."""
MAX_FORM_FIELDS = 10
"""Fields in a form-encoded body (GitHub sends one, ``payload``)."""


class TooLarge(Exception):
    """The body is larger than the limit (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the body is larger than {limit:,} bytes (TESSERA_WEBHOOK_MAX_BYTES; GitHub caps "
            f"a payload at 25 MB)"
        )


class Malformed(ValueError):
    """The body (or its Content-Length) is not a delivery the ingress can take (400)."""


async def read(request: Request, limit: int) -> bytearray:
    """The body of ``request``, read chunk by chunk and never past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        size = declared.strip()
        if not size.isascii() or not size.isdigit():
            raise Malformed(f"Content-Length {declared[:40]!r} is not a number of bytes")
        if len(size) > len(str(limit)) or int(size) > limit:
            raise TooLarge(limit)
    body = bytearray()
    async for chunk in request.stream():
        if len(body) + len(chunk) > limit:
            raise TooLarge(limit)
        body += chunk
    return body


def decode(body: bytes | bytearray, content_type: str | None) -> tuple[dict[str, Any], str]:
    """The payload of a delivery and its JSON text (what is stored): the body itself, or the
    ``payload`` field of a form-encoded body."""
    if _media_type(content_type) == FORM:
        text = _form_payload(body)
        payload = _json(text, "the payload field")
    else:
        payload = _json(body, "the body")
        text = body.decode()  # orjson accepted it: valid UTF-8
    _check(payload)
    return payload, text


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _form_payload(body: bytes | bytearray) -> str:
    try:
        fields = parse_qsl(
            body.decode(),
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except ValueError as err:  # UnicodeDecodeError too
        raise Malformed(f"the body is not form-encoded: {err}") from None
    found = [value for name, value in fields if name == "payload"]
    if len(found) != 1:
        raise Malformed(
            f"a form-encoded delivery has exactly one field 'payload' (found {len(found)})"
        )
    return found[0]


def _json(data: bytes | bytearray | str, what: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise Malformed(f"{what} is not JSON: {err}") from None


def _check(payload: Any) -> None:
    if not isinstance(payload, dict):
        raise Malformed("the payload is not a JSON object")
    if nested_deeper(payload, MAX_NESTING):
        raise Malformed(f"the payload nests arrays and objects more than {MAX_NESTING} deep")
    installation = payload.get("installation")
    found = installation.get("id") if isinstance(installation, dict) else None
    if found is not None and not is_id(found):
        raise Malformed(
            f"installation.id is {str(found)[:40]}: not an id GitHub gives (an integer of "
            f"at most 64 bits)"
        )


def nested_deeper(value: dict[str, Any] | list[Any], limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` deep in ``value`` (itself one
    level); walked with a stack of its own, so no depth can exhaust Python's."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, (dict, list)):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False
