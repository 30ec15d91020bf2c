"""One JSON object: ``{"verdict", "bump", "findings": [...], ...}`` (the CLI contract).

The summary is indented; each finding is written on a line of its own in compact form, which
keeps the output readable and diffable line by line, and lets the C encoder do the work (an
indented dump of thousands of findings goes through the pure-Python encoder, 3x slower).
"""

from __future__ import annotations

import json

from ..model import DiffResult


def render_json(result: DiffResult, color: bool = False) -> str:
    data = result.to_dict()
    findings = data.pop("findings")
    head = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if not findings:
        return head[:-2] + ',\n  "findings": []\n}\n'
    body = ",\n".join(
        "    " + json.dumps(f, ensure_ascii=False, default=str, separators=(", ", ": "))
        for f in findings
    )
    return head[:-2] + ',\n  "findings": [\n' + body + "\n  ]\n}\n"
