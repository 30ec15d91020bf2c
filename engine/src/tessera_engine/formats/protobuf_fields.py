"""Checks on fields (paired by number) and extensions (paired by extended message and
number): deletion with or without reserving, name, JSON name, type, cardinality, oneof,
default value and the options that change generated code.
"""

from __future__ import annotations

from typing import Any

from ..model import Effect, Location, Position
from .protobuf_compare import Context
from .protobuf_defaults import field_default, same_default
from .protobuf_model import (
    FIELD_DEFAULT,
    FIELD_FEATURES,
    FIELD_JSON_NAME,
    FIELD_NAME,
    FIELD_OPTIONS,
    FIELD_TYPE,
    FIELD_TYPE_NAME,
    FILE_OPTIONS,
    MSG_FIELD,
    Element,
    Features,
)
from .protobuf_types import (
    CARDINALITY_WIRE,
    CARDINALITY_WIRE_JSON,
    CARDINALITY_WORDS,
    ENUM_INTEGERS,
    LENGTH_DELIMITED,
    REPETITIONS,
    WIRE_GROUPS,
    WIRE_JSON_GROUPS,
    cardinality,
    kind,
    real_oneof,
    type_label,
)

_JSTYPE, _CTYPE, _JAVA_STRING_CHECK_UTF8 = 6, 1, 27
_UTF8_FEATURE = 4
_SIXTY_FOUR = ("int64", "uint64", "sint64", "fixed64", "sfixed64")


def deleted(
    ctx: Context,
    old: Element,
    new: Element,
    field: Any,
    old_path: tuple[int, ...],
    position: Position,
) -> None:
    """A field number gone from a message that still exists."""
    number_kept = any(r.start <= field.number < r.end for r in new.proto.reserved_range)
    name_kept = field.name in set(new.proto.reserved_name)
    rules = []
    if not number_kept:
        rules.append("schema.proto-field.number-released")
    if not name_kept:
        rules.append("schema.proto-field.name-released")
    oneof = _oneof_left(old, new, field)
    if oneof is not None:
        rules.append("schema.proto-oneof.member-deleted")
    rules.append("schema.proto-field.deleted")
    ctx.emit(
        rules,
        position=position,
        path=f"{new.full_name}.{field.name}",
        key=f"field:{new.full_name}:{field.number}",
        location=new.location(),
        args={
            "field": field.name,
            "number": field.number,
            "message": new.full_name,
            **({"oneof": oneof} if oneof is not None else {}),
        },
        old_location=old.file.at(old_path),
        every=True,
    )


def _oneof_left(old: Element, new: Element, field: Any) -> str | None:
    """The oneof a deleted field was a member of, when that oneof lives on (under its name,
    or through another of its members): data that chose the field now reads as a oneof with
    no member set. A oneof deleted with all its members is ``None``: nobody reads it."""
    name = real_oneof(field, old)
    if name is None:
        return None
    members = {f.number for f in old.proto.field if real_oneof(f, old) == name}
    survives = any(f.number in members for f in new.proto.field)
    if not survives and name not in {o.name for o in new.proto.oneof_decl}:
        return None
    return name


def added(
    ctx: Context, new: Element, field: Any, path: tuple[int, ...], position: Position
) -> None:
    ctx.emit(
        "schema.proto-field.added",
        position=position,
        path=f"{new.full_name}.{field.name}",
        key=f"field:{new.full_name}:{field.number}",
        location=new.file.at(path),
        args={"field": field.name, "number": field.number, "type": type_label(field, new.features)},
    )


