"""The ``tessera-app`` command: run the service and manage it.

    tessera-app serve [--no-worker] [--host H] [--port P]   migrate, then serve the API (uvicorn)
                                                            with one worker process beside it
    tessera-app worker                                      run a worker (several may run)
    tessera-app migrate [--revision REV]                    migrate the database (default: head)
    tessera-app keys create --name N --scopes admin --owner WHO [--expires-in-days D]
    tessera-app keys create --name N --scopes write --team TEAM   a key that acts for one team
    tessera-app keys list | keys revoke ID

Settings come from the environment (``TESSERA_*``, see ``settings.py``). ``serve`` stops
cleanly on SIGTERM or SIGINT: the server drains, the worker finishes its current job.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import signal
import subprocess
import sys
from collections.abc import Sequence
from datetime import timedelta
from types import FrameType

from pydantic import ValidationError

from .settings import Settings, describe

log = logging.getLogger("tessera_app")
WORKER_STOP_SECONDS = 60  # how long `serve` waits for its worker to finish the current job


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tessera-app", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate, then serve the API and one worker")
    serve.add_argument("--host", help="default: TESSERA_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: TESSERA_PORT or 8000")
    serve.add_argument("--no-worker", action="store_true", help="serve the API only")
    serve.add_argument("--no-migrate", action="store_true", help="do not migrate first")

    commands.add_parser("worker", help="run a worker until SIGTERM/SIGINT")

    migrate = commands.add_parser("migrate", help="migrate the database")
    migrate.add_argument("--revision", default="head")

    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(
        dest="keys_command", required=True
    )
    create = keys.add_parser(
        "create",
        help="create a key and print it (once)",
        description="Create an API key and print it once. A write key acts for one registry "
        "team (--team, known to the mirror); an admin key acts for any team and is recorded "
        "as its owner (--owner); a read key only reads (--owner optional).",
    )
    create.add_argument("--name", required=True)
    create.add_argument(
        "--scopes",
        required=True,
        help="comma-separated: read, write, admin (admin implies write implies read)",
    )
    create.add_argument("--team", help="write keys: the registry team the key acts for")
    create.add_argument(
        "--owner", help="admin keys: the person or system its decisions are recorded as"
    )
    create.add_argument("--expires-in-days", type=float, help="default: never expires")
    keys.add_parser("list", help="list the keys with their principal (never their secrets)")
    revoke = keys.add_parser("revoke", help="revoke a key")
    revoke.add_argument("id", type=int)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as err:
        print(f"tessera-app: invalid settings: {describe(err)}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "serve":
        return serve(settings, args)
    if args.command == "worker":
        return worker(settings)
    if args.command == "migrate":
        from .migrations import upgrade

        upgrade(settings.database_url, args.revision)
        return 0
    return keys(settings, args)


def worker(settings: Settings) -> int:
    from .db.base import make_engine, session_factory
    from .worker import Worker

    engine = make_engine(settings.database_url)
    try:
        runner = Worker(session_factory(engine), settings)
        runner.install_signal_handlers()
        runner.run()
    finally:
        engine.dispose()
    return 0


def serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from .migrations import upgrade
    from .web import create_app

    if not args.no_migrate:
        upgrade(settings.database_url)
    child: subprocess.Popen[bytes] | None = None
    if not args.no_worker:
        # Same process group: a terminal's Ctrl-C reaches both; a signal to this process
        # alone is forwarded below.
        child = subprocess.Popen([sys.executable, "-m", "tessera_app.cli", "worker"])

    def forward(signum: int, _frame: FrameType | None) -> None:
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    # uvicorn handles SIGTERM/SIGINT while it runs, then re-raises the signal to the handlers
    # it found: these, which pass it on to the worker instead of killing this process.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    try:
        uvicorn.run(
            create_app(settings),
            host=args.host or settings.host,
            port=args.port or settings.port,
            log_level="info",
            proxy_headers=False,  # X-Forwarded-For only from TESSERA_TRUSTED_PROXIES (web.py)
        )
    finally:
        if child is not None:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
            try:
                child.wait(WORKER_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                log.error("the worker did not stop within %ss: killing it", WORKER_STOP_SECONDS)
                child.kill()
                child.wait()
    if child is not None and child.returncode not in (0, -signal.SIGTERM, -signal.SIGINT):
        log.error("the worker exited with %s", child.returncode)
        return 1
    return 0


def keys(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from .api.keys import KeyInfo, created_details, revoked_details
    from .audit import record
    from .auth import create_key
    from .db.auth_models import ApiKey
    from .db.base import make_engine, session_factory, transaction, utcnow

    actor = f"cli:{getpass.getuser()}"
    engine = make_engine(settings.database_url)
    try:
        with transaction(session_factory(engine)) as session:
            if args.keys_command == "create":
                scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
                try:
                    expires = (
                        utcnow() + timedelta(days=args.expires_in_days)
                        if args.expires_in_days is not None
                        else None
                    )
                except OverflowError:
                    print("tessera-app: --expires-in-days is out of range", file=sys.stderr)
                    return 2
                try:
                    secret, row = create_key(
                        session,
                        args.name,
                        scopes,
                        expires,
                        team=args.team,
                        owner=args.owner,
                        pepper=settings.secret_key,
                    )
                except ValueError as err:
                    print(f"tessera-app: {err}", file=sys.stderr)
                    return 2
                record(
                    session,
                    action="api_key.created",
                    actor=actor,
                    subject=f"api-key:{row.id}",
                    details=created_details(row),
                )
                print(secret)
                info = KeyInfo.of(row, utcnow())
                print(
                    f"created key {row.id} {row.name!r} ({', '.join(row.scopes)}; "
                    f"{info.principal}); store it now: it is not shown again",
                    file=sys.stderr,
                )
            elif args.keys_command == "list":
                now = utcnow()
                for row in session.scalars(select(ApiKey).order_by(ApiKey.id)):
                    info = KeyInfo.of(row, now)
                    state = "revoked" if row.revoked_at else "active" if info.active else "expired"
                    print(
                        f"{row.id}\t{row.prefix}…\t{row.name}\t{','.join(row.scopes)}"
                        f"\t{info.principal}\t{state}"
                    )
            else:
                found = session.get(ApiKey, args.id)
                if found is None:
                    print(f"tessera-app: no API key with id {args.id}", file=sys.stderr)
                    return 1
                if found.revoked_at is None:
                    found.revoked_at = utcnow()
                    record(
                        session,
                        action="api_key.revoked",
                        actor=actor,
                        subject=f"api-key:{found.id}",
                        details=revoked_details(found),
                    )
                print(f"revoked key {found.id} {found.name!r}", file=sys.stderr)
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
