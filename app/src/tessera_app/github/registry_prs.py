"""Pull requests on the registry repository: validate the declarations; mirror on merge.

    on_registry_pull_request(session, gh, event, settings)   opened / synchronize / reopened
    validate_pull_request(session, gh, repo, number, settings)
                                       the check run ``tessera/registry`` at the head commit:
                                       the engine's ``registry.validate``, every problem an
                                       annotation at file:line
    on_registry_merged(session, gh, event, settings)         a merged registry pull request
    resync_from(session, gh, settings, ref)                  the mirror made to match the
                                                             registry at ``ref``

The registry's files are fetched through the gateway (``tessera.yaml``, ``teams/``,
``contracts/`` with the published versions, ``consumers/``) into a temporary directory, so the
engine judges exactly what ``tessera registry validate`` would on a checkout.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy.orm import Session

from tessera_engine.documents.loader import FileSource
from tessera_engine.errors import InputError
from tessera_engine.registry.problems import Problem
from tessera_engine.registry.validate import validate

from .. import audit, mirror
from ..settings import Settings
from . import checks, render
from .gateway import Annotation, Installation
from .payloads import PullRequestEvent

log = logging.getLogger(__name__)

CHECK_NAME = "tessera/registry"
ACTIONS = frozenset({"opened", "synchronize", "reopened", "edited"})
SETTINGS_FILE = "tessera.yaml"
FOLDERS = ("teams", "contracts", "consumers")
MAX_ANNOTATIONS = 1000  # more problems than this are only counted in the summary


class RootedSource(FileSource):
    """Files on disk, named relative to the registry root (as in the repository)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def display(self, path: str) -> str:
        try:
            return Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path


def on_registry_pull_request(
    session: Session, gh: Installation, event: PullRequestEvent, settings: Settings
) -> None:
    if event.action in ACTIONS:
        repo, number = event.repository.full_name, event.pull_request.number
        validate_pull_request(session, gh, repo, number, settings)


def validate_pull_request(
    session: Session, gh: Installation, repo: str, number: int, settings: Settings
) -> list[Problem]:
    """Validate the registry at the pull request's head; post ``tessera/registry``."""
    pr = gh.pull_request(repo, number)
    if pr.state != "open":
        return []
    files = fetch(gh, repo, pr.head_sha)
    with tempfile.TemporaryDirectory(prefix="tessera-registry-") as tmp:
        root = write_tree(Path(tmp), files)
        result = validate(root, RootedSource(root))
    problems = list(result.problems)
    output = render.registry_validation(
        render.RegistryValidationView(
            problems=[render.Problem(p.file, p.line, p.message) for p in problems],
            checked=dict(result.counts),
        )
    )
    checks.upsert(
        session,
        gh,
        repo,
        pr.head_sha,
        CHECK_NAME,
        "success" if result.valid else "failure",
        output,
        [_annotation(p) for p in problems[:MAX_ANNOTATIONS]],
    )
    return problems


def _annotation(problem: Problem) -> Annotation:
    return Annotation(
        path=problem.file,
        start_line=problem.line,
        end_line=problem.line,
        level="failure",
        message=problem.message,
        title="registry declaration",
    )


def on_registry_merged(
    session: Session, gh: Installation, event: PullRequestEvent, settings: Settings
) -> mirror.ResyncReport | None:
    """A registry pull request merged: the mirror follows the registry at the merge commit
    (re-read from GitHub: the event may be late or out of order)."""
    repo = event.repository.full_name
    pr = gh.pull_request(repo, event.pull_request.number)
    if not pr.merged or not pr.merge_commit_sha:
        return None
    return resync_from(session, gh, settings, pr.merge_commit_sha, repo=repo)


def resync_from(
    session: Session,
    gh: Installation,
    settings: Settings,
    ref: str,
    *,
    repo: str | None = None,
) -> mirror.ResyncReport | None:
    """Make the mirror match the registry repository at ``ref``. An invalid registry changes
    nothing: the failure is recorded in the audit log and None returned."""
    repo = repo or settings.registry_repo
    if not repo:
        return None
    files = fetch(gh, repo, ref)
    with tempfile.TemporaryDirectory(prefix=f"tessera-registry-{ref[:12]}-") as tmp:
        root = write_tree(Path(tmp), files)
        try:
            with session.begin_nested():
                return mirror.resync(session, root, actor=f"github:{repo}@{ref[:12]}")
        except InputError as err:
            detail: dict[str, Any] = {"repo": repo, "ref": ref, "error": _relative(err, root)}
            log.warning("registry %s at %s is invalid: %s", repo, ref, detail["error"])
            audit.record(
                session,
                action="registry.resync_refused",
                actor="tessera",
                subject=f"registry:{repo}",
                details=detail,
            )
            return None


def _relative(err: InputError, root: Path) -> str:
    return str(err).replace(str(root) + "/", "").replace(str(root.resolve()) + "/", "")


def fetch(gh: Installation, repo: str, ref: str) -> dict[str, str]:
    """The registry's declaration and version files at ``ref`` (path -> text)."""
    files: dict[str, str] = {}
    settings_text = gh.read_file(repo, SETTINGS_FILE, ref)
    if settings_text is not None:
        files[SETTINGS_FILE] = settings_text
    for folder in FOLDERS:
        files.update(gh.list_files(repo, ref, folder))
    return files


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``files`` under ``root``; a path that would leave it is refused."""
    for name, text in files.items():
        relative = PurePosixPath(name.lstrip("/"))
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ValueError(f"refusing a registry path outside the repository: {name!r}")
        target = root.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root
