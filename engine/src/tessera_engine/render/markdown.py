"""Markdown for a pull-request comment: the verdict, a summary table, a table of the breaking and
dangerous findings, and the safe and annotation ones folded in a ``<details>`` block.

User text (paths, messages, file names) is escaped so it cannot break a table, start an HTML
tag or format itself. GitHub refuses comments over 65,536 characters: when the findings do not
fit under ``MAX_CHARS``, the least severe ones are left out and the comment says how many.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model import DiffResult, Finding, Severity
from .summary import (
    SEVERITIES_MOST_SEVERE_FIRST,
    count_phrase,
    grouped_by_severity,
    version_check_phrase,
)

MAX_CHARS = 60_000  # a comment stays under this many characters

_FOLDED = frozenset({Severity.SAFE, Severity.ANNOTATION})  # in <details>, below the table
_FINDINGS_HEADER = ["Severity", "Where", "Change", "Rule", "Location"]
# Backslash first, so the backslashes added for the others are not escaped again; "[" so user
# text cannot start a link or an image; "@" gets a zero-width space so spec text such as an
# enum value "@org/team" cannot mention (and notify) anyone.
_ESCAPES = [("\\", "\\\\"), ("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("@", "@&#8203;")] + [
    (char, "\\" + char) for char in "|`*_~["
]


def render_markdown(result: DiffResult, color: bool = False) -> str:
    findings = [finding for group in grouped_by_severity(result.findings) for finding in group]
    document = _document(result, findings, omitted=0)
    if _fits(document):
        return document
    shown = _most_that_fit(result, findings)
    return _document(result, findings[:shown], omitted=len(findings) - shown)


def escape(text: str) -> str:
    """``text`` as literal Markdown on one line, safe inside a table cell."""
    text = " ".join(text.split())
    for char, replacement in _ESCAPES:
        text = text.replace(char, replacement)
    return text


def _most_that_fit(result: DiffResult, findings: Sequence[Finding]) -> int:
    """The largest number of leading ``findings`` whose comment fits under ``MAX_CHARS``
    (a binary search: the comment grows with every finding shown)."""
    fits, too_many = 0, len(findings)
    while too_many - fits > 1:
        middle = (fits + too_many) // 2
        omitted = len(findings) - middle
        if _fits(_document(result, findings[:middle], omitted)):
            fits = middle
        else:
            too_many = middle
    return fits


def _fits(document: str) -> bool:
    return len(document) < MAX_CHARS


def _document(result: DiffResult, shown: Sequence[Finding], omitted: int) -> str:
    blocks = [_heading(result), _compared(result), _summary_table(result)]
    if result.findings:
        blocks.extend(_findings_blocks(result, shown))
    else:
        blocks.append("No changes found.")
    if omitted:
        blocks.append(_omitted_note(omitted, len(result.findings)))
    return "\n\n".join(blocks) + "\n"


def _heading(result: DiffResult) -> str:
    if result.breaking:
        return "## ❌ Tessera: breaking changes"
    if any(f.severity is Severity.DANGEROUS for f in result.findings):
        return "## ⚠️ Tessera: compatible, with dangerous changes"
    return "## ✅ Tessera: compatible"


def _compared(result: DiffResult) -> str:
    old = ", ".join(escape(name) for name in result.old)
    setting = f"{result.format}, mode {result.mode}, policy {result.policy}"
    return f"Compared {escape(result.new)} with {old} ({escape(setting)})."


def _summary_table(result: DiffResult) -> str:
    counts = result.counts()
    header = [s.value.capitalize() for s in SEVERITIES_MOST_SEVERE_FIRST] + ["Required bump"]
    row = [str(counts[s.value]) for s in SEVERITIES_MOST_SEVERE_FIRST] + [result.bump.value]
    if result.version_check:
        header.append("Version")
        row.append(escape(version_check_phrase(result.version_check).removeprefix("version ")))
    return _table(header, [row], align=["---:"] * len(SEVERITIES_MOST_SEVERE_FIRST))


def _findings_blocks(result: DiffResult, shown: Sequence[Finding]) -> list[str]:
    up_front = [f for f in shown if f.severity not in _FOLDED]
    folded = [f for f in shown if f.severity in _FOLDED]
    blocks = []
    if up_front:
        blocks.append(_findings_table(up_front))
    elif all(f.severity in _FOLDED for f in result.findings):
        blocks.append("No breaking or dangerous changes.")
    if folded:
        blocks.append(_details(_folded_summary(result), _findings_table(folded)))
    return blocks


def _folded_summary(result: DiffResult) -> str:
    counts = result.counts()
    folded = [s for s in SEVERITIES_MOST_SEVERE_FIRST if s in _FOLDED]
    phrases = [count_phrase(counts[s.value], s) for s in folded]
    return f"Safe changes and annotations ({', '.join(p for p in phrases if p)})"


def _findings_table(findings: Sequence[Finding]) -> str:
    return _table(_FINDINGS_HEADER, [_finding_row(f) for f in findings])


def _finding_row(finding: Finding) -> list[str]:
    location = f"{finding.location.file}:{finding.location.line}" if finding.location else ""
    return [
        finding.severity.value,
        escape(finding.path),
        escape(finding.message),
        f"`{finding.rule}`",
        escape(location) or "—",
    ]


def _table(header: list[str], rows: list[list[str]], align: Sequence[str] = ()) -> str:
    alignments = list(align) + ["---"] * (len(header) - len(align))
    lines = [_row(header), _row(alignments)] + [_row(row) for row in rows]
    return "\n".join(lines)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _details(summary: str, body: str) -> str:
    return f"<details>\n<summary>{escape(summary)}</summary>\n\n{body}\n\n</details>"


def _omitted_note(omitted: int, total: int) -> str:
    return (
        f"_{omitted:,} of {total:,} findings are not shown, to keep this comment within "
        "GitHub's size limit; run `tessera diff --output json` to see them all._"
    )
