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
        "consumer's `uses` fits its contract's format. Every problem is one line, "
        "file:line:column: message.",
        epilog=VALIDATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("directory", metavar="DIR", help="the registry's root directory")
    validate.add_argument(
        "--output",
        "-o",
        choices=OUTPUTS,
        default="text",
        help="text (default), json, or github (workflow-command annotations)",
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
            "counts": result.counts,
        }
        stdout.write(json.dumps(document, indent=2) + "\n")
    elif args.output == "github":
        for problem in result.problems:
            stdout.write(
                f"::error file={_escape(problem.file, True)},line={problem.line},"
                f"col={problem.column}::{_escape(problem.message, False)}\n"
            )
        stdout.write(_summary(result.counts, len(result.problems)) + "\n")
    else:
        for problem in result.problems:
            stdout.write(f"{problem}\n")
        stdout.write(_summary(result.counts, len(result.problems)) + "\n")
    return 0 if result.valid else 2


def _summary(counts: dict[str, int], problems: int) -> str:
    parts = ", ".join(f"{counts.get(name, 0)} {name}" for name in _COUNTED)
    verdict = "valid" if not problems else f"{problems} problem{'s' if problems > 1 else ''}"
    return f"registry {verdict}: {parts}"


_COUNTED = ("teams", "contracts", "consumers", "declarations", "versions")


def _escape(text: str, property_: bool) -> str:
    """GitHub workflow-command escaping (properties also escape ``:`` and ``,``)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text
