"""Plain text for a terminal: a one-line summary, then the findings, most severe first.

    new.yaml: breaking — 2 breaking, 1 safe; requires a major bump

    BREAKING   GET /orders → query.tenant: new required query parameter 'tenant'
               api.parameter.added · input · new.yaml:16:9

Colour (ANSI) only when asked for. The wording of the summary is shared with the Markdown and
GitHub renderers (``summary.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..model import DiffResult, Finding, Severity
from .summary import grouped_by_severity, summary_parts

_LABEL_WIDTH = max(len(severity.value) for severity in Severity)
_DETAIL_INDENT = " " * (_LABEL_WIDTH + 1)
_SEPARATOR = " · "

_RESET = "\x1b[0m"
_BOLD_RED = "\x1b[1;31m"
_RED = "\x1b[31m"
_YELLOW = "\x1b[33m"
_GREEN = "\x1b[32m"
_DIM = "\x1b[2m"
_SEVERITY_STYLE = {
    Severity.BREAKING: _RED,
    Severity.DANGEROUS: _YELLOW,
    Severity.SAFE: _GREEN,
    Severity.ANNOTATION: _DIM,
}

Paint = Callable[[str, str], str]


def render_text(result: DiffResult, color: bool = False) -> str:
    paint = _ansi if color else _plain
    lines = [_headline(result, paint)]
    for group in grouped_by_severity(result.findings):
        lines.append("")
        lines.extend(line for finding in group for line in _finding_lines(finding, paint))
    return "\n".join(lines) + "\n"


def one_line(text: str) -> str:
    """``text`` safe to print on one line: control characters (newlines, escape sequences that
    could restyle a terminal) shown escaped, surrounding whitespace removed."""
    return _CONTROL.sub(_visible, text).strip()


# ---------------------------------------------------------------- the text report


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
"""Unicode's control characters (category Cc), matched in C rather than looked up one
character at a time (a report of 200,000 findings has millions of characters)."""


def _visible(control: re.Match[str]) -> str:
    return control.group().encode("unicode_escape").decode("ascii")


def _headline(result: DiffResult, paint: Paint) -> str:
    verdict_style = _BOLD_RED if result.breaking else _GREEN
    summary = "; ".join(summary_parts(result))
    return f"{one_line(result.new)}: {paint(result.verdict, verdict_style)} — {summary}"


def _finding_lines(finding: Finding, paint: Paint) -> list[str]:
    word = finding.severity.value.upper()
    label = paint(word, _SEVERITY_STYLE[finding.severity]) + " " * (_LABEL_WIDTH - len(word))
    headline = f"{label} {one_line(finding.path)}: {one_line(finding.message)}".rstrip()
    details = _SEPARATOR.join(_details(finding))
    if finding.severity is Severity.ANNOTATION:
        return [headline + paint(_SEPARATOR + details, _DIM)]
    return [headline, _DETAIL_INDENT + paint(details, _DIM)]


def _details(finding: Finding) -> list[str]:
    """Rule, position, location and, when they apply, the other facts about a finding."""
    details = [finding.rule]
    if finding.severity is not Severity.ANNOTATION:
        details.append(finding.position.value)
    if finding.location:
        details.append(one_line(str(finding.location)))
    if finding.against:
        details.append(f"against {one_line(finding.against)}")
    if finding.promoted_from:
        details.append(f"promoted from {finding.promoted_from.value}")
    if len(finding.operations) > 1:
        details.append(_more_operations(len(finding.operations) - 1))
    return details


def _more_operations(count: int) -> str:
    return f"+{count} more operation{'s' if count != 1 else ''}"


def _ansi(text: str, style: str) -> str:
    return f"{style}{text}{_RESET}"


def _plain(text: str, style: str) -> str:
    return text
