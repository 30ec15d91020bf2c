"""``tessera audit``: verify the service's audit log, checkpoint it, print its public key.

    tessera audit verify [--registry PATH] [--checkpoints FILE] [--public-key PEM|@FILE]
                         [--trust-development-key]
    tessera audit checkpoint [--file FILE]
    tessera audit public-key

The engine's ``tessera`` command finds this module through the ``tessera.commands`` entry
point group (registered in ``app/pyproject.toml``), so the subcommand exists exactly when the
app is installed; the engine never imports the app. ``main()`` runs it on its own too.

Exit status of ``verify``: 0 everything agrees, 1 broken (the first bad event is printed),
2 error (no database, an unreadable anchor file, no key to trust, bad arguments). A registry
commit with malformed audit trailers is a warning, not an error: anyone who can push to the
registry could otherwise stop every verification.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from .audit_checkpoints import Checkpoint
    from .audit_keys import PublicKey
    from .audit_verify import VerifyReport

EXIT_OK, EXIT_BROKEN, EXIT_ERROR = 0, 1, 2
SHOWN_WARNINGS = 10
"""Warnings printed in the text report (the JSON report has them all)."""
VERIFY_EPILOG = """\
examples:
  TESSERA_DATABASE_URL=postgresql://tessera@db/tessera tessera audit verify
  tessera audit verify --registry ~/src/registry --checkpoints /backup/audit-checkpoints.jsonl
  tessera audit verify --public-key @audit-key.pem --public-key @audit-key-2025.pem -o json

checked: the hash chain (a changed, removed, reordered or inserted row), every row's signature
(a forged row, rows rewritten with recomputed hashes; unsigned rows only as the history that
the audit.signing_started event of the upgrade to signing covers), and each anchor: the
checkpoint in the trailers of every registry commit (--registry) and in checkpoint files
(--checkpoints) must match its row (newest rows removed, or all of them: only the anchors can
tell). A registry commit whose audit trailers are incomplete or malformed is left out with a
warning.

trusted keys: --public-key, else TESSERA_AUDIT_PUBLIC_KEYS and the configured key, but never a
key derived from a placeholder TESSERA_SECRET_KEY (the default "development": anyone can sign
with it) unless --trust-development-key; with no key left to trust, verify exits 2. The report
names the trusted key ids. `tessera audit public-key`, run with the service's settings, prints
the service's public key.

