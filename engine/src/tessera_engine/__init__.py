"""Tessera's breaking-change engine.

    from tessera_engine import diff, DiffOptions
    result = diff("old/openapi.yaml", "new/openapi.yaml")
    result.verdict, result.bump, result.findings

The engine is a pure library: no web, database or GitHub dependencies.
"""

from __future__ import annotations

from .catalog import Catalog, Rule, load_catalog
from .engine import DiffOptions, diff, diff_workspaces
from .errors import (
    FormatError,
    InputError,
    InternalError,
    LimitError,
    LoadError,
    RefError,
    TesseraError,
    UsageError,
)
from .model import Bump, DiffResult, Effect, Finding, Location, Position, Severity, VersionCheck
from .modes import Mode

__version__ = "0.1.0"

__all__ = [
    "Bump",
    "Catalog",
    "DiffOptions",
    "DiffResult",
    "Effect",
    "Finding",
    "FormatError",
    "InputError",
    "InternalError",
    "LimitError",
    "LoadError",
    "Location",
    "Mode",
    "Position",
    "RefError",
    "Rule",
    "Severity",
    "TesseraError",
    "UsageError",
    "VersionCheck",
    "__version__",
    "diff",
    "diff_workspaces",
    "load_catalog",
]
