"""Checks on messages that exist in both versions (paired by full name, wherever they
live): fields deleted or added (by number), oneofs deleted, reserved numbers and names,
extension ranges, required fields, JSON format support and message options.
"""

from __future__ import annotations

from typing import Any

from ..model import Position
from . import protobuf_fields
from .protobuf_compare import Context
from .protobuf_model import (
    MESSAGE_FEATURES,
    MSG_FIELD,
    MSG_OPTIONS,
    Element,
)
from .protobuf_types import is_required

_JSON_FORMAT_FEATURE = 6
_NO_STANDARD_DESCRIPTOR_ACCESSOR = 2


def check(ctx: Context) -> None:
    for name, old in ctx.old.messages.items():
        new = ctx.new.messages.get(name)
        if new is not None:
            _message_pair(ctx, old, new)
    protobuf_fields.check_extensions(ctx)


def _message_pair(ctx: Context, old: Element, new: Element) -> None:
    position = ctx.position(new.full_name)
    old_fields = {f.number: (i, f) for i, f in enumerate(old.proto.field)}
    new_fields = {f.number: (i, f) for i, f in enumerate(new.proto.field)}
    for number, (i, field) in old_fields.items():
        pair = new_fields.get(number)
        if pair is None:
            protobuf_fields.deleted(ctx, old, new, field, (*old.path, MSG_FIELD, i), position)
        else:
            j, new_field = pair
            protobuf_fields.field_pair(
                ctx, old, new, field, new_field, (*new.path, MSG_FIELD, j), position
            )
    for number, (j, field) in new_fields.items():
        if number not in old_fields:
            protobuf_fields.added(ctx, new, field, (*new.path, MSG_FIELD, j), position)
    _oneofs(ctx, old, new, position)
    _reserved(ctx, old, new, position)
    _required(ctx, old, new, position, new_fields)
    _options(ctx, old, new, position)


def _oneofs(ctx: Context, old: Element, new: Element, position: Position) -> None:
    new_names = {o.name for o in new.proto.oneof_decl}
    synthetic = {
        f.oneof_index for f in old.proto.field if f.HasField("oneof_index") and f.proto3_optional
    }
    for index, oneof in enumerate(old.proto.oneof_decl):
        if index in synthetic or oneof.name in new_names:
            continue
        ctx.emit(
            "schema.proto-oneof.deleted",
            position=position,
            path=f"{new.full_name}.{oneof.name}",
            key=f"oneof:{new.full_name}.{oneof.name}",
            location=new.location(),
            args={"oneof": oneof.name, "message": new.full_name},
        )


def _covered(start: int, end: int, ranges: list[tuple[int, int]]) -> bool:
    """Whether [start, end) lies inside the union of ``ranges`` (each [start, end))."""
    position = start
    for low, high in sorted(ranges):
        if low > position:
            break
        position = max(position, high)
        if position >= end:
            return True
    return position >= end


def tag_ranges(
    ctx: Context,
    rule: str,
    element: Element,
    old_ranges: list[tuple[int, int]],
    new_ranges: list[tuple[int, int]],
    position: Position,
    what: str,
) -> None:
    """Report every old range (end exclusive) no longer covered by the new ranges."""
    for start, end in old_ranges:
        if _covered(start, end, new_ranges):
            continue
        shown = str(start) if end - start == 1 else f"{start} to {end - 1}"
        ctx.emit(
            rule,
            position=position,
            path=element.full_name,
            key=f"{what}:{element.full_name}:{start}-{end}",
            location=element.location(),
            args={"range": shown, "kind": what, "element": element.full_name},
        )


def reserved_names(ctx: Context, old: Element, new: Element, position: Position, rule: str) -> None:
    kept = set(new.proto.reserved_name)
    for name in old.proto.reserved_name:
        if name not in kept:
            ctx.emit(
                rule,
                position=position,
                path=new.full_name,
                key=f"reserved-name:{new.full_name}:{name}",
                location=new.location(),
                args={"range": repr(name), "kind": "reserved name", "element": new.full_name},
            )


def _reserved(ctx: Context, old: Element, new: Element, position: Position) -> None:
    rule = "schema.proto-reserved.deleted"
    tag_ranges(
        ctx,
        rule,
        new,
        [(r.start, r.end) for r in old.proto.reserved_range],
        [(r.start, r.end) for r in new.proto.reserved_range],
        position,
        "reserved range",
    )
    reserved_names(ctx, old, new, position, rule)
    tag_ranges(
        ctx,
        "schema.proto-extension-range.deleted",
        new,
        [(r.start, r.end) for r in old.proto.extension_range],
        [(r.start, r.end) for r in new.proto.extension_range],
        position,
        "extension range",
    )


def _required(
    ctx: Context,
    old: Element,
    new: Element,
    position: Position,
    new_fields: dict[int, tuple[int, Any]],
) -> None:
    before = {f.number for f in old.proto.field if is_required(f, old.features.resolve(f.options))}
    after = {f.number for f in new.proto.field if is_required(f, new.features.resolve(f.options))}
    for number in sorted(before ^ after):
        added = number in after
        location = new.location()
        if added:
            index, _ = new_fields[number]
            location = new.file.at((*new.path, MSG_FIELD, index))
        ctx.emit(
            "schema.proto-message.required-fields-changed",
            position=position,
            path=f"{new.full_name}.{number}",
            key=f"required:{new.full_name}:{number}",
            location=location,
            args={"number": number, "change": "added" if added else "removed"},
        )


def _options(ctx: Context, old: Element, new: Element, position: Position) -> None:
    before = old.features.get("json_format")
    after = new.features.get("json_format")
    if before == "ALLOW" and after != "ALLOW":
        ctx.emit(
            "schema.proto-message.json-format-changed",
            position=position,
            path=new.full_name,
            key=f"message:{new.full_name}",
            location=new.file.at(
                (*new.path, MSG_OPTIONS, MESSAGE_FEATURES, _JSON_FORMAT_FEATURE), new.path
            ),
            args={"element": new.full_name, "old": before, "new": after},
        )
    if (
        not old.proto.options.no_standard_descriptor_accessor
        and new.proto.options.no_standard_descriptor_accessor
    ):
        ctx.emit(
            "meta.proto-message.option-changed",
            position=Position.NONE,
            path=new.full_name,
            key=f"message:{new.full_name}:no_standard_descriptor_accessor",
            location=new.file.at(
                (*new.path, MSG_OPTIONS, _NO_STANDARD_DESCRIPTOR_ACCESSOR), new.path
            ),
            args={"option": "no_standard_descriptor_accessor", "old": False, "new": True},
        )
    if not old.proto.options.deprecated and new.proto.options.deprecated:
        ctx.emit(
            "lifecycle.deprecation.added",
            position=position,
            path=new.full_name,
            key=f"message:{new.full_name}",
            location=new.location(),
            args={"element": f"message {new.full_name}", "note": ""},
        )