def field_pair(
    ctx: Context,
    old_parent: Element | None,
    new_parent: Element | None,
    old: Any,
    new: Any,
    path: tuple[int, ...],
    position: Position,
    *,
    old_features: Features | None = None,
    new_features: Features | None = None,
    new_element: Element | None = None,
    old_element: Element | None = None,
) -> None:
    """Compare one field (or extension) that kept its number."""
    holder = new_element or new_parent
    assert holder is not None
    pfile = holder.file
    old_features = old_features or _features(old_parent, old)
    new_features = new_features or _features(new_parent, new)
    scope = new_parent.full_name if new_parent is not None else new.extendee.lstrip(".")
    where = f"{scope}.{new.name}"
    key = f"field:{scope}:{new.number}"
    if holder.kind == "message" and holder.proto.options.map_entry and holder.parent:
        path = map_field_path(holder)  # a map's key or value: shown at the map field
    here = pfile.at(path)

    def emit(
        rules: str | list[str], at: Location, effect: Effect | None = None, **args: Any
    ) -> None:
        ctx.emit(
            rules,
            position=position,
            path=where,
            key=key,
            location=at,
            args={"field": new.name, "number": new.number, **args},
            effect=effect,
        )

    old_name = old.name if not old.extendee else old_parent_name(old_parent, old)
    new_name = new.name if not new.extendee else old_parent_name(new_parent, new)
    if old_name != new_name:
        emit(
            "schema.proto-field.renamed",
            pfile.at((*path, FIELD_NAME), path),
            old=old_name,
            new=new_name,
        )
    if not new.extendee and old.json_name != new.json_name:
        emit(
            "schema.proto-field.json-name-changed",
            pfile.at((*path, FIELD_JSON_NAME), path),
            old=old.json_name,
            new=new.json_name,
        )
    _type(ctx, emit, old, new, old_features, new_features, pfile, path)
    _cardinality(ctx, emit, old_parent, new_parent, old, new, old_features, new_features, here)
    if not new.extendee and old_parent is not None and new_parent is not None:
        before, after = real_oneof(old, old_parent), real_oneof(new, new_parent)
        if before != after:
            rule = "schema.proto-field.oneof-changed"
            existed = {f.number for f in old_parent.proto.field}
            if _oneof_mates(new, new_parent) & existed <= _oneof_mates(old, old_parent):
                rule = "schema.proto-field.oneof-changed-wire-compatible"
            emit(rule, here, old=before, new=after)
    _default(ctx, emit, old, new, pfile, path)
    old_file = (old_element or old_parent or holder).file
    parents = (old_parent, new_parent)
    _codegen(emit, old, new, old_features, new_features, pfile, path, parents, old_file)
    if not old.options.deprecated and new.options.deprecated:
        ctx.emit(
            "lifecycle.deprecation.added",
            position=position,
            path=where,
            key=key,
            location=here,
            args={"element": f"field {where}", "note": ""},
        )


def _oneof_mates(field: Any, message: Element) -> set[int]:
    """The numbers of the other fields in ``field``'s oneof (they exclude each other)."""
    name = real_oneof(field, message)
    if name is None:
        return set()
    return {
        f.number
        for f in message.proto.field
        if f.number != field.number and real_oneof(f, message) == name
    }


def map_field_path(entry: Element) -> tuple[int, ...]:
    """The path of the field that declares the map whose generated entry is ``entry``."""
    assert entry.parent is not None
    type_name = f".{entry.full_name}"
    for index, field in enumerate(entry.parent.proto.field):
        if field.type_name == type_name:
            return (*entry.parent.path, MSG_FIELD, index)
    return entry.parent.path


def old_parent_name(parent: Element | None, field: Any) -> str:
    """An extension's full name (extensions are renamed by their scope too)."""
    if parent is not None:
        return f"{parent.full_name}.{field.name}"
    return str(field.name)


def _features(parent: Element | None, field: Any) -> Features:
    assert parent is not None
    return parent.features.resolve(field.options if field.HasField("options") else None)


def _type(
    ctx: Context,
    emit: Any,
    old: Any,
    new: Any,
    old_features: Features,
    new_features: Features,
    pfile: Any,
    path: tuple[int, ...],
) -> None:
    before, after = kind(old, old_features), kind(new, new_features)
    named = after in ("message", "group", "enum")
    if before == after and (not named or old.type_name == new.type_name):
        return
    rules = _type_rules(ctx, before, after, old, new)
    at = pfile.at((*path, FIELD_TYPE_NAME if named else FIELD_TYPE), path)
    emit(rules, at, old=type_label(old, old_features), new=type_label(new, new_features))


def _type_rules(ctx: Context, before: str, after: str, old: Any, new: Any) -> list[str]:
    """The most specific rule first: wire-incompatible, wire- but not JSON-compatible, or
    compatible on the wire and in JSON (then only generated code changes)."""
    if before == after:  # a named type changed
        if after == "enum" and _enum_superset(ctx, old.type_name, new.type_name):
            return ["schema.proto-field.type-changed-json-compatible"]
        if after in ("message", "group"):
            shape = _same_shape(ctx, old.type_name, new.type_name, set())
            if shape is not None:
                return ["schema.proto-field.type-changed-" + shape]
        return ["schema.proto-field.type-changed"]
    if _integer_and_open_enum(ctx, before, after, old, new):
        return ["schema.proto-field.type-changed-wire-compatible"]
    if WIRE_GROUPS[before] != WIRE_GROUPS[after] and (before, after) != ("string", "bytes"):
        return ["schema.proto-field.type-changed"]
    if WIRE_JSON_GROUPS[before] != WIRE_JSON_GROUPS[after]:
        return ["schema.proto-field.type-changed-wire-compatible"]
    return ["schema.proto-field.type-changed-json-compatible"]


