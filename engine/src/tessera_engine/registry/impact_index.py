"""The findings of one diff, indexed by key, so each declared usage entry is matched with a few
dictionary look-ups instead of a scan of every finding.

A usage key ``U`` and a finding key ``F`` concern each other when:

- ``exact``: ``F == U`` (the element the consumer uses changed);
- ``inside``: ``U`` encloses ``F`` (something inside the used element changed:
  ``shop.v1.Order`` used, ``shop.v1.Order.Line.qty`` changed);
- ``parent``: ``F`` encloses ``U`` (the element around the used one changed or was removed:
  ``Order`` removed, ``Order.email`` used).

Through references (``impact_reach``) a usage also meets the changes inside the elements it
reaches: ``reaches`` (the used operation, field or type leads to the changed type) and
``downstream`` (dbt lineage: the used model is built from the changed one; informational).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..model import Finding
from .impact_keys import Key

EXACT, INSIDE, PARENT = "exact", "inside", "parent"
REACHES, DOWNSTREAM = "reaches", "downstream"


@dataclass(frozen=True, slots=True)
class Hit:
    finding: int  # index into the indexed findings
    relation: str  # exact | inside | parent
    element: Key  # the finding's key that matched


class FindingIndex:
    def __init__(
        self, findings: Sequence[Finding], keys_of: Callable[[Finding], list[Key]]
    ) -> None:
        self.findings = findings
        self._exact: dict[Key, list[tuple[int, Key]]] = {}
        self._inside: dict[Key, list[tuple[int, Key]]] = {}
        for number, finding in enumerate(findings):
            for key in dict.fromkeys(keys_of(finding)):
                self._exact.setdefault(key, []).append((number, key))
                for end in range(1, len(key)):  # every enclosing key
                    self._inside.setdefault(key[:end], []).append((number, key))

    def has_within(self, key: Key) -> bool:
        """Some finding is the element ``key`` or inside it."""
        return key in self._exact or key in self._inside

    def within(self, key: Key) -> list[Hit]:
        """The findings on the element ``key`` or inside it, each once (exact first)."""
        hits = [Hit(number, EXACT, element) for number, element in self._exact.get(key, [])]
        seen = {hit.finding for hit in hits}
        for number, element in self._inside.get(key, []):
            if number not in seen:
                seen.add(number)
                hits.append(Hit(number, INSIDE, element))
        return hits

    def lookup(self, key: Key) -> list[Hit]:
        """The findings that concern a usage with this key, each once, closest relation first."""
        hits: list[Hit] = []
        seen: set[int] = set()

        def add(entries: list[tuple[int, Key]], relation: str) -> None:
            for number, element in entries:
                if number not in seen:
                    seen.add(number)
                    hits.append(Hit(number, relation, element))

        add(self._exact.get(key, []), EXACT)
        add(self._inside.get(key, []), INSIDE)
        for end in range(len(key) - 1, 0, -1):  # enclosing keys, nearest first
            add(self._exact.get(key[:end], []), PARENT)
        return hits
