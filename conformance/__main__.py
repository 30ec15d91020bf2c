"""``python -m conformance [--shared DIR] [--verbose]``: score every corpus, exit 1 below a
target, 2 when the corpora are missing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import confluent, oasdiff
from .report import Score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance", description=__doc__)
    parser.add_argument("--shared", default="../shared", help="the shared directory")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every disagreement")
    parser.add_argument("--write", metavar="FILE", help="also write the report as Markdown")
    args = parser.parse_args(argv)
    root = Path(args.shared) / "conformance"
    if not root.is_dir():
        print(
            f"conformance: {root} not found (the corpora live beside the repository)",
            file=sys.stderr,
        )
        return 2
    scores: list[Score] = [*confluent.run(root), *oasdiff.run(root)]
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

        write(Path(args.write), scores)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