def _integer_and_open_enum(ctx: Context, before: str, after: str, old: Any, new: Any) -> bool:
    """An integer became an open enum or the reverse: the wire carries the same varint, and
    an open enum keeps numbers it does not name (a closed one sets them aside as unknown
    fields, so the field reads as unset)."""
    if before == "enum" and after in ENUM_INTEGERS:
        enum = ctx.old.imported_enums.get(old.type_name.lstrip("."))
    elif after == "enum" and before in ENUM_INTEGERS:
        enum = ctx.new.imported_enums.get(new.type_name.lstrip("."))
    else:
        return False
    return enum is not None and enum.features.get("enum_type") == "OPEN"


def _same_shape(
    ctx: Context, old_name: str, new_name: str, seen: set[tuple[str, str]]
) -> str | None:
    """A message replaced by one of the same name in another package (or scope) with the
    same field numbers, kinds and cardinalities: "json-compatible" when the field names agree
    too, "wire-compatible" when only the numbers do, None when the encodings differ or the
    message has another name (then it is another type, as buf and Confluent judge it)."""
    if (old_name, new_name) in seen:
        return "json-compatible"
    seen.add((old_name, new_name))
    old = ctx.old.imported_messages.get(old_name.lstrip("."))
    new = ctx.new.imported_messages.get(new_name.lstrip("."))
    if old is None or new is None or old.nested_name != new.nested_name:
        return None
    old_fields = {f.number: f for f in old.proto.field}
    new_fields = {f.number: f for f in new.proto.field}
    if old_fields.keys() != new_fields.keys():
        return None
    result = "json-compatible"
    for number, a in old_fields.items():
        b = new_fields[number]
        if a.type != b.type or a.label != b.label:
            return None
        if a.name != b.name:
            result = "wire-compatible"
        if a.type_name != b.type_name:
            if a.type == 14:
                return None
            inner = _same_shape(ctx, a.type_name, b.type_name, seen)
            if inner is None:
                return None
            result = "wire-compatible" if "wire-compatible" in (inner, result) else result
    return result


def _enum_superset(ctx: Context, old_name: str, new_name: str) -> bool:
    """An enum replaced by one with the same short name that keeps every old value."""
    old = ctx.old.imported_enums.get(old_name.lstrip("."))
    new = ctx.new.imported_enums.get(new_name.lstrip("."))
    if old is None or new is None or old.proto.name != new.proto.name:
        return False
    kept = {(v.name, v.number) for v in new.proto.value}
    return all((v.name, v.number) in kept for v in old.proto.value)


def _cardinality(
    ctx: Context,
    emit: Any,
    old_parent: Element | None,
    new_parent: Element | None,
    old: Any,
    new: Any,
    old_features: Features,
    new_features: Features,
    here: Location,
) -> None:
    if (
        old_parent is not None
        and new_parent is not None
        and old_parent.proto.options.map_entry
        and new_parent.proto.options.map_entry
    ):
        return  # generated map entries
    before = cardinality(old, old_parent, old_features, ctx.old)
    after = cardinality(new, new_parent, new_features, ctx.new)
    if before == after:
        return
    words = {"old": CARDINALITY_WORDS[before], "new": CARDINALITY_WORDS[after]}
    kinds = {kind(old, old_features), kind(new, new_features)}
    if kinds <= LENGTH_DELIMITED and {before, after} in REPETITIONS:
        effect = Effect.WIDEN if after == "repeated" else Effect.NARROW
        emit("schema.proto-field.repetition-changed", here, effect=effect, **words)
        return
    if CARDINALITY_WIRE[before] != CARDINALITY_WIRE[after]:
        rule = "schema.proto-field.cardinality-changed"
    elif CARDINALITY_WIRE_JSON[before] != CARDINALITY_WIRE_JSON[after]:
        rule = "schema.proto-field.cardinality-changed-wire-compatible"
    else:
        rule = "schema.proto-field.presence-changed"
    emit(rule, here, **words)


