"""The documented deviations (deviations.yaml): case id -> reason, per corpus."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml_rs


@cache
def _all() -> dict[str, dict[str, str]]:
    text = (Path(__file__).parent / "deviations.yaml").read_text(encoding="utf-8")
    data = yaml_rs.loads(text, parse_datetime=False)
    return {corpus: dict(cases or {}) for corpus, cases in data.items()}


def deviations(corpus: str) -> dict[str, str]:
    return _all().get(corpus, {})


def all_deviations() -> dict[str, dict[str, str]]:
    return _all()
