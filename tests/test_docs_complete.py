"""The documentation is complete: every rule has its why and two examples, every command of
``tessera`` and ``tessera-app`` and every setting is documented, every registry field is in the
reference, the app's configuration page is current, the index links every page, and the
quickstarts only use commands that exist. (``test_docs.py`` checks the engine's generated pages
are current.)"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tessera_app.cli import _parser as app_parser
from tessera_app.docgen import pages as app_pages
from tessera_app.settings import Settings
from tessera_engine import load_catalog
from tessera_engine.cli import build_parser
from tessera_engine.docgen_registry import SCHEMAS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
QUICKSTARTS = ("producer", "consumer", "operator")


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _commands(parser: argparse.ArgumentParser, prefix: str) -> Iterator[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix} {name}"
                yield from _commands(sub, f"{prefix} {name}")


def test_every_rule_has_its_why_and_both_examples() -> None:
    rules, examples = _read("rules.md"), _read("rule-examples.md")
    sections = dict(re.findall(r"^### `([^`]+)`\n(.*?)(?=^### |\Z)", examples, re.M | re.S))
    problems = []
    for rule in load_catalog():
        if f"### `{rule.id}`" not in rules or f"Why: {rule.why}" not in rules:
            problems.append(f"{rule.id}: not in rules.md with its why")
        section = sections.get(rule.id, "")
        if "**Reported**: " not in section or "**Not reported**: " not in section:
            problems.append(f"{rule.id}: rule-examples.md lacks a reported or safe example")
        elif "```diff" not in section or "no example case" in section:
            problems.append(f"{rule.id}: an example without its documents")
    assert not problems, problems


def test_every_command_is_documented() -> None:
    cli = _read("cli.md")
    missing = [c for c in _commands(build_parser(), "tessera") if f"## `{c}`" not in cli]
    operations = _read("operations.md")
    missing += [c for c in _commands(app_parser(), "tessera-app") if f"`{c}" not in operations]
    assert not missing, missing


def test_every_setting_is_described_and_documented() -> None:
    page = _read("configuration.md")
    undescribed = [n for n, info in Settings.model_fields.items() if not info.description]
    assert not undescribed, f"add Field(description=...) to settings.py: {undescribed}"
    missing = [n for n in Settings.model_fields if f"| `TESSERA_{n.upper()}` |" not in page]
    assert not missing, f"not in docs/configuration.md: {missing}"


def test_the_configuration_page_is_current() -> None:
    stale = [name for name, text in app_pages().items() if _read(name) != text]
    assert not stale, f"stale generated docs {stale}: run `make docs` and commit the result"


def _properties(node: Any, root: dict[str, Any]) -> Iterator[str]:
    """Every property name anywhere in a schema (independently of the generator's walk)."""
    if isinstance(node, dict):
        for name, child in node.get("properties", {}).items():
            yield name
            yield from _properties(child, root)
        for key, child in node.items():
            if key not in ("properties", "$defs"):
                yield from _properties(child, root)
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            yield from _properties(root["$defs"][ref.removeprefix("#/$defs/")], root)
    elif isinstance(node, list):
        for item in node:
            yield from _properties(item, root)


@pytest.mark.parametrize("path", sorted(SCHEMAS.glob("*.schema.json")), ids=lambda p: p.name)
def test_every_registry_field_is_in_the_reference(path: Path) -> None:
    page = _read("registry-reference.md")
    schema = json.loads(path.read_text(encoding="utf-8"))
    where = schema["title"].partition(": ")[0]
    assert f"## `{where}`" in page
    section = page[page.index(f"## `{where}`") :]
    section = section[: section.find("\n## ", 1)] if "\n## " in section[1:] else section
    rows = re.findall(r"^\| `([^`]+)` \|", section, re.M)
    missing = [
        n
        for n in set(_properties(schema, schema))
        if not any(row == n or row.endswith(f".{n}") for row in rows)
    ]
    assert not missing, f"{path.name}: fields missing from the reference: {missing}"


def test_the_index_links_every_page_and_every_link_resolves() -> None:
    index = _read("index.md")
    links = set(re.findall(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)", index))
    pages = {p.name for p in DOCS.glob("*.md")} - {"index.md"}
    assert not pages - links, f"pages not linked from docs/index.md: {sorted(pages - links)}"
    broken = [link for link in links if not (DOCS / link).resolve().is_file()]
    assert not broken, broken


def _make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))


@pytest.mark.parametrize("audience", QUICKSTARTS)
def test_quickstarts_use_only_commands_that_exist(audience: str) -> None:
    text = _read(f"quickstart-{audience}.md")
    blocks = re.findall(r"```(?:sh|console|bash)\n(.*?)```", text, re.S)
    assert blocks, "a quickstart shows the commands to run"
    known = {
        "tessera": set(_commands(build_parser(), "tessera")),
        "tessera-app": set(_commands(app_parser(), "tessera-app")),
    }
    targets = _make_targets()
    used = 0
    for line in "\n".join(blocks).splitlines():
        words = line.removeprefix("$ ").split()
        if not words:
            continue
        program = words[0].rsplit("/", 1)[-1]
        if program in known:
            commands = known[program]
            depth = max(
                n for n in range(1, 4) if n == 1 or " ".join([program, *words[1:n]]) in commands
            )
            command = " ".join([program, *words[1:depth]])
            assert command in commands, f"{audience}: unknown command in `{line}`"
            group = any(c.startswith(f"{command} ") for c in commands)
            assert not group, f"{audience}: `{command}` needs one of its subcommands: `{line}`"
            used += 1
        elif program == "make":
            assert words[1] in targets, f"{audience}: no make target in `{line}`"
            used += 1
    assert used, f"{audience}: the quickstart runs no tessera, tessera-app or make command"
