"""Time ``tessera diff`` on the shared OpenAPI corpus and write docs/benchmarks.md.

For each corpus pair: whole-process wall time and peak RSS of ``tessera diff OLD NEW --output
json`` (median of ``--runs`` after one warm-up run), the findings per severity, and the parse
floor (the same two files only parsed, by the fastest parser in the venv). Then an in-process
breakdown for the GitHub pair, two scaling series (prefixes of the GitHub pair and synthetic
specs of 250 to 2000 operations), and the peers Optic and openapi-diff, either rerun through
``shared/tools/peers.sh`` (``--peers``) or taken from the last stored run in
``bench/peers-openapi.json``.

Run it with the venv's interpreter (``make bench`` does): ``.venv/bin/python bench/run.py``.
Exit status: 0 when the report was produced (whatever the targets say); 2 on a usage error or
when the corpus, the venv or peers.sh is missing.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import app_bench
import breakdown
import impact
import machine
import native
import native_report
import peers
import registry
import report
import scaling
from results import (
    BREAKDOWN_PAIR,
    SEVERITIES,
    Floor,
    Pair,
    PairResult,
    Run,
    ScaleResult,
)
from timing import Timing, measure

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEERS_FILE = HERE / "peers-openapi.json"
TESSERA_OK = (0, 1)  # 0 compatible, 1 breaking; 2 is an error

# (name, old, new) under corpus/openapi; the names are peers.sh's pair names.
CORPUS_PAIRS = (
    (
        "github-rest",
        "github-rest/2021-01-31/api.github.com.json",
        "github-rest/2021-10-10/api.github.com.json",
    ),
    ("stripe", "stripe/2021-10-08/spec3.json", "stripe/2022-04-12/spec3.json"),
    ("stripe-yaml", "stripe-yaml/2023-03-01/spec3.yaml", "stripe-yaml/2023-09-12/spec3.yaml"),
    (
        "kubernetes-swagger",
        "kubernetes-swagger/v1.8.6/swagger.json",
        "kubernetes-swagger/v1.9.12/swagger.json",
    ),
)
PREFIX_FRACTIONS = (0.125, 0.25, 0.5, 1.0)
SYNTHETIC_SIZES = (250, 500, 1000, 2000)

PARSE_JSON = "import json, sys\nfor p in sys.argv[1:]:\n    json.load(open(p, 'rb'))"
PARSE_YAML_RS = (
    "import sys, yaml_rs\nfor p in sys.argv[1:]:\n"
    "    yaml_rs.loads(open(p, encoding='utf-8').read(), parse_datetime=False)"
)
PARSE_CSAFE = (
    "import sys, yaml\nfor p in sys.argv[1:]:\n"
    "    yaml.load(open(p, 'rb'), Loader=yaml.CSafeLoader)"
)
ENGINE_IMPORTS = "import tessera_engine.engine, tessera_engine.render.json"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    tessera = Path(sys.executable).parent / "tessera"
    problem = _problem(args, tessera)
    if problem:
        print(f"bench/run.py: error: {problem}", file=sys.stderr)
        return 2
    run = _new_run(tessera, args.runs)
    run.peers, run.peers_rerun = _peers(args)
    with tempfile.TemporaryDirectory(prefix="tessera-bench-specs-") as tmp:
        _measure_all(run, tessera, _pairs(args.shared), args.only, Path(tmp))
    native_results = _measure_native(tessera, args, run.runs)
    sections = [native_report.render(native_results, native.versions())]
    sections += _measure_scale(tessera, args.only, run.runs, args.shared)
    run.load_average.append(os.getloadavg())
    text = report.render(run, "\n\n".join(s for s in sections if s))
    if args.write:
        args.write.write_text(text, encoding="utf-8")
        _log(f"wrote {args.write}")
    else:
        sys.stdout.write(text)
    return 0


def _problem(args: argparse.Namespace, tessera: Path) -> str | None:
    """Why the benchmark cannot run as asked, or None."""
    if not tessera.is_file():
        return (
            f"no tessera next to {sys.executable}: run this with the venv's interpreter "
            "(make bench, or .venv/bin/python bench/run.py)"
        )
    corpus = args.shared / "corpus" / "openapi"
    if not corpus.is_dir():
        return (
            f"corpus not found: {corpus} (pass --shared PATH, the directory that holds "
            "corpus/openapi and tools/peers.sh)"
        )
    missing = [
        str(p) for pair in _pairs(args.shared) for p in (pair.old, pair.new) if not p.is_file()
    ]
    if missing:
        return "corpus files missing: " + ", ".join(missing)
    if args.peers and not (args.shared / "tools" / "peers.sh").is_file():
        return f"--peers needs {args.shared / 'tools' / 'peers.sh'}"
    if args.peers_from and not (args.peers_from / "results.tsv").is_file():
        return f"no results.tsv in {args.peers_from}"
    return None


def _pairs(shared: Path) -> list[Pair]:
    corpus = shared / "corpus" / "openapi"
    return [Pair(name, corpus / old, corpus / new) for name, old, new in CORPUS_PAIRS]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--shared",
        type=Path,
        default=REPO.parent / "shared",
        metavar="PATH",
        help="the shared directory with corpus/ and tools/ (default ../shared)",
    )
    parser.add_argument(
        "--write",
        type=Path,
        metavar="FILE",
        help="write the Markdown report to FILE (default: print it)",
    )
    parser.add_argument(
        "--runs",
        type=_positive,
        default=5,
        help="timed runs per measurement, after 1 warm-up run (default 5)",
    )
    parser.add_argument(
        "--only",
        type=_regex,
        default=re.compile("."),
        metavar="REGEX",
        help="run only the measurements whose name matches: the pair names "
        "(github-rest, stripe, stripe-yaml, kubernetes-swagger, graphql-github, "
        "graphql-saleor, proto-pubsub, proto-aiplatform, proto-googleads-v22), registry, "
        "impact, app, github, "
        "breakdown:github-rest, scale:github-rest-N%%, scale:synthetic-N",
    )
    peer_source = parser.add_mutually_exclusive_group()
    peer_source.add_argument(
        "--peers",
        action="store_true",
        help="rerun the OpenAPI peers through shared/tools/peers.sh "
        "(10+ minutes) and store them in bench/peers-openapi.json",
    )
    peer_source.add_argument(
        "--peers-from",
        type=Path,
        metavar="OUTDIR",
        help=f"store an earlier peers.sh run instead (its OUTDIR, run with {peers.COMMAND})",
    )
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _regex(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as err:
        raise argparse.ArgumentTypeError(f"not a regular expression: {err}") from None


def _new_run(tessera: Path, runs: int) -> Run:
    return Run(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine.describe(platform.python_version()),
        engine=_engine_version(tessera),
        load_average=[os.getloadavg()],
        runs=runs,
        pyyaml=_has_csafe_loader(),
    )


def _peers(args: argparse.Namespace) -> tuple[dict[str, object] | None, bool]:
    """The peer figures for the report, and whether they were rerun now."""
    if args.peers:
        _log("running the peers through shared/tools/peers.sh (10+ minutes)")
        data = peers.run(args.shared)
    elif args.peers_from:
        data = peers.parse_run(args.peers_from)
    else:
        return peers.load(PEERS_FILE), False
    peers.save(data, PEERS_FILE)
    _log(f"stored the peer run in {PEERS_FILE.relative_to(REPO)}")
    return data, bool(args.peers)


def _measure_all(
    run: Run, tessera: Path, pairs: list[Pair], only: re.Pattern[str], tmp: Path
) -> None:
    run.startup = _startup(tessera, run.runs)
    run.pairs = [_pair(tessera, pair, run) for pair in pairs if only.search(pair.name)]
    github = next(p for p in pairs if p.name == BREAKDOWN_PAIR)
    if only.search(f"breakdown:{github.name}"):
        _breakdown(run, github)
    fractions = [
        f for f in PREFIX_FRACTIONS if only.search(f"scale:{scaling.prefix_name(github.name, f)}")
    ]
    if fractions:
        prefixes = scaling.prefix_pairs(github.name, github.old, github.new, fractions, tmp)
        run.prefixes = [_scale(tessera, spec, run.runs) for spec in prefixes]
    run.synthetic = [
        _scale(tessera, scaling.synthetic_pair(n, tmp / "synthetic"), run.runs)
        for n in SYNTHETIC_SIZES
        if only.search(f"scale:synthetic-{n}")
    ]


def _measure_native(
    tessera: Path, args: argparse.Namespace, runs: int
) -> list[native.NativeResult]:
    chosen = [p for p in native.pairs(args.shared) if args.only.search(p.name)]
    if not chosen:
        return []
    if not (native.prefix() / "node_modules" / ".bin" / "buf").is_file():
        _log("installing graphql-inspector and buf through shared/tools/peers.sh")
        native.install_peers(args.shared)
    return [native.measure_pair(tessera, pair, runs, _logged) for pair in chosen]


def _measure_scale(tessera: Path, only: re.Pattern[str], runs: int, shared: Path) -> list[str]:
    """Registry validation (whole process) and impact analysis after load (in-process) on
    generated registries of up to 10,000 contracts and 50,000 declarations."""
    sections = []
    if only.search("registry"):
        _log("registry: tessera registry validate on generated registries")
        points = registry.measure_series(tessera, min(runs, 3))
        for point in points:
            _logged(f"registry: {point.contracts:,} contracts", point.timing)
        sections.append(registry.render(points))
    if only.search("impact"):
        _log("impact: matching after load, in-process")
        rows = impact.measure()
        sections.append(
            "## Impact analysis at scale\n\n"
            "`registry.impact.assess` (the consumers a diff result concerns, with the diff "
            "given) on registries generated in memory by `bench/impact.py`; the contract under "
            "test is `examples/orders` and holds 1% of all declarations. The index is built once "
            "per loaded registry (by `load_registry`).\n\n" + impact.markdown(rows)
        )
    if only.search("app"):
        url = os.environ.get("TESSERA_BENCH_DATABASE", app_bench.DEFAULT_DATABASE)
        _log("app: mirror, graph, proposals and acknowledgements at scale on PostgreSQL")
        try:
            sections.append(app_bench.markdown(app_bench.measure(url)))
        except Exception as err:  # no PostgreSQL here: say so in the report, keep the rest
            sections.append(f"## The service at scale\n\nNot measured: {type(err).__name__}: {err}")
    if only.search("github"):
        _log("github: webhook ingress and a pull request's check (bench/github_bench.py)")
        sections.append(_github_section(shared))
    return sections


def _github_section(shared: Path) -> str:
    """bench/github_bench.py in its own process, bounded: its section, or why it is missing."""
    command = [sys.executable, str(HERE / "github_bench.py"), "--shared", str(shared)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        output, problem = done.stdout, done.stderr.strip().splitlines()[-1:] or [""]
    except subprocess.TimeoutExpired as err:
        raw = err.stdout or b""
        output = raw.decode() if isinstance(raw, bytes) else raw
        problem = ["did not exit within 600 s"]
    if "## The GitHub App" in output:
        return output.strip()
    return f"## The GitHub App\n\nNot measured: {problem[0]}"


def _logged(label: str, timing: Timing) -> None:
    outcome = "" if timing.succeeded else f"  FAILED: {timing.error()}"
    _log(f"{label}: {timing.median:.3f} s, {timing.peak_kib / 1024:.0f} MiB{outcome}")


def _startup(tessera: Path, runs: int) -> list[Floor]:
    python = sys.executable
    cases = (
        ("interpreter start-up", "python -c pass", [python, "-c", "pass"]),
        ("CLI start-up", "tessera --version", [str(tessera), "--version"]),
        ("engine imports", f"python -c '{ENGINE_IMPORTS}'", [python, "-c", ENGINE_IMPORTS]),
    )
    return [Floor(label, subject, _timed(label, cmd, runs)) for label, subject, cmd in cases]


def _pair(tessera: Path, pair: Pair, run: Run) -> PairResult:
    cmd = [str(tessera), "diff", str(pair.old), str(pair.new), "--output", "json"]
    timing = _timed(f"{pair.name}: tessera diff", cmd, run.runs, TESSERA_OK)
    return PairResult(pair, timing, _findings(timing), _floors(pair, run))


def _floors(pair: Pair, run: Run) -> list[Floor]:
    files = [str(pair.old), str(pair.new)]
    if pair.syntax == "json":
        parsers = [("json.load", PARSE_JSON)]
    else:
        parsers = [("yaml_rs.loads", PARSE_YAML_RS)]
        if run.pyyaml:
            parsers.append(("PyYAML CSafeLoader", PARSE_CSAFE))
    return [
        Floor(
            label,
            pair.name,
            _timed(f"{pair.name}: {label}", [sys.executable, "-c", code, *files], run.runs),
        )
        for label, code in parsers
    ]


def _breakdown(run: Run, pair: Pair) -> None:
    _log(f"breakdown:{pair.name} (in-process)")
    try:
        run.breakdown = breakdown.measure(pair.old, pair.new, run.runs)
    except Exception as err:  # the engine is edited concurrently; report, don't abort
        run.breakdown_error = f"{type(err).__name__}: {err}"


def _scale(tessera: Path, spec: scaling.SpecPair, runs: int) -> ScaleResult:
    cmd = [str(tessera), "diff", str(spec.old), str(spec.new), "--output", "json"]
    timing = _timed(f"scale:{spec.name}", cmd, runs, TESSERA_OK)
    return ScaleResult(spec, timing, _findings(timing))


def _timed(label: str, cmd: list[str], runs: int, ok: Sequence[int] = (0,)) -> Timing:
    timing = measure(cmd, runs, ok_codes=ok)
    _logged(label, timing)
    return timing


def _findings(timing: Timing) -> dict[str, int] | None:
    if not timing.succeeded:
        return None
    counts = collections.Counter(f["severity"] for f in json.loads(timing.stdout)["findings"])
    return {severity: counts[severity] for severity in SEVERITIES}


def _engine_version(tessera: Path) -> str:
    version = machine.tool_version(str(tessera), "--version") or "tessera (version unknown)"
    head = _git("rev-parse", "--short", "HEAD")
    if head is None:
        return version
    dirty = _git("status", "--porcelain", "--", "engine")
    return f"{version}, commit {head}" + (
        " plus uncommitted changes under engine/" if dirty else ""
    )


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _has_csafe_loader() -> bool:
    if importlib.util.find_spec("yaml") is None:
        return False
    import yaml

    return hasattr(yaml, "CSafeLoader")


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
