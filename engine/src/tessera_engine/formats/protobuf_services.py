"""Checks on services that exist in both versions (paired by full name): RPCs deleted or
added, request and response types, client and server streaming, idempotency level."""

from __future__ import annotations

from typing import Any

from ..model import Location, Position
from .protobuf_compare import Context
from .protobuf_model import METHOD_INPUT, METHOD_OPTIONS, METHOD_OUTPUT, SERVICE_METHOD, Element

_IDEMPOTENCY_LEVEL = 34


def check(ctx: Context) -> None:
    for name, old in ctx.old.services.items():
        new = ctx.new.services.get(name)
        if new is not None:
            _service_pair(ctx, old, new)


def _service_pair(ctx: Context, old: Element, new: Element) -> None:
    old_methods = {m.name: (i, m) for i, m in enumerate(old.proto.method)}
    new_methods = {m.name: (i, m) for i, m in enumerate(new.proto.method)}
    for name, (i, method) in old_methods.items():
        pair = new_methods.get(name)
        rpc = f"{new.full_name}/{name}"
        if pair is None:
            ctx.emit(
                "api.rpc.removed",
                position=Position.NONE,
                path=rpc,
                key=f"rpc:{rpc}",
                location=new.location(),
                args={"rpc": name, "service": new.full_name},
                old_location=old.file.at((*old.path, SERVICE_METHOD, i)),
            )
            continue
        j, new_method = pair
        _method_pair(ctx, new, rpc, method, new_method, (*new.path, SERVICE_METHOD, j))
    for name, (j, _) in new_methods.items():
        if name not in old_methods:
            rpc = f"{new.full_name}/{name}"
            ctx.emit(
                "api.rpc.added",
                position=Position.NONE,
                path=rpc,
                key=f"rpc:{rpc}",
                location=new.file.at((*new.path, SERVICE_METHOD, j)),
                args={"rpc": name, "service": new.full_name},
            )


def _method_pair(
    ctx: Context, service: Element, rpc: str, old: Any, new: Any, path: tuple[int, ...]
) -> None:
    pfile = service.file
    here = pfile.at(path)

    def emit(rule: str, at: Location, **args: Any) -> None:
        ctx.emit(
            rule,
            position=Position.NONE,
            path=rpc,
            key=f"rpc:{rpc}",
            location=at,
            args={"rpc": new.name, **args},
        )

    for side in ("client", "server"):
        before, after = getattr(old, f"{side}_streaming"), getattr(new, f"{side}_streaming")
        if before != after:
            emit(
                "api.rpc.streaming-changed",
                here,
                side=side,
                old=_streaming(before),
                new=_streaming(after),
            )
    if old.input_type != new.input_type:
        at = pfile.at((*path, METHOD_INPUT), path)
        emit(
            "api.rpc.request-type-changed",
            at,
            old=old.input_type.lstrip("."),
            new=new.input_type.lstrip("."),
        )
    if old.output_type != new.output_type:
        at = pfile.at((*path, METHOD_OUTPUT), path)
        emit(
            "api.rpc.response-type-changed",
            at,
            old=old.output_type.lstrip("."),
            new=new.output_type.lstrip("."),
        )
    before, after = _idempotency(old), _idempotency(new)
    if before != after:
        at = pfile.at((*path, METHOD_OPTIONS, _IDEMPOTENCY_LEVEL), path)
        emit("api.rpc.idempotency-changed", at, old=before, new=after)
    if not old.options.deprecated and new.options.deprecated:
        ctx.emit(
            "lifecycle.deprecation.added",
            position=Position.NONE,
            path=rpc,
            key=f"rpc:{rpc}",
            location=here,
            args={"element": f"rpc {rpc}", "note": ""},
        )


def _streaming(value: bool) -> str:
    return "streaming" if value else "unary"


def _idempotency(method: Any) -> str:
    options = method.options
    return str(options.IdempotencyLevel.Name(options.idempotency_level))