exit status: 0 everything agrees, 1 broken (the first bad event is printed), 2 error
"""
CHECKPOINT_EPILOG = """\
Prints the newest committed signed event as one JSON line and appends it to FILE (default:
TESSERA_AUDIT_CHECKPOINT_FILE) unless the file already ends with it. It only reads the log:
it never appends or signs an event.
"""


class _Failed(Exception):
    """An error already worded for the user (exit 2)."""


def add_parser(commands: Any) -> None:
    """Add ``audit`` (``verify``, ``checkpoint``, ``public-key``) to the ``tessera``
    subcommands."""
    parser = commands.add_parser(
        "audit",
        help="check the service's signed, hash-chained audit log",
        description="The Tessera service's audit log: every state change, API write and force "
        "action, each row chained to the previous one by its SHA-256 and signed with the "
        "service's audit key; its head is anchored outside the database.",
    )
    actions = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify",
        help="check the chain, every signature and the anchors",
        description="Walk the audit log in the database and report the first event that was "
        "changed, removed, reordered, inserted, forged or cut off, or that disagrees with an "
        "anchor kept outside the database.",
        epilog=VERIFY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _database(verify)
    verify.add_argument(
        "--registry",
        metavar="PATH",
        action="append",
        default=[],
        help="a git checkout of the registry repository: the audit trailers of every commit "
        "on any of its refs are anchors (repeatable)",
    )
    verify.add_argument(
        "--checkpoints",
        metavar="FILE",
        action="append",
        default=[],
        help="a JSON-lines file of checkpoints (TESSERA_AUDIT_CHECKPOINT_FILE, or answers of "
        "GET /api/v1/audit/checkpoint): each line is an anchor (repeatable)",
    )
    verify.add_argument(
        "--public-key",
        metavar="PEM|@FILE",
        action="append",
        default=[],
        help="trust this public key (repeatable, e.g. the current and an older one); default: "
        "the configured key (TESSERA_AUDIT_SIGNING_KEY or TESSERA_SECRET_KEY, unless derived "
        "from a placeholder secret) and TESSERA_AUDIT_PUBLIC_KEYS",
    )
    verify.add_argument(
        "--trust-development-key",
        action="store_true",
        help="also trust the key derived from a placeholder TESSERA_SECRET_KEY (the default "
        "'development'), which anyone can derive: only for a development database",
    )
    verify.add_argument("--output", "-o", choices=("text", "json"), default="text")
    verify.set_defaults(run=run)

    checkpoint = actions.add_parser(
        "checkpoint",
        help="print the signed head of the log and append it to a checkpoint file",
        description="Take a checkpoint of the audit log: the newest committed signed event.",
        epilog=CHECKPOINT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _database(checkpoint)
    checkpoint.add_argument(
        "--file", metavar="FILE", help="default: TESSERA_AUDIT_CHECKPOINT_FILE (unset: print only)"
    )
    checkpoint.set_defaults(run=run_checkpoint)

    public_key = actions.add_parser(
        "public-key",
        help="print the public half of the audit signing key",
        description="Print the public key that verifies the audit log's signatures (PEM; its "
        "key id on stderr), from TESSERA_AUDIT_SIGNING_KEY or TESSERA_SECRET_KEY. Keep it with "
        "whoever verifies: it needs no secret.",
    )
    public_key.add_argument("--output", "-o", choices=("text", "json"), default="text")
    public_key.set_defaults(run=run_public_key)


def _database(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="the service's database (default: TESSERA_DATABASE_URL, else the service default)",
    )


def run(args: argparse.Namespace, stdout: TextIO) -> int:
    """``tessera audit verify``."""
    from .audit_verify import verify

    try:
        keys, warnings = _trusted(args.public_key, args.trust_development_key)
        anchors, skipped = _anchors(args.registry, args.checkpoints)
        report = _with_session(args, lambda session: verify(session, keys, anchors))
    except _Failed as err:
        print(f"tessera: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    warnings += skipped
    if args.output == "json":
        data = {**report.to_dict(), "anchors_given": len(anchors), "warnings": warnings}
        stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        stdout.write(_describe(report, len(anchors)) + _warn(warnings))
    return EXIT_OK if report.ok else EXIT_BROKEN


def _describe(report: VerifyReport, given: int) -> str:
    trusted = f"trusted keys: {', '.join(report.trusted_key_ids) or 'none'}"
    if not report.ok:
        return (
            f"audit log broken at event {report.first_bad_seq}: {report.problem} "
            f"({report.checked} events before it are intact)\n{trusted}\n"
        )
    lines = [f"audit log intact: {report.checked} events, head {report.head}"]
    keys = ", ".join(report.key_ids) or "none"
    signed = f"signatures: {report.signed} valid (keys: {keys})"
    if report.unsigned:
        signed += (
            f"; {report.unsigned} events from before signing, covered by the "
            f"audit.signing_started event at event {report.signing_started}"
        )
    lines += [signed, trusted]
    if not given:
        lines.append(
            "anchors: none given (--registry, --checkpoints): the removal of the newest "
            "events, or of all of them, cannot be detected without them"
        )
    else:
        anchors = f"anchors: {report.anchors} of {given} agree"
        if report.newest_anchor is not None:
            anchors += f", the newest at event {report.newest_anchor}"
            newer = report.head_seq - report.newest_anchor
            if newer:
                anchors += f"; {newer} newer events are covered by their signatures only"
        lines.append(anchors)
    return "\n".join(lines) + "\n"


def _warn(warnings: Sequence[str]) -> str:
    """The text report's warning lines: the first ``SHOWN_WARNINGS``, then how many more."""
    lines = [f"warning: {warning}" for warning in warnings[:SHOWN_WARNINGS]]
    if len(warnings) > SHOWN_WARNINGS:
        lines.append(f"warning: … and {len(warnings) - SHOWN_WARNINGS} more (-o json lists all)")
    return "".join(line + "\n" for line in lines)


