"""The container's start-up script: wait for the database, migrate it, then become the service.

    python -m tessera_app.entrypoint                 migrate, then ``tessera-app serve``
    python -m tessera_app.entrypoint worker          migrate, then ``tessera-app worker``
    python -m tessera_app.entrypoint --probe /healthz   exit 0 when the local server answers

The image's ``ENTRYPOINT`` runs this module and its ``HEALTHCHECK`` runs the probe; the tests
run the same commands against SQLite. Migrating is retried while the database does not accept
connections yet (a PostgreSQL container still starting), for ``TESSERA_MIGRATE_WAIT_SECONDS``
(default 60). The script then replaces itself with ``tessera-app`` (``exec``), so the signals the
container runtime sends (SIGTERM on stop) reach the service, which drains its requests and lets
its worker finish the current job.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence

from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from .settings import Settings, describe

log = logging.getLogger("tessera_app.entrypoint")
WAIT_VARIABLE = "TESSERA_MIGRATE_WAIT_SECONDS"
DEFAULT_WAIT_SECONDS = 60.0


def migrate(
    database_url: str,
    wait_seconds: float,
    upgrade: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Migrate to the newest revision, retrying while the database is unreachable."""
    if upgrade is None:
        from .migrations import upgrade as upgrade_to_head

        upgrade = upgrade_to_head
    deadline = time.monotonic() + wait_seconds
    delay = 0.5
    while True:
        try:
            upgrade(database_url)
            return
        except OperationalError as err:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("database not reachable yet (%s); retrying in %.1fs", err.orig, delay)
            sleep(delay)
            delay = min(delay * 2, 5.0)


def probe(settings: Settings, path: str, timeout: float = 3.0) -> int:
    """0 when ``http://127.0.0.1:PORT{path}`` answers 200, else 1 (the image's healthcheck)."""
    url = f"http://127.0.0.1:{settings.port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as err:
        print(f"tessera-app: {url}: {err}", file=sys.stderr)
        return 1


def command(args: Sequence[str]) -> list[str]:
    """The ``tessera-app`` command line to become: ``serve`` (already migrated) by default."""
    rest = list(args) or ["serve"]
    if rest[0] == "serve" and "--no-migrate" not in rest:
        rest.append("--no-migrate")
    return [sys.executable, "-m", "tessera_app.cli", *rest]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings()
        wait = float(os.environ.get(WAIT_VARIABLE, DEFAULT_WAIT_SECONDS))
    except (ValidationError, ValueError) as err:
        problem = describe(err) if isinstance(err, ValidationError) else f"{WAIT_VARIABLE}: {err}"
        print(f"tessera-app: invalid settings: {problem}", file=sys.stderr)
        return 2
    if args[:1] == ["--probe"]:
        return probe(settings, args[1] if len(args) > 1 else "/healthz")
    try:
        migrate(settings.database_url, wait)
    except OperationalError as err:
        print(f"tessera-app: database unreachable after {wait:g}s: {err.orig}", file=sys.stderr)
        return 1
    log.info("migrated; starting %s", " ".join(command(args)[3:]))
    sys.stdout.flush()
    sys.stderr.flush()
    argv_exec = command(args)
    os.execv(argv_exec[0], argv_exec)


if __name__ == "__main__":
    sys.exit(main())
