"""``tessera impact``: which consumers a change to a contract concerns."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any, TextIO

from .errors import UsageError

if TYPE_CHECKING:
    from .registry.impact_result import ImpactResult
    from .registry.model import Registry

IMPACT_EPILOG = """\
examples:
  tessera impact --registry ../registry --contract orders-api old/openapi.yaml new/openapi.yaml
  tessera impact --registry ../registry --contract orders-api --against origin/main openapi.yaml
  tessera impact --registry R --contract orders-api a.yaml b.yaml --output markdown > issue.md
  tessera impact --registry R --contract orders-api openapi.yaml   # vs the published version

The contract's format, mode, policy, protobuf level and versioning come from the registry's
reviewed files, never from flags.

exit status: 0 no consumer needs to acknowledge, 1 some must, 2 error
"""


def add_parser(commands: Any) -> None:
    from .cli import add_root_option
    from .render.impact import IMPACT_OUTPUTS

    impact = commands.add_parser(
        "impact",
        help="the consumers a change to a registered contract affects",
        description="Diff two versions of a registered contract with the settings the "
        "registry gives it, and list the consumer teams whose declared usage the changes "
        "affect, directly or through the contracts they republish into.",
        epilog=IMPACT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    impact.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="OLD NEW (several OLDs, oldest first, for the transitive modes); NEW alone "
        "to compare with the contract's active version published in the registry; with "
        "--against, the file to check",
    )
    impact.add_argument("--registry", required=True, metavar="DIR", help="the registry directory")
    impact.add_argument(
        "--contract", required=True, metavar="ID", help="the contract's id in the registry"
    )
    impact.add_argument(
        "--against",
        metavar="REF",
        help="compare PATH in the working tree with the same path at this git ref",
    )
    add_root_option(impact)
    impact.add_argument(
        "--current-version",
        metavar="SEMVER",
        help="the published version the change starts from (default: the latest one "
        "published in the registry)",
    )
    impact.add_argument(
        "--proposed-version",
        metavar="SEMVER",
        help="the version the producer proposes (versioning suggest or enforce; refused "
        "under auto, where the registry picks it)",
    )
    impact.add_argument(
        "--output",
        "-o",
        choices=IMPACT_OUTPUTS,
        default="text",
        help="output format (default: text)",
    )
    impact.set_defaults(run=run)


def run(args: argparse.Namespace, stdout: TextIO) -> int:
    from .cli import root_of
    from .registry.impact import contract_of, impact
    from .registry.loader import load_registry
    from .registry.versions import VersionSource, active_version
    from .render.impact import render_impact

    root = root_of(args)
    registry = load_registry(args.registry)
    contract = contract_of(registry, args.contract)  # an unknown id fails before any diff
    published = active_version(registry.root, contract.id, registry.prerelease_of(contract))
    current = args.current_version or (published.version if published else None)
    versions = {"current_version": current, "proposed_version": args.proposed_version}
    if args.against:
        result = _against(args, registry, versions)
    elif len(args.paths) == 1:
        if published is None:
            raise UsageError(
                f"contract {contract.id} has no published version in the registry: give OLD and NEW"
            )
        old = VersionSource(published)
        new = args.paths[0]
        result = impact(registry, contract.id, old.root, new, old_source=old, root=root, **versions)
    else:
        olds, new = args.paths[:-1], args.paths[-1]
        result = impact(registry, contract.id, olds, new, root=root, **versions)
    stdout.write(render_impact(result, args.output))
    return result.exit_code


def _against(
    args: argparse.Namespace, registry: Registry, versions: dict[str, Any]
) -> ImpactResult:
    from .cli import against, root_of
    from .gitref import GitTreeSource, absolute
    from .registry.impact import impact

    if len(args.paths) != 1:
        raise UsageError("with --against, give the one file to check")
    path = absolute(args.paths[0])
    git = GitTreeSource(os.path.dirname(path), args.against)
    sources = against(git, path, root_of(args))
    return impact(registry, args.contract, path, path, **sources, **versions)
