"""Interface implementations checked as graphql-core's ``validate_schema`` checks them, with
its wording: an object or interface implements only interfaces, each once and never itself,
also implements every interface those interfaces implement, and provides each interface field
with a type that is a valid subtype (covariant), every interface argument with the same type,
and no additional required argument. Each problem points at the element to fix: the
implementing field or argument, or the type when a field or an interface is missing.

graphql-core 3.3 also refuses a deprecated implementation of a field the interface does not
deprecate, a rule of the draft specification that graphql-js 16 does not have and that real
schemas break (GitHub's public schema does), so it is not checked."""

from __future__ import annotations

from collections.abc import Iterator

from .graphql_model import INTERFACE, OBJECT, UNION, Field, TypeDef, named

Problem = tuple[str, int, int | str]
"""A message and where it is: (message, file index, token index or JSON pointer)."""


def implementation_problems(types: dict[str, TypeDef], definition: TypeDef) -> Iterator[Problem]:
    """What is wrong with the interfaces ``definition`` (an object or interface) implements."""
    name = definition.name
    here = (definition.file, definition.at)
    seen: set[str] = set()
    implemented = set(definition.interfaces)
    for interface in definition.interfaces:
        target = types.get(interface)
        if target is None:
            yield f"Unknown type '{interface}'.", *here
            continue
        if target.kind != INTERFACE:
            yield (
                f"Type {name} must only implement Interface types, "
                f"it cannot implement {interface}.",
                *here,
            )
            continue
        if interface == name:
            yield (
                f"Type {name} cannot implement itself because it would create a circular "
                "reference.",
                *here,
            )
        if interface in seen:
            yield f"Type {name} can only implement {interface} once.", *here
            continue
        seen.add(interface)
        for ancestor in target.interfaces:
            if ancestor in implemented:
                continue
            if ancestor == name:
                yield (
                    f"Type {name} cannot implement {interface} "
                    "because it would create a circular reference.",
                    *here,
                )
            else:
                yield (
                    f"Type {name} must implement {ancestor} "
                    f"because it is implemented by {interface}.",
                    *here,
                )
        for field_name, expected in target.fields.items():
            provided = definition.fields.get(field_name)
            if provided is None:
                yield (
                    f"Interface field {interface}.{field_name} expected but "
                    f"{name} does not provide it.",
                    *here,
                )
                continue
            yield from _field_problems(types, name, interface, expected, provided)


def _field_problems(
    types: dict[str, TypeDef], name: str, interface: str, expected: Field, provided: Field
) -> Iterator[Problem]:
    field_name = provided.name
    if not is_subtype(types, provided.type, expected.type):
        yield (
            f"Interface field {interface}.{field_name} expects type {expected.type} "
            f"but {name}.{field_name} is type {provided.type}.",
            provided.file,
            provided.at,
        )
    for arg_name, expected_arg in expected.args.items():
        provided_arg = provided.args.get(arg_name)
        if provided_arg is None:
            yield (
                f"Interface field argument {interface}.{field_name}({arg_name}:) expected "
                f"but {name}.{field_name} does not provide it.",
                provided.file,
                provided.at,
            )
        elif provided_arg.type != expected_arg.type:
            yield (
                f"Interface field argument {interface}.{field_name}({arg_name}:) expects "
                f"type {expected_arg.type} but {name}.{field_name}({arg_name}:) is type "
                f"{provided_arg.type}.",
                provided_arg.file,
                provided_arg.at,
            )
    for arg_name, provided_arg in provided.args.items():
        if arg_name not in expected.args and provided_arg.required:
            yield (
                f"Argument '{name}.{field_name}({arg_name}:)' must not be required type "
                f"'{provided_arg.type}' if not provided by the Interface field "
                f"'{interface}.{field_name}'.",
                provided_arg.file,
                provided_arg.at,
            )


def is_subtype(types: dict[str, TypeDef], sub: str, sup: str) -> bool:
    """Whether a value of type reference ``sub`` is always a valid ``sup`` (graphql-core's
    ``is_type_sub_type_of``): the same type, non-null added at any level, lists kept, a
    named type replaced by an implementation of that interface or a member of that union.
    The wrappers are compared in one pass from the outside in, however deeply lists nest."""
    if sub == sup:
        return True
    sub_name, sub_wrappers = _unwrap(sub)
    sup_name, sup_wrappers = _unwrap(sup)
    i = j = 0
    while True:
        sub_top = sub_wrappers[i] if i < len(sub_wrappers) else ""
        sup_top = sup_wrappers[j] if j < len(sup_wrappers) else ""
        if sup_top == "!":
            if sub_top != "!":
                return False
            i, j = i + 1, j + 1
        elif sub_top == "!":
            i += 1
        elif sup_top == "]":
            if sub_top != "]":
                return False
            i, j = i + 1, j + 1
        elif sub_top == "]":
            return False
        else:
            return sub_name == sup_name or _named_subtype(types, sub_name, sup_name)


def _unwrap(type_ref: str) -> tuple[str, str]:
    """The named type and the wrappers from the outside in: ``[User!]!`` -> ``User``, ``!]!``
    (``!`` non-null, ``]`` a list)."""
    lists = len(type_ref) - len(type_ref.lstrip("["))
    name = named(type_ref)
    return name, type_ref[lists + len(name) :][::-1]


def _named_subtype(types: dict[str, TypeDef], sub: str, sup: str) -> bool:
    abstract, candidate = types.get(sup), types.get(sub)
    if abstract is None or candidate is None or candidate.kind not in (OBJECT, INTERFACE):
        return False
    if abstract.kind == UNION:
        return sub in abstract.members
    return abstract.kind == INTERFACE and sup in candidate.interfaces
