"""Confluent Schema Registry's Protobuf cases: BACKWARD verdicts. Target: at least 95%
agreement. Tessera runs with ``--mode backward --proto-level wire``: every message is judged
as an input (the new schema reads data written with the old one), and only changes that
break the binary encoding are breaking."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from tessera_engine import DiffOptions, Mode, TesseraError, diff

from .deviations import deviations
from .report import Score

TARGET = 0.95
OPTIONS = DiffOptions(format="protobuf", mode=Mode.BACKWARD, proto_level="wire")
METHOD = (
    "- **Confluent Protobuf** (`confluent_protobuf.py`): the 55 Protobuf cases of Schema "
    "Registry's `SchemaDiff` tests. Each version is written as a module (the schema as "
    "`schema.proto` plus its inline or bundled dependencies) and compared with "
    "`--mode backward --proto-level wire`; a case agrees when Tessera reports no breaking "
    "finding exactly when Confluent calls the update BACKWARD compatible."
)


def run(root: Path) -> list[Score]:
    folder = root / "confluent-schema-registry" / "protobuf"
    score = Score("Confluent Protobuf (BACKWARD, --proto-level wire)", TARGET)
    documented = deviations("confluent-protobuf")
    for path in sorted(folder.glob("diff-*.json")):
        for index, case in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            case_id = f"{path.name}#{index}"
            label = f"{case_id} {case['description']}"
            with tempfile.TemporaryDirectory(prefix="tessera-csr-") as scratch:
                old = _write(Path(scratch) / "old", case, "original", folder)
                new = _write(Path(scratch) / "new", case, "update", folder)
                try:
                    result = diff(str(old), str(new), OPTIONS)
                except TesseraError as err:
                    score.count(case_id, False, f"{label}: error {err}", documented)
                    continue
            compatible = not result.breaking
            rules = sorted({f.rule for f in result.findings if f.severity.value == "breaking"})
            detail = (
                f"{label}: expected {'compatible' if case['compatible'] else 'incompatible'}, "
                f"Tessera says {'compatible' if compatible else 'breaking'} {rules}"
            )
            score.count(case_id, compatible == case["compatible"], detail, documented)
    return [score]


def _write(into: Path, case: dict[str, Any], side: str, folder: Path) -> Path:
    """The schema as ``schema.proto`` (or its resource path) plus its dependencies."""
    schema = case[f"{side}_schema"]
    files: dict[str, str] = {}
    resource = folder / "resources" / schema
    if schema.endswith(".proto") and resource.is_file():
        files[schema] = resource.read_text(encoding="utf-8")
    else:
        files["schema.proto"] = schema
    for dependency in case.get(f"{side}_dependencies") or []:
        name = dependency["name"]
        if "dependency" in dependency:
            files[name] = dependency["dependency"]
        elif (folder / "resources" / name).is_file():
            files[name] = (folder / "resources" / name).read_text(encoding="utf-8")
    for name, text in files.items():
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return into
