"""``tessera registry``: work with a registry repository (teams, contracts, consumers)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO


def add_parser(commands: Any) -> None:
    registry = commands.add_parser(
        "registry",
        help="validate a registry repository (teams, contracts, consumers)",
        description="Work with a Tessera registry repository: the reviewed YAML in which teams "
        "declare what they own and what they consume.",
    )
    registry.set_defaults(run=_missing)


def _missing(args: argparse.Namespace, stdout: TextIO) -> int:
    from .errors import UsageError

    raise UsageError("tessera registry is not built yet")
