"""The ``tessera`` command line.

Exit codes: 0 compatible, 1 breaking, 2 error (bad input, bad arguments, or a bug in Tessera).
Errors print one line on stderr naming the file and line; set ``TESSERA_DEBUG=1`` for a
traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TextIO

from . import __version__
from .errors import InputError, TesseraError, UsageError
from .formats import FORMAT_NAMES
from .formats.native import GUARANTEE_POLICIES, NATIVE_NAMES, PROTO_LEVELS
from .model import Bump, DiffResult, Severity
from .modes import Mode
from .render import OUTPUTS

if TYPE_CHECKING:
    from .gitref import GitTreeSource

EXIT_OK, EXIT_ERROR = 0, 2  # 1 (breaking) comes from DiffResult.exit_code

DIFF_EPILOG = """\
examples:
  tessera diff old/openapi.yaml new/openapi.yaml
  tessera diff --against origin/main openapi.yaml          # working tree vs a git ref
  tessera diff v1.json v2.json v3.json --mode backward_transitive
  tessera diff a.yaml b.yaml --output markdown > comment.md
  tessera diff a.yaml b.yaml --current-version 1.4.0 --proposed-version 1.5.0

exit status: 0 compatible, 1 breaking, 2 error
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tessera",
        description="Contracts as code: find the changes in an API or schema that break its "
        "consumers.",
    )
    parser.add_argument("--version", action="version", version=f"tessera {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    diff = commands.add_parser(
        "diff",
        help="compare two versions of a contract and classify every change",
        description="Compare two versions of a contract (OpenAPI 3.0/3.1, Swagger 2.0 or JSON "
        "Schema in JSON or YAML; GraphQL SDL or introspection JSON; a protobuf module or "
        ".proto file; an Avro .avsc schema; a dbt manifest.json) and classify every change "
        "as breaking, dangerous, safe or annotation.",
        epilog=DIFF_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diff.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="OLD NEW (several OLDs, oldest first, for the transitive modes); "
        "with --against, the files to check",
    )
    diff.add_argument(
        "--against",
        metavar="REF",
        help="compare each PATH in the working tree with the same path at this "
        "git ref (branch, tag or commit)",
    )
    add_root_option(diff)
    diff.add_argument(
        "--format",
        choices=(*FORMAT_NAMES, *NATIVE_NAMES),
        help="the contract's format (default: detected from the new version: .graphql/.gql "
        "files, a .proto file or a directory of them, .avsc files, else the document's "
        "content)",
    )
    diff.add_argument(
        "--proto-level",
        choices=PROTO_LEVELS,
        help="protobuf: what must stay compatible, as buf's categories: file (generated code "
        "per file, the default), package (generated code per package), wire_json (the "
        "binary and JSON encodings), wire (the binary encoding only)",
    )
    diff.add_argument(
        "--guarantees",
        choices=GUARANTEE_POLICIES,
        help="dbt: how relaxed data-quality guarantees (tests, constraints, freshness, "
        "volume) count: strict (they break, the default), notify (at most dangerous), "
        "ignore (not reported)",
    )
    diff.add_argument(
        "--catalog",
        action="append",
        metavar="PATH",
        help="dbt: a catalog.json with column types, once per version in the order of the "
        "PATHs (default: a catalog.json beside a manifest given as its directory)",
    )
    diff.add_argument(
        "--mode",
        type=_mode,
        metavar="MODE",
        help="compatibility mode: auto (per position: inputs backward, outputs "
        "forward; the default for OpenAPI, Swagger, GraphQL and protobuf), backward (the "
        "default for JSON Schema and Avro), forward, full, none, or *_transitive",
    )
    diff.add_argument(
        "--policy",
        choices=("strict", "lenient"),
        help="content-model policy: strict (Confluent's STRICT, the default for "
        "JSON Schema) or lenient (tolerant readers, the default for APIs); see "
        "docs/formats.md for each format's default",
    )
    diff.add_argument(
        "--fail-on",
        choices=("breaking", "dangerous"),
        default="breaking",
        help="lowest severity that fails (exit 1); 'dangerous' promotes "
        "dangerous findings to breaking (default: breaking)",
    )
    diff.add_argument(
        "--output", "-o", choices=OUTPUTS, default="text", help="output format (default: text)"
    )
    diff.add_argument(
        "--min-severity",
        choices=[s.value for s in Severity],
        default="annotation",
        help="leave out findings below this severity (default: show all)",
    )
    diff.add_argument(
        "--current-version",
        metavar="SEMVER",
        help="the published version (with --proposed-version: check the bump)",
    )
    diff.add_argument(
        "--proposed-version",
        metavar="SEMVER",
        help="the version this change will be published as; an insufficient "
        "bump is reported as breaking",
    )
    diff.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour in text output (default: auto, on a terminal; NO_COLOR turns it off)",
    )

    for module in SUBCOMMANDS:
        _subcommand(module).add_parser(commands)
    for plugin in _plugins():
        plugin.add_parser(commands)

    rules = commands.add_parser(
        "rules",
        help="print the rule catalog",
        description="Print the rule catalog: every kind of change Tessera reports, its effect "
        "on valid values, its severity by position and why it breaks.",
    )
    rules.add_argument(
        "--output",
        "-o",
        choices=("text", "json", "markdown"),
        default="text",
        help="output format (default: text)",
    )
    return parser


