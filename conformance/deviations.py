"""The documented deviations (deviations.yaml): case id -> reason, per corpus."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml_rs


@cache
def _all() -> dict[str, dict[str, str]]:
    """``deviations.yaml`` and ``deviations-<corpus>.yaml``, merged."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted(Path(__file__).parent.glob("deviations*.yaml")):
        data = yaml_rs.loads(path.read_text(encoding="utf-8"), parse_datetime=False) or {}
        for corpus, cases in data.items():
            found.setdefault(corpus, {}).update(cases or {})
    return found


def deviations(corpus: str) -> dict[str, str]:
    return _all().get(corpus, {})


def all_deviations() -> dict[str, dict[str, str]]:
    return _all()
