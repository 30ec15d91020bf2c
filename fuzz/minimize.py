"""Shrink a finding's input to a small one that still fails the same way.

    .venv/bin/python fuzz/minimize.py TARGET INPUT [--out FILE]

Runs the target's test in this process, uninstrumented, and keeps a smaller input as long as
it raises the same exception at the same engine line (``harness`` signature): first whole
lines are dropped (ddmin), then shorter and shorter runs of bytes, on each side of a pair
separately. Prints the signature, the traceback's last engine frames and the smallest input;
writes it to ``--out`` (default: INPUT.min).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from harness import PAIR_SEPARATOR, Rejected, _signature, join_pair, split_pair


def failure(test: Callable[[bytes], object], data: bytes) -> tuple[str, BaseException] | None:
    """The finding's signature and exception when ``data`` is a finding, else None."""
    from tessera_engine.errors import InputError, UsageError

    limit = sys.getrecursionlimit()
    try:
        test(data)
    except (InputError, UsageError, Rejected):
        return None
    except Exception as error:
        return _signature(error)[0], error
    finally:
        sys.setrecursionlimit(limit)
    return None


def shrink(data: bytes, still_fails: Callable[[bytes], bool]) -> bytes:
    """A smaller ``data`` for which ``still_fails`` holds: lines first, then byte runs."""
    lines = data.split(b"\n")
    chunk = max(1, len(lines) // 2)
    while chunk >= 1:
        i = 0
        while i < len(lines):
            candidate = lines[:i] + lines[i + chunk :]
            if candidate and still_fails(b"\n".join(candidate)):
                lines = candidate
            else:
                i += chunk
        chunk //= 2
    data = b"\n".join(lines)
    chunk = max(1, len(data) // 4)
    while chunk >= 1:
        i = 0
        while i < len(data):
            candidate = data[:i] + data[i + chunk :]
            if candidate and still_fails(candidate):
                data = candidate
            else:
                i += chunk
        chunk //= 2
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target")
    parser.add_argument("input", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    module = importlib.import_module(f"fuzz_{args.target}")
    ready = getattr(module, "ready", None)
    if ready is not None:
        ready()
    data = args.input.read_bytes()
    found = failure(module.test, data)
    if found is None:
        print("the input does not fail (any more)")
        return 1
    signature = found[0]

    def same(candidate: bytes) -> bool:
        again = failure(module.test, candidate)
        return again is not None and again[0] == signature

    if PAIR_SEPARATOR in data:
        old, new = split_pair(data)
        new = shrink(new, lambda side: same(join_pair(old, side)))
        old = shrink(old, lambda side: same(join_pair(side, new)))
        smallest = join_pair(old, new)
    else:
        smallest = shrink(data, same)
    out = args.out or args.input.with_name(args.input.name + ".min")
    out.write_bytes(smallest)
    _, error = failure(module.test, smallest) or (signature, None)
    print(signature)
    if error is not None:
        frames = traceback.extract_tb(error.__traceback__)
        for frame in [f for f in frames if "tessera_engine" in f.filename][-3:]:
            where = frame.filename.split("engine/src/", 1)[-1]
            print(f"  {where}:{frame.lineno} in {frame.name}")
        print(f"  {type(error).__name__}: {error}")
    print(f"smallest input ({len(smallest)} bytes) in {out}:")
    print(repr(smallest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
