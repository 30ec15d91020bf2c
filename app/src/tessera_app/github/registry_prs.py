"""Pull requests on the registry repository: validate the declarations; mirror on merge.

    on_registry_pull_request(session, gh, event, settings)   opened / synchronize / reopened
    validate_pull_request(session, gh, repo, number, settings)
                                       the check run ``tessera/registry`` at the head commit:
                                       the engine's ``registry.validate``, every problem an
                                       annotation at file:line
    on_registry_merged(session, gh, event, settings)         a pull request merged into the
                                                             registry branch: the mirror
                                                             follows the branch's head
    resync_from(session, gh, settings, ref)                  the mirror made to follow the
                                                             registry at commit ``ref``, unless
                                                             it is not a descendant of the
                                                             commit applied last (refused and
                                                             reported) or is invalid

The registry's files are fetched through the gateway (``tessera.yaml``, ``teams/``,
``contracts/`` with the published versions, ``consumers/``) into a temporary directory, so the
engine judges exactly what ``tessera registry validate`` would on a checkout.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from tessera_engine.documents.loader import FileSource
from tessera_engine.errors import InputError
from tessera_engine.registry.problems import Problem
from tessera_engine.registry.validate import validate

from .. import mirror, mirror_findings, mirror_syncs
from ..db.mirror_models import MirrorFinding
from ..mirror_findings import INVALID_REGISTRY, NOT_DESCENDANT, REFUSAL_KINDS, Finding
from ..settings import Settings
from . import checks, render
from .gateway import Annotation, Installation
from .payloads import PullRequestEvent
from .registry_history import MAX_COMMITS, Descent, descends

log = logging.getLogger(__name__)

CHECK_NAME = "tessera/registry"
ACTIONS = frozenset({"opened", "synchronize", "reopened", "edited"})
SETTINGS_FILE = "tessera.yaml"
FOLDERS = ("teams", "contracts", "consumers")
MAX_ANNOTATIONS = 1000  # more problems than this are only counted in the summary
COMMIT_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class RegistryMoved(RuntimeError):
    """Another resync applied a registry commit while this one read GitHub: the job is retried
    (and then checks the new head against what was applied meanwhile)."""


class RootedSource(FileSource):
    """Files on disk, named relative to the registry root (as in the repository), and read
    only under it: the folder holds a pull request's registry, and a ``$ref`` or a path in it
    must not reach the worker's other files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        super().__init__(root)

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
    changed = set(gh.pull_request_files(repo, number))
    problems = sorted([*result.problems, *published_by_hand(gh, repo, pr.base_sha, files, changed)])
    notes = list(result.notes)
    output = render.registry_validation(
        render.RegistryValidationView(
            problems=[render.Problem(p.file, p.line, p.message) for p in problems],
            checked=dict(result.counts),
            notes=[render.Problem(p.file, p.line, p.message) for p in notes],
        )
    )
    annotations = [_annotation(p, "failure") for p in problems[:MAX_ANNOTATIONS]]
    # the notes are all in the summary; on the lines only in the files the pull request changes
    touched = [p for p in notes if p.file in changed]
    annotations += [_annotation(p, "warning") for p in touched[: MAX_ANNOTATIONS // 2]]
    checks.upsert(
        session,
        gh,
        repo,
        pr.head_sha,
        CHECK_NAME,
        "failure" if problems else "success",
        output,
        annotations,
    )
    return problems


VERSION_FILE = re.compile(r"^contracts/[^/]+/versions/[^/]+\.json$")


def published_by_hand(
    gh: Installation, repo: str, base_sha: str, head: Mapping[str, str], changed: set[str]
) -> list[Problem]:
    """The published versions a registry pull request adds, rewrites or removes: versions are
    written by the App when a producer's change merges (after the teams it breaks have
    acknowledged), and a published version is never rewritten or removed."""
    found = []
    for path in sorted(p for p in changed if VERSION_FILE.match(p)):
        before = gh.read_file(repo, path, base_sha)
        after = head.get(path)
        if before is None and after is not None:
            why = (
                "adds a published version by hand: versions are published by the Tessera App "
                "when a producer's pull request merges, after the teams it breaks acknowledge"
            )
        elif before is not None and after is None:
            why = "removes a published version: what was published stays published"
        elif before is not None and after != before:
            why = "rewrites a published version: what was published is never changed"
        else:
            continue
        found.append(Problem(path, 1, 1, f"this pull request {why}"))
    return found


def _annotation(problem: Problem, level: str) -> Annotation:
    return Annotation(
        path=problem.file,
        start_line=problem.line,
        end_line=problem.line,
        level=level,
        message=problem.message,
        title="registry declaration" if level == "failure" else "registry declaration: a note",
    )


def on_registry_merged(
    session: Session, gh: Installation, event: PullRequestEvent, settings: Settings
) -> mirror.ResyncReport | None:
    """A registry pull request merged into the registry branch: the mirror follows the branch's
    head (re-read from GitHub: events arrive late and out of order, and the head holds every
    merge so far). A merge into another branch is not the registry's: nothing happens."""
    repo = event.repository.full_name
    pr = gh.pull_request(repo, event.pull_request.number)
    if not pr.merged or not pr.merge_commit_sha or pr.base_ref != settings.registry_branch:
        return None
    head = gh.branch_head(repo, settings.registry_branch)
    if head is None:
        return None
    return resync_from(session, gh, settings, head, repo=repo)


def resync_from(
    session: Session,
    gh: Installation,
    settings: Settings,
    ref: str,
    *,
    repo: str | None = None,
) -> mirror.ResyncReport | None:
    """Make the mirror follow the registry repository at commit ``ref`` (a branch name is
    resolved to its head). The source is ``github:<repo>@<TESSERA_REGISTRY_BRANCH>``.

    None when nothing was applied: ``ref`` is the commit applied last (and nothing was
    published since, so there is nothing to confirm); ``ref`` is not a descendant of the
    commit applied last (refused: a ``not-descendant`` finding, the mirror never follows the
    registry back in time); the registry at ``ref`` is invalid (an ``invalid-registry``
    finding). Findings are logged, audited once and listed by ``GET /readyz``."""
    repo = repo or settings.registry_repo
    if not repo:
        return None
    commit = ref if COMMIT_SHA.fullmatch(ref) else gh.branch_head(repo, ref)
    if commit is None:
        return None
    source = mirror_syncs.github_source(repo, settings.registry_branch)
    actor = f"github:{repo}@{commit[:12]}"
    last = mirror_syncs.last_applied(session, source)
    applied = last.commit if last is not None else None
    if last is not None and applied == commit and not last.published_since:
        mirror_syncs.record_checked(session, source)
        mirror_findings.settle(
            session, (), kinds=REFUSAL_KINDS, source=source, actor=actor, per_source=True
        )
        return None
    if _refused_already(session, source, commit):
        mirror_syncs.record_checked(session, source)  # reported when it was refused: unchanged
        return None
    if applied is not None and applied != commit:
        descent = descends(gh, repo, commit, applied)
        if descent is not Descent.YES:
            _refuse(session, source, actor, _not_descendant(source, commit, applied, descent))
            return None
    files = fetch(gh, repo, commit)
    now = mirror_syncs.last_applied(session, source, lock=True)
    if (now.commit if now is not None else None) != applied:
        raise RegistryMoved(f"{source} was resynced meanwhile: judged again")
    with tempfile.TemporaryDirectory(prefix=f"tessera-registry-{commit[:12]}-") as tmp:
        root = write_tree(Path(tmp), files)
        try:
            with session.begin_nested():
                return mirror.resync(session, root, actor=actor, source=source, commit=commit)
        except InputError as err:
            error = _relative(err, root)
            invalid = Finding(
                kind=INVALID_REGISTRY,
                subject=_refusal_subject(source, commit),
                message=f"{source} at {commit[:12]} is not a valid registry, not applied: {error}",
                details={"commit": commit, "error": error},
            )
            _refuse(session, source, actor, invalid)
            return None


def _not_descendant(source: str, commit: str, applied: str, descent: Descent) -> Finding:
    why = (
        f"could not be traced back to it within {MAX_COMMITS} commits"
        if descent is Descent.UNKNOWN
        else "is not a descendant of it (a force-push or a reset?)"
    )
    return Finding(
        kind=NOT_DESCENDANT,
        subject=_refusal_subject(source, commit),
        message=f"{source} is at {commit[:12]}, which {why}: the mirror applied "
        f"{applied[:12]} and keeps it; {commit[:12]} is not applied",
        details={"commit": commit, "applied": applied, "descent": descent.value},
    )


def _refused_already(session: Session, source: str, commit: str) -> bool:
    """``commit`` was refused before for good (invalid, or not a descendant: the mirror only
    moves forward, so it never becomes one): no need to read it from GitHub again."""
    found = session.scalars(
        select(MirrorFinding).where(
            MirrorFinding.subject == _refusal_subject(source, commit),
            MirrorFinding.kind.in_(REFUSAL_KINDS),
        )
    ).one_or_none()
    return found is not None and found.details.get("descent") != Descent.UNKNOWN.value


def _refusal_subject(source: str, commit: str) -> str:
    return f"registry:{source}#{commit[:12]}"


def _refuse(session: Session, source: str, actor: str, finding: Finding) -> None:
    mirror_syncs.record_checked(session, source)
    mirror_findings.settle(
        session, [finding], kinds=REFUSAL_KINDS, source=source, actor=actor, per_source=True
    )


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
