"""``python -m conformance --write docs/conformance.md``: the conformance page, from a run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from .deviations import all_deviations
from .report import Score

INTRO = """\
# Conformance

Tessera's verdicts measured against peer tools' own test corpora (`../shared/conformance`;
the corpora are not shipped with Tessera). Rerun with `make conformance`; regenerate this page
with `python -m conformance --write docs/conformance.md`.

## Method

- **Confluent Schema Registry, JSON Schema** (263 cases, 4 files): each case's original and
  update schema are diffed as JSON Schema in `backward` mode, policy `strict`; the verdict
  (compatible or not) is compared with the case's `compatible`. The 8 cases that state a
  LENIENT answer are also run with `--policy lenient`.
- **oasdiff** (304 cases from oasdiff's Go tests): each pair is diffed as OpenAPI in the
  default mode (`auto`). Cases whose expected rules include an ERR-level one must be breaking;
  cases that expect only INFO-level rules, or nothing at WARN and above, must not be.
  - A test that runs a single oasdiff check only says what that check reports, and its fixture
    often holds other changes (`minContains` and `maxContains` both changed, a request and a
    response both edited). Such cases are judged on the Tessera findings that report the same
    kind of change as the expected oasdiff ids (`conformance/oasdiff_map.py`, down to the
    JSON Schema keyword) and, for `Request...`/`Response...` checks, on that side of the API.
  - 18 tests diff a file against itself (oasdiff mutates the spec in Go before diffing, which
    the extracted manifest cannot reproduce); they are left out.
{more}
- A **documented deviation** (`conformance/deviations*.yaml`) is a case where Tessera disagrees
  on purpose. It is shown with its reason below and left out of the target, and the raw
  agreement is printed next to it; a deviation that starts to agree fails the run, so the list
  stays exactly the set of intentional disagreements.
"""


def write(path: Path, scores: list[Score], methods: list[str]) -> None:
    """The page; ``methods`` are the Markdown bullets of the native-format runners."""
    intro = INTRO.replace("{more}\n", "".join(m.strip("\n") + "\n" for m in methods))
    lines = [intro, f"## Results ({date.today().isoformat()})", ""]
    lines += [
        "| corpus | target | score without documented deviations | raw | deviations |",
        "|---|---|---|---|---|",
    ]
    for score in scores:
        lines.append(
            f"| {score.name} | {score.target_text} | {score.fraction:.1%} | "
            f"{score.agreed}/{score.total} = {score.raw:.1%} | {len(score.deviating)} |"
        )
    lines += ["", "## Intentional deviations", ""]
    for corpus, cases in all_deviations().items():
        lines += [f"### {corpus}", ""]
        by_reason: dict[str, list[str]] = {}
        for case, reason in cases.items():
            by_reason.setdefault(reason, []).append(case)
        for reason, ids in by_reason.items():
            lines.append(f"- {reason} ({', '.join(f'`{i}`' for i in ids)})")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
