"""Open proposals, from the registry checkout or from the Tessera service's API.

In a registry checkout, ``proposals/<number>.json`` holds one proposal with the spec files it
proposes, so the action can diff it against the active version and name each change that
meets a consumer's usage::

    {"id": 12, "contract": "orders-api", "state": "open", "pull_request": 34,
     "proposed_version": "2.0.0", "files": {"api/openapi.yaml": "openapi: 3.0.3 ..."}}

From the API (``GET /api/v1/proposals?state=open&contract=ID``) a proposal carries no spec,
only the teams that must acknowledge (``required``: team -> fingerprints) and the informed
ones, so the check names the proposal and the team, not the element.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import InputError, UsageError
from ..registry.model import PublishedVersion

PROPOSALS_DIR = "proposals"
TIMEOUT = 20.0


@dataclass(frozen=True)
class OpenProposal:
    id: int
    contract: str
    pull_request: int | None = None
    proposed_version: str | None = None
    files: dict[str, str] | None = None  # the proposed spec (registry checkout only)
    required: dict[str, list[str]] = field(default_factory=dict)  # team -> fingerprints
    informed: tuple[str, ...] = ()
    origin: str = ""

    def as_version(self, format_name: str) -> PublishedVersion:
        """The proposed files as a version, for ``VersionSource``."""
        return PublishedVersion(
            contract=self.contract,
            version=self.proposed_version or f"proposal-{self.id}",
            format=format_name,
            repo="",
            paths=tuple(sorted(self.files or {})),
            commit="",
            published_at="",
            files=MappingProxyType(dict(self.files or {})),
        )


def from_registry(root: str | Path, contract: str) -> list[OpenProposal]:
    """The open proposals on ``contract`` kept in the registry checkout, by id."""
    folder = Path(root) / PROPOSALS_DIR
    found: list[OpenProposal] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise InputError(f"unreadable proposal: {err}", file=str(path)) from None
        proposal = _proposal(data, str(path))
        if proposal.contract == contract and data.get("state", "open") == "open":
            found.append(proposal)
    return sorted(found, key=lambda p: p.id)


def from_api(api_url: str, contract: str, token: str = "") -> list[OpenProposal]:
    """The open proposals on ``contract`` from the service's API (every page)."""
    found: list[OpenProposal] = []
    offset = 0
    while True:
        query = urllib.parse.urlencode(
            {"state": "open", "contract": contract, "limit": 500, "offset": offset}
        )
        url = f"{api_url.rstrip('/')}/api/v1/proposals?{query}"
        page = _get(url, token)
        items = page.get("items", [])
        found += [_proposal(item, url) for item in items]
        offset += len(items)
        if not items or offset >= int(page.get("total", 0)):
            return sorted(found, key=lambda p: p.id)


def _get(url: str, token: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            data = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot read open proposals from {url}: {err}") from None
    if not isinstance(data, dict):
        raise UsageError(f"unexpected answer from {url}: not a JSON object")
    return data


def _proposal(data: Any, where: str) -> OpenProposal:
    try:
        files = data.get("files")
        return OpenProposal(
            id=int(data["id"]),
            contract=str(data["contract"]),
            pull_request=data.get("pull_request"),
            proposed_version=data.get("proposed_version"),
            files={str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else None,
            required={str(k): list(v) for k, v in (data.get("required") or {}).items()},
            informed=tuple(data.get("informed") or ()),
            origin=where,
        )
    except (AttributeError, KeyError, TypeError, ValueError) as err:
        raise InputError(f"not a proposal: {err}", file=where) from None
