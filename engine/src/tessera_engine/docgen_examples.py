"""Rule examples (``docs/rule-examples.md``), generated from the rule cases in
``tests/rules/cases/``: for every rule, its first case in which it is reported (the change it is
about) and its first case in which it is not (a nearby change that is fine, or another rule), each
shown as a diff of the old and new document with what Tessera reports.

The cases are the suite's own data, so every example is one the tests prove on every run.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml_rs

from .catalog import Catalog, Rule

CASES = Path(__file__).resolve().parents[3] / "tests" / "rules" / "cases"
"""The rule cases of a source checkout (``make docs`` runs there)."""

FULL_CONTEXT_LINES = 60
"""Documents up to this many lines are shown whole; longer ones as hunks with context."""
FLAGS = {
    "mode": "--mode",
    "policy": "--policy",
    "fail_on": "--fail-on",
    "current_version": "--current-version",
    "proposed_version": "--proposed-version",
    "proto_level": "--proto-level",
    "guarantees": "--guarantees",
}
FORMAT_NAMES = {
    "openapi": "OpenAPI",
    "swagger": "Swagger 2.0",
    "jsonschema": "JSON Schema",
    "graphql": "GraphQL",
    "protobuf": "protobuf",
    "avro": "Avro",
    "dbt": "dbt",
}


@dataclass(frozen=True)
class Example:
    name: str
    format: str
    options: dict[str, Any]
    old: str | dict[str, str]
    new: str | dict[str, str]
    expect: tuple[dict[str, Any], ...]


def case_files(rule_id: str, cases: Path = CASES) -> list[Path]:
    """The rule's case files: ``cases/<id>.yaml`` first, then ``cases/<format>/<id>.yaml``."""
    top = cases / f"{rule_id}.yaml"
    nested = sorted(cases.glob(f"*/{rule_id}.yaml"))
    return ([top] if top.is_file() else []) + nested


def examples(rule_id: str, cases: Path = CASES) -> tuple[Example | None, Example | None]:
    """The first case that reports the rule and the first that must not."""
    reported: Example | None = None
    not_reported: Example | None = None
    for path in case_files(rule_id, cases):
        data: Any = yaml_rs.loads(path.read_text(encoding="utf-8"), parse_datetime=False)
        for raw in data["cases"]:
            example = Example(
                name=str(raw["name"]).strip(),
                format=str(raw.get("format", "openapi")),
                options=dict(raw.get("options") or {}),
                old=raw["old"],
                new=raw["new"],
                expect=tuple(raw["expect"]),
            )
            if example.expect and reported is None:
                reported = example
            elif not example.expect and not_reported is None:
                not_reported = example
    return reported, not_reported


def _diff(old: str, new: str) -> list[str]:
    old_lines, new_lines = old.splitlines(), new.splitlines()
    whole = max(len(old_lines), len(new_lines)) <= FULL_CONTEXT_LINES
    context = max(len(old_lines), len(new_lines)) if whole else 3
    lines = list(difflib.unified_diff(old_lines, new_lines, lineterm="", n=context))[2:]
    return [line for line in lines if not (whole and line.startswith("@@"))]


def diff_lines(example: Example) -> list[str]:
    if isinstance(example.old, str) and isinstance(example.new, str):
        return _diff(example.old, example.new)
    old = example.old if isinstance(example.old, dict) else {"(document)": example.old}
    new = example.new if isinstance(example.new, dict) else {"(document)": example.new}
    lines: list[str] = []
    for name in sorted(set(old) | set(new)):
        if old.get(name) == new.get(name):
            continue
        lines.append(f"@@ {name} @@")
        lines += _diff(old.get(name, ""), new.get(name, ""))
    return lines


def _how(example: Example) -> str:
    parts = [FORMAT_NAMES.get(example.format, example.format)]
    flags = [f"`{FLAGS[k]} {v}`" for k, v in example.options.items() if k in FLAGS]
    if flags:
        parts.append("with " + " ".join(flags))
    if "today" in example.options:
        parts.append(f"judged on {example.options['today']}")
    return ", ".join(parts)


def _finding(expect: dict[str, Any]) -> str:
    facts = [f"**{expect['severity']}**" if "severity" in expect else "reported"]
    if expect.get("position", "none") != "none":
        facts.append(f"({expect['position']})")
    text = " ".join(facts)
    if "path" in expect:
        text += f" at `{expect['path']}`"
    if "message_contains" in expect:
        text += f": “…{expect['message_contains']}…”"
    return text


def example_markdown(rule: Rule, example: Example | None, reported: bool) -> list[str]:
    label = "Reported" if reported else "Not reported"
    if example is None:
        return [f"**{label}**: no example case.", ""]
    lines = [f"**{label}**: {example.name} ({_how(example)}).", "", "```diff"]
    lines += diff_lines(example)
    lines += ["```", ""]
    if reported:
        lines += [f"- {_finding(e)}" for e in example.expect] + [""]
    else:
        lines += [f"Tessera does not report `{rule.id}` here.", ""]
    return lines


def rule_examples_markdown(catalog: Catalog, cases: Path = CASES) -> str:
    from .docgen import GENERATED

    if not cases.is_dir():
        raise FileNotFoundError(f"{cases}: the rule cases of a source checkout are needed")
    lines = [
        GENERATED,
        "",
        f"# Rule examples ({len(catalog)} rules)",
        "",
        "For every rule of the [rule reference](rules.md) (which says why each one breaks), a",
        "change it reports and a nearby change it does not, taken from the rule cases the test",
        "suite runs (`tests/rules/cases/`: the first case that expects the rule, and the first",
        "that expects it not to fire). Each is a diff from the old document to the new one.",
        "Lines starting `@@` name the file of a multi-file example, or start a hunk of a long",
        "document. Sunset dates are judged as of 2025-01-01, as in the cases.",
        "",
    ]
    for rule in catalog:
        reported, not_reported = examples(rule.id, cases)
        lines += [
            f"### `{rule.id}`",
            "",
            f"{rule.summary} ([reference](rules.md#{rule.id.replace('.', '')}))",
            "",
        ]
        lines += example_markdown(rule, reported, reported=True)
        lines += example_markdown(rule, not_reported, reported=False)
    return "\n".join(lines)
