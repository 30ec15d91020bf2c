"""The links the App's messages carry: GitHub pages (a pull request, an issue, a check run),
built from the API base URL the way GitHub builds its ``html_url`` (``https://api.github.com``
serves ``https://github.com``, GitHub Enterprise Server ``https://HOST/api/v3`` serves
``https://HOST``), and tessera-app's own page that explains the check run conclusions
(``TESSERA_PUBLIC_URL`` + ``/checks/help``; no page without that setting).

A check run's ``details_url`` is the proposal issue when there is one, else the help page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..settings import Settings

if TYPE_CHECKING:
    from .gateway import Installation

CHECK_HELP_PATH = "/checks/help"
ENTERPRISE_API = "/api/v3"


def web_base(api_base: str) -> str:
    """GitHub's web address for its REST API address."""
    base = api_base.rstrip("/")
    if base.endswith(ENTERPRISE_API):
        return base[: -len(ENTERPRISE_API)]
    parts = urlsplit(base)
    host = parts.netloc.removeprefix("api.")
    return f"{parts.scheme}://{host}{parts.path}"


def _web(gh: Installation) -> str:
    return web_base(gh.app.settings.base_url)


def issue_url(gh: Installation, repo: str, number: int) -> str:
    return f"{_web(gh)}/{repo}/issues/{number}"


def pull_request_url(gh: Installation, repo: str, number: int) -> str:
    return f"{_web(gh)}/{repo}/pull/{number}"


def check_run_url(gh: Installation, repo: str, check_run_id: int) -> str:
    return f"{_web(gh)}/{repo}/runs/{check_run_id}"


def check_help_url(settings: Settings | None) -> str | None:
    """The page that explains Tessera's check conclusions, or None when tessera-app's public
    address is not configured."""
    if settings is None or not settings.public_url:
        return None
    return settings.public_url.rstrip("/") + CHECK_HELP_PATH
