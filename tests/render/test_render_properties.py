"""What each renderer promises beyond its golden files: SARIF structure, the Markdown size limit
and escaping, colour only when asked for, and GitHub's exact escaping."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from tessera_engine import DiffResult, Severity, __version__
from tessera_engine.render import OUTPUTS, render
from tessera_engine.render.github import escape_data, escape_property, render_github
from tessera_engine.render.markdown import MAX_CHARS, render_markdown
from tessera_engine.render.sarif import artifact_uri, render_sarif
from tessera_engine.render.text import render_text

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
SARIF_LEVELS = {"breaking": "error", "dangerous": "warning", "safe": "note", "annotation": "note"}


# ---------------------------------------------------------------- all outputs


@pytest.mark.parametrize("output", OUTPUTS)
def test_every_output_ends_with_one_newline(case: tuple[str, DiffResult], output: str) -> None:
    rendered = render(case[1], output)
    assert rendered.endswith("\n")
    assert not rendered.endswith("\n\n")


# ---------------------------------------------------------------- text


def test_text_is_coloured_only_when_asked(openapi: DiffResult) -> None:
    plain = render_text(openapi, color=False)
    coloured = render_text(openapi, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[31mBREAKING" in coloured
    assert "\x1b[33mDANGEROUS" in coloured
    assert "\x1b[32mSAFE" in coloured
    assert "\x1b[2mANNOTATION" in coloured
    assert ANSI_ESCAPE.sub("", coloured) == plain


def test_text_has_no_trailing_whitespace(case: tuple[str, DiffResult]) -> None:
    for color in (False, True):
        for line in render_text(case[1], color=color).splitlines():
            assert line == line.rstrip(), repr(line)


def test_text_lists_the_most_severe_first(openapi: DiffResult) -> None:
    labels = [
        line.split()[0] for line in render_text(openapi).splitlines()[2:] if line[:1].isupper()
    ]
    ranks = [Severity(label.lower()).rank for label in labels]
    assert ranks == sorted(ranks, reverse=True)
    assert set(labels) == {"BREAKING", "DANGEROUS", "SAFE", "ANNOTATION"}


def test_text_says_when_nothing_changed(case: tuple[str, DiffResult]) -> None:
    name, result = case
    assert ("no changes found" in render_text(result)) == (name == "no-findings")


def test_text_shows_control_characters_escaped(escaping: DiffResult) -> None:
    text = render_text(escaping)
    assert "\r" not in text
    assert "<d>\\r\\nnext" in text


# ---------------------------------------------------------------- markdown


def test_markdown_stays_under_the_limit_and_says_what_it_left_out(
    many_findings: DiffResult,
) -> None:
    markdown = render_markdown(many_findings)
    assert len(markdown) < MAX_CHARS == 60_000
    note = re.search(r"_([\d,]+) of 5,000 findings are not shown", markdown)
    assert note is not None
    omitted = int(note.group(1).replace(",", ""))
    shown = markdown.count("`schema.property.added`")
    assert shown > 0
    assert shown + omitted == 5_000
    assert "`tessera diff --output json`" in markdown


def test_markdown_keeps_the_most_severe_findings_when_truncating(
    many_findings: DiffResult,
) -> None:
    markdown = render_markdown(many_findings)
    assert "| breaking | GET /orders → 200 → body.field\\_00000 |" in markdown
    assert "field\\_04999" not in markdown


def test_markdown_tables_cannot_be_broken_by_user_text(escaping: DiffResult) -> None:
    markdown = render_markdown(escaping)
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    widths = {_unescaped_pipes(row) for row in rows if not row.startswith("| Breaking")}
    assert widths == {6}  # five columns
    assert "<d>" not in markdown
    assert "&lt;d&gt;" in markdown
    assert "\\`c\\`" in markdown


def test_markdown_heading_warns_of_dangerous_changes(escaping: DiffResult) -> None:
    dangerous_only = replace(escaping, findings=escaping.findings[1:])
    assert not dangerous_only.breaking
    assert render_markdown(dangerous_only).startswith("## ⚠️ Tessera: compatible, with dangerous")


def _unescaped_pipes(row: str) -> int:
    return re.sub(r"\\.", "", row).count("|")


# ---------------------------------------------------------------- sarif


def test_sarif_is_structurally_valid(case: tuple[str, DiffResult]) -> None:
    result = case[1]
    log = json.loads(render_sarif(result))
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "tessera"
    assert driver["version"] == __version__
    assert driver["informationUri"] == "https://github.com/tessera-contracts/tessera"
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert rule_ids == sorted({f.rule for f in result.findings})
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"]
        assert rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in {"error", "warning", "note"}
        assert rule["properties"]["effect"]
    assert len(run["results"]) == len(result.findings)
    for sarif_result, finding in zip(run["results"], result.findings, strict=True):
        assert rule_ids[sarif_result["ruleIndex"]] == sarif_result["ruleId"] == finding.rule
        assert sarif_result["level"] == SARIF_LEVELS[finding.severity.value]
        assert sarif_result["message"]["text"] == f"{finding.path}: {finding.message}"
        assert sarif_result["partialFingerprints"]["tesseraFingerprint/v1"] == finding.fingerprint
        assert set(sarif_result["properties"]) == {
            "severity",
            "position",
            "effect",
            "path",
            "pointer",
            "operations",
        }
        assert ("locations" in sarif_result) == (finding.location is not None)
        for location in sarif_result.get("locations", []):
            physical = location["physicalLocation"]
            assert physical["region"]["startLine"] >= 1
            assert physical["region"]["startColumn"] >= 1
            uri = physical["artifactLocation"]["uri"]
            assert not uri.startswith("./")
            assert "\\" not in uri


@pytest.mark.parametrize(
    ("file", "uri"),
    [
        ("new.yaml", "new.yaml"),
        ("./specs/new.yaml", "specs/new.yaml"),
        ("specs\\v2\\new.yaml", "specs/v2/new.yaml"),
        ("specs/my api.yaml", "specs/my%20api.yaml"),
        ("/srv/specs/new.yaml", "file:///srv/specs/new.yaml"),
        ("C:\\specs\\new.yaml", "file:///C:/specs/new.yaml"),
    ],
)
def test_sarif_artifact_uris_are_relative_with_forward_slashes(file: str, uri: str) -> None:
    assert artifact_uri(file) == uri


# ---------------------------------------------------------------- github


def test_github_escapes_exactly_as_the_toolkit() -> None:
    assert escape_data("100% a:b,c\r\nd") == "100%25 a:b,c%0D%0Ad"
    assert escape_property("100% a:b,c\r\nd") == "100%25 a%3Ab%2Cc%0D%0Ad"
    assert escape_data("%0A") == "%250A"


def test_github_escapes_every_finding_into_one_command(escaping: DiffResult) -> None:
    lines = render_github(escaping).splitlines()
    assert lines == [
        "::error file=./specs/v2%2Cbeta%3A draft.yaml,line=3,col=5,"
        "title=api.parameter.removed (breaking)::"
        "GET /items → query.filter: query parameter 'filter' was removed",
        "::warning title=schema.enum.value-added (dangerous)::"
        'GET /items → 200 → body.kind|type <T>: enum value "50%25 off: a, b | `c` <d>%0D%0Anext"'
        " added",
        "tessera: breaking — 1 breaking, 1 dangerous, 1 annotation; requires a major bump",
    ]


def test_github_leaves_out_annotations(openapi: DiffResult) -> None:
    commands = [line for line in render_github(openapi).splitlines() if line.startswith("::")]
    shown = [f for f in openapi.findings if f.severity is not Severity.ANNOTATION]
    assert len(commands) == len(shown) < len(openapi.findings)
