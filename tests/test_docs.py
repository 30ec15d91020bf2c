"""The generated documentation pages are current, and the README shows the two commands."""

from pathlib import Path

from tessera_engine.docgen import pages

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_generated_pages_are_current() -> None:
    stale = [
        name
        for name, text in pages().items()
        if not (DOCS / name).is_file() or (DOCS / name).read_text(encoding="utf-8") != text
    ]
    assert not stale, f"stale generated docs {stale}: run `make docs` and commit the result"


def test_every_rule_and_command_is_documented() -> None:
    rules = (DOCS / "rules.md").read_text(encoding="utf-8")
    from tessera_engine import load_catalog

    missing = [rule.id for rule in load_catalog() if f"### `{rule.id}`" not in rules]
    assert not missing
    cli = (DOCS / "cli.md").read_text(encoding="utf-8")
    for command in ("tessera diff", "tessera rules"):
        assert f"## `{command}`" in cli


def test_readme_shows_the_two_commands() -> None:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    head = readme[: readme.index("\n## ", 1)] if "\n## " in readme else readme
    assert "make run" in head and "make test" in head
