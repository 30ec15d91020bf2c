"""The pipeline: load both versions, compare them with the format's adapter, classify.

    load (documents) -> adapter.compare (diff + checks) -> collect (findings) -> severities
    (modes) -> semver

``diff`` is the one entry point the CLI, the GitHub App and tests use.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, TypeVar

from . import semver
from .catalog import load_catalog
from .checks import SCHEMA_CHECKS
from .diff.collect import collect
from .diff.core import Differ
from .documents import FileSource, Source, spec_root
from .documents.refs import Workspace
from .errors import LimitError, UsageError
from .fingerprint import fingerprint
from .formats import Adapter, detect, get_adapter
from .formats.native import (
    GUARANTEE_POLICIES,
    NATIVE_NAMES,
    PROTO_LEVELS,
    NativeFormat,
    Settings,
    classify,
    detect_native,
    native_format,
)
from .model import Bump, DiffResult, Effect, Finding, Location, Position, Severity
from .modes import Mode, bump, effective_position

RECURSION_LIMIT = 20_000
T = TypeVar("T")
Loaded = Callable[[Sequence[Any], Any], None]
"""Called by ``diff`` with the versions it loaded (the olds, the new one): a native format's
models, or the ``Workspace``s of a JSON-document format. Impact analysis uses them to follow
references without loading (or compiling) anything twice."""


@dataclass(frozen=True)
class DiffOptions:
    format: str | None = None
    mode: Mode | None = None
    policy: str | None = None  # "strict" | "lenient"
    fail_on: Severity = Severity.BREAKING
    current_version: str | None = None
    proposed_version: str | None = None
    today: date | None = None  # the date sunset dates are judged against (default: today)
    proto_level: str | None = None  # protobuf: file (default) | package | wire_json | wire
    guarantees: str | None = None  # dbt: guarantee policy strict (default) | notify | ignore
    catalogs: tuple[str, ...] = ()  # dbt: a catalog.json per version (olds..., new), or none


def diff(
    old: str | Sequence[str],
    new: str,
    options: DiffOptions | None = None,
    *,
    source: Source | None = None,
    old_source: Source | None = None,
    loaded: Loaded | None = None,
    root: str | None = None,
) -> DiffResult:
    """Compare ``new`` against ``old`` (one path, or several older versions, oldest first).
    ``loaded``, when given, is handed the loaded versions once the diff is done.

    Files on disk are read only under a root: ``root`` when given, else each version's own
    (the directory given, or the file's folder; ``documents.files``). ``source`` and
    ``old_source``, when given, are confined by whoever made them."""
    options = options or DiffOptions()
    olds = [old] if isinstance(old, str) else list(old)
    if not olds:
        raise UsageError("give at least one older version to compare against")
    given = old_source or source
    old_sources = [given or _confined(path, root, options.catalogs) for path in olds]
    source = source or _confined(new, root, options.catalogs)
    native = _native_format(options.format, source, new)
    if options.catalogs and (native is None or native.name != "dbt"):
        raise UsageError("--catalog is for dbt manifests only")
    if native is not None:
        return _diff_native(native, olds, new, options, source, old_sources, loaded)
    # Parse first, under the caller's recursion limit: the C JSON decoder's nesting limit
    # follows it, so a document nested thousands of levels deep is refused here.
    new_ws = Workspace(source, new)
    old_wss = [Workspace(s, path) for s, path in zip(old_sources, olds, strict=True)]
    result = diff_workspaces(old_wss, new_ws, options)
    if loaded is not None:
        loaded(old_wss, new_ws)
    return result


def diff_workspaces(olds: Sequence[Workspace], new: Workspace, options: DiffOptions) -> DiffResult:
    # Comparing nests a few frames per schema level (MAX_DEPTH bounds the levels). The limit
    # is restored afterwards: the JSON decoder's nesting limit follows it, and a long-running
    # process must keep refusing documents nested thousands of levels deep.
    with _deeper_recursion():
        return _diff_workspaces(olds, new, options)


@contextmanager
def _deeper_recursion() -> Iterator[None]:
    """The interpreter's recursion limit raised to ``RECURSION_LIMIT`` while comparing and
    classifying (fingerprints follow a value's nesting, up to ``limits.MAX_NESTING``), then
    restored."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def _diff_workspaces(olds: Sequence[Workspace], new: Workspace, options: DiffOptions) -> DiffResult:
    adapter = _adapter(options.format, new, olds)
    mode = options.mode or adapter.default_mode
    policy = _policy(options, adapter.default_policy)
    against = list(olds) if mode.transitive else [olds[-1]]
    findings = _against_each(
        [(old.root.name, old) for old in against],
        lambda old: _compare(adapter, old, new, mode, policy == "strict", options.today),
    )
    data = new.root.data
    pointer = "/info/version" if isinstance(data, dict) and "info" in data else ""
    return _result(
        adapter.name,
        mode,
        policy,
        tuple(o.root.name for o in olds),
        new.root.name,
        findings,
        options,
        (pointer, new.root.locate(pointer)),
    )


def _policy(options: DiffOptions, default: str) -> str:
    policy = options.policy or default
    if policy not in ("strict", "lenient"):
        raise UsageError(f"unknown policy {policy!r} (choose strict or lenient)")
    return policy


def _against_each(
    olds: Sequence[tuple[str, T]], compare: Callable[[T], list[Finding]]
) -> list[Finding]:
    """The findings against every older version (newest first, as Confluent checks the
    transitive modes), each change once, labelled with its version when there are several."""
    findings: list[Finding] = []
    seen: set[str] = set()
    for name, old in reversed(olds):
        label = name if len(olds) > 1 else None
        for finding in compare(old):
            if finding.fingerprint in seen:
                continue
            seen.add(finding.fingerprint)
            findings.append(replace(finding, against=label) if label else finding)
    return findings


def _result(
    format_name: str,
    mode: Mode,
    policy: str,
    olds: tuple[str, ...],
    new: str,
    findings: list[Finding],
    options: DiffOptions,
    version_at: tuple[str, Location | None],
) -> DiffResult:
    findings = _promote(findings, options.fail_on)
    catalog = load_catalog()
    required = Bump.highest([bump(catalog[f.rule], f.severity) for f in findings])
    version_check = None
    if options.current_version and options.proposed_version:
        version_check = semver.check(options.current_version, options.proposed_version, required)
        if not version_check.ok:
            findings.append(
                _version_finding(version_at, version_check.reason, version_check.to_dict())
            )
    elif options.current_version or options.proposed_version:
        raise UsageError("--current-version and --proposed-version go together")
    findings.sort(key=_order)
    return DiffResult(
        format=format_name,
        mode=mode.value,
        policy=policy,
        old=olds,
        new=new,
        findings=tuple(findings),
        bump=required,
        version_check=version_check,
    )


def _confined(path: str, root: str | None, catalogs: Sequence[str]) -> FileSource:
    """The files of the version at ``path``: under ``root``, or its own folder. The dbt
    catalogs the caller named are readable wherever they are."""
    return FileSource(root if root is not None else spec_root(path), also=catalogs)


def _native_format(name: str | None, source: Source, new: str) -> NativeFormat | None:
    """The native format to use, when the contract is one (told, or recognised by its path)."""
    chosen = name if name is not None else detect_native(source, new)
    return native_format(chosen) if chosen in NATIVE_NAMES else None


def _diff_native(
    native: NativeFormat,
    olds: Sequence[str],
    new: str,
    options: DiffOptions,
    source: Source,
    old_sources: Sequence[Source],
    loaded: Loaded | None = None,
) -> DiffResult:
    mode = options.mode or native.default_mode
    policy = _policy(options, native.default_policy)
    level = options.proto_level or "file"
    if level not in PROTO_LEVELS:
        choices = ", ".join(PROTO_LEVELS)
        raise UsageError(f"unknown protobuf level {level!r} (choose from {choices})")
    guarantees = options.guarantees or "strict"
    if guarantees not in GUARANTEE_POLICIES:
        choices = ", ".join(GUARANTEE_POLICIES)
        raise UsageError(f"unknown guarantee policy {guarantees!r} (choose from {choices})")
    if options.catalogs and len(options.catalogs) != len(olds) + 1:
        raise UsageError(f"give one --catalog per version ({len(olds) + 1}), or none")
    catalogs = options.catalogs or (None,) * (len(olds) + 1)
    settings = Settings(
        mode=mode,
        strict=policy == "strict",
        today=options.today,
        proto_level=level,
        guarantees=guarantees,
    )
    new_model = native.load(source, new, replace(settings, catalog=catalogs[-1]))
    old_models = [
        native.load(old_source, path, replace(settings, catalog=catalog))
        for old_source, path, catalog in zip(old_sources, olds, catalogs, strict=False)
    ]
    against = old_models if mode.transitive else old_models[-1:]
    catalog = load_catalog()
    with _deeper_recursion():
        findings = _against_each(
            [(native.display(model), model) for model in against],
            lambda old: classify(native.compare(old, new_model, settings), catalog, mode),
        )
    if loaded is not None:
        loaded(old_models, new_model)
    return _result(
        native.name,
        mode,
        policy,
        tuple(native.display(model) for model in old_models),
        native.display(new_model),
        findings,
        options,
        ("", None),
    )


def _adapter(name: str | None, new: Workspace, olds: Sequence[Workspace]) -> Adapter:
    adapter = get_adapter(name) if name else detect(new)
    for ws in (*olds, new):
        adapter.validate(ws)
    new.check_refs()  # the version being published must not hold a dangling $ref
    return adapter


def _compare(
    adapter: Adapter,
    old: Workspace,
    new: Workspace,
    mode: Mode,
    strict: bool,
    today: date | None,
) -> list[Finding]:
    differ = Differ(old, new, replace(adapter.options(strict), today=today), SCHEMA_CHECKS)
    subject_position = effective_position(mode, Position.INPUT)
    try:
        adapter.compare(differ, old, new, subject_position)
    except RecursionError:
        raise LimitError(
            "the documents are nested too deeply to compare", file=new.root.name
        ) from None
    return collect(differ, load_catalog(), mode)


def _promote(findings: list[Finding], fail_on: Severity) -> list[Finding]:
    if fail_on is not Severity.DANGEROUS:
        return findings
    return [
        replace(f, severity=Severity.BREAKING, promoted_from=Severity.DANGEROUS)
        if f.severity is Severity.DANGEROUS
        else f
        for f in findings
    ]


def _version_finding(
    at: tuple[str, Location | None], reason: str, args: dict[str, object]
) -> Finding:
    rule = load_catalog()["lifecycle.version.bump-insufficient"]
    pointer, location = at
    return Finding(
        rule=rule.id,
        severity=Severity.BREAKING,
        position=Position.NONE,
        effect=Effect.REPLACE,
        path="version",
        pointer=pointer,
        location=location,
        message=rule.render({"reason": reason}),
        fingerprint=fingerprint(rule.id, "version", args),
        args={"reason": reason, **args},
    )


def _order(finding: Finding) -> tuple[int, str, int, str]:
    loc = finding.location
    return (-finding.severity.rank, loc.file if loc else "", loc.line if loc else 0, finding.rule)
