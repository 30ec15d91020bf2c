"""``/tessera version``: parsing (a semantic version, normalized; ``--contract``), and the
pull request title convention (``[v3.0.0]`` at the end)."""

from __future__ import annotations

import pytest

from tessera_app.github.commands import Command, CommandError, Suggestion, parse
from tessera_app.github.versions import title_version


@pytest.mark.parametrize(
    ("body", "version", "contract"),
    [
        ("/tessera version 3.0.0", "3.0.0", None),
        ("/tessera version 3.0.0-rc.1", "3.0.0-rc.1", None),
        ("/tessera version v2.1.0+build.7", "2.1.0+build.7", None),  # the v is dropped
        ("/Tessera VERSION 1.0.0 --contract orders-graph", "1.0.0", "orders-graph"),
        ("/tessera version --contract=orders-graph 1.0.0", "1.0.0", "orders-graph"),
    ],
)
def test_a_version_command(body: str, version: str, contract: str | None) -> None:
    (parsed,) = parse(body)
    assert isinstance(parsed, Command), parsed
    assert (parsed.kind, parsed.version, parsed.contract) == ("version", version, contract)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "/tessera version 3.0",
            "`3.0` is not a semantic version: MAJOR.MINOR.PATCH with an optional pre-release, "
            "e.g. `3.0.0` or `3.0.0-rc.1`",
        ),
        (
            "/tessera version 2024-01-01",
            "`2024-01-01` is not a semantic version: MAJOR.MINOR.PATCH with an optional "
            "pre-release, e.g. `3.0.0` or `3.0.0-rc.1`",
        ),
        (
            "/tessera version",
            "`/tessera version` needs exactly one version: `/tessera version VERSION "
            "[--contract ID]`, e.g. `/tessera version 3.0.0-rc.1`",
        ),
        (
            "/tessera version 3.0.0 4.0.0",
            "`/tessera version` needs exactly one version: `/tessera version VERSION "
            "[--contract ID]`, e.g. `/tessera version 3.0.0-rc.1`",
        ),
        ("/tessera version 3.0.0 --as web", "`/tessera version` takes no `--as` option"),
        ("/tessera ack --contract x", "`/tessera ack` takes no `--contract` option"),
        ("/tessera version 3.0.0 --contract a/b", "--contract: `a/b` is not a contract id"),
    ],
)
def test_a_bad_version_command_says_why(body: str, message: str) -> None:
    (parsed,) = parse(body)
    assert isinstance(parsed, CommandError), parsed
    assert parsed.message == message


def test_a_typo_gets_a_suggestion() -> None:
    (parsed,) = parse("/tessera versoin 3.0.0")
    assert isinstance(parsed, Suggestion)
    assert parsed.suggestion == "/tessera version"


@pytest.mark.parametrize(
    ("title", "version"),
    [
        ("Drop Order.total [v3.0.0]", "3.0.0"),
        ("Drop Order.total [3.0.0-rc.1]  ", "3.0.0-rc.1"),
        ("Drop Order.total [ V3.0 ]", "3.0"),  # a version tag, reported later as not semver
        ("Drop Order.total [WIP]", None),  # not a version tag
        ("[v3.0.0] Drop Order.total", None),  # only at the end
        ("Drop Order.total v3.0.0", None),
    ],
)
def test_the_title_convention(title: str, version: str | None) -> None:
    assert title_version(title) == version
