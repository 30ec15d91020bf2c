"""``python -m conformance [--shared DIR] [--verbose]``: score every corpus, exit 1 below a
target, 2 when the corpora are missing."""

from __future__ import annotations

import argparse
import sys
from importlib import import_module
from pathlib import Path

from .report import Score

RUNNERS = (
    "confluent",  # Confluent Schema Registry, JSON Schema
    "oasdiff",
    "confluent_protobuf",  # Confluent Schema Registry, Protobuf
    "buf",
    "graphql_inspector",
    "avro_pairs",  # Apache Avro's own checker on generated pairs
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance", description=__doc__)
    parser.add_argument("--shared", default="../shared", help="the shared directory")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every disagreement")
    parser.add_argument("--write", metavar="FILE", help="also write the report as Markdown")
    parser.add_argument(
        "--only", choices=RUNNERS, action="append", help="score only this corpus (repeatable)"
    )
    args = parser.parse_args(argv)
    root = Path(args.shared) / "conformance"
    if not root.is_dir():
        print(
            f"conformance: {root} not found (the corpora live beside the repository)",
            file=sys.stderr,
        )
        return 2
    scores: list[Score] = []
    methods: list[str] = []
    for name in args.only or RUNNERS:
        runner = import_module(f"{__package__}.{name}")
        scores.extend(runner.run(root))
        methods.extend([runner.METHOD] if hasattr(runner, "METHOD") else [])
    ok = True
    for score in scores:
        print(score.line())
        for miss in score.misses:
            print(f"    - {miss}")
        if args.verbose:
            for case in score.deviating:
                print(f"    ~ documented deviation: {case}")
        ok = ok and score.passed
    print("all targets met" if ok else "TARGET MISSED")
    if args.write:
        from .document import write

        write(Path(args.write), scores, methods)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
