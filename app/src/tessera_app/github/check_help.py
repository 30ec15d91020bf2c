"""``GET /checks/help``: the page a Tessera check run links to when it has no proposal issue
(its ``details_url``, with ``TESSERA_PUBLIC_URL``). It explains what each conclusion of a
``tessera/<contract>`` check means and what to do about it, who may use which command, and is
rendered from a local template (``templates/check_help.html.j2``): no script, no asset, no
request to anywhere else."""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ..settings import Settings
from .commands import HELP
from .links import CHECK_HELP_PATH

router = APIRouter(tags=["github"])


@router.get(CHECK_HELP_PATH, response_class=HTMLResponse)
def check_help(request: Request) -> HTMLResponse:
    """What Tessera's check run conclusions mean, and what to do about each."""
    settings: Settings = request.app.state.settings
    page = (
        _environment()
        .get_template("check_help.html.j2")
        .render(
            help=HELP,
            admin_team=settings.github_admin_team,
            registry=settings.registry_repo,
        )
    )
    return HTMLResponse(page, headers={"Cache-Control": "public, max-age=300"})


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("tessera_app.github", "templates"),
        autoescape=select_autoescape(["html.j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
