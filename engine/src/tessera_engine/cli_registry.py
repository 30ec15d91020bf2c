"""``tessera registry``: work with a registry repository (teams, contracts, consumers)."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

VALIDATE_EPILOG = """\
examples:
  tessera registry validate .
  tessera registry validate registry/ --output json
  tessera registry validate . --output github     # annotations in a GitHub Actions log

Notes (a `uses` on a contract with nothing published yet) are printed after the problems
and never make the registry invalid.

exit status: 0 valid, 2 invalid (every problem is listed) or unreadable
"""
OUTPUTS = ("text", "json", "github")


def add_parser(commands: Any) -> None:
    registry = commands.add_parser(
        "registry",
        help="validate a registry repository (teams, contracts, consumers)",
        description="Work with a Tessera registry repository: the reviewed YAML in which teams "
        "declare what they own and what they consume (see docs/registry.md).",
    )
    actions = registry.add_subparsers(dest="registry_command", metavar="ACTION")
    validate = actions.add_parser(
        "validate",
        help="check every file of a registry and list every problem",
        description="Check a registry directory: each file parses (safe YAML: no anchors, "
        "aliases, tags or duplicate keys) and matches its JSON Schema, every team and contract "
        "it names exists, ids are unique and match file names, version ranges parse, and each "
        "consumer's `uses` fits its contract's format and names an operation, field, message or "
        "column of the contract's published version (the active one, or the newest its version "
        "range admits when that leaves the active one out), with the closest real one when it "
        "does not. Every problem is one line, file:line:column: message.",
        epilog=VALIDATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("directory", metavar="DIR", help="the registry's root directory")
    validate.add_argument(
        "--output",
        "-o",
        choices=OUTPUTS,
        default="text",
        help="text (default), json, or github (workflow-command annotations: problems as "
        "errors, notes as notices)",
    )
    validate.set_defaults(run=_validate)
    registry.set_defaults(run=_no_action)


def _no_action(args: argparse.Namespace, stdout: TextIO) -> int:
    from .errors import UsageError

    raise UsageError("tessera registry needs an action: validate")


def _validate(args: argparse.Namespace, stdout: TextIO) -> int:
    from .registry.validate import validate

    result = validate(args.directory)
    if args.output == "json":
        document = {
            "valid": result.valid,
            "errors": [problem.to_dict() for problem in result.problems],
            "notes": [note.to_dict() for note in result.notes],
            "counts": result.counts,
        }
        stdout.write(json.dumps(document, indent=2) + "\n")
    elif args.output == "github":
        for level, found in (("error", result.problems), ("notice", result.notes)):
            for item in found:
                stdout.write(
                    f"::{level} file={_escape(item.file, True)},line={item.line},"
                    f"col={item.column}::{_escape(item.message, False)}\n"
                )
        stdout.write(_summary(result.counts, len(result.problems), len(result.notes)) + "\n")
    else:
        for problem in result.problems:
            stdout.write(f"{problem}\n")
        for note in result.notes:
            stdout.write(f"{note.file}:{note.line}:{note.column}: note: {note.message}\n")
        stdout.write(_summary(result.counts, len(result.problems), len(result.notes)) + "\n")
    return 0 if result.valid else 2


def _summary(counts: dict[str, int], problems: int, notes: int) -> str:
    parts = ", ".join(f"{counts[name]} {name}" for name in _COUNTED if name in counts)
    verdict = "valid" if not problems else f"{problems} problem{'s' if problems > 1 else ''}"
    noted = f" ({notes} note{'s' if notes > 1 else ''})" if notes else ""
    return f"registry {verdict}{noted}: {parts}"


_COUNTED = ("teams", "contracts", "consumers", "declarations", "versions", "uses")
"""The counts in the summary line (``uses``: the entries checked against a published version)."""


def _escape(text: str, property_: bool) -> str:
    """GitHub workflow-command escaping (properties also escape ``:`` and ``,``)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text
