"""Renderers: a ``DiffResult`` as text for a terminal, JSON, Markdown for a pull-request
comment, SARIF for code-scanning tools, or GitHub workflow commands (annotations)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from ..errors import UsageError
from ..model import DiffResult

OUTPUTS = ("text", "json", "markdown", "sarif", "github")

Renderer = Callable[[DiffResult, bool], str]
_RECURSION_LIMIT = 20_000  # engine.RECURSION_LIMIT (not imported: the CLI starts faster)


def render(result: DiffResult, output: str, *, color: bool = False) -> str:
    """``result`` in the ``output`` format. ``color`` only affects ``text``.

    Findings carry values from the documents (an enum member, a const), nested as deep as a
    document may be (``limits.MAX_NESTING``): deeper than the interpreter's default recursion
    limit lets the JSON encoder go. Rendering runs under the raised limit the diff runs under
    (``engine.RECURSION_LIMIT``), restored afterwards."""
    renderer = _renderer(output)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _RECURSION_LIMIT))
    try:
        return renderer(result, color)
    finally:
        sys.setrecursionlimit(limit)


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
