"""Registries for tests: the template, copied, with some files changed."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "registry-template"


def registry(tmp_path: Path, files: dict[str, str | None] | None = None) -> Path:
    """A copy of the template under ``tmp_path`` with ``files`` written (None deletes)."""
    root = tmp_path / "registry"
    shutil.copytree(TEMPLATE, root)
    for name, text in (files or {}).items():
        path = root / name
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
