"""The GraphQL and protobuf section of docs/benchmarks.md (see ``native.py``)."""

from __future__ import annotations

from native import TARGETS, NativeResult, PeerResult
from timing import Timing

SEVERITIES = ("breaking", "dangerous", "safe", "annotation")


def render(results: list[NativeResult], versions: dict[str, str]) -> str:
    if not results:
        return ""
    lines = [
        "## Results: GraphQL, protobuf and dbt, side by side with their peers",
        "",
        "Tessera and the peers were timed in this run, one after the other, with the same timer"
        " (whole process, median of the timed runs after one warm-up, peak RSS). Peer versions: "
        + ", ".join(f"{peer} {version}" for peer, version in sorted(versions.items()))
        + ". graphql-core is the Python baseline (`build_schema` twice, then"
        " `find_breaking_changes` and `find_dangerous_changes`), run in Tessera's venv.",
        "",
        "| pair | Tessera: median s (min-max) | Tessera peak | Tessera findings B / D / S / A "
        "| peer: median s (min-max) | peer peak | peer breaking (other) | target | result |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        lines += _rows(result)
    lines += [
        "",
        "Targets: GraphQL at most half of graphql-inspector's wall time; protobuf at most 1.5x"
        " `buf breaking`'s (buf's default FILE rules, Tessera's default `--proto-level file`)."
        " Findings count every severity; the peers count breaking changes only (graphql-core"
        " also dangerous ones), so compare Tessera's B with the peer's breaking count.",
    ]
    return "\n".join(lines)


def _rows(result: NativeResult) -> list[str]:
    t = result.tessera
    findings = (
        " / ".join(f"{result.findings.get(s, 0):,}" for s in SEVERITIES)
        if result.findings is not None
        else f"failed: {_escape(t.error())}"
    )
    if not result.peers:
        return [f"| {result.pair.name} | {_time(t)} | {_mib(t)} | {findings} | no peer | | | | |"]
    target_peer, ratio = TARGETS[result.pair.format]
    rows = []
    tessera_cells = f"{result.pair.name} | {_time(t)} | {_mib(t)} | {findings}"
    for peer in result.peers:
        target, verdict = "", ""
        if peer.peer == target_peer:
            target, verdict = _verdict(t, peer, ratio)
        rows.append(
            f"| {tessera_cells} | {peer.peer}: {_time(peer.timing)} | {_mib(peer.timing)} "
            f"| {_peer_count(peer)} | {target} | {verdict} |"
        )
        tessera_cells = "〃 | | |"  # one Tessera run, several peers
    return rows


def _verdict(tessera: Timing, peer: PeerResult, ratio: float) -> tuple[str, str]:
    if peer.timing is None or not peer.timing.succeeded:
        return f"<= {ratio:g}x {peer.peer}", "peer did not run"
    limit = ratio * peer.timing.median
    if not tessera.succeeded:
        return f"<= {limit:.3f} s", "**FAIL** (Tessera failed)"
    measured = tessera.median / peer.timing.median
    ok = tessera.median <= limit
    return f"<= {limit:.3f} s ({ratio:g}x)", f"{'pass' if ok else '**FAIL**'} ({measured:.2f}x)"


def _peer_count(peer: PeerResult) -> str:
    if peer.breaking is None:
        return peer.other
    return f"{peer.breaking:,}" + (f" ({_escape(peer.other)})" if peer.other else "")


def _time(t: Timing | None) -> str:
    if t is None:
        return "not installed"
    if not t.succeeded:
        return f"failed: {_escape(t.error())}"
    return f"{t.median:.3f} ({t.low:.3f}-{t.high:.3f})"


def _mib(t: Timing | None) -> str:
    return "" if t is None else f"{t.peak_kib / 1024:.0f} MiB"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:200]
