"""GitHub Actions workflow commands: one annotation per finding, then a plain summary line.

    ::error file=new.yaml,line=16,col=9,title=api.parameter.added (breaking)::GET /orders …
    tessera: breaking — 2 breaking, 1 safe; requires a major bump

Breaking findings are errors, dangerous ones warnings, safe ones notices; annotation-level
findings are left out. Values are escaped exactly as GitHub's toolkit (``@actions/core``) does.
"""

from __future__ import annotations

from ..model import DiffResult, Finding, Severity
from .summary import summary_parts

COMMANDS = {
    Severity.BREAKING: "error",
    Severity.DANGEROUS: "warning",
    Severity.SAFE: "notice",
}

_DATA_ESCAPES = [("%", "%25"), ("\r", "%0D"), ("\n", "%0A")]
_PROPERTY_ESCAPES = [*_DATA_ESCAPES, (":", "%3A"), (",", "%2C")]


def render_github(result: DiffResult, color: bool = False) -> str:
    lines = [_command(finding) for finding in result.findings if finding.severity in COMMANDS]
    lines.append(f"tessera: {result.verdict} — {'; '.join(summary_parts(result))}")
    return "\n".join(lines) + "\n"


def escape_data(text: str) -> str:
    """A command's message, escaped like the toolkit's ``escapeData``."""
    return _replace_all(text, _DATA_ESCAPES)


def escape_property(text: str) -> str:
    """A command property's value, escaped like the toolkit's ``escapeProperty``."""
    return _replace_all(text, _PROPERTY_ESCAPES)


def _replace_all(text: str, replacements: list[tuple[str, str]]) -> str:
    for char, replacement in replacements:  # "%" first, so no escape is escaped again
        text = text.replace(char, replacement)
    return text


def _command(finding: Finding) -> str:
    properties = ",".join(f"{key}={escape_property(value)}" for key, value in _properties(finding))
    message = escape_data(f"{finding.path}: {finding.message}")
    return f"::{COMMANDS[finding.severity]} {properties}::{message}"


def _properties(finding: Finding) -> list[tuple[str, str]]:
    properties = []
    if finding.location:
        properties += [
            ("file", finding.location.file),
            ("line", str(finding.location.line)),
            ("col", str(finding.location.column)),
        ]
    properties.append(("title", f"{finding.rule} ({finding.severity.value})"))
    return properties