def add_root_option(command: argparse.ArgumentParser) -> None:
    """``--root DIR``: the folder a spec's files are read under (the one way to widen it)."""
    command.add_argument(
        "--root",
        metavar="DIR",
        help="read the spec's files only under this folder (default: each version's own: "
        "the directory given, or the file's folder); a $ref or symbolic link leading "
        "elsewhere is refused. Give a shared parent when $refs go to sibling folders "
        "(../common/errors.yaml)",
    )


def root_of(args: argparse.Namespace) -> str | None:
    """The ``--root`` folder given, checked to be one."""
    root: str | None = args.root
    if root is not None and not os.path.isdir(root):
        raise UsageError(f"--root {root}: not a directory")
    return root


SUBCOMMANDS = ("cli_registry", "cli_impact")
"""Modules that each add one subcommand: ``add_parser(commands)`` registers it (and sets
``run`` on the parsed arguments: ``run(args, stdout) -> exit code``)."""


def _subcommand(module: str) -> Any:
    from importlib import import_module

    return import_module(f"{__package__}.{module}")


PLUGIN_GROUP = "tessera.commands"
"""Entry points of installed distributions that add subcommands (the app's ``tessera audit``):
each names a module with the same ``add_parser(commands)`` as ``SUBCOMMANDS``. The engine never
imports them by name, so a subcommand exists exactly when its distribution is installed."""


def _plugins() -> list[Any]:
    from importlib.metadata import entry_points

    found = []
    for entry in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        try:
            found.append(entry.load())
        except Exception as err:  # a broken plugin must not take ``tessera diff`` down with it
            print(
                f"tessera: warning: subcommand {entry.name!r} did not load: {err}", file=sys.stderr
            )
    return found


def _mode(text: str) -> Mode:
    try:
        return Mode.parse(text)
    except UsageError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = build_parser()
    try:
        with contextlib.redirect_stderr(stderr):  # argparse prints its errors there
            args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_ERROR if exit_.code not in (0, None) else EXIT_OK
    if args.command is None:
        parser.print_help(stdout)
        return EXIT_ERROR
    try:
        if args.command == "rules":
            return _rules(args, stdout)
        if args.command == "diff":
            return _diff(args, stdout)
        code: int = args.run(args, stdout)
        return code
    except (InputError, UsageError) as err:
        print(f"tessera: error: {err}", file=stderr)
        return EXIT_ERROR
    except TesseraError as err:
        print(f"tessera: internal error: {err} (please report this)", file=stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (``tessera diff ... | head``)
        _silence_stdout()
        return EXIT_OK
    except Exception as err:  # a bug: one line, unless debugging
        if os.environ.get("TESSERA_DEBUG"):
            raise
        print(
            f"tessera: internal error: {type(err).__name__}: {err} "
            "(please report this; TESSERA_DEBUG=1 shows the traceback)",
            file=stderr,
        )
        return EXIT_ERROR


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush does
    not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _diff(args: argparse.Namespace, stdout: TextIO) -> int:
    from .engine import DiffOptions, diff
    from .render import render

    options = DiffOptions(
        format=args.format,
        mode=args.mode,
        policy=args.policy,
        fail_on=Severity(args.fail_on),
        current_version=args.current_version,
        proposed_version=args.proposed_version,
        proto_level=args.proto_level,
        guarantees=args.guarantees,
        catalogs=tuple(args.catalog or ()),
    )
    root = root_of(args)
    if args.against:
        from .gitref import GitTreeSource, absolute

        paths = [absolute(p) for p in args.paths]
        git = GitTreeSource(os.path.dirname(paths[0]), args.against)
        results = [
            diff(path, path, options, **against(git, path, root, options.catalogs))
            for path in paths
        ]
        result = _combine(results)
    else:
        if len(args.paths) < 2:
            raise UsageError("diff needs OLD and NEW (or --against REF PATH)")
        result = diff(args.paths[:-1], args.paths[-1], options, root=root)
    shown = _filter(result, Severity(args.min_severity))
    stdout.write(render(shown, args.output, color=_color(args.color, stdout)))
    return result.exit_code


def against(
    git: GitTreeSource, path: str, root: str | None, catalogs: Sequence[str] = ()
) -> dict[str, Any]:
    """The two sources of ``--against``: the working tree and the commit, both confined to
    ``root`` (or the folder of ``path``, or ``path`` itself when it is a directory)."""
    from .documents import FileSource, spec_root

    folder = root if root is not None else spec_root(path)
    return {"source": FileSource(folder, also=catalogs), "old_source": git.within(folder)}


def _filter(result: DiffResult, minimum: Severity) -> DiffResult:
    if minimum is Severity.ANNOTATION:
        return result
    return replace(result, findings=tuple(f for f in result.findings if f.severity >= minimum))


def _combine(results: list[DiffResult]) -> DiffResult:
    if len(results) == 1:
        return results[0]
    first = results[0]
    return replace(
        first,
        old=tuple(name for r in results for name in r.old),
        new=", ".join(r.new for r in results),
        findings=tuple(f for r in results for f in r.findings),
        bump=Bump.highest([r.bump for r in results]),
        version_check=next((r.version_check for r in results if r.version_check), None),
    )


def _color(choice: str, stream: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def _rules(args: argparse.Namespace, stdout: TextIO) -> int:
    from .catalog import load_catalog
    from .docgen import rules_markdown, rules_text

    catalog = load_catalog()
    if args.output == "json":
        import json

        data = {"version": catalog.version, "rules": [r.to_dict() for r in catalog]}
        stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    elif args.output == "markdown":
        stdout.write(rules_markdown(catalog))
    else:
        stdout.write(rules_text(catalog))
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
