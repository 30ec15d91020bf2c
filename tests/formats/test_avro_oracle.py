"""Tessera's Avro verdicts against Apache Avro's own checker (``avro.compatibility``) on a few
generated schema pairs and chains: the quick version of ``conformance/avro_pairs.py`` (which
runs hundreds). Uses the same generator with seeds drawn by hypothesis; cases the conformance
run documents as deliberate deviations (decimal precision and scale, aliases written without a
namespace) are recognised from Tessera's findings and skipped."""

from __future__ import annotations

import random
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from conformance.avro_pairs import Case, schema_nodes, verdicts, versions  # noqa: E402
from conformance.workdir import Scratch  # noqa: E402


def _deliberate(case: Case, want: bool, got: bool, rules: str) -> bool:
    """A documented kind of deviation: Tessera follows the specification, not the Python
    checker (see ``conformance/deviations-avro.yaml``)."""
    if want and not got and rules:
        broken = rules.split(", ")
        if all(rule.startswith("schema.avro-decimal.changed") for rule in broken):
            return True
        if not all(rule.startswith("schema.avro-name.changed") for rule in broken):
            return False
    # an alias without a dot in a namespace: the specification qualifies it, Python does not
    aliases = [
        alias
        for version in case.chain
        for node in schema_nodes(version)
        if isinstance(node, dict) and node.get("type") in ("record", "enum", "fixed")
        for alias in node.get("aliases", [])
    ]
    return "namespace" in repr(case.chain) and any("." not in alias for alias in aliases)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), length=st.sampled_from([2, 3]))
def test_verdicts_agree_with_apache_avro(seed: int, length: int) -> None:
    chain, applied = versions(random.Random(seed), length)
    case = Case(f"seed-{seed}", chain, applied)
    scratch = Scratch()
    try:
        for mode, want, got, rules in verdicts(case, scratch):
            if want != got and _deliberate(case, want, got, rules):
                continue
            assert want == got, (
                f"{mode.value} after {applied}: Avro says "
                f"{'compatible' if want else 'incompatible'}, Tessera {rules or 'compatible'}\n"
                + "\n".join(repr(v) for v in chain)
            )
    finally:
        scratch.close()


def test_the_generator_is_deterministic() -> None:
    first, _ = versions(random.Random(7), 3)
    second, _ = versions(random.Random(7), 3)
    assert first == second