def _default(
    ctx: Context, emit: Any, old: Any, new: Any, pfile: Any, path: tuple[int, ...]
) -> None:
    before = field_default(old, ctx.old)
    after = field_default(new, ctx.new)
    if before is None or after is None or (before.is_zero and after.is_zero):
        return
    if not same_default(before, after):
        emit(
            "schema.proto-field.default-changed",
            pfile.at((*path, FIELD_DEFAULT), path),
            old=before.shown,
            new=after.shown,
        )


def _codegen(
    emit: Any,
    old: Any,
    new: Any,
    old_features: Features,
    new_features: Features,
    pfile: Any,
    path: tuple[int, ...],
    parents: tuple[Element | None, Element | None],
    old_file: Any,
) -> None:
    """Options that change generated code but not the data: jstype, ctype, UTF-8 checks."""
    old_parent, new_parent = parents
    before_kind, after_kind = kind(old, old_features), kind(new, new_features)
    rule = "meta.proto-field.option-changed"
    if before_kind in _SIXTY_FOUR and after_kind in _SIXTY_FOUR:
        before, after = _enum_name(old.options, "jstype"), _enum_name(new.options, "jstype")
        if before != after:
            at = pfile.at((*path, FIELD_OPTIONS, _JSTYPE), path)
            emit(rule, at, option="jstype", old=before, new=after)
    strings = ("string", "bytes")
    if before_kind in strings and after_kind in strings and not _in_map(old_parent, new_parent):
        before, after = _cpp_string_type(old, old_features), _cpp_string_type(new, new_features)
        if before != after and not (before == "STRING_PIECE" and after == "STRING"):
            at = pfile.at(
                (*path, FIELD_OPTIONS, _CTYPE),
                (*path, FIELD_OPTIONS, FIELD_FEATURES, 1000, 2),
                path,
            )
            emit(rule, at, option="C++ string type", old=before, new=after)
    if before_kind == "string" and after_kind == "string":
        before = _java_utf8(old, old_features, old_file)
        after = _java_utf8(new, new_features, pfile)
        if before != after:
            at = pfile.at(
                (FILE_OPTIONS, _JAVA_STRING_CHECK_UTF8),
                (*path, FIELD_OPTIONS, FIELD_FEATURES, 1001, 2),
                path,
            )
            emit("meta.proto-field.java-string-check-changed", at, old=before, new=after)
    if before_kind == "string" and after_kind == "string":
        before, after = old_features.get("utf8_validation"), new_features.get("utf8_validation")
        if before != after:
            at = pfile.at((*path, FIELD_OPTIONS, FIELD_FEATURES, _UTF8_FEATURE), path)
            emit("schema.proto-field.string-validation-changed", at, old=before, new=after)


def _in_map(old_parent: Element | None, new_parent: Element | None) -> bool:
    return bool(
        old_parent is not None
        and new_parent is not None
        and old_parent.kind == "message"
        and old_parent.proto.options.map_entry
        and new_parent.proto.options.map_entry
    )


def _cpp_string_type(field: Any, features: Features) -> str:
    if field.options.HasField("ctype"):
        return _enum_name(field.options, "ctype")
    return features.get("cpp_string_type")


def _java_utf8(field: Any, features: Features, pfile: Any) -> str:
    """Whether generated Java checks UTF-8 (as buf resolves it): the file option
    ``java_string_check_utf8`` when the file is not in editions or sets it, else the Java
    feature; either way, without them Java follows the field's ``utf8_validation``."""
    options = pfile.proto.options
    if pfile.syntax != "editions" or options.HasField("java_string_check_utf8"):
        verify = options.java_string_check_utf8
    else:
        verify = features.get("java_utf8_validation") == "VERIFY"
    return "VERIFY" if verify else features.get("utf8_validation")


def _enum_name(options: Any, name: str) -> str:
    value = getattr(options, name)
    return str(options.DESCRIPTOR.fields_by_name[name].enum_type.values_by_number[value].name)


def check_extensions(ctx: Context) -> None:
    """Extensions that kept their extended message and number."""
    old_by_key = {(e.proto.extendee, e.proto.number): e for e in ctx.old.extensions.values()}
    for new in ctx.new.extensions.values():
        old = old_by_key.get((new.proto.extendee, new.proto.number))
        if old is None:
            continue
        position = ctx.position(new.proto.extendee.lstrip("."))
        field_pair(
            ctx,
            old.parent,
            new.parent,
            old.proto,
            new.proto,
            new.path,
            position,
            old_features=old.features,
            new_features=new.features,
            new_element=new,
            old_element=old,
        )
