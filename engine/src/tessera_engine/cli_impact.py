"""``tessera impact``: which consumers a change to a contract concerns."""

from __future__ import annotations

import argparse
from typing import Any, TextIO


def add_parser(commands: Any) -> None:
    impact = commands.add_parser(
        "impact",
        help="the consumers a change to a registered contract affects",
        description="Diff two versions of a registered contract and list the consumer teams "
        "whose declared usage the changes affect.",
    )
    impact.set_defaults(run=_missing)


def _missing(args: argparse.Namespace, stdout: TextIO) -> int:
    from .errors import UsageError

    raise UsageError("tessera impact is not built yet")
