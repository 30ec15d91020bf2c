"""An ``ImpactResult`` as one JSON object (``ImpactResult.to_dict``), indented."""

from __future__ import annotations

import json

from ..registry.impact_result import ImpactResult


def render_impact_json(result: ImpactResult) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