def _trusted(values: Sequence[str], development: bool) -> tuple[dict[str, PublicKey], list[str]]:
    """The keys to trust (``--public-key``, else the configured ones that are not anybody's)
    and a warning about the key derived from a placeholder secret, when there is one."""
    from pydantic import ValidationError

    from .audit_keys import (
        AuditKeyError,
        auditor_keys,
        derived_from_placeholder,
        public_keys,
        signing_key,
        trusted,
    )
    from .settings import Settings, describe

    try:
        if values:
            return trusted(public_keys(values, "--public-key")), []
        settings = Settings()
        keys = auditor_keys(settings, development)
        if not derived_from_placeholder(settings):
            return keys, []
        key_id = signing_key(settings).key_id
    except AuditKeyError as err:
        raise _Failed(str(err)) from None
    except ValidationError as err:
        raise _Failed(f"invalid settings: {describe(err)}") from None
    if development:
        note = (
            f"key {key_id} is trusted although it is derived from a placeholder "
            "TESSERA_SECRET_KEY (--trust-development-key): anyone can sign with it, so this "
            "says nothing about a log outside development"
        )
    else:
        note = (
            f"key {key_id}, derived from a placeholder TESSERA_SECRET_KEY, is not trusted "
            "(anyone can sign with it; --trust-development-key for a development database)"
        )
    return keys, [note]


def _anchors(registries: Sequence[str], files: Sequence[str]) -> tuple[list[Checkpoint], list[str]]:
    """The checkpoints of the registry checkouts and checkpoint files, and a warning for each
    registry commit whose audit trailers were left out."""
    from .audit_checkpoints import CheckpointError, read_file
    from .audit_trailers import read_registry

    found: list[Checkpoint] = []
    warnings: list[str] = []
    try:
        for path in registries:
            registry = read_registry(path)
            found += registry.checkpoints
            warnings += registry.warnings
        for path in files:
            found += read_file(path)
    except CheckpointError as err:
        raise _Failed(str(err)) from None
    return found, warnings


def _with_session(args: argparse.Namespace, work: Any) -> Any:
    """``work(session)`` on the service's database; ``_Failed`` when it cannot be read."""
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    from .db.base import make_engine, session_factory
    from .settings import Settings, describe

    try:
        url = args.database_url or Settings().database_url
    except ValidationError as err:
        raise _Failed(f"invalid settings: {describe(err)}") from None
    try:
        engine = make_engine(url)
    except (SQLAlchemyError, ValueError) as err:
        raise _Failed(f"cannot open the database at {_safe(url)}: {err}") from None
    try:
        with session_factory(engine)() as session:
            return work(session)
    except SQLAlchemyError as err:
        reason = str(getattr(err, "orig", None) or err).splitlines()[0]
        raise _Failed(f"cannot read the audit log at {_safe(url)}: {reason}") from None
    finally:
        engine.dispose()


def run_checkpoint(args: argparse.Namespace, stdout: TextIO) -> int:
    """``tessera audit checkpoint``."""
    from sqlalchemy.orm import Session

    from . import audit
    from .audit_checkpoints import append, committed_head
    from .settings import Settings

    def take(session: Session) -> tuple[Checkpoint | None, int]:
        return committed_head(session), audit.count(session)

    try:
        checkpoint, events = _with_session(args, take)
    except _Failed as err:
        print(f"tessera: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    if checkpoint is None:
        what = (
            f"has no signed event ({events} events, none signed: `tessera audit verify` "
            "checks them)"
            if events
            else "is empty"
        )
        print(f"tessera: the audit log {what}: nothing to checkpoint", file=sys.stderr)
        return EXIT_OK
    stdout.write(json.dumps(checkpoint.to_dict(), separators=(",", ":")) + "\n")
    target = args.file or Settings().audit_checkpoint_file
    if target:
        try:
            wrote = append(target, checkpoint)
        except OSError as err:
            print(f"tessera: error: cannot write {target}: {err.strerror}", file=sys.stderr)
            return EXIT_ERROR
        print(
            f"tessera: {'appended to' if wrote else 'already the last line of'} {target}",
            file=sys.stderr,
        )
    return EXIT_OK


def run_public_key(args: argparse.Namespace, stdout: TextIO) -> int:
    """``tessera audit public-key``."""
    from pydantic import ValidationError

    from .audit_keys import process_key
    from .settings import describe

    try:
        key = process_key()
    except ValidationError as err:
        print(f"tessera: error: invalid settings: {describe(err)}", file=sys.stderr)
        return EXIT_ERROR
    if args.output == "json":
        data = {"key_id": key.key_id, "public_key": key.public.pem}
        stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        stdout.write(key.public.pem)
        print(f"tessera: audit key id {key.key_id}", file=sys.stderr)
    return EXIT_OK


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
