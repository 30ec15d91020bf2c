"""``tessera audit verify``: walk the audit chain in the service's database.

The engine's ``tessera`` command finds this module through the ``tessera.commands`` entry
point group (registered in ``app/pyproject.toml``), so the subcommand exists exactly when the
app is installed; the engine never imports the app. ``main()`` runs it on its own too.

Exit status: 0 intact, 1 broken (the first bad sequence number is printed), 2 error (no
database, bad arguments).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

EXIT_OK, EXIT_BROKEN, EXIT_ERROR = 0, 1, 2
EPILOG = """\
examples:
  TESSERA_DATABASE_URL=postgresql://tessera@db/tessera tessera audit verify
  tessera audit verify --database-url sqlite:///tessera.db --output json

exit status: 0 intact, 1 broken (a changed, removed or reordered row), 2 error
"""


def add_parser(commands: Any) -> None:
    """Add ``audit`` (with ``verify``) to the ``tessera`` subcommands."""
    parser = commands.add_parser(
        "audit",
        help="check the service's hash-chained audit log",
        description="The Tessera service's audit log: every state change, API write and force "
        "action, each row chained to the previous one by its SHA-256.",
    )
    actions = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify",
        help="detect a changed, removed or reordered row",
        description="Walk the audit chain in the database and report the first row that was "
        "changed, removed or reordered.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument(
        "--database-url",
        metavar="URL",
        help="the service's database (default: TESSERA_DATABASE_URL, else the service default)",
    )
    verify.add_argument("--output", "-o", choices=("text", "json"), default="text")
    verify.set_defaults(run=run)


def run(args: argparse.Namespace, stdout: TextIO) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from .audit import verify
    from .db.base import make_engine, session_factory
    from .settings import Settings

    url = args.database_url or Settings().database_url
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            report = verify(session)
    except SQLAlchemyError as err:
        reason = str(getattr(err, "orig", None) or err).splitlines()[0]
        where = _safe(url)
        print(f"tessera: error: cannot read the audit log at {where}: {reason}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        engine.dispose()
    if args.output == "json":
        stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    elif report.ok:
        stdout.write(f"audit log intact: {report.checked} events, head {report.head}\n")
    else:
        stdout.write(
            f"audit log broken at event {report.first_bad_seq}: {report.problem} "
            f"({report.checked} events before it are intact)\n"
        )
    return EXIT_OK if report.ok else EXIT_BROKEN


def _safe(url: str) -> str:
    """``url`` without a password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: say so without echoing it
        return "the given URL"


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    """``python -m tessera_app.cli_audit verify`` without the engine's CLI."""
    parser = argparse.ArgumentParser(prog="tessera")
    add_parser(parser.add_subparsers(dest="command", required=True))
    try:
        args = parser.parse_args(["audit", *(argv if argv is not None else sys.argv[1:])])
    except SystemExit as exit_:
        return EXIT_ERROR if exit_.code not in (0, None) else EXIT_OK
    try:
        code: int = args.run(args, stdout or sys.stdout)
    except Exception as err:  # a bad URL, a missing driver: one line, exit 2
        print(f"tessera: error: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_ERROR
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
