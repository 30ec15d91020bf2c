"""One JSON object: ``{"verdict", "bump", "findings": [...], ...}`` (the CLI contract)."""

from __future__ import annotations

import json

from ..model import DiffResult


def render_json(result: DiffResult, color: bool = False) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
