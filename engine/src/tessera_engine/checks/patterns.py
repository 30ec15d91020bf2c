"""Which ``patternProperties`` pattern a property name matches, in time that grows with the
name, not with the patterns.

Patterns and names both come from the documents, so neither may decide how long matching
takes. Python's ``re`` backtracks: one hostile pattern (``(a+)+$``) against one name runs for
hours, and checking each added name against each of thousands of patterns is quadratic. RE2
matches in time linear in the name whatever the pattern, and an ``re2.Set`` answers for all of
one schema's patterns in a single pass. RE2 lacks look-arounds and back-references; a pattern
using them (or otherwise invalid) matches no name, as an invalid pattern always did here.
"""

from __future__ import annotations

from collections.abc import Sequence

import re2

_SET_MEMORY = 64 * 1024 * 1024
"""RE2's memory budget for one compiled set (its default, 8 MB, fails beyond about 50,000
simple patterns; 64 MB holds the largest set a document under the element limit can have)."""
_CHUNK = 1000
"""Patterns per set when a whole schema's patterns do not compile as one set."""


class PatternIndex:
    """The patterns of one ``patternProperties``, compiled once."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self._patterns = list(patterns)
        self._sets: list[tuple[re2.Set, list[int]]] = []
        try:
            self._sets.append(_compiled(patterns, range(len(patterns))))
        except re2.error:  # the set as a whole is too large for RE2's budget
            for start in range(0, len(patterns), _CHUNK):
                chunk = range(start, min(start + _CHUNK, len(patterns)))
                try:
                    self._sets.append(_compiled(patterns, chunk))
                except re2.error:
                    continue  # patterns RE2 cannot compile together match nothing

    def first_match(self, name: str) -> str | None:
        """The first pattern (in document order) found in ``name``."""
        found: list[int] = []
        for compiled, positions in self._sets:
            hits = compiled.Match(name)
            if hits:
                found.append(min(positions[hit] for hit in hits))
        return self._patterns[min(found)] if found else None


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # an invalid pattern is expected input, not a log line
    options.never_capture = True
    options.max_mem = _SET_MEMORY
    return options


def _compiled(patterns: Sequence[str], positions: range) -> tuple[re2.Set, list[int]]:
    """A search set of the valid patterns at ``positions``, with each member's position."""
    compiled = re2.Set.SearchSet(_options())
    members: list[int] = []
    for position in positions:
        try:
            compiled.Add(patterns[position])
        except re2.error:
            continue
        members.append(position)
    compiled.Compile()
    return compiled, members
