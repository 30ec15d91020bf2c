"""Checks on files and packages: deleted files and packages, package and syntax changes,
file options that change generated code, and messages, enums, services and extensions
deleted from a file (buf's ``*_NO_DELETE``) or from their package (``PACKAGE_*_NO_DELETE``).
"""

from __future__ import annotations

from ..model import Location, Position
from .protobuf_compare import Context
from .protobuf_model import FILE_OPTIONS, FILE_PACKAGE, FILE_SYNTAX, Element, Module, ProtoFile

# The file options whose value is part of the generated code (buf's FILE_SAME_* rules).
CODEGEN_OPTIONS = (
    ("java_package", 1),
    ("java_outer_classname", 8),
    ("java_multiple_files", 10),
    ("go_package", 11),
    ("objc_class_prefix", 36),
    ("csharp_namespace", 37),
    ("swift_prefix", 39),
    ("php_class_prefix", 40),
    ("php_namespace", 41),
    ("php_metadata_namespace", 44),
    ("ruby_package", 45),
    ("optimize_for", 9),
    ("cc_generic_services", 16),
    ("java_generic_services", 17),
    ("py_generic_services", 18),
    ("cc_enable_arenas", 31),
)
_KINDS = (
    ("message", "schema.proto-message"),
    ("enum", "schema.proto-enum"),
    ("service", "api.service"),
    ("extension", "schema.proto-extension"),
)


def check(ctx: Context) -> None:
    for name, old_file in ctx.old.files.items():
        new_file = ctx.new.files.get(name)
        if new_file is None:
            ctx.emit(
                "meta.proto-file.deleted",
                position=Position.NONE,
                path=name,
                key=f"file:{name}",
                location=None,
                args={"file": name},
                old_location=Location(old_file.shown, 1, 1),
            )
            continue
        _file_pair(ctx, old_file, new_file)
    new_packages = ctx.new.packages()
    for package in sorted(ctx.old.packages() - new_packages):
        ctx.emit(
            "meta.proto-package.deleted",
            position=Position.NONE,
            path=package or "(no package)",
            key=f"package:{package}",
            location=None,
            args={"package": package},
        )
    for kind, prefix in _KINDS:
        _deleted_elements(ctx, kind, prefix, new_packages)


def _file_pair(ctx: Context, old: ProtoFile, new: ProtoFile) -> None:
    if old.package != new.package:
        ctx.emit(
            "meta.proto-file.package-changed",
            position=Position.NONE,
            path=new.name,
            key=f"file:{new.name}",
            location=new.at((FILE_PACKAGE,)),
            args={"old": old.package, "new": new.package},
            old_location=old.at((FILE_PACKAGE,)),
        )
    if old.syntax_label != new.syntax_label:
        ctx.emit(
            "meta.proto-file.syntax-changed",
            position=Position.NONE,
            path=new.name,
            key=f"file:{new.name}",
            location=new.at((FILE_SYNTAX,), (14,)),
            args={"old": old.syntax_label, "new": new.syntax_label},
        )
    for option, number in CODEGEN_OPTIONS:
        before = _option(old, option)
        after = _option(new, option)
        if before != after:
            ctx.emit(
                "meta.proto-file.option-changed",
                position=Position.NONE,
                path=new.name,
                key=f"file:{new.name}:{option}",
                location=new.at((FILE_OPTIONS, number)),
                args={"option": option, "old": before, "new": after},
                old_location=old.at((FILE_OPTIONS, number)),
            )


def _option(pfile: ProtoFile, name: str) -> str | bool:
    options = pfile.proto.options
    value = getattr(options, name)
    if name == "optimize_for":
        return str(options.OptimizeMode.Name(value))
    return value if isinstance(value, bool) else str(value)


def _index(module: Module, kind: str) -> dict[str, Element]:
    return {
        "message": module.messages,
        "enum": module.enums,
        "service": module.services,
        "extension": module.extensions,
    }[kind]


def _deleted_elements(ctx: Context, kind: str, prefix: str, new_packages: set[str]) -> None:
    """Elements gone from their file (``removed``, or ``moved`` when the name lives on in
    another file), and elements of deleted files gone from a package that still exists."""
    new_index = _index(ctx.new, kind)
    by_file: dict[tuple[str, str], Element] = {
        (e.file.name, e.nested_name): e for e in new_index.values()
    }
    for element in _index(ctx.old, kind).values():
        if kind == "message" and element.proto.options.map_entry:
            continue  # generated for a map field: the field's checks cover it
        new_file = ctx.new.files.get(element.file.name)
        if new_file is None:
            if element.package in new_packages and element.full_name not in new_index:
                # buf's FILE level reports only the deleted file
                _report(ctx, prefix, element, None, "removed", capped=ctx.level == "file")
            continue
        if (new_file.name, element.nested_name) in by_file:
            continue
        moved = element.full_name in new_index
        _report(ctx, prefix, element, new_file, "moved" if moved else "removed")


def _report(
    ctx: Context,
    prefix: str,
    element: Element,
    new_file: ProtoFile | None,
    change: str,
    *,
    capped: bool = False,
) -> None:
    location = None
    if new_file is not None:
        # buf's package level finds a deleted message's parent anywhere in the package
        anywhere = element.kind == "message" and ctx.level != "file"
        location = _surviving_parent(ctx.new, new_file, element.nested_name, anywhere)
    rules = [f"{prefix}.{change}"]
    ctx.emit(
        rules,
        position=_position(ctx, element),
        path=element.full_name,
        key=f"{element.kind}:{element.full_name}",
        location=location,
        args={"name": element.full_name, "file": element.file.name},
        old_location=element.location(),
        capped=capped,
    )


def _position(ctx: Context, element: Element) -> Position:
    if element.kind in ("message", "enum"):
        return ctx.position(element.full_name)
    return Position.NONE


def _surviving_parent(
    module: Module, pfile: ProtoFile, nested: str, anywhere: bool = False
) -> Location:
    """The nearest enclosing message that still exists in the new file (``anywhere``: in
    the package), else the file."""
    parts = nested.split(".")
    prefix = f"{pfile.package}." if pfile.package else ""
    for end in range(len(parts) - 1, 0, -1):
        parent = module.messages.get(prefix + ".".join(parts[:end]))
        if parent is not None and (anywhere or parent.file is pfile):
            return parent.location()
    return Location(pfile.shown, 1, 1)
