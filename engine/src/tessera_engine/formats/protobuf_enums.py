"""Checks on enums that exist in both versions (paired by full name): values deleted with or
without reserving, renamed or added, open/closed, JSON format support, reserved ranges."""

from __future__ import annotations

from collections import defaultdict

from ..model import Position
from .protobuf_compare import Context
from .protobuf_messages import reserved_names, tag_ranges
from .protobuf_model import ENUM_FEATURES, ENUM_OPTIONS, ENUM_VALUE, VALUE_NUMBER, Element

_ENUM_TYPE_FEATURE, _JSON_FORMAT_FEATURE = 2, 6


def check(ctx: Context) -> None:
    for name, old in ctx.old.enums.items():
        new = ctx.new.enums.get(name)
        if new is not None:
            _enum_pair(ctx, old, new)


def _enum_pair(ctx: Context, old: Element, new: Element) -> None:
    position = ctx.position(new.full_name)
    before: dict[int, list[str]] = defaultdict(list)
    for value in old.proto.value:
        before[value.number].append(value.name)
    after: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for index, value in enumerate(new.proto.value):
        after[value.number].append((index, value.name))
    reserved = [(r.start, r.end + 1) for r in new.proto.reserved_range]  # enum ends inclusive
    reserved_names_new = set(new.proto.reserved_name)
    for number, names in before.items():
        if number not in after:
            rules = []
            if not any(low <= number < high for low, high in reserved):
                rules.append("schema.proto-enum-value.number-released")
            if not all(n in reserved_names_new for n in names):
                rules.append("schema.proto-enum-value.name-released")
            rules.append("schema.proto-enum-value.deleted")
            ctx.emit(
                rules,
                position=position,
                path=f"{new.full_name}.{names[0]}",
                key=f"enum-value:{new.full_name}:{number}",
                location=new.location(),
                args={"value": names[0], "number": number, "enum": new.full_name},
                every=True,
            )
            continue
        new_names = [n for _, n in after[number]]
        if not set(names) <= set(new_names):
            for index, name in after[number]:
                ctx.emit(
                    "schema.proto-enum-value.renamed",
                    position=position,
                    path=f"{new.full_name}.{name}",
                    key=f"enum-value:{new.full_name}:{number}:{name}",
                    location=new.file.at((*new.path, ENUM_VALUE, index, VALUE_NUMBER)),
                    args={"number": number, "old": ", ".join(names), "new": name},
                )
    for number, pairs in after.items():
        if number not in before:
            index, name = pairs[0]
            ctx.emit(
                "schema.enum.value-added",
                position=position,
                path=f"{new.full_name}.{name}",
                key=f"enum-value:{new.full_name}:{number}",
                location=new.file.at((*new.path, ENUM_VALUE, index)),
                args={"value": name},
            )
    _type(ctx, old, new, position)
    tag_ranges(
        ctx,
        "schema.proto-reserved.deleted",
        new,
        [(r.start, r.end + 1) for r in old.proto.reserved_range],
        reserved,
        position,
        "reserved range",
    )
    reserved_names(ctx, old, new, position, "schema.proto-reserved.deleted")


def _type(ctx: Context, old: Element, new: Element, position: Position) -> None:
    before, after = old.features.get("enum_type"), new.features.get("enum_type")
    features = (*new.path, ENUM_OPTIONS, ENUM_FEATURES)
    if before != after:
        ctx.emit(
            "schema.proto-enum.type-changed",
            position=position,
            path=new.full_name,
            key=f"enum:{new.full_name}",
            location=new.file.at((*features, _ENUM_TYPE_FEATURE), new.path),
            args={"old": before.lower(), "new": after.lower(), "element": new.full_name},
        )
    before, after = old.features.get("json_format"), new.features.get("json_format")
    if before == "ALLOW" and after != "ALLOW":
        ctx.emit(
            "schema.proto-enum.json-format-changed",
            position=position,
            path=new.full_name,
            key=f"enum:{new.full_name}",
            location=new.file.at((*features, _JSON_FORMAT_FEATURE), new.path),
            args={"element": new.full_name, "old": before, "new": after},
        )
