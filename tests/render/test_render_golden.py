"""Golden tests: every renderer on every case in ``conftest.CASES``, compared byte for byte with
``golden/<case>.<extension>``.

To accept a deliberate change of output, regenerate the golden files and review the diff:

    TESSERA_REGEN_GOLDEN=1 .venv/bin/pytest tests/render
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tessera_engine import DiffResult
from tessera_engine.render import render

GOLDEN = Path(__file__).parent / "golden"
EXTENSIONS = {"text": "txt", "markdown": "md", "sarif": "sarif", "github": "github"}


@pytest.mark.parametrize("output", list(EXTENSIONS))
def test_output_matches_golden_file(case: tuple[str, DiffResult], output: str) -> None:
    name, result = case
    assert_matches_golden(GOLDEN / f"{name}.{EXTENSIONS[output]}", render(result, output))


def assert_matches_golden(path: Path, actual: str) -> None:
    if os.environ.get("TESSERA_REGEN_GOLDEN") == "1":
        path.write_bytes(actual.encode("utf-8"))
        return
    if not path.exists():
        pytest.fail(f"{path.name} is missing: run with TESSERA_REGEN_GOLDEN=1 to create it")
    assert actual == path.read_bytes().decode("utf-8")
