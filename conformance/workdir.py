"""Writing case schemas to a temporary directory so the engine reads them as files."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any


class Scratch:
    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="tessera-conformance-")
        self.path = Path(self._dir.name)
        self._count = 0

    def write(self, value: Any, name: str) -> str:
        self._count += 1
        target = self.path / f"{self._count:05d}-{name}.json"
        target.write_text(json.dumps(value), encoding="utf-8")
        return str(target)

    def close(self) -> None:
        self._dir.cleanup()
