"""Renderers: a ``DiffResult`` as text for a terminal, JSON, Markdown for a pull-request
comment, SARIF for code-scanning tools, or GitHub workflow commands (annotations)."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import UsageError
from ..model import DiffResult

OUTPUTS = ("text", "json", "markdown", "sarif", "github")

Renderer = Callable[[DiffResult, bool], str]


def render(result: DiffResult, output: str, *, color: bool = False) -> str:
    """``result`` in the ``output`` format. ``color`` only affects ``text``."""
    return _renderer(output)(result, color)


def _renderer(output: str) -> Renderer:
    if output == "text":
        from .text import render_text

        return render_text
    if output == "json":
        from .json import render_json

        return render_json
    if output == "markdown":
        from .markdown import render_markdown

        return render_markdown
    if output == "sarif":
        from .sarif import render_sarif

        return render_sarif
    if output == "github":
        from .github import render_github

        return render_github
    raise UsageError(f"unknown output {output!r} (choose from {', '.join(OUTPUTS)})")
