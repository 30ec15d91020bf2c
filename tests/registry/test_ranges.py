"""Version ranges as people write them, with npm's meaning (``registry.ranges``)."""

from __future__ import annotations

import pytest

from tessera_engine.registry.ranges import RangeError, parse_range

CASES = [
    # (range, in, out)
    ("*", ["0.0.1", "1.0.0", "99.1.2"], ["1.0.0-rc.1"]),
    ("", ["1.2.3"], []),
    ("1.x", ["1.0.0", "1.9.9"], ["0.9.9", "2.0.0"]),
    ("1.2.*", ["1.2.0", "1.2.9"], ["1.3.0", "1.1.9"]),
    ("1", ["1.0.0", "1.5.0"], ["2.0.0"]),
    ("1.2.3", ["1.2.3"], ["1.2.4", "1.2.2"]),
    ("=1.2.3", ["1.2.3"], ["1.2.4"]),
    ("v1.2.3", ["1.2.3"], ["1.2.4"]),
    ("^1.2", ["1.2.0", "1.9.0"], ["1.1.9", "2.0.0"]),
    ("^1.2.3", ["1.2.3", "1.99.0"], ["1.2.2", "2.0.0"]),
    ("^0.2.3", ["0.2.3", "0.2.9"], ["0.3.0", "0.2.2"]),
    ("^0.0.3", ["0.0.3"], ["0.0.4"]),
    ("^0.x", ["0.0.0", "0.9.0"], ["1.0.0"]),
    ("~1.2.3", ["1.2.3", "1.2.9"], ["1.3.0", "1.2.2"]),
    ("~1.2", ["1.2.0", "1.2.9"], ["1.3.0"]),
    ("~1", ["1.0.0", "1.9.0"], ["2.0.0"]),
    (">=1.0.0 <2.0.0", ["1.0.0", "1.9.9"], ["0.9.9", "2.0.0"]),
    (">= 1.0.0 < 2.0.0", ["1.5.0"], ["2.0.0"]),
    (">1.2", ["1.3.0"], ["1.2.9"]),
    ("<=1.2", ["1.2.9"], ["1.3.0"]),
    ("<1.2", ["1.1.9"], ["1.2.0"]),
    (">1.2.3", ["1.2.4"], ["1.2.3"]),
    ("1.2 - 2.3.4", ["1.2.0", "2.3.4"], ["1.1.9", "2.3.5"]),
    ("1.2.3 - 2.3", ["2.3.9"], ["2.4.0"]),
    ("^1.2 || ^3.0", ["1.5.0", "3.1.0"], ["2.0.0", "4.0.0"]),
    ("^2.0.0-rc.1", ["2.0.0-rc.1", "2.0.0-rc.2", "2.0.0", "2.5.0"], ["2.0.0-beta", "2.1.0-rc.1"]),
    ("^1.0", ["1.5.0"], ["1.5.0-beta.1"]),
]


@pytest.mark.parametrize(("text", "inside", "outside"), CASES)
def test_range_contains(text: str, inside: list[str], outside: list[str]) -> None:
    parsed = parse_range(text)
    for version in inside:
        assert parsed.contains(version), f"{version} should be in {text!r} ({parsed})"
    for version in outside:
        assert not parsed.contains(version), f"{version} should not be in {text!r} ({parsed})"


@pytest.mark.parametrize(
    "text", ["abc", "1.2.3.4", ">=", "^", "1.2.3 ||", "~>x.y.z.w", "=>1.0", "1.02.3", ">=1.0 <"]
)
def test_invalid_ranges_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(RangeError) as err:
        parse_range(text)
    assert str(err.value)


def test_versions_must_be_full_semver() -> None:
    with pytest.raises(RangeError, match="not a semantic version"):
        parse_range("^1").contains("1.2")
