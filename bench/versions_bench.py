"""What reading a spec's own version costs the App next to the diff it comes with.

Before it diffs a pull request, the App reads the version the spec declares (``info.version``,
``tessera_app.spec_versions.declared_version``) so the engine's diff can check it. The spec's
root document is parsed once (``api.registry_engine.ProposedSpec``) for both. This times, in
process, for the largest specs of the shared corpus (median of ``--runs``):

- the diff alone (``proposed_diff`` with no version: what the App did before);
- the version read plus the diff checking it, sharing the parsed document (what it does now);
- the version read on its own, parsing the document itself (what sharing saves).

    .venv/bin/python bench/versions_bench.py [--shared /work/shared] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType

from tessera_app.api.registry_engine import Judging, ProposedSpec, proposed_diff
from tessera_app.spec_versions import declared_version
from tessera_engine.registry import model as engine

PAIRS = ("github-rest", "stripe", "stripe-yaml")


def _median_ms(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _pair(folder: Path) -> tuple[Path, Path]:
    versions = sorted(p for p in folder.iterdir() if p.is_dir())
    (old,) = [p for p in versions[0].iterdir() if p.is_file()]
    (new,) = [p for p in versions[-1].iterdir() if p.is_file()]
    return old, new


def _judging(name: str, path: str, old_text: str) -> Judging:
    contract = engine.Contract(
        id=name,
        owner="owners",
        format="openapi",
        source=engine.ContractSource("acme/api", (path,), "main"),
        versioning="suggest",
    )
    active = engine.PublishedVersion(
        contract=name,
        version="0.0.1",  # below any declared version: the check always passes
        format="openapi",
        repo="acme/api",
        paths=(path,),
        commit="",
        published_at="",
        files=MappingProxyType({path: old_text}),
    )
    registry = engine.Registry(".", engine.Settings(), {}, {name: contract}, {})
    return Judging(registry, contract, active)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("/work/shared"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    corpus = args.shared / "corpus" / "openapi"
    if not corpus.is_dir():
        print(f"no corpus at {corpus}", file=sys.stderr)
        return 2
    print("| pair | new spec | declared | diff alone (ms) | read + diff (ms) | read alone (ms) |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    for name in PAIRS:
        old, new = _pair(corpus / name)
        path = "spec" + new.suffix
        text = new.read_text(encoding="utf-8")
        judged = _judging(name, path, old.read_text(encoding="utf-8"))
        files = {path: text}

        def alone(files: dict[str, str] = files, judged: Judging = judged) -> object:
            return proposed_diff(judged, ProposedSpec(judged.contract, files), None)

        def with_version(files: dict[str, str] = files, judged: Judging = judged) -> object:
            spec = ProposedSpec(judged.contract, files)
            found = declared_version("openapi", spec.files, spec.document)
            version = found.version if found is not None else None
            return proposed_diff(judged, spec, version)

        def read(files: dict[str, str] = files) -> object:
            return declared_version("openapi", files)

        found = declared_version("openapi", files)
        shown = (found.version or "not semver") if found is not None else "none"
        print(
            f"| {name} | {len(text) / 1e6:.1f} MB | {shown} | {_median_ms(alone, args.runs):.0f} "
            f"| {_median_ms(with_version, args.runs):.0f} | {_median_ms(read, args.runs):.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
