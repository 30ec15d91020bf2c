"""What a run of the action reports: the verdict, the step outputs, the JSON report and the
Markdown job summary."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .reasons import ERROR, REASONS, WARNING, Check

ICONS = {"error": "❌", "warning": "⚠️", "notice": "✅"}


@dataclass
class Report:
    mode: str
    checks: list[Check]
    title: str
    notes: list[str] = field(default_factory=list)

    @property
    def breaking(self) -> int:
        return sum(1 for c in self.checks if c.level == ERROR)

    @property
    def dangerous(self) -> int:
        return sum(1 for c in self.checks if c.level == WARNING)

    @property
    def verdict(self) -> str:
        """``fail`` (an error), ``warn`` (a warning), else ``pass``."""
        if self.breaking:
            return "fail"
        return "warn" if self.dangerous else "pass"

    @property
    def codes(self) -> list[str]:
        return list(dict.fromkeys(c.code for c in self.checks))

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "verdict": self.verdict,
            "breaking": self.breaking,
            "dangerous": self.dangerous,
            "reasons": self.codes,
            "checks": [c.to_dict() for c in self.checks],
            "notes": self.notes,
        }

    def outputs(self, report_path: str) -> dict[str, str]:
        return {
            "verdict": self.verdict,
            "breaking-count": str(self.breaking),
            "dangerous-count": str(self.dangerous),
            "reasons": ",".join(self.codes),
            "report-path": report_path,
            "can-i-deploy": "" if self.mode != "consumer" else str(not self.breaking).lower(),
        }

    def write_json(self, path: str | Path) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    def markdown(self) -> str:
        counts = Counter(c.code for c in self.checks)
        lines = [
            f"## {self.title}",
            "",
            f"**{self.verdict}**: {self.breaking} breaking, {self.dangerous} dangerous "
            f"({', '.join(f'`{code}` × {n}' for code, n in counts.items()) or 'nothing to check'})",
            "",
        ]
        if self.checks:
            lines += ["| | reason | contract | where | detail |", "|---|---|---|---|---|"]
            for check in sorted(self.checks, key=_order):
                where = f"`{check.file}:{check.line}`" if check.file and check.line else ""
                lines.append(
                    f"| {ICONS[check.level]} | `{check.code}` | {check.contract} | {where} | "
                    f"{_cell(check.message)} |"
                )
            lines.append("")
        lines += [f"> {note}" for note in self.notes]
        used = [code for code in REASONS if code in counts]
        if used:
            lines += ["", "<details><summary>Reason codes</summary>", ""]
            lines += [f"- `{code}`: {REASONS[code][1]}" for code in used]
            lines += ["", "</details>"]
        return "\n".join(lines) + "\n\n"


def _order(check: Check) -> tuple[int, str, int]:
    rank = {"error": 0, "warning": 1, "notice": 2}[check.level]
    return rank, check.file or "", check.line or 0


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
