"""Confluent Schema Registry's JSON Schema cases: BACKWARD verdicts under STRICT (and under
LENIENT where the case states one). Target: at least 97% agreement."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tessera_engine import DiffOptions, TesseraError, diff

from .deviations import deviations
from .report import Score
from .workdir import Scratch

TARGET = 0.97
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def run(root: Path) -> list[Score]:
    folder = root / "confluent-schema-registry" / "json-schema"
    strict = Score("Confluent JSON Schema (BACKWARD, STRICT)", TARGET)
    lenient = Score("Confluent JSON Schema (BACKWARD, LENIENT cases)", TARGET)
    scratch = Scratch()
    try:
        for path in sorted(folder.glob("diff-*.json")):
            text = _TRAILING_COMMA.sub(r"\1", path.read_text(encoding="utf-8"))
            for index, case in enumerate(json.loads(text)):
                old = scratch.write(case["original_schema"], "old")
                new = scratch.write(case["update_schema"], "new")
                case_id = f"{path.name}#{index}"
                label = f"{case_id} {case['description']}"
                _score(strict, case_id, label, old, new, "strict", case["compatible"])
                if "compatible_lenient" in case:
                    _score(lenient, case_id, label, old, new, "lenient", case["compatible_lenient"])
    finally:
        scratch.close()
    return [strict, lenient]


def _score(
    score: Score, case_id: str, label: str, old: str, new: str, policy: str, expected: bool
) -> None:
    try:
        result = diff(old, new, DiffOptions(format="jsonschema", policy=policy))
    except TesseraError as err:
        score.count(case_id, False, f"{label}: error {err}", {})
        return
    compatible = not result.breaking
    rules = ", ".join(sorted({f.rule for f in result.findings if f.severity.value == "breaking"}))
    detail = (
        f"{label}: expected {'compatible' if expected else 'incompatible'}, Tessera says "
        f"{'compatible' if compatible else 'breaking'} ({rules})"
    )
    score.count(case_id, compatible == expected, detail, deviations("confluent-json-schema"))
