"""Pairing old and new elements by natural key: done once, here, for every check."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def paired(old: Mapping[K, V], new: Mapping[K, V]) -> Iterator[tuple[K, V | None, V | None]]:
    """(key, old element or None, new element or None) for every key on either side: old
    keys in old order first, then keys only the new version has, in new order. A pair with
    both elements was kept, one with only ``old`` removed, one with only ``new`` added."""
    for key, value in old.items():
        yield key, value, new.get(key)
    for key, value in new.items():
        if key not in old:
            yield key, None, value
