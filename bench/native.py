"""GraphQL, protobuf and dbt: Tessera and its peers timed side by side, in the same run (dbt
has no peer that diffs manifests; its rows show Tessera alone).

The peers here are quick (seconds), so unlike the OpenAPI peers they are rerun every time,
with the same whole-process timer as Tessera (``timing.measure``): graphql-inspector and
``buf breaking`` from the npm packages ``shared/tools/peers.sh`` installs into
``PEERS_PREFIX`` (default ``/tmp/peers``), and graphql-core's ``find_breaking_changes`` +
``find_dangerous_changes`` in this venv's interpreter (the Python baseline). A peer that is
not installed is reported as such; ``--install-peers`` runs peers.sh once to install them.

Targets (issue 3): GraphQL at most half of graphql-inspector's wall time; protobuf at most
1.5 times buf's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from timing import Timing, measure

TESSERA_OK = (0, 1)


@dataclass(frozen=True)
class NativePair:
    """One corpus pair of a native format; ``name`` as in peers.sh so the rows line up."""

    name: str
    format: str  # graphql | protobuf
    old: Path
    new: Path


@dataclass(frozen=True)
class PeerResult:
    peer: str
    timing: Timing | None  # None: not installed
    breaking: int | None
    other: str  # what else the peer counted ("58 dangerous"), or why it did not run


@dataclass
class NativeResult:
    pair: NativePair
    tessera: Timing
    findings: dict[str, int] | None
    peers: list[PeerResult] = field(default_factory=list)


# (name, format, old, new) under corpus/
PAIRS = (
    ("graphql-github", "graphql", "graphql/github/v14.25.0/schema.graphql",
     "graphql/github/v15.25.0/schema.graphql"),
    ("graphql-saleor", "graphql", "graphql/saleor/3.21.0/schema.graphql",
     "graphql/saleor/3.23.28/schema.graphql"),
    ("proto-pubsub", "protobuf", "proto/googleapis-pubsub-v1/2025-08-21",
     "proto/googleapis-pubsub-v1/2026-08-22"),
    ("proto-aiplatform", "protobuf", "proto/googleapis-aiplatform-v1/2025-08-21",
     "proto/googleapis-aiplatform-v1/2026-08-22"),
    ("proto-googleads-v22", "protobuf", "proto/googleads-v22/2025-10-15",
     "proto/googleads-v22/2026-08-19"),
    ("dbt-hubspot", "dbt", "dbt/fivetran-hubspot/v0.21.0/manifest.json",
     "dbt/fivetran-hubspot/v1.8.0/manifest.json"),
    ("dbt-ad-reporting", "dbt", "dbt/fivetran-ad-reporting/2022-08-29/manifest.json",
     "dbt/fivetran-ad-reporting/2022-12-19/manifest.json"),
)  # fmt: skip
TARGETS = {"graphql": ("graphql-inspector", 0.5), "protobuf": ("buf", 1.5)}
"""Per format: the peer Tessera is measured against and the largest allowed time ratio."""

GRAPHQL_CORE = (
    "import sys\n"
    "from graphql import build_schema, find_breaking_changes, find_dangerous_changes\n"
    "old, new = (build_schema(open(p, encoding='utf-8').read()) for p in sys.argv[1:3])\n"
    "print(f'breaking={len(find_breaking_changes(old, new))} "
    "dangerous={len(find_dangerous_changes(old, new))}')\n"
)


def pairs(shared: Path) -> list[NativePair]:
    corpus = shared / "corpus"
    return [NativePair(n, f, corpus / old, corpus / new) for n, f, old, new in PAIRS]


def prefix() -> Path:
    return Path(os.environ.get("PEERS_PREFIX", "/tmp/peers"))


def install_peers(shared: Path) -> None:
    """Let peers.sh install what is missing (it times nothing: ONLY matches no row)."""
    env = {**os.environ, "ONLY": "^no-such-row$", "RUNS": "1"}
    script = shared / "tools" / "peers.sh"
    subprocess.run(["bash", str(script)], env=env, stdout=subprocess.DEVNULL, check=False)


def measure_pair(
    tessera: Path, pair: NativePair, runs: int, log: Callable[[str, Timing], None]
) -> NativeResult:
    cmd = [str(tessera), "diff", str(pair.old), str(pair.new), "--format", pair.format]
    timing = measure([*cmd, "--output", "json"], runs, ok_codes=TESSERA_OK)
    log(f"{pair.name}: tessera diff", timing)
    result = NativeResult(pair, timing, _findings(timing))
    for peer, peer_cmd, ok, count in _peer_commands(pair):
        if peer_cmd is None:
            result.peers.append(PeerResult(peer, None, None, "not installed"))
            continue
        peer_timing = measure(peer_cmd, runs, ok_codes=ok)
        log(f"{pair.name}: {peer}", peer_timing)
        breaking, other = count(peer_timing) if peer_timing.succeeded else (None, "failed")
        result.peers.append(PeerResult(peer, peer_timing, breaking, other))
    return result


def versions() -> dict[str, str]:
    """The installed peer versions, for the report."""
    found = {}
    for peer, package in (
        ("graphql-inspector", "@graphql-inspector/cli"),
        ("graphql-js", "graphql"),
        ("buf", "@bufbuild/buf"),
    ):
        manifest = prefix() / "node_modules" / package / "package.json"
        if manifest.is_file():
            found[peer] = json.loads(manifest.read_text(encoding="utf-8"))["version"]
    from importlib.metadata import version

    found["graphql-core"] = version("graphql-core")
    return found


PeerCommand = tuple[str, list[str] | None, tuple[int, ...], Callable[[Timing], tuple[int, str]]]


def _peer_commands(pair: NativePair) -> list[PeerCommand]:
    bin_dir = prefix() / "node_modules" / ".bin"
    inspector, buf = bin_dir / "graphql-inspector", bin_dir / "buf"
    if pair.format == "graphql":
        return [
            (
                "graphql-inspector",
                [str(inspector), "diff", str(pair.old), str(pair.new)]
                if inspector.is_file()
                else None,
                (0, 1),
                _count_inspector,
            ),
            (
                "graphql-core",
                [sys.executable, "-c", GRAPHQL_CORE, str(pair.old), str(pair.new)],
                (0,),
                _count_graphql_core,
            ),
        ]
    if pair.format != "protobuf":
        return []  # no peer diffs dbt manifests
    command = (
        [str(buf), "breaking", str(pair.new), "--against", str(pair.old), "--error-format=json"]
        if buf.is_file()
        else None
    )
    return [("buf", command, (0, 100), _count_buf)]


def _count_inspector(timing: Timing) -> tuple[int, str]:
    text = timing.stdout + timing.stderr
    found = re.search(r"Detected (\d+) breaking change", text)
    changes = re.search(r"Detected the following changes \((\d+)\)", text)
    return (int(found.group(1)) if found else 0), (
        f"{changes.group(1)} changes in all" if changes else ""
    )


def _count_graphql_core(timing: Timing) -> tuple[int, str]:
    found = re.search(r"breaking=(\d+) dangerous=(\d+)", timing.stdout)
    if not found:
        return 0, "no result"
    return int(found.group(1)), f"{found.group(2)} dangerous"


def _count_buf(timing: Timing) -> tuple[int, str]:
    rows = [line for line in timing.stdout.splitlines() if line.startswith("{")]
    rules = Counter(json.loads(line).get("type", "?") for line in rows)
    return len(rows), ", ".join(f"{n} {rule}" for rule, n in rules.most_common())


def _findings(timing: Timing) -> dict[str, int] | None:
    if not timing.succeeded:
        return None
    counts = Counter(f["severity"] for f in json.loads(timing.stdout)["findings"])
    return {s: counts[s] for s in ("breaking", "dangerous", "safe", "annotation")}
